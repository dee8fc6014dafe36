"""
Throughput and latency: every server at every number of clients in flight,
a fresh server on a free port per run, loaded by the load generator
(C{cgen.Generator}: the C one, or the Python fallback) for a fixed time.

Runs come in rounds: in a round, every server is run once at one
concurrency, one after the other (A B A B ...), so that each round gives a
pair of runs taken side by side (see C{figures.paired}).  The server's CPU
time before and after a run gives its CPU per exchange; the generator
reports its own CPU while measuring, and a run where it was above
C{GENERATOR_SATURATED} of its core is flagged.  The whole machine's CPU gives
away runs that shared the cores with other work: a round holding one is run
again, whole, while the retry budget lasts.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loadgen
from cgen import Generator
from figures import FIGURES, GENERATOR_SATURATED, spread
from machine import machine_cpu
from servers import free_port, running
from suite import LABELS, BenchmarkError, Plan, log

#: A run during which more than this many cores were busy with neither the
#: server nor the load generator shared the machine: its round is re-run if
#: the retry budget allows, and left out of the figures if a quiet round
#: exists.
MAX_OTHER_CORES = 0.25


def load_once(
    argv: list[str],
    port: int,
    concurrency: int,
    plan: Plan,
    generator: Generator,
    workdir: Path,
    tag: str,
) -> dict[str, Any]:
    """One fresh server, one load generator run; returns the merged record."""
    with running(argv, port, workdir, tag) as server:
        cpu0 = server.cpu()
        machine0 = machine_cpu()
        wall0 = time.monotonic()
        limit = plan.warmup + plan.duration + loadgen.DRAIN_SECONDS + 30
        try:
            done = subprocess.run(
                generator.argv(port, concurrency, plan.duration, plan.warmup),
                capture_output=True,
                text=True,
                timeout=limit,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            raise BenchmarkError(f"the load generator did not finish within {limit} s") from e
        cpu1 = server.cpu()
        machine1 = machine_cpu()
        wall = time.monotonic() - wall0
        if server.proc is not None and server.proc.poll() is not None:
            raise BenchmarkError(f"server exited during the run:\n{server.output_tail()}")
    if done.returncode != 0:
        raise BenchmarkError(f"the load generator exited {done.returncode}: {done.stderr[-1500:]}")
    record: dict[str, Any] = json.loads(done.stdout)
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    total = record["exchanges_total"]
    record["server_cpu_s"] = {"user": user, "sys": system}
    record["server_cpu_us_per_exchange"] = (user + system) / total * 1e6 if total else None
    record["server_core_use"] = (user + system) / (plan.warmup + plan.duration)
    record["loadgen_saturated"] = record["loadgen_core_use"] > GENERATOR_SATURATED
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
    generator: Generator,
    workdir: Path,
    failures: list[str],
) -> dict[str, dict[str, Any]]:
    """
    C{plan.runs} rounds at every concurrency; then rounds that shared the
    machine with other work are run again while the retry budget
    (C{plan.retries} rounds) lasts.  The figures are taken over the quiet
    rounds (every run quiet), or over all rounds if none was quiet.
    """
    load: dict[str, dict[str, Any]] = {
        key: {str(c): {"runs": []} for c in plan.concurrency} for key in servers
    }
    rounds: dict[int, list[int]] = {c: [] for c in plan.concurrency}
    numbers = itertools.count()

    def measure(key: str, concurrency: int, round_id: int, label: str) -> None:
        port = free_port()
        tag = f"load-{key}-c{concurrency}-r{round_id}"
        argv = servers[key](port, workdir / f"{tag}.log")
        try:
            record = load_once(argv, port, concurrency, plan, generator, workdir, tag)
        except BenchmarkError as e:
            failures.append(f"{LABELS[key]} c={concurrency}: {e}")
            log(f"FAILED {LABELS[key]} c={concurrency}: {e}")
            return
        record["round"] = round_id
        load[key][str(concurrency)]["runs"].append(record)
        log(
            f"{label:<9} c={concurrency:<3} {LABELS[key]:<16}"
            f" {record['exchanges_per_s']:8.0f}/s  p99 {record['latency_ms']['p99']:7.2f} ms"
            f"  server {record['server_cpu_us_per_exchange'] or 0:6.1f} us/exch"
            f" {record['server_core_use']:4.0%} core"
            f"  loadgen {record['loadgen_core_use']:4.0%}"
            f"  other {record['other_cores']:.2f} cores  errors {record['errors']}"
            + ("  (GENERATOR SATURATED)" if record["loadgen_saturated"] else "")
            + ("  (CONTENDED)" if record["contended"] else "")
        )

    def measure_round(concurrency: int, label: str) -> None:
        round_id = next(numbers)
        rounds[concurrency].append(round_id)
        for key in servers:
            measure(key, concurrency, round_id, label)

    def quiet(concurrency: int, round_id: int) -> bool:
        runs = [
            r
            for key in servers
            for r in load[key][str(concurrency)]["runs"]
            if r["round"] == round_id
        ]
        return len(runs) == len(servers) and not any(r["contended"] for r in runs)

    for run_index in range(plan.runs):
        for concurrency in plan.concurrency:
            measure_round(concurrency, f"run {run_index + 1}/{plan.runs}")
    budget = plan.retries
    for concurrency in plan.concurrency:
        for _ in range(sum(not quiet(concurrency, r) for r in list(rounds[concurrency]))):
            if budget <= 0:
                break
            budget -= 1
            measure_round(concurrency, "retry")
    for concurrency in plan.concurrency:
        used = {r for r in rounds[concurrency] if quiet(concurrency, r)} or set(
            rounds[concurrency]
        )
        for key in servers:
            cell = load[key][str(concurrency)]
            for record in cell["runs"]:
                record["used"] = record["round"] in used
            picked = [r for r in cell["runs"] if r["used"]]
            cell["runs_used"] = len(picked)
            cell["contended"] = bool(picked) and any(r["contended"] for r in picked)
            cell["saturated_runs"] = sum(r["loadgen_saturated"] for r in picked)
            cell["summary"] = {}
            for figure, get in FIGURES.items():
                values = [v for v in (get(r) for r in picked) if v is not None]
                if values:
                    cell["summary"][figure] = spread(values)
    return load
