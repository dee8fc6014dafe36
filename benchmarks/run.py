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

First, C{twistd --help} must list names-server (else exit 2 at once, saying
how to install the plugin), and the C load generator is built (C{cgen.py};
without a C compiler the Python one is used, with a loud warning).  Then,
in order:

1. Throughput and latency: rounds in which every server, one after the
   other (A B A B ...), is started fresh on a free port and loaded by the
   load generator for a fixed time; the server's CPU time (/proc/PID/stat)
   before and after gives its CPU per exchange, and the ratios between
   servers are taken round by round.  The generator measures its own CPU:
   a figure taken while it was above 90% of its core is flagged.
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
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cgen
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
    TWISTD,
    asyncio_argv,
    names_server_argv,
    names_summary_argv,
    probe_names_server,
    twisted_argv,
)
from startup import run_startup
from suite import FULL_PLAN, HERE, QUICK_PLAN, ROOT, SERVERS, BenchmarkError, Plan, log
from targets import evaluate

#: Version of the raw results' layout, checked by C{--from-json}.
RESULTS_FORMAT = 2


def measure_all(plan: Plan, keys: list[str], generator_choice: str, twistd: str) -> dict[str, Any]:
    """
    Run every benchmark of the plan on the servers C{keys}; returns the raw
    results.  Raises L{BenchmarkError} before measuring anything if
    names-server is not installed or the generator asked for cannot be had.
    """
    loadgen.raise_nofile_limit()
    failures: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="names-bench-") as scratch:
        workdir = Path(scratch)
        support = probe_names_server(workdir, twistd)
        if support.dropped:
            log(f"names-server lacks {', '.join(support.dropped)}; running without them")
        generator = cgen.choose(generator_choice, plan.workers)
        log(f"load generator: {generator.kind} ({shlex.join(generator.command)})")

        every: dict[str, Callable[[int, Path], list[str]]] = {
            "names": lambda port, logfile: names_server_argv(support, port, BENCH_NAME, logfile),
            "names-summary": lambda port, logfile: names_summary_argv(support, port, logfile),
            "twisted": lambda port, logfile: twisted_argv(port),
            "twisted-log": lambda port, logfile: twisted_argv(port, logfile=logfile),
            "asyncio": lambda port, logfile: asyncio_argv(port),
        }
        servers = {key: every[key] for key in keys}
        log(
            f"load: {plan.runs} round(s) x c={list(plan.concurrency)} x {len(servers)} servers"
            f" x {plan.warmup + plan.duration:g} s"
        )
        load = run_load(plan, servers, generator, workdir, failures)
        log(f"memory: {plan.memory_clients} waiting clients")
        memory = run_memory(plan, support, workdir, failures)
        log("start-up")
        startup = run_startup(plan, support, workdir, failures)

    results: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "meta": describe_machine(),
        "plan": {**plan.__dict__, "concurrency": list(plan.concurrency)},
        "servers": keys,
        "generator": generator.describe(),
        "config": {
            "twistd": support.twistd,
            "names_server_options": support.options,
            "names_server_options_dropped": support.dropped,
            "names_endpoint": NAMES_ENDPOINT,
            "names_server_example_argv": names_server_argv(
                support, 0, BENCH_NAME, Path("LOGFILE")
            ),
        },
        "load": load,
        "memory": memory,
        "startup": startup,
        "failures": failures,
        "elapsed_s": time.monotonic() - started,
    }
    return results


def reload(path: Path) -> tuple[dict[str, Any], Plan]:
    """
    Raw results of an earlier run, for C{--from-json}: re-render the docs
    after editing their wording without measuring again.
    """
    results: dict[str, Any] = json.loads(path.read_text())
    if results.get("format") != RESULTS_FORMAT:
        raise BenchmarkError(
            f"{path} was written by an older benchmark (format {results.get('format', 1)},"
            f" not {RESULTS_FORMAT}): measure again"
        )
    plan = Plan(**{**results["plan"], "concurrency": tuple(results["plan"]["concurrency"])})
    return results, plan


def twistd_path(text: str) -> str:
    """C{--twistd}: a path (made absolute), or a command looked up on PATH."""
    if os.sep in text:
        return os.path.abspath(text)
    return shutil.which(text) or text


def server_keys(text: str) -> list[str]:
    """C{--servers}: a comma-separated subset of L{SERVERS}, in that order."""
    asked = {part.strip() for part in text.split(",") if part.strip()}
    unknown = asked - set(SERVERS)
    if unknown or "names" not in asked:
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of {', '.join(SERVERS)} that holds names"
        )
    return [key for key in SERVERS if key in asked]


def main(argv: list[str] | None = None) -> int:
    """Run everything the plan says; write the reports; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s, 1 round, c=1 and 50, fewer held clients: a smoke test",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument("--runs", type=int, help="rounds (each server once at each concurrency)")
    parser.add_argument("--duration", type=float, help="seconds of load per run")
    parser.add_argument(
        "--workers", type=int, help="processes of the Python load generator (the C one has one)"
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "c", "python"),
        default="auto",
        help="load generator: auto (C if a compiler is found, else Python, with a warning),"
        " c (exit 2 if it cannot be built), python (to compare)",
    )
    parser.add_argument(
        "--servers",
        type=server_keys,
        default=list(SERVERS),
        help=f"servers to load, comma-separated (default: all of {','.join(SERVERS)})",
    )
    parser.add_argument(
        "--twistd",
        type=twistd_path,
        default=TWISTD,
        help="the twistd whose names-server is measured (default: the one beside this Python)",
    )
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
        try:
            results, plan = reload(args.from_json)
        except (OSError, ValueError, KeyError, BenchmarkError) as e:
            sys.stderr.write(f"run.py: cannot re-render from {args.from_json}: {e}\n")
            return 2
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
        try:
            results = measure_all(plan, args.servers, args.generator, args.twistd)
        except BenchmarkError as e:
            sys.stderr.write(f"run.py: {e}\n")
            return 2
    docs_dir = args.docs_dir or (None if plan.quick else ROOT / "docs")

    # From the raw runs every time, so that --from-json follows figures.py.
    results["ratios"] = load_ratios(results["load"], plan)
    results.pop("plot", None)
    if docs_dir is not None and plot(results, docs_dir / "performance.png"):
        results["plot"] = "performance.png"
    targets = evaluate(
        plan, results["servers"], results["ratios"], results["memory"], results["startup"]
    )
    results["targets"] = [t.__dict__ for t in targets]
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1) + "\n")
        log(f"wrote {json_path}; took {results['elapsed_s']:.0f} s")
    if docs_dir is not None:
        doc = write_docs(docs_dir, render_markdown(results, targets))
        log(f"wrote {doc}" + (f" and {docs_dir / 'performance.png'}" if "plot" in results else ""))
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
