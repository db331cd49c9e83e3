"""Store backends and the factory that picks one from the settings."""

from __future__ import annotations

from lineage.config import LineageSettings
from lineage.errors import StoreUnavailable
from lineage.store import LineageStore

__all__ = ["open_store"]


def open_store(settings: LineageSettings | None = None) -> LineageStore:
    """Open the store the settings (by default, the environment) choose."""
    settings = settings or LineageSettings()
    if settings.store == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        return SQLiteStore(settings.db)
    raise StoreUnavailable(
        "LINEAGE_STORE=neo4j: the Neo4j backend is not part of this version yet; "
        "use LINEAGE_STORE=sqlite (the default)"
    )
