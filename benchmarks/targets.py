"""
The promises of docs/performance.md and whether this run kept them.  The
limits are ratios to the baselines measured in the same run, because
absolute figures depend on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from figures import median_of, ratio
from server_commands import NamesServerSupport
from suite import Plan

MIN_RATE_VS_TWISTED = 0.9
MIN_RATE_VS_ASYNCIO = 1.7
MAX_CPU_VS_TWISTED = 1.1
MAX_P99_VS_TWISTED = 1.3
#: Bytes of resident memory per waiting client (3 KB, taken as 3,000 bytes).
MAX_BYTES_PER_WAITING_CLIENT = 3000
MAX_STARTUP_VS_IMPORT = 1.5


@dataclass
class Target:
    """One promise of docs/performance.md, checked against this run."""

    name: str
    status: str  # PASS, FAIL or SKIP
    measured: str
    limit: str

    def line(self) -> str:
        """The printed PASS/FAIL line."""
        return f"{self.status}  {self.name}: {self.measured} (target {self.limit})"


def _check(
    name: str,
    value: float | None,
    limit: float,
    at_least: bool,
    fmt: str,
    limit_text: str,
    missing: str,
) -> Target:
    if value is None:
        return Target(name, "FAIL", f"not measured ({missing})", limit_text)
    ok = value >= limit if at_least else value <= limit
    return Target(name, "PASS" if ok else "FAIL", fmt.format(value), limit_text)


def evaluate(
    plan: Plan,
    load: dict[str, dict[str, Any]],
    memory: dict[str, Any],
    startup: dict[str, Any],
    support: NamesServerSupport,
) -> list[Target]:
    """Every target of the brief, in order."""
    missing = support.reason or "failed; see the log"
    targets: list[Target] = []
    for concurrency in (50, 500):
        name = f"exchanges/s at c={concurrency}"
        if concurrency not in plan.concurrency:
            targets.append(
                Target(
                    f"{name} vs bare Twisted",
                    "SKIP",
                    "not run in --quick",
                    f">= {MIN_RATE_VS_TWISTED}x",
                )
            )
            targets.append(
                Target(
                    f"{name} vs asyncio",
                    "SKIP",
                    "not run in --quick",
                    f">= {MIN_RATE_VS_ASYNCIO}x",
                )
            )
            continue
        names = median_of(load, "names", concurrency, "exchanges_per_s")
        targets.append(
            _check(
                f"{name} vs bare Twisted",
                ratio(names, median_of(load, "twisted", concurrency, "exchanges_per_s")),
                MIN_RATE_VS_TWISTED,
                True,
                "{:.2f}x",
                f">= {MIN_RATE_VS_TWISTED}x",
                missing,
            )
        )
        targets.append(
            _check(
                f"{name} vs asyncio",
                ratio(names, median_of(load, "asyncio", concurrency, "exchanges_per_s")),
                MIN_RATE_VS_ASYNCIO,
                True,
                "{:.2f}x",
                f">= {MIN_RATE_VS_ASYNCIO}x",
                missing,
            )
        )
    for concurrency in plan.concurrency:
        targets.append(
            _check(
                f"server CPU per exchange at c={concurrency} vs bare Twisted",
                ratio(
                    median_of(load, "names", concurrency, "server_cpu_us_per_exchange"),
                    median_of(load, "twisted", concurrency, "server_cpu_us_per_exchange"),
                ),
                MAX_CPU_VS_TWISTED,
                False,
                "{:.2f}x",
                f"<= {MAX_CPU_VS_TWISTED}x",
                missing,
            )
        )
    if 500 in plan.concurrency:
        targets.append(
            _check(
                "p99 latency at c=500 vs bare Twisted",
                ratio(
                    median_of(load, "names", 500, "p99_ms"),
                    median_of(load, "twisted", 500, "p99_ms"),
                ),
                MAX_P99_VS_TWISTED,
                False,
                "{:.2f}x",
                f"<= {MAX_P99_VS_TWISTED}x",
                missing,
            )
        )
    else:
        targets.append(
            Target(
                "p99 latency at c=500 vs bare Twisted",
                "SKIP",
                "not run in --quick",
                f"<= {MAX_P99_VS_TWISTED}x",
            )
        )
    names_memory = memory.get("names")
    targets.append(
        _check(
            "memory per waiting client",
            names_memory["bytes_per_client"] if names_memory else None,
            MAX_BYTES_PER_WAITING_CLIENT,
            False,
            "{:.0f} bytes",
            f"<= {MAX_BYTES_PER_WAITING_CLIENT} bytes",
            missing,
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
            ratio(names_start, floor),
            MAX_STARTUP_VS_IMPORT,
            False,
            "{:.2f}x",
            f"<= {MAX_STARTUP_VS_IMPORT}x",
            missing,
        )
    )
    return targets
