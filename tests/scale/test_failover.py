"""Failover: load through HAProxy, one API process SIGKILLed mid-load.

Checks the five points of the scale-out contract: no acknowledged write lost;
requests fail only while in flight on the killed process; the front answers
from the others within 2 s (HAProxy takes the dead one out within 2 s);
`lineage check` is clean; a restarted process serves again.

"In flight on the killed process" is measured, not guessed: just before the
kill the test reads the kernel's table of the victim's TCP connections (the
ones HAProxy had handed to it, accepted or still queued), and HAProxy logs,
for every request, the server and the backend connection's source port that
carried it. A failed request counts as in flight only when its last attempt
went to the victim over a connection of that table.

"The front answers within 2 s": the first `GET /readyz` through the front
started after the kill is answered within 2 s plus the slowest such probe in
the 2 s before the kill (the same run's floor: on a loaded machine /readyz
itself may take seconds); no probe may fail.

The short scenario runs in CI; the long one (LINEAGE_FAILOVER_SECONDS, 30 s by
default) with --run-slow. Whatever happens, the killed process is started
again before the test ends, so that no later test depends on its outcome.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lineage.stores.neo4j import Neo4jStore
from tests.scale.conftest import ROOT, Cluster

pytestmark = [pytest.mark.scale, pytest.mark.neo4j]

CLIENTS = 4
VICTIM = 2  # the API process killed (1-based)
LONG_S = float(os.environ.get("LINEAGE_FAILOVER_SECONDS", "30"))


@dataclass
class Outcome:
    started: float
    ended: float
    video_id: str
    ok: bool
    error: str = ""


@dataclass
class Attempt:
    """HAProxy's log line of one request (its last attempt)."""

    server: str
    backend_port: int
    retries: str
    status: str
    termination: str


def _load(
    front: str,
    token: str,
    stopped: Callable[[], bool],
    outcomes: list[Outcome],
    lock: threading.Lock,
) -> None:
    prefix = f"fo-{uuid.uuid4().hex[:8]}"
    mine: list[str] = []
    # Every write names its video's id, so running it twice is an unchanged
    # import: the front may replay it on another process.
    headers = {"Authorization": f"Bearer {token}", "Lineage-Replay-Safe": "1"}
    # A generous timeout: a slow answer on a loaded machine is not a failover failure.
    with httpx.Client(base_url=front, headers=headers, timeout=30) as client:
        n = 0
        while not stopped():
            n += 1
            video_id = f"{prefix}-{n}"
            if mine and n % 3:
                parent = mine[(n * 7) % len(mine)]
                query = (
                    'mutation { remixVideo(parentId: "%s", input: {id: "%s", prompt: "a hippo %d"}) '
                    "{ child { id } } }" % (parent, video_id, n)
                )
            else:
                query = (
                    'mutation { createOriginal(input: {id: "%s", prompt: "a crocodile %d"}) { id } }'
                    % (video_id, n)
                )
            started = time.monotonic()
            try:
                answer = client.post(
                    "/graphql", json={"query": query}, headers={"X-Request-Id": video_id}
                )
                body = answer.json() if answer.status_code == 200 else {}
                ok = answer.status_code == 200 and not body.get("errors")
                error = "" if ok else f"{answer.status_code} {answer.text[:200]}"
            except httpx.HTTPError as failure:
                ok, error = False, repr(failure)
            outcome = Outcome(started, time.monotonic(), video_id, ok, error)
            with lock:
                outcomes.append(outcome)
            if ok:
                mine.append(video_id)


def _probe(
    front: str, stopped: Callable[[], bool], probes: list[tuple[float, float, bool, str]]
) -> None:
    """GET /readyz through the front every 50 ms: (started, ended, answered 200, id)."""
    prefix = f"fo-probe-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=front, timeout=30) as client:
        n = 0
        while not stopped():
            n += 1
            started = time.monotonic()
            try:
                answer = client.get("/readyz", headers={"X-Request-Id": f"{prefix}-{n}"})
                answered = answer.status_code == 200
            except httpx.HTTPError:
                answered = False
            probes.append((started, time.monotonic(), answered, f"{prefix}-{n}"))
            time.sleep(0.05)


def _watch_states(
    cluster: Cluster, stopped: Callable[[], bool], seen: list[tuple[float, dict[str, str]]]
) -> None:
    while not stopped():
        with contextlib.suppress(OSError):
            seen.append((time.monotonic(), cluster.haproxy_states()))
        time.sleep(0.05)


def _warm_up(cluster: Cluster, token: str) -> None:
    """A few writes on each process first: cold JVM and Python paths would
    otherwise be measured as failover (on a loaded machine the first ones
    may take seconds)."""
    for url in cluster.apis:
        done: list[Outcome] = []
        deadline = time.monotonic() + 90
        while not any(o.ok for o in done) and time.monotonic() < deadline:
            _load(url, token, _after(1.0), done, threading.Lock())
        assert any(o.ok for o in done), done[:3]


def _tcp_table() -> list[tuple[int, int, str, int]]:
    """(local port, remote port, state, inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
        rows.append((int(local.split(":")[1], 16), int(remote.split(":")[1], 16), state, inode))
    return rows


LISTEN = "0A"


def _listener_inode(port: int) -> int | None:
    return next((i for lp, _, st, i in _tcp_table() if lp == port and st == LISTEN), None)


# ESTABLISHED and SYN_RECV: open connections (accepted, or still in the
# listener's queue), not the closed ones the kernel keeps for a while.
OPEN = {"01", "03"}


def _handed_to(port: int) -> set[int]:
    """The peer ports of the open connections to ``port`` (accepted or queued)."""
    return {rp for lp, rp, st, _ in _tcp_table() if lp == port and st in OPEN}


def _holds_socket(pid: int, inode: int) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    return any(os.readlink(fd) == f"socket:[{inode}]" for fd in fds.iterdir() if fd.is_symlink())


def _attempts(cluster: Cluster) -> dict[str, Attempt]:
    """HAProxy's request log (the "requests" ring), by request id."""
    found = {}
    for line in cluster.haproxy("show events requests", timeout=5).splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0].startswith("fo-"):
            found[fields[0]] = Attempt(
                fields[1].rpartition("/")[2],
                int(fields[2]) if fields[2].isdigit() else -1,
                fields[3],
                fields[4],
                fields[5],
            )
    return found


def _after(seconds: float) -> Callable[[], bool]:
    """True once ``seconds`` have passed from now."""
    until = time.monotonic() + seconds
    return lambda: time.monotonic() > until


def _acked(outcomes: list[Outcome], started_after: float = 0.0) -> int:
    return sum(1 for o in list(outcomes) if o.ok and o.started > started_after)


def _wait_for(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Until ``condition`` holds, for ``limit`` seconds at most (the checks
    that follow then say what is missing)."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def _restore(cluster: Cluster) -> None:
    """The victim serving and UP in HAProxy again (started if it is not alive)."""
    alive = True
    try:
        os.kill(cluster.pid(VICTIM), 0)
    except (OSError, ValueError):
        alive = False
    if not alive:
        cluster.script("api-start", str(VICTIM))
    deadline = time.monotonic() + 20
    while cluster.haproxy_states().get(f"api{VICTIM}") != "UP":
        if time.monotonic() > deadline:
            raise AssertionError(f"api{VICTIM} is not back in HAProxy's rotation")
        time.sleep(0.05)


def _failover(cluster: Cluster, token: str, load_s: float) -> None:
    try:
        _scenario(cluster, token, load_s)
    finally:
        _restore(cluster)


def _scenario(cluster: Cluster, token: str, load_s: float) -> None:
    _warm_up(cluster, token)
    outcomes: list[Outcome] = []
    states: list[tuple[float, dict[str, str]]] = []
    probes: list[tuple[float, float, bool, str]] = []
    lock = threading.Lock()
    assert cluster.haproxy_states() == {"api1": "UP", "api2": "UP", "api3": "UP"}
    victim_port = int(cluster.apis[VICTIM - 1].rpartition(":")[2])
    victim = cluster.pid(VICTIM)
    listener = _listener_inode(victim_port)
    # The pid killed is the one holding the listener: no parent process
    # outlives the kill and keeps accepting.
    assert listener is not None
    assert _holds_socket(victim, listener)

    begin = time.monotonic()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_load, args=(cluster.front, token, stop.is_set, outcomes, lock))
        for _ in range(CLIENTS)
    ]
    threads.append(threading.Thread(target=_watch_states, args=(cluster, stop.is_set, states)))
    threads.append(threading.Thread(target=_probe, args=(cluster.front, stop.is_set, probes)))
    for thread in threads:
        thread.start()
    # The kill comes after 30 % of the load's length and as many writes
    # acknowledged as there are clients; the load ends after its length and as
    # many acknowledged writes started after the kill (on a loaded machine one
    # write may take seconds).
    _wait_for(lambda: time.monotonic() - begin >= load_s * 0.3 and _acked(outcomes) >= CLIENTS)
    in_flight = _handed_to(victim_port)
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    # How long the dying process's listener still took connections.
    while _listener_inode(victim_port) == listener and time.monotonic() - killed < 5:
        time.sleep(0.001)
    listener_closed = time.monotonic() - killed
    _wait_for(
        lambda: (
            time.monotonic() - begin >= load_s and _acked(outcomes, started_after=killed) >= CLIENTS
        )
    )
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    took = time.monotonic() - begin

    attempts = _attempts(cluster)
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    after = [o for o in outcomes if o.started > killed]
    retried = [
        o
        for o in outcomes
        if attempts.get(o.video_id, None) and attempts[o.video_id].retries not in ("0", "")
    ]

    def was_in_flight(outcome: Outcome) -> bool:
        attempt = attempts.get(outcome.video_id)
        return (
            attempt is not None
            and attempt.server == f"api{VICTIM}"
            and attempt.backend_port in in_flight
        )

    down_at = next(
        (at for at, state in states if at > killed and state.get(f"api{VICTIM}") != "UP"), None
    )
    first_write = min((o.ended for o in after if o.ok), default=float("inf"))
    answered_after = [p for p in probes if p[0] > killed and p[2]]
    first_probe = min(answered_after, key=lambda p: p[1], default=None)
    first_answer = first_probe[1] if first_probe else 1e9
    probes_failed = [p for p in probes if not p[2]]
    # The floor of the same run: the slowest probe answered in the 2 s before
    # the kill (on a loaded machine /readyz itself may take seconds).
    slowest_before = max(
        (end - start for start, end, ok, _ in probes if ok and killed - 2 < end <= killed),
        default=0.0,
    )
    report = (
        f"{len(outcomes)} writes in {took:.1f} s ({len(ok)} acknowledged, {len(failed)} failed, "
        f"{len(retried)} retried by HAProxy); {len(in_flight)} connections on the victim at "
        f"the kill; its listener closed {listener_closed:.3f} s after the kill; "
        f"down in HAProxy {None if down_at is None else round(down_at - killed, 3)} s after it; "
        f"first answer after the kill {first_answer - killed:.3f} s "
        f"({len(probes)} probes, {len(probes_failed)} failed; that probe "
        f"{attempts.get(first_probe[3]) if first_probe else None}; slowest probe in the 2 s "
        f"before the kill {slowest_before:.3f} s); "
        f"first write acknowledged after it {first_write - killed:.3f} s; "
        f"slowest write started after it {max((o.ended - o.started for o in after), default=0):.3f} s"
    )
    report += "; retried: " + ", ".join(
        f"[{o.started - killed:+.3f}, {o.ended - killed:+.3f}] s {attempts[o.video_id]}"
        for o in retried
    )
    report += "; failed: " + ", ".join(
        f"[{o.started - killed:+.3f}, {o.ended - killed:+.3f}] s "
        f"{'in flight' if was_in_flight(o) else 'NOT in flight'} "
        f"{attempts.get(o.video_id)} {o.error[:60]}"
        for o in failed
    )
    print(report)
    assert len(ok) >= 2 * CLIENTS, report
    assert len(after) >= CLIENTS, report
    # Every request reached HAProxy's log (the measure below depends on it).
    assert all(o.video_id in attempts for o in outcomes), report

    # Fail only while in flight on the killed process.
    for outcome in failed:
        assert was_in_flight(outcome), (outcome, report)
    # The front answers from the others within 2 s, and HAProxy took the dead one out.
    assert not probes_failed, report
    assert first_answer - killed < 2.0 + slowest_before, report
    # (Not the latency of each write: on a loaded 2-core machine one may take
    # over 2 s with or without a kill; it is reported above.)
    assert down_at is not None, report
    assert down_at - killed < 2.0, report

    # No acknowledged write lost.
    env = cluster.env
    store = Neo4jStore(env["NEO4J_URI"], env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    try:
        ids = [o.video_id for o in ok]
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found |= set(store.get_videos(ids[start : start + 500]))
    finally:
        store.close()
    assert set(ids) <= found, f"lost: {sorted(set(ids) - found)[:10]}"

    # lineage check is clean.
    lineage = ROOT / ".venv" / "bin" / "lineage"
    check = subprocess.run(
        [str(lineage if lineage.exists() else "lineage"), "check"],
        env=cluster.process_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # A restarted process serves again, directly and through the front.
    restarted = time.monotonic()
    cluster.script("api-start", str(VICTIM))
    deadline = time.monotonic() + 10
    while cluster.haproxy_states().get(f"api{VICTIM}") != "UP":
        assert time.monotonic() < deadline, "the restarted process did not rejoin"
        time.sleep(0.05)
    print(f"restarted and back in rotation in {time.monotonic() - restarted:.2f} s")
    direct = httpx.get(f"{cluster.apis[VICTIM - 1]}/readyz", timeout=5)
    assert direct.status_code == 200
    answer = httpx.post(
        f"{cluster.apis[VICTIM - 1]}/graphql",
        json={"query": '{ video(id: "%s") { id } }' % ids[0]},
        timeout=10,
    )
    assert answer.json()["data"]["video"]["id"] == ids[0]
    for _ in range(6):
        assert httpx.get(f"{cluster.front}/readyz", timeout=5).status_code == 200


def test_one_api_process_killed_mid_load(cluster: Cluster, writer_token: str) -> None:
    _failover(cluster, writer_token, 5.0)


@pytest.mark.slow
def test_one_api_process_killed_mid_long_load(cluster: Cluster, writer_token: str) -> None:
    _failover(cluster, writer_token, LONG_S)
