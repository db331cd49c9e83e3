"""The ``lineage`` command line: exit codes, messages and output formats."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.cli.main import main

ORIGINAL = "A grandmother chases a crocodile out of the yard"
RECORDS = [
    # The remix comes before its parent on purpose.
    {"id": "hippo", "parent_id": "grandma", "prompt": ORIGINAL.replace("crocodile", "hippo")},
    {"id": "grandma", "prompt": ORIGINAL, "title": "我奶奶真实的脚步"},
    {"id": "hippo-2", "parent_id": "hippo", "prompt": ORIGINAL.replace("crocodile", "baby hippo")},
    {"id": "tank", "parent_id": "grandma", "prompt": ORIGINAL.replace("crocodile", "tank")},
]


def write_jsonl(path: Path, records: list[dict[str, object]], extra: str = "") -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def run(database: Path, *args: str) -> int:
    return main([*args, "--db", str(database)])


def test_import_reports_counts_and_exit_zero(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    assert run(database, "import", str(source)) == 0
    captured = capsys.readouterr()
    assert "added 4" in captured.out
    assert "rejected 0" in captured.out
    assert captured.err == ""

    assert run(database, "import", str(source)) == 0
    assert "added 0, updated 0, unchanged 4, rejected 0" in capsys.readouterr().out


def test_rejected_lines_go_to_stderr_with_line_numbers(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        *RECORDS,
        {"id": "orphan", "parent_id": "nobody", "prompt": "a tank"},
        {"id": "bad id!", "prompt": "x"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records, extra="{not json\n")
    assert run(database, "import", str(source)) == 1
    captured = capsys.readouterr()
    assert "added 4" in captured.out
    assert "rejected 3" in captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{source}:5: rejected:")
    assert "'nobody'" in lines[0]
    assert lines[1].startswith(f"{source}:6: rejected:")
    assert "id" in lines[1]
    assert lines[2].startswith(f"{source}:7: rejected:")
    assert "JSON" in lines[2]


def test_atomic_import_writes_nothing_on_rejection(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [*RECORDS, {"id": "orphan", "parent_id": "nobody", "prompt": "a tank"}]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    assert run(database, "import", str(source), "--atomic") == 1
    assert "nothing imported" in capsys.readouterr().out
    assert run(database, "stats", "grandma") == 2
    assert "'grandma'" in capsys.readouterr().err


def test_missing_file_exits_two(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(database, "import", "/nonexistent/file.jsonl") == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LINEAGE_STORE", "postgres", "LINEAGE_STORE='postgres': Input should be 'sqlite' or"),
        ("LINEAGE_NEO4J_IMPORT_GROUP", "0", "LINEAGE_NEO4J_IMPORT_GROUP='0': Input should be"),
    ],
)
def test_a_bad_setting_exits_two_naming_the_variable(
    database: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert run(database, "stats", "grandma") == 2
    assert f"lineage stats: invalid configuration: {message}" in capsys.readouterr().err


def test_serve_checks_the_api_settings_before_starting(
    database: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_API_MAX_QUERY_DEPTH", "deep")
    assert run(database, "serve") == 2
    assert "LINEAGE_API_MAX_QUERY_DEPTH='deep'" in capsys.readouterr().err


def test_import_from_standard_input(tmp_path: Path, database: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    result = subprocess.run(
        [sys.executable, "-m", "lineage", "import", "-", "--db", str(database)],
        stdin=source.open("rb"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "added 4" in result.stdout


def test_stats_json_has_the_contract_keys(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    assert run(database, "stats", "grandma", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    # The contract's keys, in its order; more may follow.
    assert list(stats)[:9] == [
        "id",
        "generation",
        "original_id",
        "derivative_count",
        "direct_remix_count",
        "tree_depth",
        "generation_counts",
        "top_variants",
        "variant_groups",
    ]
    assert stats["derivative_count"] == 3
    assert stats["direct_remix_count"] == 2
    assert stats["tree_depth"] == 2
    assert stats["generation_counts"] == [
        {"generation": 1, "count": 2},
        {"generation": 2, "count": 1},
    ]
    assert stats["top_variants"][0] == {
        "id": "hippo",
        "derivative_count": 1,
        "variant_key": "crocodile→hippo",
    }
    assert stats["variant_groups"][0] == {"key": "crocodile→hippo", "remix_count": 1, "reach": 2}


def test_stats_text_and_limit(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    assert run(database, "stats", "hippo", "--limit", "1") == 0
    out = capsys.readouterr().out
    assert "generation          1 (original: grandma)" in out
    assert "derivative count    1" in out
    assert run(database, "stats", "grandma", "--limit", "101") == 2
    assert "100" in capsys.readouterr().err


def test_unknown_id_exits_two_naming_it(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(database, "stats", "no-such-video") == 2
    assert "'no-such-video'" in capsys.readouterr().err


def test_check_passes_then_finds_a_corrupted_aggregate(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    assert run(database, "check") == 0
    assert "ok" in capsys.readouterr().out

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE videos SET derivative_count = 99 WHERE id = 'grandma'")
    assert run(database, "check") == 1
    captured = capsys.readouterr()
    assert "grandma" in captured.out
    assert "derivative" in captured.out
    assert "1 mismatch in" in captured.err


def test_takedown_prints_its_blast_radius(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS))) == 0
    capsys.readouterr()
    assert run(database, "takedown", "grandma", "--reason", "DMCA 7") == 0
    out = capsys.readouterr().out
    assert "blast radius: 3 derivatives descend from it (Video.descendants totalCount)" in out
    assert (
        "first affected, breadth first: hippo (generation 1), tank (generation 1), "
        "hippo-2 (generation 2)\n" in out
    )
    assert run(database, "takedown", "tank", "--reason", "DMCA 8") == 0
    assert "blast radius: 0 derivatives" in capsys.readouterr().out


def test_search_prints_an_aligned_table_and_the_total(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        *RECORDS,
        {"id": "nainai", "prompt": "奶奶拿着扫帚把河马赶出院子", "title": "奶奶赶河马"},
        {"id": "wide", "prompt": "ＦＵＬＬ width HIPPO", "title": "ｆｕｌｌ"},
    ]
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    capsys.readouterr()
    assert run(database, "search", "hippo") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "title", "derivatives", "generation", "original"]
    assert [line.split()[0] for line in lines[1:-1]] == ["hippo", "hippo-2", "wide"]
    assert lines[-1] == "3 matches (all shown)"
    assert run(database, "search", "河马 院子", "--limit", "1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["nainai", "奶奶赶河马", "0", "0", "nainai"]
    assert out[-1] == "1 match (all shown)"
    # Columns line up on the screen, a CJK character taking two: the last column
    # (the original) starts at the same place on every line.
    from lineage.cli.search import display_width

    assert run(database, "search", "a yard OR", "--limit", "2") == 0
    assert run(database, "search", "奶奶", "--limit", "2") == 0
    assert run(database, "search", "hippo") == 0
    for table in capsys.readouterr().out.split("id ")[1:]:
        lines = ("id " + table).splitlines()[:-1]
        starts = {display_width(line[: line.rindex(" ") + 1]) for line in lines}
        assert len(starts) == 1, lines


def test_search_json_has_the_contract_keys(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    assert run(database, "search", "YARD", "--within", "hippo", "--json") == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply == {
        "total": 2,
        "videos": [
            {
                "id": "hippo",
                "title": None,
                "derivative_count": 1,
                "generation": 1,
                "original_id": "grandma",
            },
            {
                "id": "hippo-2",
                "title": None,
                "derivative_count": 0,
                "generation": 2,
                "original_id": "grandma",
            },
        ],
    }
    # The command line is the operator's: a removed video is found by its words.
    assert run(database, "takedown", "hippo", "--reason", "DMCA") == 0
    capsys.readouterr()
    assert run(database, "search", "hippo", "--json") == 0
    assert json.loads(capsys.readouterr().out)["total"] == 2


def test_search_refusals_exit_two(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    assert run(database, "search", "   ") == 2
    assert "no term" in capsys.readouterr().err
    assert run(database, "search", "yard", "--within", "no-such-video") == 2
    assert "'no-such-video'" in capsys.readouterr().err
    assert run(database, "search", "yard", "--limit", "101") == 2
    assert "--limit must be at most 100" in capsys.readouterr().err


def test_check_finds_a_search_index_that_lost_a_text(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(database, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    capsys.readouterr()
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE search_texts SET text = 'a grandmother chases a zebra out of the yard' "
            "WHERE text LIKE '%tank%'"
        )
    assert run(database, "check") == 1
    out = capsys.readouterr().out
    assert "tank: search text stored" in out
    assert "full-text index" in out
