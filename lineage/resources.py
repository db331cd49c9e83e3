"""The files the running program reads, carried inside the package.

The schema sources stay at the repository's top level (``schema/``): the
package reaches them through ``lineage/_schema``, a link to ``schema/`` in a
checkout and a copy in a built wheel or sdist, so an installed package finds
them with :mod:`importlib.resources` wherever it is installed.

A store never runs without its schema: a missing file raises
:class:`MissingResource` (a :class:`~lineage.errors.StoreUnavailable`), which
names what is missing and where it was looked for.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from lineage.errors import StoreUnavailable

__all__ = ["MissingResource", "graphql_sdl", "neo4j_migration_files", "sqlite_schema"]

_SCHEMA = files("lineage") / "_schema"


class MissingResource(StoreUnavailable):
    """A file the package should carry is not there (a broken install or checkout)."""


def _read(resource: Traversable, what: str) -> str:
    if not resource.is_file():
        raise MissingResource(
            f"the {what} is missing from the installed package (looked for {resource}); "
            "reinstall remix-lineage (in a checkout: restore the link lineage/_schema -> ../schema)"
        )
    return resource.read_text(encoding="utf-8")


def sqlite_schema() -> str:
    """The SQLite schema (``schema/sqlite/schema.sql``).

    Examples
    --------
    >>> "CREATE TABLE IF NOT EXISTS videos" in sqlite_schema()
    True
    """
    return _read(_SCHEMA / "sqlite" / "schema.sql", "SQLite schema (schema/sqlite/schema.sql)")


def neo4j_migration_files() -> list[tuple[str, str]]:
    """The Neo4j schema migrations (``schema/neo4j/NNN_name.cypher``) as ``(name, text)``, in order.

    Examples
    --------
    >>> [name for name, _ in neo4j_migration_files()][0]
    '001_constraints.cypher'
    """
    directory = _SCHEMA / "neo4j"
    found = (
        sorted(
            (entry for entry in directory.iterdir() if entry.name.endswith(".cypher")),
            key=lambda entry: entry.name,
        )
        if directory.is_dir()
        else []
    )
    if not found:
        raise MissingResource(
            f"the Neo4j schema migrations (schema/neo4j/*.cypher) are missing from the installed "
            f"package (looked in {directory}); the store will not run without its constraints "
            "and indexes: reinstall remix-lineage"
        )
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in found]


def graphql_sdl() -> str:
    """The GraphQL schema in SDL (``schema/lineage.graphql``), as generated from the code."""
    return _read(_SCHEMA / "lineage.graphql", "GraphQL schema (schema/lineage.graphql)")
