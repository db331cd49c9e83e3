// Ranked lists read in index order (lineage/stores/neo4j/ranks.py): each
// measure is also stored negated, so "measure DESC, id ASC" is the ascending
// order of these indexes and a page reads about one page of entries.
// Existing databases get the rank keys when the store opens
// (lineage/stores/neo4j/migrations.py).

// A parent's remixes, one index per VideoOrder.
CREATE INDEX remix_rank_derivatives IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_derivatives, v.id);
CREATE INDEX remix_rank_direct IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_direct, v.id);
CREATE INDEX remix_rank_likes IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_likes, v.id);
CREATE INDEX remix_rank_views IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_views, v.id);
CREATE INDEX remix_rank_newest IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_newest, v.id);
CREATE INDEX remix_rank_subtree_likes IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_subtree_likes, v.id);
CREATE INDEX remix_rank_subtree_views IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.rank_subtree_views, v.id);

// The top remix of each variant group (parent, variant key).
CREATE INDEX remix_group_top IF NOT EXISTS
FOR (v:Video) ON (v.parent_id, v.variant_key, v.rank_derivatives, v.id);

// Originals (they have no parent_id), one index per VideoOrder.
CREATE INDEX original_rank_derivatives IF NOT EXISTS
FOR (v:Original) ON (v.rank_derivatives, v.id);
CREATE INDEX original_rank_direct IF NOT EXISTS
FOR (v:Original) ON (v.rank_direct, v.id);
CREATE INDEX original_rank_likes IF NOT EXISTS
FOR (v:Original) ON (v.rank_likes, v.id);
CREATE INDEX original_rank_views IF NOT EXISTS
FOR (v:Original) ON (v.rank_views, v.id);
CREATE INDEX original_rank_newest IF NOT EXISTS
FOR (v:Original) ON (v.rank_newest, v.id);
CREATE INDEX original_rank_subtree_likes IF NOT EXISTS
FOR (v:Original) ON (v.rank_subtree_likes, v.id);
CREATE INDEX original_rank_subtree_views IF NOT EXISTS
FOR (v:Original) ON (v.rank_subtree_views, v.id);

// A parent's variant groups by reach.
CREATE INDEX variant_group_rank IF NOT EXISTS
FOR (g:VariantGroup) ON (g.parent_id, g.rank_reach, g.key);
