"""Configuration of the HTTP service."""
