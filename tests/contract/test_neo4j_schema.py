"""The Neo4j schema (schema/neo4j/*.cypher) is on the server after start-up."""

from __future__ import annotations

import neo4j as driver_module
import pytest

from lineage.errors import InvalidInput
from lineage.importing.records import SourcedRecord
from lineage.stores import open_store
from lineage.stores.neo4j import Neo4jStore, schema_statements
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

CONSTRAINTS = {"video_id", "variant_group_key", "tree_lock_original"}
INDEXES = {
    "variant_group_parent",
    "original_derivatives",
    "video_generation_id",
    "video_original_generation",  # descendants (schema/neo4j/006_descendants.cypher)
    "descent_page",
}


def _names(server: Neo4jServer, show: str) -> set[str]:
    with driver_module.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password)
    ) as driver:
        records, _, _ = driver.execute_query(show, database_=server.database)
    return {record["name"] for record in records}


def _drop_schema(server: Neo4jServer) -> None:
    with driver_module.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password)
    ) as driver:
        for name in _names(server, "SHOW CONSTRAINTS YIELD name"):
            driver.execute_query(f"DROP CONSTRAINT `{name}`", database_=server.database)
        for name in _names(server, "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'"):
            driver.execute_query(f"DROP INDEX `{name}`", database_=server.database)


def test_schema_files_name_every_constraint_and_index() -> None:
    text = " ".join(schema_statements())
    for name in CONSTRAINTS | INDEXES:
        assert f" {name} IF NOT EXISTS" in text


def test_start_up_on_an_empty_database_creates_the_schema(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    _drop_schema(neo4j)
    assert not CONSTRAINTS & _names(neo4j, "SHOW CONSTRAINTS YIELD name")
    store = open_neo4j_store(neo4j)
    try:
        assert _names(neo4j, "SHOW CONSTRAINTS YIELD name") >= CONSTRAINTS
        online = _names(neo4j, "SHOW INDEXES YIELD name, state WHERE state = 'ONLINE'")
        assert online >= INDEXES | CONSTRAINTS  # constraints are backed by indexes
        assert store.count_videos() == 0
    finally:
        store.close()


def test_start_up_on_a_database_with_schema_and_data_keeps_both(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    first = open_neo4j_store(neo4j)
    first.import_videos([SourcedRecord({"id": "kept", "prompt": "a cat"}, "test", 1)])
    first.close()
    before = _names(neo4j, "SHOW INDEXES YIELD name")
    second = Neo4jStore(neo4j.uri, neo4j.user, neo4j.password, neo4j.database)
    try:
        assert _names(neo4j, "SHOW INDEXES YIELD name") == before
        kept = second.get_video("kept")
        assert kept is not None
        assert kept.prompt == "a cat"
    finally:
        second.close()


def test_duplicate_ids_are_refused_by_the_server_itself(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    open_neo4j_store(neo4j).close()
    with driver_module.GraphDatabase.driver(neo4j.uri, auth=(neo4j.user, neo4j.password)) as driver:
        driver.execute_query("CREATE (:Video {id: 'twice'})", database_=neo4j.database)
        with pytest.raises(driver_module.exceptions.ConstraintError, match="twice"):
            driver.execute_query("CREATE (:Video {id: 'twice'})", database_=neo4j.database)


def test_import_group_size_comes_from_the_environment(
    neo4j: Neo4jServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", neo4j.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j.password)
    monkeypatch.setenv("NEO4J_DATABASE", neo4j.database)
    monkeypatch.setenv("LINEAGE_NEO4J_IMPORT_GROUP", "1234")
    store = open_store()
    try:
        assert isinstance(store, Neo4jStore)
        assert store.group_size == 1234
    finally:
        store.close()
    monkeypatch.setenv("LINEAGE_NEO4J_IMPORT_GROUP", "0")
    with pytest.raises(InvalidInput, match="LINEAGE_NEO4J_IMPORT_GROUP='0'"):
        open_store()
