"""
Where a waiting client's memory is: the real names-server, as C{memory.py}
runs it (twistd -n, no C{--name}, stdin a pipe, logging to a file), run
under tracemalloc in this process's twin, holding C{--clients} idle clients
that each sent a name.  Prints the Python memory that holding them added,
per client, by the line that allocated it, beside the server's RSS; the
table of docs/performance.md, "Memory per waiting client (issue 18)".

    python benchmarks/memtrace.py [--clients 10000] [--top 30]

Not part of C{run.py}.  Tracing starts once the server listens (start-up
under tracemalloc takes half a minute), so only what came after is counted;
the RSS it prints includes tracemalloc's own bookkeeping.
"""

from __future__ import annotations

import argparse
import gc
import linecache
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import FrameType

#: The signal that makes the traced server write a snapshot: twistd and
#: names-server handle SIGUSR1 and SIGUSR2 themselves.
SNAPSHOT_SIGNAL = signal.SIGRTMIN
#: Frames kept for each allocation.
FRAMES = 25


def serve(snapshots: Path, argv: list[str]) -> None:
    """Run twistd with C{argv}; each L{SNAPSHOT_SIGNAL} writes snapshot N to C{snapshots}."""
    taken = [0]

    def snapshot(signum: int, frame: FrameType | None) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
        gc.collect()
        tracemalloc.take_snapshot().dump(str(snapshots / f"snap{taken[0]}"))
        taken[0] += 1

    signal.signal(SNAPSHOT_SIGNAL, snapshot)
    from twisted.scripts.twistd import run

    sys.argv = ["twistd", *argv]
    run()


def measure(clients: int, top: int) -> None:
    """Start the traced server, hold the clients, and print where their memory is."""
    import loadgen
    from memory import settled_rss, wait_until
    from server_commands import names_server_argv, probe_names_server
    from servers import free_port, running

    with tempfile.TemporaryDirectory(prefix="names-memtrace-") as scratch:
        workdir = Path(scratch)
        support = probe_names_server(workdir)
        port = free_port()
        argv = names_server_argv(support, port, None, workdir / "memtrace.log")
        command = [sys.executable, __file__, "--serve", scratch, *argv[1:]]
        with running(command, port, workdir, "memtrace") as server:
            time.sleep(0.5)
            rss_before = settled_rss(server)
            os.kill(server.pid, SNAPSHOT_SIGNAL)
            fds = server.fd_count()
            held = loadgen.hold_clients(port, clients, 300.0)
            try:
                wait_until(lambda: server.fd_count() >= fds + clients, 120.0)
                rss_holding = settled_rss(server, 20.0)
                os.kill(server.pid, SNAPSHOT_SIGNAL)
                if not wait_until(lambda: (workdir / "snap1").exists(), 120.0):
                    raise SystemExit("memtrace.py: the server wrote no second snapshot")
                time.sleep(2.0)  # Let the dump finish.
            finally:
                for sock in held:
                    sock.close()
        before = tracemalloc.Snapshot.load(str(workdir / "snap0"))
        after = tracemalloc.Snapshot.load(str(workdir / "snap1"))
    stats = after.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).compare_to(
        before, "lineno"
    )
    traced = sum(s.size_diff for s in stats)
    print(
        f"{clients} clients: RSS {(rss_holding - rss_before) / clients:.0f} bytes each"
        f" (with tracemalloc's own), Python memory {traced / clients:.0f} bytes each"
    )
    print("bytes/client  blocks/client  allocated at")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        line = linecache.getline(frame.filename, frame.lineno).strip()
        print(
            f"{stat.size_diff / clients:12.1f}  {stat.count_diff / clients:13.2f}"
            f"  {_short(frame.filename)}:{frame.lineno}  {line[:70]}"
        )


def _short(filename: str) -> str:
    """A path from its package on: twisted/..., twisted_names/..., socket.py."""
    parts = Path(filename).parts
    for package in ("twisted_names", "twisted"):
        if package in parts:
            return "/".join(parts[parts.index(package) :])
    return parts[-1]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    measure(args.clients, args.top)


if __name__ == "__main__":
    main()
