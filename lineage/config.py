"""Typed settings, read from the environment (see the contract's command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lineage.errors import InvalidInput

__all__ = ["LineageSettings", "read_settings"]

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class LineageSettings(BaseSettings):
    """Where the lineage lives.

    ``LINEAGE_STORE`` picks the backend (``sqlite``, the default, or ``neo4j``);
    ``LINEAGE_DB`` is the SQLite file; ``NEO4J_URI``, ``NEO4J_USER``,
    ``NEO4J_PASSWORD`` and ``NEO4J_DATABASE`` reach a Neo4j server;
    ``LINEAGE_NEO4J_IMPORT_GROUP`` bounds the records in flight in a large
    Neo4j import (for a server with a small heap) and ``LINEAGE_NEO4J_IMPORT_PIPELINE``
    (default true) plans the next part of a lineage larger than that while the
    server writes the last; ``LINEAGE_SQLITE_CACHE_MIB``
    is the page cache that all of a SQLite store's connections share.
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
    # SQLite's page cache, shared by the store's connections (one per thread).
    sqlite_cache_mib: int = Field(
        default=128,
        ge=1,
        validation_alias=AliasChoices("LINEAGE_SQLITE_CACHE_MIB", "sqlite_cache_mib"),
    )
    # Records in flight in a large Neo4j import (None: the store's default).
    neo4j_import_group: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("LINEAGE_NEO4J_IMPORT_GROUP", "neo4j_import_group"),
    )
    # A lineage larger than a group: its next part planned while the server writes the last.
    neo4j_import_pipeline: bool = Field(
        default=True,
        validation_alias=AliasChoices("LINEAGE_NEO4J_IMPORT_PIPELINE", "neo4j_import_pipeline"),
    )


def read_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Read settings from the environment; a bad value is an
    :class:`~lineage.errors.InvalidInput` naming the variable, not a traceback.

    Examples
    --------
    >>> import os
    >>> os.environ["LINEAGE_STORE"] = "postgres"
    >>> read_settings(LineageSettings)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    lineage.errors.InvalidInput: invalid configuration: LINEAGE_STORE='postgres': Input ...
    >>> del os.environ["LINEAGE_STORE"]
    """
    try:
        return settings_class()
    except ValidationError as error:
        prefix = str(settings_class.model_config.get("env_prefix") or "")
        problems = []
        for detail in error.errors(include_url=False):
            name = ".".join(str(part) for part in detail["loc"])
            if not name.isupper():  # a field name, not its variable's
                name = (prefix + name).upper()
            problems.append(f"{name}={detail['input']!r}: {detail['msg']}")
        raise InvalidInput("invalid configuration: " + "; ".join(problems)) from None
