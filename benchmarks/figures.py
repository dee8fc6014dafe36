"""
From runs to the numbers that are reported and compared: each figure read
from one run's record, its median with min and max over the runs, and the
ratios between servers that the targets are stated in.

Ratios are taken pair by pair: the servers run one after the other in each
round (A B A B ...), so each round gives one names-server / bare Twisted
ratio measured minutes apart at most, and the report gives the median of
those ratios with their min and max.  A slow drift of the machine then
moves both sides of a ratio alike instead of the medians of one side.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from suite import Plan

#: A run in which the load generator used more than this share of its core
#: while measuring is flagged wherever its figures appear: the generator, not
#: the server, may have been the limit.
GENERATOR_SATURATED = 0.9


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median with min and max: few runs, so no mean or deviation."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


#: Figures summarised per (server, concurrency), from one run's record.
FIGURES: dict[str, Callable[[dict[str, Any]], float | None]] = {
    "exchanges_per_s": lambda r: r["exchanges_per_s"],
    "p50_ms": lambda r: r["latency_ms"]["p50"],
    "p90_ms": lambda r: r["latency_ms"]["p90"],
    "p99_ms": lambda r: r["latency_ms"]["p99"],
    "max_ms": lambda r: r["latency_ms"]["max"],
    "server_cpu_us_per_exchange": lambda r: r["server_cpu_us_per_exchange"],
    "server_core_use": lambda r: r["server_core_use"],
    "loadgen_core_use": lambda r: r["loadgen_core_use"],
    "errors": lambda r: r["errors"] + r["unfinished"],
    "other_cores": lambda r: r["other_cores"],
}
#: The figures that are compared between servers.
RATIO_FIGURES = ("exchanges_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_exchange")
#: The comparisons reported: name -> (numerator, denominator) servers.
COMPARISONS = {
    "names_vs_twisted": ("names", "twisted"),
    "names_vs_asyncio": ("names", "asyncio"),
    "names_vs_twisted_log": ("names", "twisted-log"),
    "summary_vs_twisted": ("names-summary", "twisted"),
    "twisted_vs_asyncio": ("twisted", "asyncio"),
}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def used_runs(load: dict[str, dict[str, Any]], key: str, concurrency: int) -> list[dict[str, Any]]:
    """The runs of one server at one concurrency that the figures are taken from."""
    cell = load.get(key, {}).get(str(concurrency), {})
    return [r for r in cell.get("runs", []) if r.get("used")]


def paired(
    load: dict[str, dict[str, Any]], a: str, b: str, concurrency: int, figure: str
) -> dict[str, Any] | None:
    """
    C{a}'s figure over C{b}'s, round by round: the median, min and max of
    the ratios, and how many pairs had a saturated load generator, or
    shared the machine with other work, on either side.  None when no round
    measured both.
    """
    get = FIGURES[figure]
    by_round = {r["round"]: r for r in used_runs(load, b, concurrency)}
    values: list[float] = []
    saturated = contended = 0
    for run_a in used_runs(load, a, concurrency):
        run_b = by_round.get(run_a["round"])
        value = None if run_b is None else ratio(get(run_a), get(run_b))
        if run_b is None or value is None:
            continue
        values.append(value)
        saturated += bool(run_a["loadgen_saturated"] or run_b["loadgen_saturated"])
        contended += bool(run_a["contended"] or run_b["contended"])
    if not values:
        return None
    return {**spread(values), "saturated_pairs": saturated, "contended_pairs": contended}


def load_ratios(load: dict[str, dict[str, Any]], plan: Plan) -> dict[str, dict[str, Any]]:
    """Each compared figure as paired names/twisted, names/asyncio, twisted/asyncio."""
    return {
        str(concurrency): {
            figure: {
                name: paired(load, a, b, concurrency, figure)
                for name, (a, b) in COMPARISONS.items()
            }
            for figure in RATIO_FIGURES
        }
        for concurrency in plan.concurrency
    }
