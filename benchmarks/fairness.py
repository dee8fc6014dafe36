"""
What one chat client sending tiny lines costs everyone else (issue 16,
item 1): a real server (`--chat --name X`, optionally `--trace`), one
attacker that sends 64 KiB at a time of 2-byte lines and reads every reply
(which is legal), and a probe that measures other clients' exchanges:
connect, send a line, read the reply, close.  Prints the probe's latency
before and during the attack (median, p99, max) and the attacker's lines
answered per second.

    python benchmarks/fairness.py [--trace] [--seconds 5] [--checkout DIR]

`--checkout DIR` runs the server from another checkout (its `twisted_names`
first on `PYTHONPATH`), e.g. an export of an older commit, to compare
before and after.  Loopback only, bounded in time (each probe waits at most
PROBE_TIMEOUT, the attack lasts `--seconds`); needs `twistd` listing
names-server (the plugin imports `twisted_names` from `PYTHONPATH`).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from servers import start_checkout_server

HOST = "127.0.0.1"
CHECKOUT = Path(__file__).resolve().parent.parent

#: The longest a probe waits; a probe that waits that long counts as that long.
PROBE_TIMEOUT = 10.0


def probe(port: int) -> float:
    """Seconds from connecting to having the reply to one line."""
    started = time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"probe\n")
            received = b""
            while b"\n" not in received:
                data = sock.recv(1024)
                if not data:
                    break
                received += data
    except (TimeoutError, OSError):
        return PROBE_TIMEOUT
    return time.perf_counter() - started


class Attacker:
    """Sends 64 KiB of 2-byte lines at a time, and reads every reply, until told to stop."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.replies = 0
        self.stopping = False
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.writer = threading.Thread(target=self.write, daemon=True)

    def start(self) -> None:
        self.reader.start()
        self.writer.start()

    def write(self) -> None:
        payload = b"x\n" * 32768
        self.sock.settimeout(0.5)
        while not self.stopping:
            try:
                self.sock.sendall(payload)
            except TimeoutError:
                continue
            except OSError:
                return

    def read(self) -> None:
        while not self.stopping:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.replies += data.count(b"\n")

    def stop(self) -> None:
        self.stopping = True
        self.writer.join(5)
        self.reader.join(5)
        self.sock.close()


def startServer(scratch: str, checkout: Path, trace: bool) -> tuple[subprocess.Popen[bytes], int]:
    options = ["--chat", "--name", "X"] + (["--trace"] if trace else [])
    return start_checkout_server(scratch, checkout, options)


def ms(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace", action="store_true", help="run the server with --trace")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--checkout", type=Path, default=CHECKOUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        server, port = startServer(scratch, args.checkout.resolve(), args.trace)
        try:
            baseline = [probe(port) for _ in range(50)]
            attacker = Attacker(port)
            attacker.start()
            time.sleep(0.5)  # The attack under way.
            answered = attacker.replies
            started = time.monotonic()
            until = started + args.seconds
            latencies = []
            while time.monotonic() < until:
                latencies.append(probe(port))
                time.sleep(0.01)
            rate = (attacker.replies - answered) / (time.monotonic() - started)
            attacker.stop()
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"checkout {args.checkout}, --trace: {args.trace}, {args.seconds:g} s;"
        f" probe latency before: median {statistics.median(baseline) * 1000:.2f} ms;"
        f" during: median {ms(latencies, 0.5):.2f} ms, p99 {ms(latencies, 0.99):.2f} ms,"
        f" max {max(latencies) * 1000:.2f} ms ({len(latencies)} probes);"
        f" attacker: {rate:.0f} lines answered/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
