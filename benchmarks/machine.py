"""
The machine as a whole, from /proc and the environment: what it is (the
figures mean nothing without it) and how busy it was during a run (to tell
a quiet run from one that shared the cores with other work).
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

from suite import ROOT


def machine_cpu() -> tuple[float, float]:
    """
    CPU seconds the whole machine has spent busy (everything but idle and
    iowait), and of those in interrupts (irq, softirq), from /proc/stat.

    Why: subtracting the server's and the load generator's own CPU from the
    busy time shows whether something else (a test suite, a build) shared the
    cores during a run, which would make its throughput meaningless.  The
    interrupt columns count: loopback TCP work done in softirqs shows there in
    /proc/stat, yet is also charged to the process it ran in.
    """
    if sys.platform == "win32":  # epoll and /proc (a check mypy --platform win32 follows)
        raise NotImplementedError("Linux only")
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks, (irq + softirq) / ticks


def describe_machine() -> dict[str, Any]:
    """What the figures were measured on, since they mean nothing without it."""
    if sys.platform == "win32":
        raise NotImplementedError("Linux only")
    cpu = platform.processor() or "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = "none"
    with suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=10,
        )
        if done.returncode == 0:
            commit = done.stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=10,
            )
            if dirty.stdout.strip():
                commit += " (with uncommitted changes)"
    import twisted

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "twisted": twisted.__version__,
        "commit": commit,
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE),
    }
