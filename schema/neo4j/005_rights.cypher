// Rights (lineage/stores/neo4j/rights.py).

// The stored video of a C2PA manifest label (lineage provenance --check).
CREATE INDEX video_c2pa_manifest IF NOT EXISTS
FOR (v:Video) ON (v.c2pa_manifest);

// A video's takedown log.
CREATE INDEX rights_log_video IF NOT EXISTS
FOR (l:RightsLog) ON (l.video_id);
