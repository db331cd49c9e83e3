"""The ``lineage`` command line (see the contract).

Exit codes: 0 success; 1 rejected records (import) or mismatches (check);
2 usage errors, unknown ids, unreadable files or an unreachable store.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from lineage import __version__
from lineage.cli.engagement import add_engagement_command
from lineage.cli.rights import add_rights_commands
from lineage.cli.search import add_search_command
from lineage.config import LineageSettings, read_settings
from lineage.errors import LineageError, VideoNotFound
from lineage.importing.records import ImportReport, SourcedRecord, iter_jsonl
from lineage.over_time.stats import time_stats
from lineage.progress import progress_bar, wants_progress
from lineage.store import LineageStore
from lineage.stores import open_store
from lineage.text import pad, plural
from lineage.tree.check import check_store
from lineage.tree.queries import LineageStats, lineage_stats

__all__ = ["main"]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _settings(args: argparse.Namespace) -> LineageSettings:
    settings = read_settings(LineageSettings)
    if getattr(args, "db", None):
        settings = settings.model_copy(update={"db": Path(args.db)})
    return settings


def _store(args: argparse.Namespace) -> LineageStore:
    return open_store(_settings(args))


# -- import ---------------------------------------------------------------------


def _read_inputs(paths: Sequence[str], stack: ExitStack) -> Iterator[SourcedRecord]:
    for path in paths:
        if path == "-":
            yield from iter_jsonl(sys.stdin.buffer, "<stdin>")
            continue
        stream: IO[bytes] = stack.enter_context(Path(path).open("rb"))  # noqa: SIM115
        yield from iter_jsonl(stream, path)


def _print_report(report: ImportReport, *, atomic: bool) -> None:
    for rejection in report.rejected:
        print(f"{rejection.location}: rejected: {rejection.reason}", file=sys.stderr)
    if not report.written:
        print(
            f"nothing imported (--atomic): {len(report.rejected):,} rejected of "
            f"{report.total:,} records"
        )
        return
    print(
        f"added {report.added:,}, updated {report.updated:,}, "
        f"unchanged {report.unchanged:,}, rejected {len(report.rejected):,}"
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk import or export.

    An import holds every record and its plan as millions of small objects
    without cycles; each full collection walks all of them, which took a
    tenth of a 1,000,000-video import. An export makes as many short-lived
    records. This process runs one command, so the switch (global to the
    process) is the command's to make.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cmd_import(args: argparse.Namespace) -> int:
    for path in args.files:
        if path != "-" and not Path(path).is_file():
            print(f"lineage import: no such file: {path}", file=sys.stderr)
            return EXIT_USAGE
    store = _store(args)
    show_progress = wants_progress()
    try:
        with ExitStack() as stack:
            records = _read_inputs(args.files, stack)
            reading = stack.enter_context(progress_bar(None, "reading", enabled=show_progress))

            def counted() -> Iterator[SourcedRecord]:
                for record in records:
                    reading.update(1)
                    yield record

            with _collector_paused():
                report = store.import_videos(counted(), atomic=args.atomic, progress=show_progress)
    finally:
        store.close()
    _print_report(report, atomic=args.atomic)
    return EXIT_REJECTED if report.rejected else EXIT_OK


# -- stats ----------------------------------------------------------------------


def _format_stats(stats: LineageStats) -> str:
    video = stats.video
    lines = [f"{video.id}" + (f"  {video.title}" if video.title else "")]
    lines.append(f"  prompt              {video.prompt}")
    original = "itself" if video.is_original else video.original_id
    lines.append(f"  generation          {video.generation} (original: {original})")
    lines.append(f"  derivative count    {video.derivative_count:,}")
    lines.append(f"  direct remixes      {video.direct_remix_count:,}")
    lines.append(f"  tree depth          {video.tree_depth}")
    counts = "  ".join(f"{item.generation}: {item.count:,}" for item in stats.generation_counts)
    lines.append(f"  generation counts   {counts or '(no remixes)'}")
    if stats.top_variants:
        lines.append("  top variants (by derivative count)")
        for rank, remix in enumerate(stats.top_variants, start=1):
            key = remix.prompt_diff.variant_key if remix.prompt_diff else ""
            count = plural(remix.derivative_count, "derivative").rpartition(" ")
            lines.append(
                f"    {rank:>2}. {pad(remix.id, 20)} {count[0]:>10} {count[2]:<11}   {key}"
            )
    if stats.variant_groups:
        lines.append("  variant groups (by reach)")
        for group in stats.variant_groups:
            count = plural(group.remix_count, "remix", "remixes").rpartition(" ")
            lines.append(
                f"    {pad(group.key, 32)} {count[0]:>8} {count[2]:<7}  "
                f"reach {group.reach:>10,}  led by {group.top.id}"
            )
    return "\n".join(lines)


def cmd_stats(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        stats = lineage_stats(store, args.id, args.limit)
        over_time = time_stats(store, stats.video, args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps({**stats.as_json(), **over_time.as_json()}, ensure_ascii=False))
    else:
        print("\n".join([_format_stats(stats), *over_time.lines()]))
    return EXIT_OK


# -- check ----------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        videos = store.count_videos()
        mismatches = check_store(store)
    finally:
        store.close()
    if mismatches:
        for mismatch in mismatches:
            print(f"mismatch: {mismatch}")
        print(
            f"{plural(len(mismatches), 'mismatch', 'mismatches')} in {plural(videos, 'video')}",
            file=sys.stderr,
        )
        return EXIT_REJECTED
    print(f"ok: every aggregate of {plural(videos, 'video')} matches its recomputation")
    return EXIT_OK


# -- export and plot --------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from lineage.export.dispatch import export_lineage

    output = Path(args.output) if args.output and args.output != "-" else None
    if args.format == "csv" and output is None:
        print("lineage export: CSV writes several files: give -o BASE.csv", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "parquet" and output is None and sys.stdout.isatty():
        print("lineage export: Parquet is binary: give -o FILE.parquet", file=sys.stderr)
        return EXIT_USAGE
    store = _store(args)
    try:
        # As for an import: an export makes millions of short-lived objects and no
        # cycles, and the collector's full passes cost a large share of its time.
        with _collector_paused():
            if args.format == "parquet":
                from lineage.export.parquet import write_parquet

                write_parquet(
                    store, args.id, output or sys.stdout.buffer, progress=wants_progress()
                )
                written = [output] if output else []
            else:
                written = export_lineage(
                    store,
                    args.id,
                    args.format,
                    output,
                    binary_stream=sys.stdout.buffer,
                    progress=wants_progress(),
                )
    finally:
        store.close()
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    from lineage.analysis.plot import plot_lineage

    store = _store(args)
    try:
        plot_lineage(store, args.id, Path(args.output))
    except ValueError as error:
        print(f"lineage plot: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


# -- demo -----------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from lineage.demo.tree import DEMO_ORIGINAL_ID, demo_records

    store = _store(args)
    try:
        report = store.import_videos(
            (
                SourcedRecord(record, "demo", number)
                for number, record in enumerate(demo_records(), 1)
            ),
            progress=wants_progress(),
        )
        if report.rejected:  # the generator's own records: this would be a bug
            _print_report(report, atomic=False)
            return EXIT_REJECTED
        stats = lineage_stats(store, DEMO_ORIGINAL_ID, args.limit)
        over_time = time_stats(store, stats.video, args.limit)
    finally:
        store.close()
    print(
        f"demo loaded: added {report.added:,}, unchanged {report.unchanged:,} "
        f"(store: {_settings(args).db if _settings(args).store == 'sqlite' else 'neo4j'})"
    )
    print(f"original: {DEMO_ORIGINAL_ID}")
    print("\n".join([_format_stats(stats), *over_time.lines()]))
    return EXIT_OK


# -- serve ----------------------------------------------------------------------


def _prepare_metrics_dir(workers: int) -> None:
    """Give the workers one fresh PROMETHEUS_MULTIPROC_DIR, so /metrics adds them all up."""
    import shutil
    import tempfile

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory is None:
        if workers <= 1:
            return
        directory = tempfile.mkdtemp(prefix="lineage-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    path = Path(directory)
    if path.exists():  # samples of an earlier run would be added in
        shutil.rmtree(path)
    path.mkdir(parents=True)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the service could not listen on ``host:port`` (None: it can).

    Bound and released the way uvicorn binds it, so that a busy port is said
    before the explorer's address is printed, not after.
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    # The web stack is imported here only: the domain never depends on it.
    import uvicorn

    from api.core.config import ApiSettings

    settings = _settings(args)
    read_settings(ApiSettings)  # a bad LINEAGE_API_* value stops here, not in each worker
    # Workers are separate processes that read the store from the environment.
    os.environ["LINEAGE_STORE"] = settings.store
    os.environ["LINEAGE_DB"] = str(settings.db)
    # Open the store once before the workers start: the SQLite file is
    # created, and the schema and migrations run here, once, never in
    # workers that start while others serve.
    _store(args).close()
    _prepare_metrics_dir(args.workers)
    # The API writes its own access line (no query strings: variables travel there).
    os.environ["LINEAGE_ACCESS_LOG"] = "true" if args.access_log else "false"
    busy = _cannot_listen(args.host, args.port)
    if busy is not None:
        print(
            f"lineage serve: cannot listen on {args.host}:{args.port}: {busy} "
            "(another server there? choose a port with --port)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Explorer: http://{host}:{args.port}/", flush=True)
    print(f"GraphiQL: http://{host}:{args.port}/graphql", flush=True)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
    )
    return EXIT_OK


# -- parser ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="SQLite file (overrides LINEAGE_DB; default ./lineage.db)",
    )
    parser = argparse.ArgumentParser(
        prog="lineage",
        description="Track how videos are remixed and answer questions about their family trees.",
        parents=[common],
        epilog="Store: LINEAGE_STORE=sqlite (LINEAGE_DB) or neo4j (NEO4J_URI, NEO4J_USER, "
        "NEO4J_PASSWORD, NEO4J_DATABASE).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    importer = commands.add_parser(
        "import", parents=[common], help="import JSONL files (- for standard input)"
    )
    importer.add_argument("files", nargs="+", metavar="FILE")
    importer.add_argument(
        "--atomic",
        action="store_true",
        help="all or nothing: write nothing if any record is rejected",
    )
    importer.set_defaults(handler=cmd_import)

    stats = commands.add_parser("stats", parents=[common], help="a video's lineage statistics")
    stats.add_argument("id")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.add_argument(
        "--limit", type=int, default=10, help="top variants and variant groups to show (max 100)"
    )
    stats.set_defaults(handler=cmd_stats)

    check = commands.add_parser(
        "check", parents=[common], help="recompute every aggregate from the edges and compare"
    )
    check.set_defaults(handler=cmd_check)

    export = commands.add_parser(
        "export",
        parents=[common],
        help="export the subtree under ID (ID included), or everything without ID",
    )
    export.add_argument("id", nargs="?", metavar="ID")
    export.add_argument(
        "--format", choices=["jsonl", "csv", "graphml", "gexf", "parquet"], default="jsonl"
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="output file (default: standard output; CSV: BASE.csv -> "
        "BASE.videos.csv, BASE.remixes.csv, BASE.variant_groups.csv, BASE.remix_hours.csv)",
    )
    export.set_defaults(handler=cmd_export)

    plot = commands.add_parser(
        "plot", parents=[common], help="picture of a lineage: its leading variants, per generation"
    )
    plot.add_argument("id", metavar="ID")
    plot.add_argument("-o", "--output", required=True, metavar="FILE.png|FILE.svg")
    plot.set_defaults(handler=cmd_plot)

    demo = commands.add_parser(
        "demo", parents=[common], help="load the grandmother-and-crocodile tree and show its stats"
    )
    demo.add_argument("--limit", type=int, default=10, help=argparse.SUPPRESS)
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP/GraphQL service")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; use one per core)"
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="no line per request"
    )
    serve.set_defaults(handler=cmd_serve)

    add_rights_commands(commands, common, _store)
    from lineage.cli.tokens import add_token_commands

    add_token_commands(commands, common, _store)
    add_engagement_command(commands, common, _store)
    add_search_command(commands, common, _store)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except VideoNotFound as error:
        print(f"lineage {args.command}: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except LineageError as error:
        print(f"lineage {args.command}: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # Output piped into a program that stopped reading (e.g. head).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
