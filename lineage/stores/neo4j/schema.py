"""The schema: constraints and indexes from the numbered files ``schema/neo4j/NNN_name.cypher``.

The files travel inside the package (:mod:`lineage.resources`). Every
statement is idempotent (``IF NOT EXISTS``) and every constraint and index
has a fixed name, so the whole schema is applied each time a store opens:
a database made before a file was added, or while the files had other
numbers, gets what it lacks and keeps what it has. Each file has a number
of its own; files are applied in that order.
"""

from __future__ import annotations

import re

import neo4j

from lineage.resources import MissingResource, neo4j_migration_files

__all__ = ["apply_schema", "schema_statements"]

_NUMBERED = re.compile(r"^(\d{3})_[a-z0-9_]+\.cypher$")


def schema_statements(files: list[tuple[str, str]] | None = None) -> list[str]:
    """The Cypher statements of the schema files, in the files' order.

    Parameters
    ----------
    files : list of (name, text), optional
        The schema files; by default those the package carries.

    Raises
    ------
    MissingResource
        When there is no schema file, a file is not named ``NNN_name.cypher``
        or two files share a number.

    Examples
    --------
    >>> schema_statements([("001_a.cypher", "// why\\nCREATE INDEX a FOR (v:V) ON (v.a)")])
    ['CREATE INDEX a FOR (v:V) ON (v.a)']
    >>> schema_statements([("001_a.cypher", ""), ("001_b.cypher", "")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lineage.resources.MissingResource: Neo4j schema files share the number 001: ...
    """
    files = neo4j_migration_files() if files is None else files
    if not files:
        raise MissingResource("no Neo4j schema file: the store will not run without its schema")
    seen: dict[str, str] = {}
    statements: list[str] = []
    for name, text in sorted(files):
        match = _NUMBERED.match(name)
        if match is None:
            raise MissingResource(f"Neo4j schema file {name!r} is not named NNN_name.cypher")
        number = match.group(1)
        if number in seen:
            raise MissingResource(
                f"Neo4j schema files share the number {number}: {seen[number]}, {name}"
            )
        seen[number] = name
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
        statements += [part.strip() for part in body.split(";") if part.strip()]
    return statements


def apply_schema(driver: neo4j.Driver, database: str) -> None:
    """Create the constraints and indexes that are missing (idempotent), then wait for them."""
    statements = schema_statements()
    with driver.session(database=database) as session:
        for statement in statements:
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()
