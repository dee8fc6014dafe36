"""
The promises of docs/performance.md and whether this run kept them.  The
limits are ratios to the baselines measured in the same run, because
absolute figures depend on the machine; each is judged on the median of the
ratios taken round by round (see C{figures.paired}).  A ratio taken while
the load generator was saturated is judged all the same, and flagged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from figures import COMPARISONS, GENERATOR_SATURATED
from suite import DASH, LABELS, Plan

#: Issue 18's targets, names-server (one log line an exchange) against bare Twisted.
MIN_RATE_VS_TWISTED = 0.8
MAX_CPU_VS_TWISTED = 1.2
#: names-server (a line an exchange) against Twisted logging one with its text observer.
MAX_CPU_VS_TWISTED_LOG = 0.6
#: names-server with --exchange-log summary against bare Twisted.
MIN_SUMMARY_RATE_VS_TWISTED = 0.9
MAX_SUMMARY_CPU_VS_TWISTED = 1.1
MIN_RATE_VS_ASYNCIO = 1.7
MAX_P99_VS_TWISTED = 1.3
#: Bytes of resident memory per waiting client (2.5 KB, taken as 2,500 bytes).
MAX_BYTES_PER_WAITING_CLIENT = 2500
MAX_STARTUP_VS_IMPORT = 1.5
CPU = "server_cpu_us_per_exchange"


@dataclass
class Target:
    """One promise of docs/performance.md, checked against this run."""

    name: str
    status: str  # PASS, FAIL or SKIP
    measured: str
    limit: str
    #: Why the figure may not be the server's own ("" if none).
    flag: str = ""

    def line(self) -> str:
        """The printed PASS/FAIL line."""
        flag = f"  [{self.flag}]" if self.flag else ""
        return f"{self.status}  {self.name}: {self.measured} (target {self.limit}){flag}"


def ratio_flag(value: dict[str, Any]) -> str:
    """
    Why a paired ratio may not be the servers' own: a saturated load
    generator, or other work on the machine, in some of its pairs.
    """
    flags = []
    if value["saturated_pairs"]:
        flags.append(
            f"load generator above {GENERATOR_SATURATED:.0%} of its core in"
            f" {value['saturated_pairs']} of {value['n']} pairs: limited by the generator"
        )
    if value["contended_pairs"]:
        flags.append(
            f"other work shared the machine in {value['contended_pairs']} of {value['n']} pairs"
        )
    return "; ".join(flags)


def _ratio_target(
    name: str,
    ratios: dict[str, Any],
    plan: Plan,
    servers: Collection[str],
    concurrency: int,
    figure: str,
    comparison: str,
    limit: float,
    at_least: bool,
) -> Target:
    limit_text = f"{'>=' if at_least else '<='} {limit}x"
    if concurrency not in plan.concurrency:
        return Target(name, "SKIP", f"c={concurrency} not in this run", limit_text)
    missing = [LABELS[k] for k in COMPARISONS[comparison] if k not in servers]
    if missing:
        return Target(name, "SKIP", f"{' and '.join(missing)} not in this run", limit_text)
    value = ratios[str(concurrency)][figure][comparison]
    if value is None:
        return Target(name, "FAIL", "not measured (see the errors)", limit_text)
    median = value["median"]
    ok = median >= limit if at_least else median <= limit
    measured = f"{median:.2f}x"
    if value["n"] > 1:
        measured += f" ({value['min']:.2f}{DASH}{value['max']:.2f}x over {value['n']} pairs)"
    return Target(name, "PASS" if ok else "FAIL", measured, limit_text, ratio_flag(value))


def _check(name: str, value: float | None, limit: float, fmt: str, limit_text: str) -> Target:
    """A figure that must be at most C{limit}."""
    if value is None:
        return Target(name, "FAIL", "not measured (see the errors)", limit_text)
    return Target(name, "PASS" if value <= limit else "FAIL", fmt.format(value), limit_text)


def evaluate(
    plan: Plan,
    servers: Collection[str],
    ratios: dict[str, Any],
    memory: dict[str, Any],
    startup: dict[str, Any],
) -> list[Target]:
    """Every target of docs/performance.md, in order."""
    targets: list[Target] = []
    # Issue 18's table, in its order: (what, comparison, figure, limit, at least).
    table = (
        ("exchanges/s", "names_vs_twisted", "exchanges_per_s", MIN_RATE_VS_TWISTED, True),
        ("server CPU per exchange", "names_vs_twisted", CPU, MAX_CPU_VS_TWISTED, False),
        ("server CPU per exchange", "names_vs_twisted_log", CPU, MAX_CPU_VS_TWISTED_LOG, False),
        (
            "exchanges/s",
            "summary_vs_twisted",
            "exchanges_per_s",
            MIN_SUMMARY_RATE_VS_TWISTED,
            True,
        ),
        ("server CPU per exchange", "summary_vs_twisted", CPU, MAX_SUMMARY_CPU_VS_TWISTED, False),
    )
    for what, comparison, figure, limit, atLeast in table:
        a, b = COMPARISONS[comparison]
        targets.append(
            _ratio_target(
                f"{what} at c=50, {LABELS[a]} vs {LABELS[b]}",
                ratios,
                plan,
                servers,
                50,
                figure,
                comparison,
                limit,
                atLeast,
            )
        )
    for concurrency in (50, 500):
        targets.append(
            _ratio_target(
                f"exchanges/s at c={concurrency} vs asyncio",
                ratios,
                plan,
                servers,
                concurrency,
                "exchanges_per_s",
                "names_vs_asyncio",
                MIN_RATE_VS_ASYNCIO,
                True,
            )
        )
    targets.append(
        _ratio_target(
            "p99 latency at c=500 vs bare Twisted",
            ratios,
            plan,
            servers,
            500,
            "p99_ms",
            "names_vs_twisted",
            MAX_P99_VS_TWISTED,
            False,
        )
    )
    names_memory = memory.get("names")
    targets.append(
        _check(
            "memory per waiting client",
            names_memory["bytes_per_client"] if names_memory else None,
            MAX_BYTES_PER_WAITING_CLIENT,
            "{:.0f} bytes",
            f"<= {MAX_BYTES_PER_WAITING_CLIENT} bytes",
        )
    )
    if names_memory:
        late = names_memory["late_client_accepted"]
        targets.append(
            Target(
                "a new client is still accepted while clients wait",
                "PASS" if late else "FAIL",
                "accepted" if late else names_memory["late_client_detail"],
                "accepted",
            )
        )
        head = names_memory.get("head_reply", {})
        targets.append(
            Target(
                "one stdin line answers the head of the queue",
                "PASS" if head.get("ok") else "FAIL",
                f"{head['ms']:.1f} ms, client #{head['answered_index']}"
                if "ms" in head
                else head.get("detail", "not measured"),
                "client #0, nobody else",
            )
        )
    names_start = startup.get("names_server", {}).get("median")
    floor = startup.get("import_floor", {}).get("median")
    targets.append(
        _check(
            "start-up of twistd names-server vs import floor",
            None if names_start is None or not floor else names_start / floor,
            MAX_STARTUP_VS_IMPORT,
            "{:.2f}x",
            f"<= {MAX_STARTUP_VS_IMPORT}x",
        )
    )
    return targets
