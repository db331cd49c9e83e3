// Search (lineage/stores/neo4j/search.py): every video's normalised searchable
// text (prompt, title and creator joined by line breaks, NFKC and case-folded),
// set by every write and by the search_text migration for older databases.

// A TEXT index is trigram-based: it answers CONTAINS for any substring, in any
// script, without reading every video (the plan for rare terms).
CREATE TEXT INDEX video_search_text IF NOT EXISTS
FOR (v:Video) ON (v.search_text);

// Every video ranked by derivatives ("derivative_count DESC, id ASC" as the
// ascending order of the negated key, see 003_rank_indexes.cypher): frequent
// terms walk it from the top and test each video's text (the plan for them).
CREATE INDEX video_rank_derivatives IF NOT EXISTS
FOR (v:Video) ON (v.rank_derivatives, v.id);
