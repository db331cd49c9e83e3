"""The analyst's tour (docs/analyst-tour.ipynb) runs from top to bottom, so it cannot rot.

The notebook loads the demo into a SQLite file of its own, exports it as Parquet,
reads it with pandas and DuckDB, draws the tree, measures it with networkx and asks
the GraphQL API in process; its cells assert that their figures match the store's.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "analyst-tour.ipynb"


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def test_the_analysts_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_DB", str(tmp_path / "tour.db"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    started = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - started
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code)
    outputs = "\n".join(_text(cell) for cell in code)
    assert "added 42,084, unchanged 0; 42,084 videos" in outputs
    assert "grandma: 41,640 derivatives, tree depth 5" in outputs
    assert "42,084 rows" in outputs
    assert "busiest hour 2025-10-03" in outputs
    assert "7,135 videos, longest path 4 remixes" in outputs
    assert "'derivativeCount': 41640" in outputs
    images = [
        output
        for cell in code
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 2  # remixes per hour, and the tree
    assert (tmp_path / "demo.parquet").stat().st_size > 0
    # The whole tour, kernel start included, in well under a minute on 2 cores.
    assert elapsed < 120, f"the notebook took {elapsed:.0f} s"
