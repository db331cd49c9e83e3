BEGIN TRANSACTION;
CREATE TABLE api_tokens (
    name         TEXT    PRIMARY KEY,
    role         TEXT    NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_us   INTEGER NOT NULL,
    last_used_us INTEGER
);
INSERT INTO "api_tokens" VALUES('analyst','reader','00b92f142040c58b266f8c90a5b915aebcce56b363b79064b40b71289ca76c62',1796400760229472,NULL);
CREATE TABLE descendant_closure (
    ancestor_id   TEXT    NOT NULL,
    generation    INTEGER NOT NULL CHECK (generation >= 2),
    descendant_id TEXT    NOT NULL,
    PRIMARY KEY (ancestor_id, generation, descendant_id)
) WITHOUT ROWID;
INSERT INTO "descendant_closure" VALUES('croc-hippo',2,'croc-hippo-2');
INSERT INTO "descendant_closure" VALUES('croc-hippo',3,'croc-hippo-3');
INSERT INTO "descendant_closure" VALUES('croc-hippo-2',3,'croc-hippo-3');
INSERT INTO "descendant_closure" VALUES('nainai-hema',2,'nainai-hema-2');
CREATE TABLE generation_counts (
    video_id   TEXT    NOT NULL REFERENCES videos (id),
    generation INTEGER NOT NULL,
    count      INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (video_id, generation)
) WITHOUT ROWID;
INSERT INTO "generation_counts" VALUES('croc',1,3);
INSERT INTO "generation_counts" VALUES('croc',2,1);
INSERT INTO "generation_counts" VALUES('croc',3,1);
INSERT INTO "generation_counts" VALUES('croc-hippo',2,1);
INSERT INTO "generation_counts" VALUES('croc-hippo',3,1);
INSERT INTO "generation_counts" VALUES('croc-hippo-2',3,1);
INSERT INTO "generation_counts" VALUES('nainai',1,1);
INSERT INTO "generation_counts" VALUES('nainai',2,1);
INSERT INTO "generation_counts" VALUES('nainai-hema',2,1);
CREATE TABLE generation_views (
    video_id   TEXT    NOT NULL REFERENCES videos (id),
    generation INTEGER NOT NULL,
    views      INTEGER NOT NULL CHECK (views >= 0),
    PRIMARY KEY (video_id, generation)
) WITHOUT ROWID;
INSERT INTO "generation_views" VALUES('croc',1,47);
INSERT INTO "generation_views" VALUES('croc',2,55);
INSERT INTO "generation_views" VALUES('croc',3,0);
INSERT INTO "generation_views" VALUES('croc-hippo',2,55);
INSERT INTO "generation_views" VALUES('croc-hippo',3,0);
INSERT INTO "generation_views" VALUES('croc-hippo-2',3,0);
INSERT INTO "generation_views" VALUES('nainai',1,3);
INSERT INTO "generation_views" VALUES('nainai',2,11);
INSERT INTO "generation_views" VALUES('nainai-hema',2,11);
CREATE TABLE remix_hours (
    video_id   TEXT    NOT NULL,
    hour       INTEGER NOT NULL,
    parent_key TEXT    NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (video_id, hour)
) WITHOUT ROWID;
INSERT INTO "remix_hours" VALUES('croc',488721,'',2);
INSERT INTO "remix_hours" VALUES('croc',488722,'',1);
INSERT INTO "remix_hours" VALUES('croc',488747,'',1);
INSERT INTO "remix_hours" VALUES('croc',488748,'',1);
INSERT INTO "remix_hours" VALUES('nainai',488762,'',1);
INSERT INTO "remix_hours" VALUES('nainai',488763,'',1);
INSERT INTO "remix_hours" VALUES('croc-hippo',488722,'croc',1);
INSERT INTO "remix_hours" VALUES('croc-hippo',488747,'croc',1);
INSERT INTO "remix_hours" VALUES('croc-hippo-2',488747,'croc-hippo',1);
INSERT INTO "remix_hours" VALUES('nainai-hema',488763,'nainai',1);
CREATE TABLE rights_log (
    seq      INTEGER PRIMARY KEY,
    video_id TEXT    NOT NULL REFERENCES videos (id),
    action   TEXT    NOT NULL CHECK (action IN ('takedown', 'restore')),
    actor    TEXT,
    reason   TEXT,
    at_us    INTEGER NOT NULL
);
INSERT INTO "rights_log" VALUES(1,'croc-tank','takedown','cli','copyright claim',1796400759964335);
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "store_meta" VALUES('schema_version','1');
INSERT INTO "store_meta" VALUES('rights_version','1');
INSERT INTO "store_meta" VALUES('descendant_closure_version','1');
CREATE TABLE tree_versions (
    original_id TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO "tree_versions" VALUES('croc',3);
INSERT INTO "tree_versions" VALUES('nainai',2);
CREATE TABLE variant_groups (
    parent_id   TEXT    NOT NULL REFERENCES videos (id),
    variant_key TEXT    NOT NULL,
    remix_count INTEGER NOT NULL CHECK (remix_count > 0),
    reach       INTEGER NOT NULL CHECK (reach >= remix_count),
    PRIMARY KEY (parent_id, variant_key)
) WITHOUT ROWID;
INSERT INTO "variant_groups" VALUES('croc','crocodile→giraffe',1,1);
INSERT INTO "variant_groups" VALUES('croc','crocodile→hippo',1,3);
INSERT INTO "variant_groups" VALUES('croc','crocodile→tank',1,1);
INSERT INTO "variant_groups" VALUES('croc-hippo','+pink',1,2);
INSERT INTO "variant_groups" VALUES('croc-hippo-2','yard→garden',1,1);
INSERT INTO "variant_groups" VALUES('nainai','鳄鱼→河马',1,2);
INSERT INTO "variant_groups" VALUES('nainai-hema','+小',1,1);
CREATE TABLE video_rights (
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
INSERT INTO "video_rights" VALUES('croc','ACTIVE',NULL,NULL,NULL,1,NULL);
INSERT INTO "video_rights" VALUES('croc-tank','REMOVED','copyright claim',1796400759964335,'cli',0,NULL);
CREATE TABLE videos (
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
    CHECK (parent_id IS NULL OR parent_id <> id),
    CHECK ((parent_id IS NULL) = (generation = 0)),
    CHECK ((parent_id IS NULL) = (variant_key IS NULL))
);
INSERT INTO "videos" VALUES(1,'croc',NULL,'a grandmother chases a crocodile out of her yard with a broom','Grandma vs croc','nana',1759392000000000,10,100,0,'croc',5,3,3,NULL,NULL,NULL,NULL,20,202);
INSERT INTO "videos" VALUES(2,'nainai',NULL,'奶奶拿着扫帚把鳄鱼赶出院子','我奶奶真实的脚步',NULL,1759539600000000,0,9,0,'nainai',2,1,2,NULL,NULL,NULL,NULL,0,23);
INSERT INTO "videos" VALUES(3,'croc-hippo','croc','a grandmother chases a hippo out of her yard with a broom',NULL,'b',1759396200000000,3,40,1,'croc',2,1,2,'crocodile → hippo','crocodile→hippo',0.9167,'[["replace","crocodile","hippo"]]',8,95);
INSERT INTO "videos" VALUES(4,'croc-tank','croc','a grandmother chases a tank out of her yard with a broom',NULL,'c',1759396800000000,0,7,1,'croc',0,0,0,'crocodile → tank','crocodile→tank',0.9167,'[["replace","crocodile","tank"]]',0,7);
INSERT INTO "videos" VALUES(5,'croc-giraffe','croc','a grandmother chases a giraffe out of her yard with a broom',NULL,NULL,1759492800000000,2,0,1,'croc',0,0,0,'crocodile → giraffe','crocodile→giraffe',0.9167,'[["replace","crocodile","giraffe"]]',2,0);
INSERT INTO "videos" VALUES(6,'nainai-hema','nainai','奶奶拿着扫帚把河马赶出院子',NULL,NULL,1759543200000000,0,3,1,'nainai',1,1,1,'鳄鱼 → 河马','鳄鱼→河马',0.8462,'[["replace","鳄鱼","河马"]]',0,14);
INSERT INTO "videos" VALUES(7,'croc-hippo-2','croc-hippo','a grandmother chases a pink hippo out of her yard with a broom',NULL,NULL,1759399500000000,5,55,2,'croc',1,1,1,'+ pink','+pink',0.96,'[["insert","","pink"]]',5,55);
INSERT INTO "videos" VALUES(8,'nainai-hema-2','nainai-hema','奶奶拿着扫帚把小河马赶出院子',NULL,NULL,1759548600000000,0,11,2,'nainai',0,0,0,'+ 小','+小',0.963,'[["insert","","小"]]',0,11);
INSERT INTO "videos" VALUES(9,'croc-hippo-3','croc-hippo-2','a grandmother chases a pink hippo out of her garden with a broom',NULL,NULL,1759489200000000,0,0,3,'croc',0,0,0,'yard → garden','yard→garden',0.9231,'[["replace","yard","garden"]]',0,0);
CREATE INDEX videos_by_parent_derivatives
    ON videos (parent_id, derivative_count DESC, id);
CREATE INDEX videos_by_parent_variant
    ON videos (parent_id, variant_key, derivative_count DESC, id);
CREATE INDEX videos_by_original_generation
    ON videos (original_id, generation, id);
CREATE INDEX variant_groups_by_reach
    ON variant_groups (parent_id, reach DESC, variant_key);
CREATE INDEX remix_hours_by_parent
    ON remix_hours (parent_key, hour, video_id, count);
CREATE INDEX video_rights_by_manifest
    ON video_rights (c2pa_manifest) WHERE c2pa_manifest IS NOT NULL;
CREATE INDEX rights_log_by_video ON rights_log (video_id, seq);
COMMIT;
