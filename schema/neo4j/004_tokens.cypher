// API tokens (lineage/stores/neo4j/tokens.py): one node per token, holding
// only the token's SHA-256; names are unique and lookups go by hash.
CREATE CONSTRAINT api_token_name IF NOT EXISTS
FOR (t:ApiToken) REQUIRE t.name IS UNIQUE;

CREATE CONSTRAINT api_token_hash IF NOT EXISTS
FOR (t:ApiToken) REQUIRE t.token_hash IS UNIQUE;
