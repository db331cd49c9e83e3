"""The schema: constraints and indexes from ``schema/neo4j/*.cypher``."""

from __future__ import annotations

from pathlib import Path

import neo4j

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schema" / "neo4j"


# -- schema --------------------------------------------------------------------------------
def schema_statements(directory: Path = SCHEMA_DIR) -> list[str]:
    """The Cypher statements of ``schema/neo4j/*.cypher``, in file order."""
    statements: list[str] = []
    for path in sorted(directory.glob("*.cypher")):
        text = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("//")
        )
        statements += [part.strip() for part in text.split(";") if part.strip()]
    return statements


def apply_schema(driver: neo4j.Driver, database: str) -> None:
    """Create the constraints and indexes that are missing (idempotent), then wait for them."""
    with driver.session(database=database) as session:
        for statement in schema_statements():
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()
