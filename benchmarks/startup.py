"""
Start-up: spawn to first accepted connection for names-server and the bare
Twisted server, a whole client run, and the floor of importing the reactor
that any Twisted program pays.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from figures import spread
from server_commands import (
    BENCH_NAME,
    NamesServerSupport,
    names_server_argv,
    twisted_argv,
)
from servers import free_port, running
from suite import PYTHON, BenchmarkError, Plan, log


def time_to_accept(argv: list[str], port: int, workdir: Path, tag: str) -> float:
    """Seconds from spawn to the first accepted connection."""
    with running(argv, port, workdir, tag) as server:
        return server.wait_accepting(port)


def time_command(argv: list[str], workdir: Path, timeout: float = 60.0) -> float:
    """Seconds a command takes to run to completion; it must succeed."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=timeout, cwd=workdir, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as e:
        raise BenchmarkError(f"{argv} took more than {timeout} s") from e
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError(
            f"{argv} exited {done.returncode}: {(done.stdout + done.stderr)[-800:]!r}"
        )
    return elapsed


def repeat(measure: Callable[[], float], times: int) -> dict[str, Any]:
    """One untimed warm-up (bytecode and plugin caches), then C{times} timed."""
    measure()
    samples = [measure() * 1e3 for _ in range(times)]
    return {**spread(samples), "samples_ms": samples}


def run_startup(
    plan: Plan, support: NamesServerSupport, workdir: Path, failures: list[str]
) -> dict[str, Any]:
    """Start-up to accepting, a whole client run, and the import floor."""
    startup: dict[str, Any] = {}

    def names_start() -> float:
        port = free_port()
        argv = [
            support.twistd,
            "-n",
            "--pidfile=",
            "names-server",
            "--name",
            "x",
            "--endpoint",
            f"tcp:{port}:interface=127.0.0.1",
        ]
        return time_to_accept(argv, port, workdir, "startup-names")

    def twisted_start() -> float:
        port = free_port()
        return time_to_accept(twisted_argv(port), port, workdir, "startup-twisted")

    def import_floor() -> float:
        return time_command([PYTHON, "-c", "import twisted.internet.reactor"], workdir)

    cases: list[tuple[str, Callable[[], float]]] = [
        ("import_floor", import_floor),
        ("names_server", names_start),
        ("twisted_baseline", twisted_start),
    ]
    for key, measure in cases:
        try:
            startup[key] = repeat(measure, plan.startup_repeats)
        except (BenchmarkError, OSError) as e:
            failures.append(f"start-up {key}: {e}")
            log(f"FAILED start-up {key}: {e}")
            continue
        log(f"start-up {key}: median {startup[key]['median']:.0f} ms")

    port = free_port()
    argv = names_server_argv(support, port, BENCH_NAME, workdir / "client.log")
    client = [PYTHON, "-m", "twisted_names.client", "--name", "x", "--port", str(port)]
    try:
        with running(argv, port, workdir, "startup-client-server"):
            startup["client_run"] = repeat(
                lambda: time_command(client, workdir), plan.startup_repeats
            )
        log(f"start-up client_run: median {startup['client_run']['median']:.0f} ms")
    except (BenchmarkError, OSError) as e:
        failures.append(f"start-up client run: {e}")
        log(f"FAILED start-up client run: {e}")
    return startup
