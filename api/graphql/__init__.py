"""The GraphQL API: schema, resolvers, loaders, limits and error codes."""
