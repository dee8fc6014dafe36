"""
What clients that keep sending after their name cost everyone else (issue 7,
finding 2.4): FLOODERS clients each send a name, and while they wait for the
operator (who types nothing), 2-byte lines as fast as the kernel takes them,
for SECONDS.  Meanwhile a probe measures how quickly the server serves
another connection: connect, send an empty line ("done"), wait for the
server's close.  Prints the server's CPU use, the probe's latency (median,
p99, max) and how many lines the log got about the flooders.

    python benchmarks/flood.py [--flooders 10] [--seconds 5] [--invalid-utf8]

Loopback only, bounded in time; needs `twistd` listing names-server.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"


def cpuSeconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def flood(port: int, until: float, payload: bytes) -> None:
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(b"Flooder\n")
        sock.settimeout(0.5)
        while time.monotonic() < until:
            try:
                sock.sendall(payload)
            except (TimeoutError, OSError):
                return


#: The longest a probe waits; a probe that waits that long counts as that long.
PROBE_TIMEOUT = 10.0


def probe(port: int) -> float:
    """Seconds from connecting to the server's close after an empty line."""
    started = time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"\n")
            while sock.recv(1024):
                pass
    except TimeoutError:
        return PROBE_TIMEOUT
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flooders", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--invalid-utf8", action="store_true", help="flood with b'\\xff\\n' lines")
    args = parser.parse_args()
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch, "server.log")
        server = subprocess.Popen(
            [twistd, "-n", "--pidfile=", f"--logfile={log}", "names-server", "-p", "0"],
            cwd=scratch,
            stdin=subprocess.PIPE,  # The operator, who types nothing.
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            port = None
            while port is None and time.monotonic() < deadline:
                match = (
                    re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())
                    if log.exists()
                    else None
                )
                port = int(match.group(1)) if match else None
                time.sleep(0.02)
            if port is None:
                print("the server did not start", file=sys.stderr)
                return 1
            baseline = [probe(port) for _ in range(50)]
            payload = (b"\xff\n" if args.invalid_utf8 else b"x\n") * 32768
            cpu0 = cpuSeconds(server.pid)
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=flood, args=(port, until, payload), daemon=True)
                for _ in range(args.flooders)
            ]
            for thread in threads:
                thread.start()
            latencies = []
            while time.monotonic() < until:
                latencies.append(probe(port))
            for thread in threads:
                thread.join(10)
            cpu = cpuSeconds(server.pid) - cpu0
        finally:
            server.terminate()
            server.wait(10)
        warnings = log.read_text(errors="replace").count("invalid UTF-8")
        extra = log.read_text(errors="replace").count("sent more after its name")

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000

    print(f"flooders: {args.flooders}, {args.seconds:g} s, invalid UTF-8: {args.invalid_utf8}")
    print(f"server CPU: {cpu / args.seconds * 100:.0f}% of a core")
    print(
        f"probe latency before: median {statistics.median(baseline) * 1000:.2f} ms;"
        f" during: median {ms(latencies, 0.5):.2f} ms, p99 {ms(latencies, 0.99):.2f} ms,"
        f" max {max(latencies) * 1000:.2f} ms ({len(latencies)} probes)"
    )
    print(f"log lines: {warnings} invalid-UTF-8 warnings, {extra} 'sent more' notes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
