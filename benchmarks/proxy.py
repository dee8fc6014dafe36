"""
names-proxy's relay against socat (issue 17; docs/performance.md, "The
proxy"): throughput in MB/s through one connection, short exchanges per
second (connect, send a name, read the reply to the end), and the relay's
CPU time for each, on loopback only.

    python benchmarks/proxy.py [--megabytes 200] [--seconds 5] [--rounds 3]
    python benchmarks/proxy.py --slow-reader

C{--slow-reader} measures instead names-proxy's memory while one side
writes as fast as it can and the other reads nothing, each way: its peak
resident size (C{VmHWM}) before and after, and how much the writer got
into the kernel's buffers before it blocked.

Each round runs every relay once, in turn (A/B interleaved, so a machine
whose load changes affects them alike); the figures are the medians.  The
relays: C{names-proxy --no-trace}, C{names-proxy} with its ladder drawn to
a pipe that is read and dropped (the trace's cost), and C{socat
TCP-LISTEN:...,fork TCP:...} (a process per connection).  The back end is a
plain threaded server in a process of its own.  Every run is bounded: each
socket has a timeout, and each relay is stopped after its run.

CPU is the relay's own (user + system, its children's included for
socat), read from C{/proc} (Linux only), per megabyte and per exchange.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
#: Every socket wait of the load generator, in seconds: a guard, not a figure.
TIMEOUT = 30.0
CHUNK = 64 * 1024

#: The back end: a sink (read to the end, answer "ok") or an exchange (read
#: the name, answer "Olá, NAME" and close), one thread per connection.
BACKEND = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True)
def serve(c):
    c.settimeout(60)
    first = c.recv(65536)
    if first.startswith(b"SINK"):
        while c.recv(262144):
            pass
        c.sendall(b"ok")
    else:
        c.sendall("Olá, ".encode() + first)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def freePort() -> int:
    """A port for a relay that cannot be told port 0 (socat); bound again at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpuSeconds(pid: int) -> float:
    """User + system time of C{pid} and of its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def waitForPort(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the relay exited ({process.returncode}) before it listened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listened on {port} within {TIMEOUT:g} s")


def twistd() -> list[str]:
    """twistd with the checkout's plugins first (as tests/processes.py starts it)."""
    return [sys.executable, "-c", TWISTD_MAIN]


TWISTD_MAIN = f"""
import sys, twisted.plugins
twisted.plugins.__path__[:0] = [{str(CHECKOUT / "twisted_plugins")!r}]
sys.argv[0] = "twistd"
from twisted.scripts.twistd import run
sys.exit(run())
"""


class Relay:
    """One relay under test, started and stopped around each measurement."""

    def __init__(self, name: str, argv: Callable[[int, int], list[str]], drain: bool) -> None:
        self.name = name
        self.argv = argv
        self.drain = drain
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, backend: int) -> int:
        port = freePort()
        env = {**os.environ, "PYTHONPATH": str(CHECKOUT), "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            self.argv(port, backend),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if self.drain else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/tmp",
        )
        if self.drain:  # The ladder is read (a terminal would), and dropped.
            stdout = self.process.stdout
            assert stdout is not None
            threading.Thread(
                target=lambda: [None for _ in iter(lambda: stdout.read(65536), b"")], daemon=True
            ).start()
        waitForPort(port, self.process)
        return port

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def throughput(port: int, megabytes: int) -> float:
    """Seconds to send C{megabytes} through C{port} and hear the sink's "ok"."""
    data = b"x" * CHUNK
    count = megabytes * 1024 * 1024 // CHUNK
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        started = time.perf_counter()
        s.sendall(b"SINK")
        for _ in range(count):
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(1024):
            answer += chunk
        elapsed = time.perf_counter() - started
    if answer != b"ok":
        raise SystemExit(f"the sink answered {answer!r}")
    return elapsed


def exchanges(port: int, seconds: float, clients: int = 4) -> int:
    """Short exchanges completed through C{port} in C{seconds}, by C{clients} threads."""
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        while time.perf_counter() < deadline:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
                s.sendall(b"Ana")
                answer = b""
                while chunk := s.recv(1024):
                    answer += chunk
            if answer != "Olá, Ana".encode():
                raise SystemExit(f"the back end answered {answer!r}")
            done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


def slowReader(writer: str) -> None:
    """
    names-proxy between a writer that writes until it blocks and a reader
    that reads nothing (C{writer}: "client" or "server"); print its memory.
    """
    backend = socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen(5)
    relay = relays()[0]  # names-proxy --no-trace
    port = relay.start(backend.getsockname()[1])
    assert relay.process is not None
    try:
        backend.accept()[0].close()  # waitForPort's probe
        status = Path(f"/proc/{relay.process.pid}/status")

        def peak() -> str:
            line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM"))
            return line.split(":")[1].strip()

        before = peak()
        client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        server, _ = backend.accept()
        fast = client if writer == "client" else server
        fast.setblocking(False)
        sent, idle, started, chunk = 0, 0, time.monotonic(), b"x" * CHUNK
        # Until it blocks for 2 s in a row (the proxy paused, the buffers full); 20 s at most.
        while time.monotonic() - started < 20 and idle < 100:
            try:
                sent += fast.send(chunk)
                idle = 0
            except BlockingIOError:
                idle += 1
                time.sleep(0.02)
        print(
            f"the {writer} wrote {sent / 1e6:.1f} MB before it blocked, the other side reading"
            f" nothing; names-proxy's peak resident size: {before} before, {peak()} after"
        )
        client.close()
        server.close()
    finally:
        relay.stop()
        backend.close()


def relays() -> list[Relay]:
    base = ["-n", "--pidfile=", "--logfile=/dev/null", "names-proxy"]

    def proxy(*extra: str) -> Callable[[int, int], list[str]]:
        return lambda port, to: [
            *twistd(),
            *base,
            "--port",
            str(port),
            "--to",
            f"127.0.0.1:{to}",
            *extra,
        ]

    found = [
        Relay("names-proxy --no-trace", proxy("--no-trace"), False),
        Relay("names-proxy (ladder to a pipe)", proxy(), True),
    ]
    if shutil.which("socat"):
        found.append(
            Relay(
                "socat",
                lambda port, to: [
                    "socat",
                    f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr",
                    f"TCP:127.0.0.1:{to}",
                ],
                False,
            )
        )
    else:
        print("socat is not installed: apt-get install socat", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-reader", action="store_true")
    args = parser.parse_args()
    if args.slow_reader:
        slowReader("client")
        slowReader("server")
        return
    backend = subprocess.Popen(
        [sys.executable, "-c", BACKEND], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert backend.stdout is not None
        backendPort = int(backend.stdout.readline())
        results: dict[str, dict[str, list[float]]] = {}
        candidates = relays()
        for round in range(args.rounds):
            # Interleaved, and in a rotating order.
            shift = round % len(candidates)
            for relay in candidates[shift:] + candidates[:shift]:
                figures = results.setdefault(relay.name, {})
                port = relay.start(backendPort)
                assert relay.process is not None
                try:
                    cpu = cpuSeconds(relay.process.pid)
                    elapsed = throughput(port, args.megabytes)
                    time.sleep(0.2)  # socat's child ends and is reaped.
                    used = cpuSeconds(relay.process.pid) - cpu
                    figures.setdefault("MB/s", []).append(args.megabytes / elapsed)
                    figures.setdefault("CPU ms/MB", []).append(used / args.megabytes * 1000)
                    cpu = cpuSeconds(relay.process.pid)
                    count = exchanges(port, args.seconds)
                    time.sleep(0.2)  # socat's children end and are reaped.
                    used = cpuSeconds(relay.process.pid) - cpu
                    figures.setdefault("exchanges/s", []).append(count / args.seconds)
                    figures.setdefault("CPU us/exchange", []).append(used / count * 1e6)
                finally:
                    relay.stop()
                print(f"round {round + 1}: {relay.name} done", file=sys.stderr)
        print(
            f"{args.megabytes} MB through one connection; exchanges by 4 clients for"
            f" {args.seconds:g} s; medians of {args.rounds} interleaved rounds"
        )
        header = ["relay", "MB/s", "CPU ms/MB", "exchanges/s", "CPU us/exchange"]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for name, figures in results.items():
            cells = [
                f"{statistics.median(figures[key]):.1f}"
                f" ({min(figures[key]):.1f}-{max(figures[key]):.1f})"
                for key in header[1:]
            ]
            print(f"| {name} | " + " | ".join(cells) + " |")
    finally:
        backend.kill()
        backend.wait()


if __name__ == "__main__":
    main()
