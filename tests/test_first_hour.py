"""What a new user meets in the first hour: import messages, ``lineage stats`` columns,
plurals and articles, and ``lineage serve`` on a busy port."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.cli.main import main as lineage_main
from lineage.stores.sqlite import SQLiteStore
from lineage.text import display_width, json_error, pad, plural, with_article
from tests.api.conftest import load

NAINAI = "奶奶拿着扫帚把鳄鱼赶出院子"
# One parent whose variant keys mix Chinese and ASCII, and counts of one.
CJK_TREE = [
    {"id": "nainai", "prompt": NAINAI, "title": "奶奶赶鳄鱼"},
    {"id": "n-hippo", "parent_id": "nainai", "prompt": NAINAI.replace("鳄鱼", "河马")},
    {"id": "n-hippo-2", "parent_id": "nainai", "prompt": NAINAI.replace("鳄鱼", "河马")},
    {"id": "n-giraffe", "parent_id": "nainai", "prompt": NAINAI.replace("鳄鱼", "长颈鹿")},
    {"id": "n-tank", "parent_id": "nainai", "prompt": NAINAI.replace("鳄鱼", "tank")},
    {"id": "n-hippo-1", "parent_id": "n-hippo", "prompt": NAINAI.replace("鳄鱼", "小河马")},
]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LINEAGE_STORE", "sqlite")
    path = tmp_path / "first-hour.db"
    store = SQLiteStore(path)
    load(store, CJK_TREE)
    store.close()
    return path


def test_text_helpers() -> None:
    assert plural(1, "remix", "remixes") == "1 remix"
    assert plural(0, "derivative") == "0 derivatives"
    assert plural(41_640, "derivative") == "41,640 derivatives"
    assert with_article("admin") == "an admin"
    assert with_article("writer") == "a writer"
    assert display_width("鳄鱼→河马") == 9
    assert display_width("ｆｕｌｌ") == 8
    assert display_width("café") == 4
    assert display_width("cafe\u0301") == 4  # a combining accent takes no column
    assert pad("河马", 6) == "河马  "
    assert pad("crocodile→hippo", 4) == "crocodile→hippo"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("EOF while parsing a value at line 2 column 0", "EOF while parsing a value"),
        ("trailing characters at line 1 column 28", "trailing characters at column 28"),
        ("unexpected end of data: line 2 column 1 (char 31)", "unexpected end of data"),
        ("unexpected character: line 1 column 7 (char 6)", "unexpected character at column 7"),
        ("recursion limit exceeded", "recursion limit exceeded"),
    ],
)
def test_json_errors_lose_the_parsers_line(message: str, expected: str) -> None:
    assert json_error(message) == expected


def test_an_invalid_json_line_names_the_files_line_only(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = tmp_path / "messy.jsonl"
    lines = [
        json.dumps({"id": "a", "prompt": "a cat"}),
        json.dumps({"id": "b", "prompt": "a dog", "parent_id": "a"}),
        "",
        json.dumps({"id": "c", "prompt": "a cow"}),
        '{"id": "d",',  # line 5: the record stops mid-way
        '{"id": "e", "prompt": "x"} and more',
        '{"object": "video", "id": "video_9",',
    ]
    messy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lineage_main(["import", str(messy), "--db", str(database)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{messy}:5: rejected: invalid JSON: EOF while parsing a value",
        f"{messy}:6: rejected: invalid JSON: trailing characters at column 28",
        f"{messy}:7: rejected: invalid JSON: unexpected end of data",
    ]
    assert not any(re.search(r"line \d+ column", line) for line in err)


def test_engagement_names_the_files_line_only(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"video_id": "nainai", "likes": 1}\n{"video_id": "nainai",\n')
    assert lineage_main(["engagement", str(events), "--db", str(database)]) == 1
    err = capsys.readouterr().err
    assert f"{events}:2: invalid JSON: unexpected end of data" in err
    assert "line 2 column" not in err


def test_stats_columns_line_up_around_chinese_keys(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lineage_main(["stats", "nainai", "--db", str(database)]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("  variant groups (by reach)") + 1
    groups = [line for line in out[start:] if line.startswith("    ") and "reach" in line]
    assert len(groups) == 3
    # Every column starts at the same display column, whatever the key's script.
    for word in ("remix", "reach", "led by"):
        assert len({display_width(line[: line.index(word)]) for line in groups}) == 1, groups
    assert any(re.search(r"\b1 remix  ", line) for line in groups)
    assert not any("1 remixes" in line for line in groups)
    start = out.index("  top variants (by derivative count)") + 1
    variants = out[start : start + 4]
    assert any(re.search(r"\b1 derivative ", line) for line in variants)
    assert len({display_width(line[: line.rindex("   ") + 3]) for line in variants}) == 1


def test_check_and_takedown_speak_in_the_singular(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINEAGE_STORE", "sqlite")
    database = tmp_path / "one.db"
    store = SQLiteStore(database)
    load(store, CJK_TREE[:2])
    store.close()
    assert lineage_main(["takedown", "nainai", "--reason", "test", "--db", str(database)]) == 0
    assert "1 derivative descends from it" in capsys.readouterr().out
    assert lineage_main(["check", "--db", str(database)]) == 0
    assert "every aggregate of 2 videos" in capsys.readouterr().out


@pytest.mark.anyio
async def test_takedown_without_a_token_asks_for_an_admin_token(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "api.db")
    load(store, CJK_TREE)
    app = create_app(ApiSettings(), store=store)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        reply = await http.post(
            "/graphql",
            json={"query": 'mutation { takedown(id: "nainai", reason: "x") { status } }'},
        )
    (error,) = reply.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "this needs an admin token" in error["message"]
    store.close()


def test_serve_refuses_a_busy_port_before_printing_the_address(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = lineage_main(["serve", "--port", str(port), "--db", str(database)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Explorer:" not in captured.out
    assert f"cannot listen on 127.0.0.1:{port}" in captured.err
    assert "--port" in captured.err
