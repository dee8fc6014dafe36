"""
The whole benchmark suite in one command.

    python benchmarks/run.py            # full run, about 3 minutes on 2 cores
    python benchmarks/run.py --quick    # smoke run, well under 30 s

It measures names-server against two reference servers doing the same
exchange with nothing else: a bare Twisted line receiver (the floor for
anything built on Twisted) and an asyncio streams server (the stdlib way).
The targets are ratios to those two because absolute figures depend on the
machine, while ratios measured in the same run on the same machine do not
much.

What it does, in order:

1. Throughput and latency: for each server and each number of clients in
   flight, a fresh server on a free port, loaded by C{loadgen.py} for a fixed
   time; the server's CPU time (/proc/PID/stat) before and after gives its
   CPU per exchange.  Runs are interleaved across servers so slow drift of
   the machine hits all of them alike.
2. Memory: names-server without C{--name} (so nobody is answered) holding
   many idle clients that each sent a name, against the bare Twisted server
   with C{--hold}; then a late client must still be accepted, and one line on
   names-server's stdin must answer the head of the queue promptly.
3. Start-up: spawn to first accepted connection, a whole client run, and the
   floor of importing the reactor.

Results go to benchmarks/results/latest.json (raw), and to the section of
docs/performance.md between the result markers, with docs/performance.png.
The target lines are printed as PASS/FAIL.  Exit status: 0 done (targets
may have failed; see C{--strict}), 1 a target failed under C{--strict},
2 a server could not be run or measured.

This module is only the command line; the work is done by its sibling
modules (see benchmarks/README.md): C{servers} and C{server_commands} run
the servers, C{load}, C{memory} and C{startup} measure, C{figures} and
C{targets} judge, C{report} and C{plot} write.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loadgen
from figures import load_ratios
from load import run_load
from machine import describe_machine
from memory import run_memory
from plot import plot
from report import print_summary, render_markdown, write_docs
from server_commands import (
    BENCH_NAME,
    NAMES_ENDPOINT,
    NamesServerSupport,
    asyncio_argv,
    names_server_argv,
    probe_names_server,
    twisted_argv,
)
from startup import run_startup
from suite import FULL_PLAN, HERE, QUICK_PLAN, ROOT, Plan, log
from targets import evaluate


def measure_all(plan: Plan) -> tuple[dict[str, Any], NamesServerSupport]:
    """Run every benchmark of the plan; returns the raw results."""
    loadgen.raise_nofile_limit()
    failures: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="names-bench-") as scratch:
        workdir = Path(scratch)
        support = probe_names_server(workdir)
        if not support.available:
            failures.append(f"names-server unavailable: {support.reason}")
            log(f"names-server unavailable ({support.reason}); measuring the baselines only")
        elif support.dropped:
            log(f"names-server lacks {', '.join(support.dropped)}; running without them")

        servers: dict[str, Callable[[int, Path], list[str]]] = {}
        if support.available:
            servers["names"] = lambda port, logfile: names_server_argv(
                port, support.options, BENCH_NAME, logfile
            )
        servers["twisted"] = lambda port, logfile: twisted_argv(port)
        servers["asyncio"] = lambda port, logfile: asyncio_argv(port)

        log(
            f"load: {len(servers)} servers x c={list(plan.concurrency)} x {plan.runs} run(s)"
            f" x {plan.warmup + plan.duration:g} s"
        )
        load = run_load(plan, servers, workdir, failures)
        log(f"memory: {plan.memory_clients} waiting clients")
        memory = run_memory(plan, support, workdir, failures)
        log("start-up")
        startup = run_startup(plan, support, workdir, failures)

    results: dict[str, Any] = {
        "meta": describe_machine(),
        "plan": {**plan.__dict__, "concurrency": list(plan.concurrency)},
        "config": {
            "names_server_available": support.available,
            "names_server_unavailable_reason": support.reason,
            "names_server_options": support.options,
            "names_server_options_dropped": support.dropped,
            "names_endpoint": NAMES_ENDPOINT,
            "names_server_example_argv": names_server_argv(
                0, support.options, BENCH_NAME, Path("LOGFILE")
            ),
        },
        "load": load,
        "ratios": load_ratios(load, plan),
        "memory": memory,
        "startup": startup,
        "failures": failures,
        "elapsed_s": time.monotonic() - started,
    }
    return results, support


def reload(path: Path) -> tuple[dict[str, Any], Plan, NamesServerSupport]:
    """
    Raw results of an earlier run, for C{--from-json}: re-render the docs
    after editing their wording without measuring again.
    """
    results: dict[str, Any] = json.loads(path.read_text())
    plan = Plan(**{**results["plan"], "concurrency": tuple(results["plan"]["concurrency"])})
    config = results["config"]
    support = NamesServerSupport(
        config["names_server_available"],
        config["names_server_options"],
        config["names_server_options_dropped"],
        config.get("names_server_unavailable_reason", ""),
    )
    return results, plan, support


def main(argv: list[str] | None = None) -> int:
    """Run everything the plan says; write the reports; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s, 1 run, c=1 and 50, fewer held clients: a smoke test",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument("--runs", type=int, help="runs per cell")
    parser.add_argument("--duration", type=float, help="seconds of load per run")
    parser.add_argument("--workers", type=int, help="load generator processes")
    parser.add_argument("--memory-clients", type=int, help="idle clients to hold")
    parser.add_argument(
        "--json",
        type=Path,
        help="raw results file (default: benchmarks/results/latest.json, or latest-quick.json)",
    )
    parser.add_argument(
        "--docs-dir",
        type=Path,
        help="where performance.md/.png go (default: docs/ for a full"
        " run; a --quick run writes none unless given)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: re-render the reports from raw results",
    )
    args = parser.parse_args(argv)

    if args.from_json is not None:
        results, plan, support = reload(args.from_json)
        json_path = None
    else:
        plan = QUICK_PLAN if args.quick else FULL_PLAN
        overrides = {
            k: v
            for k, v in (
                ("runs", args.runs),
                ("duration", args.duration),
                ("workers", args.workers),
                ("memory_clients", args.memory_clients),
            )
            if v is not None
        }
        if overrides:
            plan = Plan(**{**plan.__dict__, **overrides})
        if not (
            1 <= plan.runs <= 20
            and 0 < plan.duration <= 60
            and 1 <= plan.workers <= 8
            and 1 <= plan.memory_clients <= 15_000
        ):
            parser.error("runs 1-20, duration (0, 60], workers 1-8, memory clients 1-15000")
        json_path = args.json or HERE / "results" / (
            "latest-quick.json" if plan.quick else "latest.json"
        )
        results, support = measure_all(plan)
    docs_dir = args.docs_dir or (None if plan.quick else ROOT / "docs")

    results.pop("plot", None)
    if docs_dir is not None and plot(results, docs_dir / "performance.png"):
        results["plot"] = "performance.png"
    targets = evaluate(plan, results["load"], results["memory"], results["startup"], support)
    results["targets"] = [t.__dict__ for t in targets]
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1) + "\n")
        log(f"wrote {json_path}; took {results['elapsed_s']:.0f} s")
    if docs_dir is not None:
        doc = write_docs(docs_dir, render_markdown(results, targets))
        log(f"wrote {doc} and {docs_dir / 'performance.png'}")
    print_summary(results, targets, sys.stdout)
    failures: list[str] = results["failures"]
    if failures:
        for failure in failures:
            sys.stdout.write(f"ERROR {failure.splitlines()[0]}\n")
        return 2
    if args.strict and any(t.status == "FAIL" for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
