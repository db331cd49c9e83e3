// Every derivative of a video in (generation, id) pages (lineage/descendants.py):
// one index range read of about a page, however deep the page starts.

// An original's derivatives: the videos of its tree.
CREATE INDEX video_original_generation IF NOT EXISTS
FOR (v:Video) ON (v.original_id, v.generation, v.id);

// Any other video's derivatives: the descendant closure, one small node per
// (ancestor that is not an original, generation, descendant).
CREATE INDEX descent_page IF NOT EXISTS
FOR (d:Descent) ON (d.ancestor_id, d.generation, d.descendant_id);
