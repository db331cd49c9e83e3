"""Plain HTTP routes of the service (GraphQL lives in :mod:`api.graphql`)."""
