"""Databases written by an earlier release, kept as text, to test that they open and upgrade.

``tests/data/upgrade/`` holds the same small lineage written by release
0.1.0 as it was before the package layout changed (commit f10c358): a
SQLite dump (``sqlite-0.1.0.sql``, ``sqlite3``'s ``iterdump``) and a Neo4j
dump (``neo4j-0.1.0.json``: every node with its labels and properties, every
relationship, and the constraints and indexes by name). ``README.md`` there
says how they were made.

Run as a script, it writes the dumps from stores the caller has filled:
``python -m tests.upgrade_fixtures sqlite FILE.db`` or ``neo4j`` (with the
``NEO4J_*`` environment).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import neo4j

__all__ = ["DATA", "dump_neo4j", "load_neo4j", "load_sqlite"]

DATA = Path(__file__).resolve().parent / "data" / "upgrade"


def load_sqlite(dump: Path, target: Path) -> None:
    """Write the SQL dump into a new SQLite file."""
    connection = sqlite3.connect(target)
    try:
        connection.executescript(dump.read_text(encoding="utf-8"))
        connection.commit()
    finally:
        connection.close()


def dump_neo4j(driver: neo4j.Driver, database: str) -> dict[str, Any]:
    """Every node, relationship, constraint and index of the database, as JSON-ready data."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props "
        "ORDER BY id",
        database_=database,
    )
    relationships, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN elementId(a) AS start, elementId(b) AS end, type(r) AS type, "
        "properties(r) AS props ORDER BY start, end, type",
        database_=database,
    )
    schema, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type, createStatement WHERE type <> 'LOOKUP' "
        "RETURN name, createStatement ORDER BY name",
        database_=database,
    )
    constraints, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, createStatement RETURN name, createStatement ORDER BY name",
        database_=database,
    )
    numbers = {record["id"]: number for number, record in enumerate(nodes)}
    return {
        "nodes": [
            {"n": numbers[r["id"]], "labels": sorted(r["labels"]), "props": r["props"]}
            for r in nodes
        ],
        "relationships": [
            {
                "start": numbers[r["start"]],
                "end": numbers[r["end"]],
                "type": r["type"],
                "props": r["props"],
            }
            for r in relationships
        ],
        "constraints": {r["name"]: r["createStatement"] for r in constraints},
        "indexes": {
            r["name"]: r["createStatement"]
            for r in schema
            if r["name"] not in {c["name"] for c in constraints}
        },
    }


def load_neo4j(driver: neo4j.Driver, database: str, dump: dict[str, Any]) -> None:
    """Recreate the dumped database in an empty one: schema first, then nodes and relationships."""
    for statement in [*dump["constraints"].values(), *dump["indexes"].values()]:
        driver.execute_query(statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    for node in dump["nodes"]:
        labels = ":".join(f"`{label}`" for label in node["labels"])
        driver.execute_query(
            f"CREATE (n:{labels}) SET n = $props, n._dump = $n",
            props=node["props"],
            n=node["n"],
            database_=database,
        )
    for rel in dump["relationships"]:
        driver.execute_query(
            "MATCH (a {_dump: $start}), (b {_dump: $end}) "
            f"CREATE (a)-[r:`{rel['type']}`]->(b) SET r = $props",
            start=rel["start"],
            end=rel["end"],
            props=rel["props"],
            database_=database,
        )
    driver.execute_query("MATCH (n) REMOVE n._dump", database_=database)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["sqlite"]:
        connection = sqlite3.connect(argv[1])
        sys.stdout.write("\n".join(connection.iterdump()) + "\n")
        return 0
    if argv[:1] == ["neo4j"]:
        with neo4j.GraphDatabase.driver(
            os.environ["NEO4J_URI"], auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
        ) as driver:
            dump = dump_neo4j(driver, os.environ.get("NEO4J_DATABASE", "neo4j"))
        json.dump(dump, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
