"""Fixed-size cache keys: a digest of the parts, never the parts themselves.

Request bodies and query texts reach a megabyte; a cache keyed on them
holds every distinct one for as long as the key lives. A 16-byte BLAKE2b
digest stands in for them instead (a collision is as unlikely as guessing
a 128-bit key).
"""

from __future__ import annotations

import hashlib

__all__ = ["DIGEST_BYTES", "digest"]

DIGEST_BYTES = 16


def digest(*parts: bytes | str) -> bytes:
    """A digest of ``parts`` in order (each length-prefixed, so parts never run together).

    Text is encoded as UTF-8, lone surrogates (valid in JSON strings) included.
    """
    hashed = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        hashed.update(len(data).to_bytes(8, "big"))
        hashed.update(data)
    return hashed.digest()
