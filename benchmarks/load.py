"""
Throughput and latency: every server at every number of clients in flight,
a fresh server on a free port per run, loaded by C{loadgen.py} for a fixed
time.  The server's CPU time before and after gives its CPU per exchange;
the whole machine's gives away runs that shared the cores with other work,
which are re-run while the retry budget lasts.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loadgen
from figures import FIGURES, spread
from machine import machine_cpu
from servers import free_port, running
from suite import HERE, LABELS, PYTHON, BenchmarkError, Plan, log

#: A run during which more than this many cores were busy with neither the
#: server nor the load generator shared the machine: it is re-run if the
#: retry budget allows, and left out of the medians if a quiet run exists.
MAX_OTHER_CORES = 0.25


def load_once(
    argv: list[str], port: int, concurrency: int, plan: Plan, workdir: Path, tag: str
) -> dict[str, Any]:
    """One fresh server, one load generator run; returns the merged record."""
    with running(argv, port, workdir, tag) as server:
        cpu0 = server.cpu()
        machine0 = machine_cpu()
        wall0 = time.monotonic()
        limit = plan.warmup + plan.duration + loadgen.DRAIN_SECONDS + 30
        try:
            done = subprocess.run(
                [
                    PYTHON,
                    str(HERE / "loadgen.py"),
                    str(port),
                    "-c",
                    str(concurrency),
                    "-d",
                    str(plan.duration),
                    "--warmup",
                    str(plan.warmup),
                    "--workers",
                    str(plan.workers),
                ],
                capture_output=True,
                text=True,
                timeout=limit,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            raise BenchmarkError(f"loadgen did not finish within {limit} s") from e
        cpu1 = server.cpu()
        machine1 = machine_cpu()
        wall = time.monotonic() - wall0
        if server.proc is not None and server.proc.poll() is not None:
            raise BenchmarkError(f"server exited during the run:\n{server.output_tail()}")
    if done.returncode != 0:
        raise BenchmarkError(f"loadgen exited {done.returncode}: {done.stderr[-1500:]}")
    record: dict[str, Any] = json.loads(done.stdout)
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    total = record["exchanges_total"]
    record["server_cpu_s"] = {"user": user, "sys": system}
    record["server_cpu_us_per_exchange"] = (user + system) / total * 1e6 if total else None
    record["server_core_use"] = (user + system) / (plan.warmup + plan.duration)
    loadgen_cpu = record["loadgen_cpu_s"]["user"] + record["loadgen_cpu_s"]["sys"]
    busy = machine1[0] - machine0[0]
    record["machine_busy_cores"] = busy / wall
    record["machine_irq_cores"] = (machine1[1] - machine0[1]) / wall
    record["other_cores"] = max(0.0, busy - user - system - loadgen_cpu) / wall
    record["contended"] = record["other_cores"] > MAX_OTHER_CORES
    return record


def run_load(
    plan: Plan,
    servers: dict[str, Callable[[int, Path], list[str]]],
    workdir: Path,
    failures: list[str],
) -> dict[str, dict[str, Any]]:
    """
    Every server at every concurrency, plan.runs times, interleaved; then
    runs that shared the machine with other work are re-run while the retry
    budget lasts, and the medians are taken over the quiet runs.
    """
    load: dict[str, dict[str, Any]] = {
        key: {str(c): {"runs": []} for c in plan.concurrency} for key in servers
    }

    def measure(key: str, concurrency: int, label: str) -> dict[str, Any] | None:
        port = free_port()
        tag = f"load-{key}-c{concurrency}-{len(load[key][str(concurrency)]['runs'])}"
        argv = servers[key](port, workdir / f"{tag}.log")
        try:
            record = load_once(argv, port, concurrency, plan, workdir, tag)
        except BenchmarkError as e:
            failures.append(f"{LABELS[key]} c={concurrency}: {e}")
            log(f"FAILED {LABELS[key]} c={concurrency}: {e}")
            return None
        load[key][str(concurrency)]["runs"].append(record)
        log(
            f"{label:<9} c={concurrency:<3} {LABELS[key]:<16}"
            f" {record['exchanges_per_s']:8.0f}/s  p99 {record['latency_ms']['p99']:7.2f} ms"
            f"  server {record['server_cpu_us_per_exchange'] or 0:6.1f} us/exch"
            f" {record['server_core_use']:4.0%} core"
            f"  loadgen {record['loadgen_cpu_per_worker']:4.0%}"
            f"  other {record['other_cores']:.2f} cores  errors {record['errors']}"
            + ("  (CONTENDED)" if record["contended"] else "")
        )
        return record

    for run_index in range(plan.runs):
        for concurrency in plan.concurrency:
            for key in servers:
                measure(key, concurrency, f"run {run_index + 1}/{plan.runs}")
    budget = plan.retries
    for concurrency in plan.concurrency:
        for key in servers:
            runs = load[key][str(concurrency)]["runs"]
            contended = sum(r["contended"] for r in runs)
            for _ in range(contended):
                if budget <= 0:
                    break
                budget -= 1
                measure(key, concurrency, "retry")
    for per_server in load.values():
        for cell in per_server.values():
            runs = cell["runs"]
            quiet = [r for r in runs if not r["contended"]]
            used = quiet or runs
            cell["runs_used"] = len(used)
            cell["contended"] = bool(runs) and not quiet
            cell["summary"] = {}
            for figure, get in FIGURES.items():
                values = [v for v in (get(r) for r in used) if v is not None]
                if values:
                    cell["summary"][figure] = spread(values)
    return load
