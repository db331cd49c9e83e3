// The Neo4j store's schema. Applied idempotently whenever a store opens
// (lineage/stores/neo4j.py: apply_schema); statements end with ";".

// One node per video id; also the index every lookup by id goes through.
CREATE CONSTRAINT video_id IF NOT EXISTS
FOR (v:Video) REQUIRE v.id IS UNIQUE;

// One group per (parent, variant key); MERGE on it is safe under concurrency.
CREATE CONSTRAINT variant_group_key IF NOT EXISTS
FOR (g:VariantGroup) REQUIRE (g.parent_id, g.key) IS UNIQUE;

// One lock node per tree: writers in a tree take turns on it (see the store).
CREATE CONSTRAINT tree_lock_original IF NOT EXISTS
FOR (l:TreeLock) REQUIRE l.original_id IS UNIQUE;
