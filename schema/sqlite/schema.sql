-- The embedded store's schema. Applied idempotently when a store opens.
--
-- A remix has exactly one parent, so its edge (parent_id and the prompt diff)
-- lives on the remix's own row. The lineage aggregates are maintained by every
-- write in the same transaction; `lineage check` recomputes them from the
-- edges and compares.

CREATE TABLE IF NOT EXISTS videos (
    seq                INTEGER PRIMARY KEY,          -- write order: parents before children
    id                 TEXT    NOT NULL UNIQUE
                       CHECK (length(id) BETWEEN 1 AND 128),
    parent_id          TEXT    REFERENCES videos (id),
    prompt             TEXT    NOT NULL CHECK (length(prompt) BETWEEN 1 AND 4000),
    title              TEXT,
    creator            TEXT,
    created_us         INTEGER,                      -- microseconds since the epoch, UTC
    likes              INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
    views              INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    -- lineage aggregates
    generation         INTEGER NOT NULL CHECK (generation >= 0),
    original_id        TEXT    NOT NULL,
    derivative_count   INTEGER NOT NULL DEFAULT 0 CHECK (derivative_count >= 0),
    direct_remix_count INTEGER NOT NULL DEFAULT 0 CHECK (direct_remix_count >= 0),
    tree_depth         INTEGER NOT NULL DEFAULT 0 CHECK (tree_depth >= 0),
    -- the remix edge's prompt diff (NULL for an original)
    diff_summary       TEXT,
    variant_key        TEXT,
    similarity         REAL CHECK (similarity BETWEEN 0 AND 1),
    diff_ops           TEXT,                         -- JSON [[op, before, after], ...]
    -- its own likes and views plus those of all its derivatives
    subtree_likes      INTEGER NOT NULL DEFAULT 0 CHECK (subtree_likes >= 0),
    subtree_views      INTEGER NOT NULL DEFAULT 0 CHECK (subtree_views >= 0),
    -- search: the ids of its normalised prompt, title and creator in search_texts
    -- (files made before search get these columns before this script runs)
    prompt_text        INTEGER,
    title_text         INTEGER,
    creator_text       INTEGER,
    -- the response cache's validity: bumped in the same transaction as any
    -- change to this row or to anything under it (files made before it get
    -- the column before this script runs)
    version            INTEGER NOT NULL DEFAULT 0,
    CHECK (parent_id IS NULL OR parent_id <> id),
    CHECK ((parent_id IS NULL) = (generation = 0)),
    CHECK ((parent_id IS NULL) = (variant_key IS NULL))
);

-- Ranked remixes of a parent (and, with parent_id NULL, ranked originals).
CREATE INDEX IF NOT EXISTS videos_by_parent_derivatives
    ON videos (parent_id, derivative_count DESC, id);
-- The leading remix of each variant group.
CREATE INDEX IF NOT EXISTS videos_by_parent_variant
    ON videos (parent_id, variant_key, derivative_count DESC, id);

-- An original's derivatives by generation, then id (Video.descendants, lineage/descendants.py).
CREATE INDEX IF NOT EXISTS videos_by_original_generation
    ON videos (original_id, generation, id);

-- The deepest tree in one seek (the query cost's bound on ancestors, lineage/stores/sqlite/depth.py).
CREATE INDEX IF NOT EXISTS originals_by_depth
    ON videos (tree_depth) WHERE parent_id IS NULL;

-- For each video, how many derivatives sit in each (absolute) generation below it.
CREATE TABLE IF NOT EXISTS generation_counts (
    video_id   TEXT    NOT NULL REFERENCES videos (id),
    generation INTEGER NOT NULL,
    count      INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (video_id, generation)
) WITHOUT ROWID;

-- For each parent, its direct remixes grouped by variant key.
CREATE TABLE IF NOT EXISTS variant_groups (
    parent_id   TEXT    NOT NULL REFERENCES videos (id),
    variant_key TEXT    NOT NULL,
    remix_count INTEGER NOT NULL CHECK (remix_count > 0),
    reach       INTEGER NOT NULL CHECK (reach >= remix_count),
    PRIMARY KEY (parent_id, variant_key)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS variant_groups_by_reach
    ON variant_groups (parent_id, reach DESC, variant_key);

-- For each video, how many of its derivatives were created in each UTC hour
-- (hours since the epoch); parent_key is the video's parent ('' for an
-- original), so a parent's remixes can be ranked by their own counts.
-- No foreign key (as for descendant_closure): a lookup per row slowed the bulk
-- import, and `lineage check` verifies every row against the edges. Files made
-- before this keep theirs.
CREATE TABLE IF NOT EXISTS remix_hours (
    video_id   TEXT    NOT NULL,
    hour       INTEGER NOT NULL,
    parent_key TEXT    NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (video_id, hour)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS remix_hours_by_parent
    ON remix_hours (parent_key, hour, video_id, count);

CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('schema_version', '1');

-- Rights (lineage/rights.py): rows only for videos that are removed, have removed
-- derivatives or carry a C2PA manifest label; any other video is ACTIVE.
CREATE TABLE IF NOT EXISTS video_rights (
    video_id                 TEXT    PRIMARY KEY REFERENCES videos (id),
    status                   TEXT    NOT NULL DEFAULT 'ACTIVE'
                             CHECK (status IN ('ACTIVE', 'REMOVED')),
    removed_reason           TEXT,
    removed_us               INTEGER,                -- microseconds since the epoch, UTC
    removed_by               TEXT,
    removed_derivative_count INTEGER NOT NULL DEFAULT 0 CHECK (removed_derivative_count >= 0),
    c2pa_manifest            TEXT,
    CHECK ((status = 'REMOVED') = (removed_reason IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS video_rights_by_manifest
    ON video_rights (c2pa_manifest) WHERE c2pa_manifest IS NOT NULL;

-- Every takedown and restore, with who did it.
CREATE TABLE IF NOT EXISTS rights_log (
    seq      INTEGER PRIMARY KEY,
    video_id TEXT    NOT NULL REFERENCES videos (id),
    action   TEXT    NOT NULL CHECK (action IN ('takedown', 'restore')),
    actor    TEXT,
    reason   TEXT,
    at_us    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rights_log_by_video ON rights_log (video_id, seq);

-- For each video, the views of its derivatives per (absolute) generation below it:
-- a row beside each generation_counts row.
CREATE TABLE IF NOT EXISTS generation_views (
    video_id   TEXT    NOT NULL REFERENCES videos (id),
    generation INTEGER NOT NULL,
    views      INTEGER NOT NULL CHECK (views >= 0),
    PRIMARY KEY (video_id, generation)
) WITHOUT ROWID;

-- One version per tree (original id), bumped in the same transaction as any
-- write into that tree: cached answers about a tree stay valid while the
-- versions of the trees they read are unchanged (api/cache.py).
CREATE TABLE IF NOT EXISTS tree_versions (
    original_id TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL
) WITHOUT ROWID;

-- The descendant closure (lineage/descendants.py): a row for each ancestor of a
-- video that is not an original, with the video's generation, so the
-- derivatives of any remix read in (generation, id) order from one key range.
-- An original's derivatives are read through videos_by_original_generation.
-- No foreign keys: two lookups per row would slow the bulk import, and
-- `lineage check` verifies every row against the edges.
CREATE TABLE IF NOT EXISTS descendant_closure (
    ancestor_id   TEXT    NOT NULL,
    generation    INTEGER NOT NULL CHECK (generation >= 2),
    descendant_id TEXT    NOT NULL,
    PRIMARY KEY (ancestor_id, generation, descendant_id)
) WITHOUT ROWID;

-- Search (lineage/stores/sqlite/search.py): each distinct normalised field text
-- (a prompt, title or creator, NFKC and case-folded) once, with the number of
-- video fields that hold it; a trigram full-text index over them (any
-- substring of three characters or more, any script); the videos holding each
-- text (videos.prompt_text, title_text, creator_text); and the ranking by
-- derivatives that frequent terms walk: the videos with derivatives in this
-- index, then those without (most of a forest: its leaves) in id order, from
-- the index of the ids.
CREATE TABLE IF NOT EXISTS search_texts (
    id   INTEGER PRIMARY KEY,
    text TEXT    NOT NULL UNIQUE,
    uses INTEGER NOT NULL CHECK (uses >= 0)
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5 (
    text, content = 'search_texts', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 1'
);
CREATE INDEX IF NOT EXISTS videos_by_prompt_text ON videos (prompt_text);
CREATE INDEX IF NOT EXISTS videos_by_title_text
    ON videos (title_text) WHERE title_text IS NOT NULL;
CREATE INDEX IF NOT EXISTS videos_by_creator_text
    ON videos (creator_text) WHERE creator_text IS NOT NULL;
CREATE INDEX IF NOT EXISTS videos_ranked_by_derivatives
    ON videos (derivative_count DESC, id) WHERE derivative_count > 0;
