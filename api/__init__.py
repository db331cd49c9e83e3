"""remix-lineage HTTP service: the FastAPI application and its GraphQL API."""
