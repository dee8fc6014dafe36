"""
From runs to the numbers that are reported and compared: each figure read
from one run's record, its median with min and max over the runs, and the
ratios between servers that the targets are stated in.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from suite import SERVERS, Plan


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median with min and max: few runs, so no mean or deviation."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


#: Figures summarised per (server, concurrency), from one run's record.
FIGURES: dict[str, Callable[[dict[str, Any]], float]] = {
    "exchanges_per_s": lambda r: r["exchanges_per_s"],
    "p50_ms": lambda r: r["latency_ms"]["p50"],
    "p90_ms": lambda r: r["latency_ms"]["p90"],
    "p99_ms": lambda r: r["latency_ms"]["p99"],
    "max_ms": lambda r: r["latency_ms"]["max"],
    "server_cpu_us_per_exchange": lambda r: r["server_cpu_us_per_exchange"],
    "server_core_use": lambda r: r["server_core_use"],
    "loadgen_core_use": lambda r: r["loadgen_cpu_per_worker"],
    "errors": lambda r: r["errors"] + r["unfinished"],
    "other_cores": lambda r: r["other_cores"],
}
#: The figures that are compared between servers.
RATIO_FIGURES = ("exchanges_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_exchange")


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def median_of(
    load: dict[str, dict[str, Any]], key: str, concurrency: int, figure: str
) -> float | None:
    """The median of one figure, or None if it was not measured."""
    cell = load.get(key, {}).get(str(concurrency))
    if not cell or figure not in cell.get("summary", {}):
        return None
    value: float = cell["summary"][figure]["median"]
    return value


def load_ratios(load: dict[str, dict[str, Any]], plan: Plan) -> dict[str, dict[str, Any]]:
    """Each compared figure as names/twisted, names/asyncio, twisted/asyncio."""
    out: dict[str, dict[str, Any]] = {}
    for concurrency in plan.concurrency:
        per_c: dict[str, Any] = {}
        for figure in RATIO_FIGURES:
            names, bare, aio = (median_of(load, k, concurrency, figure) for k in SERVERS)
            per_c[figure] = {
                "names_vs_twisted": ratio(names, bare),
                "names_vs_asyncio": ratio(names, aio),
                "twisted_vs_asyncio": ratio(bare, aio),
            }
        out[str(concurrency)] = per_c
    return out
