"""
What every part of the benchmark suite shares: where things are, how much
to measure (the plan), which servers are compared and what they are called,
progress logging, and the one error that means a server could not be run.

Kept in one small module so the measuring, checking and reporting modules
can import it without importing each other.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
#: Written as an escape: a literal en dash in source trips ruff (RUF001).
DASH = "\N{EN DASH}"

SERVERS = ("names", "names-summary", "twisted", "twisted-log", "asyncio")
LABELS = {
    "names": "names-server",
    "names-summary": "names-server, summary log",
    "twisted": "bare Twisted",
    "twisted-log": "Twisted + text log",
    "asyncio": "asyncio streams",
}


@dataclass(frozen=True)
class Plan:
    """How much to measure; C{--quick} shrinks everything."""

    quick: bool
    concurrency: tuple[int, ...]
    runs: int
    duration: float
    warmup: float
    workers: int
    memory_clients: int
    startup_repeats: int
    #: Extra rounds allowed, over the whole suite, to replace contended ones.
    retries: int


#: Five rounds: run-to-run noise is about +-0.1x on a ratio, so fewer
#: cannot tell 0.85x from 0.95x.
FULL_PLAN = Plan(False, (1, 50, 500), 5, 5.0, 0.5, 1, 10_000, 5, 3)
QUICK_PLAN = Plan(True, (1, 50), 1, 1.0, 0.0, 1, 2_000, 2, 1)


def log(message: str) -> None:
    """Progress for the person waiting, on stderr so stdout stays the summary."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class BenchmarkError(Exception):
    """A server could not be started, measured or stopped as expected."""
