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

SERVERS = ("names", "twisted", "asyncio")
LABELS = {
    "names": "names-server",
    "twisted": "bare Twisted",
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
    #: Extra runs allowed, over the whole suite, to replace contended ones.
    retries: int


FULL_PLAN = Plan(False, (1, 50, 500), 3, 5.0, 0.5, 1, 10_000, 5, 6)
QUICK_PLAN = Plan(True, (1, 50), 1, 1.0, 0.0, 1, 2_000, 2, 2)


def log(message: str) -> None:
    """Progress for the person waiting, on stderr so stdout stays the summary."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class BenchmarkError(Exception):
    """A server could not be started, measured or stopped as expected."""
