"""Store backends and the factory that picks one from the settings."""

from __future__ import annotations

from lineage.config import LineageSettings, read_settings
from lineage.errors import StoreUnavailable
from lineage.store import LineageStore

__all__ = ["open_store"]


def open_store(settings: LineageSettings | None = None) -> LineageStore:
    """Open the store the settings (by default, the environment) choose."""
    settings = settings or read_settings(LineageSettings)
    if settings.store == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        return SQLiteStore(settings.db, cache_bytes=settings.sqlite_cache_mib * 1024 * 1024)
    from lineage.stores.neo4j import Neo4jStore

    password = settings.neo4j_password.get_secret_value()
    if not password:
        raise StoreUnavailable(
            "LINEAGE_STORE=neo4j needs NEO4J_PASSWORD (and NEO4J_URI, NEO4J_USER, "
            "NEO4J_DATABASE unless the defaults fit); scripts/neo4j-local start prints them"
        )
    options = (
        {} if settings.neo4j_import_group is None else {"group_size": settings.neo4j_import_group}
    )
    return Neo4jStore(
        settings.neo4j_uri,
        settings.neo4j_user,
        password,
        settings.neo4j_database,
        pipeline_parts=settings.neo4j_import_pipeline,
        **options,
    )
