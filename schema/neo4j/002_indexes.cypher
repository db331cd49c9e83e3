// Indexes the read queries use.

// A parent's variant groups, ranked by reach.
CREATE INDEX variant_group_parent IF NOT EXISTS
FOR (g:VariantGroup) ON (g.parent_id);

// Ranked originals (Query.originals, the default DERIVATIVES order).
CREATE INDEX original_derivatives IF NOT EXISTS
FOR (v:Original) ON (v.derivative_count);

// Whole-store export pages through videos by (generation, id).
CREATE INDEX video_generation_id IF NOT EXISTS
FOR (v:Video) ON (v.generation, v.id);
