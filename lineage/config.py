"""Typed settings, read from the environment (see the contract's command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LineageSettings"]


class LineageSettings(BaseSettings):
    """Where the lineage lives.

    ``LINEAGE_STORE`` picks the backend (``sqlite``, the default, or ``neo4j``);
    ``LINEAGE_DB`` is the SQLite file; ``NEO4J_URI``, ``NEO4J_USER``,
    ``NEO4J_PASSWORD`` and ``NEO4J_DATABASE`` reach a Neo4j server.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    store: Literal["sqlite", "neo4j"] = Field(
        default="sqlite", validation_alias=AliasChoices("LINEAGE_STORE", "store")
    )
    db: Path = Field(default=Path("lineage.db"), validation_alias=AliasChoices("LINEAGE_DB", "db"))
    neo4j_uri: str = Field(
        default="bolt://localhost:7687", validation_alias=AliasChoices("NEO4J_URI", "neo4j_uri")
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "neo4j_user")
    )
    neo4j_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("NEO4J_PASSWORD", "neo4j_password"),
    )
    neo4j_database: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "neo4j_database")
    )
