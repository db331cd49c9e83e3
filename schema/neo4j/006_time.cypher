// Remixes per UTC hour: one node per (video, hour) holding how many of the
// video's derivatives were created in that hour (lineage/stores/neo4j/engagement.py).
CREATE CONSTRAINT remix_hour_key IF NOT EXISTS
FOR (h:RemixHour) REQUIRE (h.video_id, h.hour) IS UNIQUE;

// A parent's remixes ranked by their own hours (trendingVariants, trendingOriginals).
CREATE INDEX remix_hour_parent IF NOT EXISTS
FOR (h:RemixHour) ON (h.parent_key, h.hour);
