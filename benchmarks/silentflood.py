"""
Whether one address's silent connections keep everyone else out (issue 16,
item 2): a real server with the default limits (`--name Bob`, so nobody
types), an attacker on 127.0.0.1 that keeps FLOOD connections open sending
nothing (more than `--max-clients`, reopening any that are closed), and a
probe from 127.0.0.2 ("another address") that connects, sends a name and
waits for the reply.  Prints how many probes were answered and their
latency.

    python benchmarks/silentflood.py [--flood 1100] [--probes 20] [--checkout DIR] [-- OPTIONS]

Options after `--` go to names-server (e.g. `--no-evict`).  `--checkout
DIR` runs the server from another checkout, to compare before and after.
Loopback only (Linux routes all of 127.0.0.0/8 to lo); bounded: at most
FLOOD sockets, PROBE_TIMEOUT per probe.
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

CHECKOUT = Path(__file__).resolve().parent.parent
PROBE_TIMEOUT = 5.0


def startServer(
    scratch: str, checkout: Path, options: list[str]
) -> tuple[subprocess.Popen[bytes], int]:
    return start_checkout_server(scratch, checkout, ["--name", "Bob", *options])


class Flood:
    """FLOOD silent connections from 127.0.0.1, reopened when closed."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.socks: list[socket.socket | None] = [None] * count
        self.stopping = False
        self.reopened = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, i: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
            sock.setblocking(False)
            self.socks[i] = sock
        except OSError:
            self.socks[i] = None

    def run(self) -> None:
        while not self.stopping:
            for i, sock in enumerate(self.socks):
                if self.stopping:
                    return
                if sock is not None:
                    try:
                        if sock.recv(1) != b"":
                            continue
                    except BlockingIOError:
                        continue
                    except OSError:
                        pass
                    sock.close()
                    self.reopened += 1
                self.open(i)
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(10)
        for sock in self.socks:
            if sock is not None:
                sock.close()


def probe(port: int) -> float | None:
    """Seconds to the reply for a client from 127.0.0.2, or None if it got none."""
    started = time.perf_counter()
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=PROBE_TIMEOUT, source_address=("127.0.0.2", 0)
        ) as sock:
            sock.sendall(b"Zoe\n")
            received = b""
            while True:
                data = sock.recv(1024)
                if not data:
                    break
                received += data
    except OSError:
        return None
    return time.perf_counter() - started if received == b"Bob\n" else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=1100)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--checkout", type=Path, default=CHECKOUT)
    parser.add_argument("options", nargs="*", help="options for names-server (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        server, port = startServer(scratch, args.checkout.resolve(), args.options)
        flood = Flood(port, args.flood)
        try:
            flood.thread.start()
            time.sleep(3)  # Every slot taken, the rest refused and being reopened.
            results = []
            for _ in range(args.probes):
                results.append(probe(port))
                time.sleep(0.1)
        finally:
            flood.stop()
            server.terminate()
            server.wait(10)
    answered = [r for r in results if r is not None]
    figures = (
        f"median {statistics.median(answered) * 1000:.1f} ms, max {max(answered) * 1000:.1f} ms"
        if answered
        else "none"
    )
    print(
        f"checkout {args.checkout}, options {args.options}: flood of {args.flood} silent"
        f" connections from 127.0.0.1 ({flood.reopened} reopened after a close);"
        f" probes from 127.0.0.2 answered: {len(answered)}/{len(results)} ({figures})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
