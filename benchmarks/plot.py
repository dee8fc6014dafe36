"""
docs/performance.png: exchanges/s and p99 latency by clients in flight, one
line per server.  matplotlib is an optional extra (.[bench]), so without it
the run goes on with no plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite import DASH, LABELS, SERVERS, log


def plot(results: dict[str, Any], path: Path) -> bool:
    """exchanges/s and p99 by concurrency, one line per server (matplotlib, Agg)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullLocator
    except ImportError:
        log("matplotlib is not installed (the .[bench] extra): no plot")
        return False
    fig, (rate_ax, p99_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    concurrency = results["plan"]["concurrency"]
    for key in SERVERS:
        for ax, figure in ((rate_ax, "exchanges_per_s"), (p99_ax, "p99_ms")):
            xs, ys, lo, hi = [], [], [], []
            for c in concurrency:
                cell = results["load"].get(key, {}).get(str(c), {}).get("summary", {})
                if figure in cell:
                    s = cell[figure]
                    xs.append(c)
                    ys.append(s["median"])
                    lo.append(s["median"] - s["min"])
                    hi.append(s["max"] - s["median"])
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=LABELS[key])
    rate_ax.set_title(f"Exchanges per second (median, min{DASH}max)")
    rate_ax.set_ylabel("exchanges/s")
    rate_ax.set_ylim(bottom=0)
    p99_ax.set_title(f"p99 latency (median, min{DASH}max)")
    p99_ax.set_ylabel("ms")
    p99_ax.set_yscale("log")
    for ax in (rate_ax, p99_ax):
        ax.set_xscale("log")
        ax.set_xticks(concurrency, [str(c) for c in concurrency])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("clients in flight")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"names-server vs baselines ({results['meta']['cores']} cores, loopback)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
