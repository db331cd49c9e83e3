"""``lineage engagement`` and ``lineage check`` of the aggregates over time."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lineage.cli.main import main
from lineage.stores.sqlite import SQLiteStore
from tests.test_cli import RECORDS, write_jsonl


def run(database: Path, *args: str) -> int:
    return main([*args, "--db", str(database)])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    assert run(path, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS))) == 0
    return path


def _totals(database: Path, video_id: str) -> tuple[int, int, int, int]:
    store = SQLiteStore(database)
    try:
        video = store.get_video(video_id)
        assert video is not None
        return video.likes, video.views, video.subtree_likes, video.subtree_views
    finally:
        store.close()


def test_engagement_applies_deltas_in_batches(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2,500 events: three batches, one transaction each.
    events = [{"video_id": "hippo-2", "likes": 1, "views": 2}] * 2500
    events.append({"video_id": "tank", "views": 5})
    capsys.readouterr()
    assert run(database, "engagement", str(write_jsonl(tmp_path / "e.jsonl", events))) == 0
    assert "applied 2,501 events" in capsys.readouterr().out
    assert _totals(database, "hippo-2") == (2500, 5000, 2500, 5000)
    assert _totals(database, "hippo") == (0, 0, 2500, 5000)
    assert _totals(database, "grandma") == (0, 0, 2500, 5005)
    assert run(database, "check") == 0


def test_a_refused_batch_is_reported_and_leaves_the_totals_exact(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [{"video_id": "tank", "likes": 1}] * 1000 + [{"video_id": "hippo", "likes": -1}]
    capsys.readouterr()
    assert run(database, "engagement", str(write_jsonl(tmp_path / "e.jsonl", events))) == 1
    captured = capsys.readouterr()
    assert "applied 1,000 events" in captured.out
    assert "'hippo'" in captured.err
    assert "below 0" in captured.err
    assert _totals(database, "grandma") == (0, 0, 1000, 0)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"video_id": "tank", "likes": "many"}])
    assert run(database, "engagement", str(bad)) == 1
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert run(database, "check") == 0


def test_reimport_with_changed_counters_sets_them(tmp_path: Path, database: Path) -> None:
    changed = [{**RECORDS[2], "likes": 7, "views": 70}]
    assert run(database, "import", str(write_jsonl(tmp_path / "again.jsonl", changed))) == 0
    assert _totals(database, "grandma") == (0, 0, 7, 70)
    assert run(database, "check") == 0


def test_check_finds_a_corrupted_subtree_total_and_hour(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timed = [{**RECORDS[3], "created_at": "2025-10-02T08:00:00Z"}]
    assert run(database, "import", str(write_jsonl(tmp_path / "t.jsonl", timed))) == 0
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE videos SET subtree_views = 3 WHERE id = 'hippo'")
        connection.execute("UPDATE remix_hours SET count = 2 WHERE video_id = 'grandma'")
    capsys.readouterr()
    assert run(database, "check") == 1
    out = capsys.readouterr().out
    assert "hippo: subtree_views stored 3, expected 0" in out
    assert "grandma: remix_hours[" in out


def test_an_older_store_file_gains_the_aggregates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    store.close()
    records = [{**r, "likes": 2, "created_at": "2025-10-02T08:00:00Z"} for r in RECORDS]
    assert run(path, "import", str(write_jsonl(tmp_path / "in.jsonl", records))) == 0
    # Make it look like a file written before subtree totals and hours existed.
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM remix_hours")
        connection.execute("ALTER TABLE videos DROP COLUMN subtree_likes")
        connection.execute("ALTER TABLE videos DROP COLUMN subtree_views")
    assert _totals(path, "grandma") == (2, 0, 8, 0)
    assert run(path, "check") == 0


def test_stats_adds_subtree_totals_and_the_busiest_days_trending_remixes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "timed.db"
    times = {
        "hippo": "2025-10-02T23:59:59Z",
        "hippo-2": "2025-10-03T00:00:00Z",
        "tank": "2025-10-03T12:00:00Z",
    }
    records = [{**r, "created_at": times.get(str(r["id"])), "views": 10} for r in RECORDS]
    assert run(path, "import", str(write_jsonl(tmp_path / "in.jsonl", records))) == 0
    capsys.readouterr()
    assert run(path, "stats", "grandma", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["subtree_views"] == 40
    # Oct 3 holds hippo-2 and tank (2 remixes); Oct 2 only hippo.
    assert (stats["busiest_day"], stats["busiest_day_remixes"]) == ("2025-10-03", 2)
    assert stats["trending_variants"] == [{"id": "hippo", "remixes_in": 1}]
    assert run(path, "stats", "grandma") == 0
    text = capsys.readouterr().out
    assert "subtree views       40" in text
    assert "busiest day         2025-10-03 (2 remixes below it)" in text
