"""Typed settings of the HTTP service, read from the environment.

The store itself is chosen by :class:`lineage.config.LineageSettings`
(``LINEAGE_STORE``, ``LINEAGE_DB``, ``NEO4J_*``); these are the service's own
knobs, all prefixed ``LINEAGE_API_``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_WEB_DIST", "ApiSettings"]

# The explorer and GraphiQL pages the package carries (api/static: in a
# checkout a link to web/dist, where scripts/build-web builds them; in a
# wheel, a copy).
DEFAULT_WEB_DIST = Path(str(files("api") / "static"))


class ApiSettings(BaseSettings):
    """Limits, CORS and GraphiQL of the HTTP service.

    The defaults are the contract's limits: pages of at most 100, queries at
    most 10 deep with at most 30 aliases and 2,000 tokens, bodies of at most
    1 MiB.
    """

    model_config = SettingsConfigDict(env_prefix="LINEAGE_API_", extra="ignore")

    max_page_size: int = Field(default=100, ge=1)
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Comma-separated origins allowed to call the API from a browser ("*" for any).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    graphiql: bool = True
    # Answers of repeated queries kept per process, exact under writes (0: off):
    # enough for the four reads of the 1,000 hottest videos of a viral tree.
    response_cache_entries: int = Field(default=4096, ge=0)
    # Bytes the response cache's entries may hold per process (answers, their
    # headers, keys of fixed size); an answer over a sixteenth of it is not kept.
    response_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    # The built web pages (the explorer at /, GraphiQL at /graphql).
    web_dist: Path = DEFAULT_WEB_DIST
    # Cache-Control max-age (seconds) of successful GET /graphql answers, which
    # also carry an ETag (If-None-Match answers 304) and are private when the
    # request sends Authorization; see README, "HTTP caching".
    http_max_age: int = Field(default=0, ge=0)
    # Group commit (lineage/importing/group_commit.py): remixes into one tree that
    # arrive while its previous batch is being written, or within this many
    # milliseconds of the first, share one transaction. Negative: off, every
    # remix is its own transaction. Unset: the store's own default
    # (``group_commit_ms`` of the store class, measured per store).
    group_commit_ms: float | None = Field(default=None)
    # Live counts (Subscription.videoUpdated): the least time between two
    # looks at a watched video's tree version, hence between two pushes.
    live_interval_ms: int = Field(default=250, ge=10)
    # Access (see the contract's "Access"): queries need no token unless false.
    public_reads: bool = True
    # Writes per token, in `limits` notation, and where the counts live
    # without Redis (memory://: per process).
    write_rate: str = "600/minute"
    rate_storage: str = "memory://"
    # LINEAGE_REDIS_URL (contract, "Scale-out"): write limits, live counts and
    # Neo4j bookmarks shared by every process through it; unset: per process.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LINEAGE_REDIS_URL", "redis_url")
    )
    # Each field costs 1, lists multiply by their first/limit; refused above this.
    max_query_cost: int = Field(default=20_000, ge=1)
    # Directives in one document (none may repeat on one location); selections
    # of one response key in one selection set.
    max_directives: int = Field(default=20, ge=0)
    max_field_repeats: int = Field(default=10, ge=1)
    # Seconds a GraphQL request may take before it is refused (0: no limit).
    request_timeout_s: float = Field(default=30.0, ge=0)

    @field_validator("write_rate")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as error:
            raise ValueError(f"not a rate like 600/minute: {value!r}") from error
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
