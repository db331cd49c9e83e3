"""The HTTP floor for benchmarks/bench_api.py: a minimal FastAPI endpoint, fixed JSON."""

from fastapi import FastAPI

app = FastAPI()

_ANSWER = {"data": {"video": {"derivativeCount": 41640, "treeDepth": 5}}}


@app.post("/graphql")
async def fixed() -> dict[str, object]:
    return _ANSWER
