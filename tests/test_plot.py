"""The lineage figure (``lineage.analysis.plot``): formats, refusals, and what it shows."""

from __future__ import annotations

import re
import struct
import warnings
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.image import imread

from lineage.analysis.plot import plot_lineage
from lineage.demo.tree import DEMO_ORIGINAL_ID, DEMO_SECOND_ORIGINAL_ID, demo_records
from lineage.errors import InvalidInput, LimitExceeded, VideoNotFound
from lineage.importing.records import SourcedRecord
from lineage.over_time import trending
from lineage.over_time.plot import HOURS_IN_WEEK
from lineage.store import LineageStore, VideoOrder
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import SMALL_TREE, load

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def svg_text(path: Path) -> str:
    """The SVG's source, after checking it parses with an ``<svg>`` root."""
    text = path.read_text(encoding="utf-8")
    root = ElementTree.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return text


@pytest.fixture
def small_tree(store: LineageStore) -> LineageStore:
    load(store, SMALL_TREE)
    return store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LineageStore]:
    """The demo tree in one SQLite store, shared by the read-only tests below."""
    store = SQLiteStore(tmp_path_factory.mktemp("plot-demo") / "demo.db")
    records = demo_records()
    report = store.import_videos(
        SourcedRecord(record, "demo", number) for number, record in enumerate(records, 1)
    )
    assert (report.added, report.rejected) == (len(records), [])
    yield store
    store.close()


# -- the small tree, on every backend ----------------------------------------------


def test_png_is_a_sizeable_image(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "grandma.png"
    plot_lineage(small_tree, "grandma", path)
    width, height = png_size(path)
    assert width >= 800
    assert height >= 400
    assert path.stat().st_size > 10_000
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels.min() < pixels.max()  # not a blank canvas


def test_svg_names_the_remixes_and_their_counts(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "grandma.svg"
    plot_lineage(small_tree, "grandma", path)
    text = svg_text(path)
    for key in ("crocodile→hippo", "crocodile→giraffe", "crocodile→tank", "+baby"):
        assert key in text
    assert "4 derivatives" in text  # grandma
    assert "1 derivative" in text  # hippo, over baby-hippo
    assert "Derivatives per generation" in text
    assert "others" not in text  # every remix fits


def test_remixes_beyond_top_are_folded(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "grandma.svg"
    plot_lineage(small_tree, "grandma", path, top=1, second=0)
    text = svg_text(path)
    assert "crocodile→hippo" in text  # the remix with the most derivatives
    assert "crocodile→giraffe" not in text
    assert "+2 others" in text
    assert "(0 derivatives)" in text
    assert "+1 other" in text  # baby-hippo, under hippo


def test_a_video_without_remixes_draws(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "baby-hippo.svg"
    plot_lineage(small_tree, "baby-hippo", path)
    text = svg_text(path)
    assert "no remixes yet" in text
    assert "generation 2 of grandma" in text


def test_chinese_labels_draw_without_warnings(small_tree: LineageStore, tmp_path: Path) -> None:
    # Without a CJK font the glyphs are boxes, but nothing warns or fails.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_lineage(small_tree, "nainai", tmp_path / "nainai.png")
        plot_lineage(small_tree, "nainai", tmp_path / "nainai.svg")
    assert "鳄鱼→河马" in svg_text(tmp_path / "nainai.svg")


def test_an_installed_cjk_font_draws_without_findfont_warnings(
    small_tree: LineageStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # WenQuanYi Zen Hei's only face is weight 500: asked for normal and bold
    # labels, matplotlib used to log "findfont: Failed to find font weight" ten times.
    from matplotlib import font_manager

    if not any(
        entry.name.startswith(("WenQuanYi", "Noto Sans CJK"))
        for entry in font_manager.fontManager.ttflist
    ):
        pytest.skip("no CJK font installed (scripts/test installs fonts-wqy-zenhei)")
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
        plot_lineage(small_tree, "nainai", tmp_path / "nainai.png")
        plot_lineage(small_tree, "grandma", tmp_path / "grandma.png")
    assert [record.getMessage() for record in caplog.records] == []


def test_unknown_video_is_refused(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "nobody.png"
    with pytest.raises(VideoNotFound, match="unknown video id 'nobody'"):
        plot_lineage(small_tree, "nobody", path)
    assert not path.exists()


@pytest.mark.parametrize("name", ["grandma.pdf", "grandma.jpeg", "grandma"])
def test_unsupported_suffix_is_refused(small_tree: LineageStore, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(
        ValueError, match=r"cannot write a lineage figure as '(\.pdf|\.jpeg|\(no suffix\))'"
    ):
        plot_lineage(small_tree, "grandma", path)
    assert not path.exists()


def test_page_sizes_are_checked(small_tree: LineageStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="top must not be negative"):
        plot_lineage(small_tree, "grandma", tmp_path / "g.png", top=-1)
    with pytest.raises(LimitExceeded, match="second must be at most 100"):
        plot_lineage(small_tree, "grandma", tmp_path / "g.png", second=101)


def test_same_lineage_gives_the_same_svg(small_tree: LineageStore, tmp_path: Path) -> None:
    plot_lineage(small_tree, "grandma", tmp_path / "one.svg")
    plot_lineage(small_tree, "grandma", tmp_path / "two.SVG")  # the suffix in any case
    assert (tmp_path / "one.svg").read_bytes() == (tmp_path / "two.SVG").read_bytes()


# -- the demo: 18,000 direct remixes -----------------------------------------------------


def test_demo_png_is_a_sizeable_image(demo: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "demo.png"
    plot_lineage(demo, DEMO_ORIGINAL_ID, path)
    width, height = png_size(path)
    assert width >= 800
    assert height >= 400
    assert path.stat().st_size > 10_000


def test_demo_svg_shows_the_top_remix_and_folds_the_rest(
    demo: LineageStore, tmp_path: Path
) -> None:
    path = tmp_path / "demo.svg"
    plot_lineage(demo, DEMO_ORIGINAL_ID, path)
    text = svg_text(path)

    [star] = demo.children(DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, 1)
    assert star.prompt_diff is not None
    assert star.prompt_diff.variant_key == "crocodile→hippo"
    assert star.prompt_diff.variant_key in text
    assert f"{star.derivative_count:,} derivatives" in text

    grandma = demo.get_video(DEMO_ORIGINAL_ID)
    assert grandma is not None
    assert f"{grandma.derivative_count:,} derivatives" in text
    assert f"tree depth {grandma.tree_depth}" in text
    assert "18,000 direct remixes" in text
    # The 17,992 remixes beyond the top 8 are one node, and so are the star's others.
    assert "+17,992 others" in text
    assert f"+{star.direct_remix_count - 4:,} others" in text
    # No ink blot: 1 + 8 + 8 x 4 videos and 9 folds at most, a few lines of text each.
    assert text.count("<text") < 200
    for count in demo.generation_counts(DEMO_ORIGINAL_ID):
        assert f">{count.count:,}<" in text  # the bar labels


def test_demo_chinese_original_draws(demo: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "nainai.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_lineage(demo, DEMO_SECOND_ORIGINAL_ID, path)
    assert png_size(path) >= (800, 400)


def test_demo_remixes_per_hour_are_the_stored_counts(demo: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "hippo.svg"
    hippo = "grandma-r00012"
    plot_lineage(demo, hippo, path)
    text = svg_text(path)
    assert f"Remixes per hour below {hippo} (UTC)" in text
    # Every bar carries its hour and the count it was drawn with.
    bars = [(int(h), int(c)) for h, c in re.findall(r'id="remixes-hour-(\d+)-(\d+)"', text)]
    assert len(bars) == HOURS_IN_WEEK
    hours = [hour for hour, _ in bars]
    assert hours == list(range(hours[0], hours[0] + HOURS_IN_WEEK))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for hour, count in bars:
        as_of = epoch + timedelta(hours=hour, minutes=59)
        assert count == trending.remixes_in(demo, hippo, trending.Window.HOUR, as_of), hour
    # The week holds the branch's surge: its busiest day and the most remixes of any week.
    busiest = trending.busiest_day(demo, hippo)
    assert busiest is not None
    day, on_that_day = busiest
    day_hours = [count for hour, count in bars if (epoch + timedelta(hours=hour)).date() == day]
    assert sum(day_hours) == on_that_day > 0
    week_end = epoch + timedelta(hours=hours[-1], minutes=59)
    assert sum(count for _, count in bars) == trending.remixes_in(
        demo, hippo, trending.Window.WEEK, week_end
    )
    assert f"{sum(count for _, count in bars):,} remixes" in text


def test_no_times_no_hours_panel(small_tree: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "grandma.svg"
    plot_lineage(small_tree, "grandma", path)
    text = svg_text(path)
    assert "Remixes per hour" not in text
    assert "remixes-hour-" not in text
