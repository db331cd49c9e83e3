"""CPU time of the processes a benchmark phase runs on: the service's, the database
server's and the benchmark's own, read from ``/proc`` before and after the phase.

On a machine whose cores every process shares, a rate is bounded by the CPU each
response costs all of them together: ``cores / (CPU per response)``. Printing each
process's share says which one sets that bound (Linux only).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["CpuMeter", "Phase", "listening_pid", "session_pids"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may itself hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def session_pids(session: int) -> list[int]:
    """Every running process of the session ``session`` (a server started with
    ``start_new_session=True``: uvicorn's supervisor and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[3]) == session:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def listening_pid(uri: str) -> int | None:
    """The process listening on ``uri``'s TCP port on this machine (the Neo4j server
    behind ``bolt://127.0.0.1:7687``), or None when it cannot be seen."""
    port = urlsplit(uri).port or 7687
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Phase:
    """CPU seconds each part spent over ``wall`` seconds."""

    wall: float
    service: float
    database: float | None
    benchmark: float

    def per_response_ms(self, responses: int) -> dict[str, float]:
        """CPU ms per response of each part, and of them all."""
        parts = {"service": self.service, "benchmark": self.benchmark}
        if self.database is not None:
            parts["database"] = self.database
        per = {name: seconds * 1000 / max(responses, 1) for name, seconds in parts.items()}
        per["all"] = sum(per.values())
        return per

    def busy(self) -> float:
        """The share of the machine's cores the parts used together."""
        used = self.service + self.benchmark + (self.database or 0.0)
        return used / (self.wall * (os.cpu_count() or 1))

    def line(self, responses: int) -> str:
        """One printable line: CPU ms per response by part, the bound it implies."""
        per = self.per_response_ms(responses)
        cores = os.cpu_count() or 1
        parts = ", ".join(
            f"{name} {per[name]:.2f}"
            for name in ("service", "database", "benchmark")
            if name in per
        )
        bound = cores * 1000 / per["all"] if per["all"] else float("inf")
        return (
            f"CPU ms per response: {parts}; all {per['all']:.2f} "
            f"(cores busy {self.busy():.0%}; bound at {cores} cores {bound:.0f}/s)"
        )


class CpuMeter:
    """Measures one phase: ``with meter.phase() as phase: ...`` then ``phase()``."""

    def __init__(self, service_session: int | None, database_pid: int | None) -> None:
        self.service_session = service_session
        self.database_pid = database_pid

    def _sample(self) -> tuple[float, float, float | None, float]:
        service = 0.0
        if self.service_session is not None:
            for pid in session_pids(self.service_session):
                try:
                    service += _cpu(pid)
                except OSError:
                    continue
        database = None
        if self.database_pid is not None:
            try:
                database = _cpu(self.database_pid)
            except OSError:
                database = None
        times = os.times()
        return time.monotonic(), service, database, times.user + times.system

    def measure(self) -> _Measuring:
        return _Measuring(self)


class _Measuring:
    def __init__(self, meter: CpuMeter) -> None:
        self.meter = meter
        self.result: Phase | None = None

    def __enter__(self) -> _Measuring:
        self.start = self.meter._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        wall, service, database, own = self.meter._sample()
        wall0, service0, database0, own0 = self.start
        self.result = Phase(
            wall=wall - wall0,
            # Workers that exited during the phase drop out of the sum: keep it >= 0.
            service=max(service - service0, 0.0),
            database=None if database is None or database0 is None else database - database0,
            benchmark=own - own0,
        )
