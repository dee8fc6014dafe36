"""
What waiting clients cost: names-server without C{--name} (so nobody is
answered) holding many idle clients that each sent a name, against the bare
Twisted server with C{--hold}.  While they wait, a late client must still be
accepted, and one line on names-server's stdin must answer the head of the
queue promptly.

C{run.py} runs it once.  Alone, for a change that concerns memory only (each
round starts both servers afresh; the figure is RSS, so rounds agree within
some 20 bytes a client):

    python benchmarks/memory.py [--clients 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import select
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import loadgen
from server_commands import (
    TWISTD,
    NamesServerSupport,
    names_server_argv,
    probe_names_server,
    twisted_argv,
)
from servers import Server, free_port, running
from suite import FULL_PLAN, HOST, LABELS, BenchmarkError, Plan, log

# Bounds on every wait for the held clients.
HOLD_CONNECT_TIMEOUT = 120.0
HEAD_REPLY_TIMEOUT = 5.0


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll C{check} until true or C{timeout} seconds pass."""
    give_up = time.monotonic() + timeout
    while not check():
        if time.monotonic() > give_up:
            return False
        time.sleep(interval)
    return True


def settled_rss(server: Server, timeout: float = 5.0) -> int:
    """
    RSS once it stops moving (three equal samples 100 ms apart), or after
    C{timeout}: the server may still be reading the last names when its fd
    count is complete.
    """
    samples = [server.rss()]
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        time.sleep(0.1)
        samples.append(server.rss())
        if len(samples) >= 3 and samples[-1] == samples[-2] == samples[-3]:
            break
    return samples[-1]


def answer_head(server: Server, held: Sequence[socket.socket]) -> dict[str, Any]:
    """
    Type one line on names-server's stdin and time until a waiting client
    gets it; which client got it shows whether the queue is first come,
    first answered.
    """
    if sys.platform == "win32":  # epoll and /proc (a check mypy --platform win32 follows)
        raise NotImplementedError("Linux only")
    poller = select.epoll(len(held) + 1)
    index_of = {sock.fileno(): i for i, sock in enumerate(held)}
    try:
        for sock in held:
            poller.register(sock.fileno(), select.EPOLLIN)
        started = time.perf_counter()
        server.write_stdin(b"hello\n")
        events = poller.poll(HEAD_REPLY_TIMEOUT)
        elapsed = time.perf_counter() - started
        if not events:
            return {"ok": False, "detail": f"no client answered within {HEAD_REPLY_TIMEOUT} s"}
        fd = events[0][0]
        sock = held[index_of[fd]]
        sock.settimeout(2.0)
        reply = b""
        with suppress(OSError):
            while chunk := sock.recv(4096):
                reply += chunk
        # Nobody else should have been answered by one line.
        others = {f for f, _ in poller.poll(0.2)} - {fd}
    finally:
        poller.close()
    index = index_of[fd]
    ok = reply == b"hello\n" and index == 0 and not others
    return {
        "ok": ok,
        "ms": elapsed * 1e3,
        "answered_index": index,
        "reply": reply.decode(errors="replace"),
        "others_answered": len(others),
        "detail": ""
        if ok
        else (f"client #{index} got {reply!r}; {len(others)} other(s) also answered"),
    }


def late_client_accepted(
    server: Server, port: int, fds_before: int
) -> tuple[bool, str, socket.socket | None]:
    """
    With all the clients held, can one more still connect, send its name and
    be kept waiting (not refused, not closed)?
    """
    try:
        sock = socket.create_connection((HOST, port), timeout=2.0)
        sock.sendall(b"late\n")
    except OSError as e:
        return False, f"connect failed: {e}", None
    accepted = wait_until(lambda: server.fd_count() > fds_before, 3.0)
    readable, _, _ = select.select([sock], [], [], 0.3)
    if readable:
        data = b""
        with suppress(OSError):
            data = sock.recv(100)
        sock.close()
        return False, f"server answered or closed it at once ({data!r})", None
    if not accepted:
        sock.close()
        return False, "the server did not accept() it within 3 s", None
    return True, "", sock


def measure_memory(
    key: str, argv: list[str], port: int, count: int, workdir: Path, answer: bool
) -> dict[str, Any]:
    """RSS before and while holding C{count} clients that sent their name."""
    tag = f"memory-{key}"
    with running(argv, port, workdir, tag) as server:
        time.sleep(0.3)  # Let the probe connection's close be handled.
        rss_before = settled_rss(server)
        fds_before = server.fd_count()
        started = time.monotonic()
        held = loadgen.hold_clients(port, count, HOLD_CONNECT_TIMEOUT)
        late: socket.socket | None = None
        try:
            connect_s = time.monotonic() - started
            if not wait_until(lambda: server.fd_count() >= fds_before + count, 30.0):
                raise BenchmarkError(
                    f"server holds {server.fd_count() - fds_before} of {count} clients"
                )
            rss_holding = settled_rss(server)
            if server.proc is not None and server.proc.poll() is not None:
                raise BenchmarkError(f"server exited:\n{server.output_tail()}")
            fds_holding = server.fd_count()
            late_ok, late_detail, late = late_client_accepted(server, port, fds_holding)
            result: dict[str, Any] = {
                "clients": count,
                "rss_before": rss_before,
                "rss_holding": rss_holding,
                "bytes_per_client": (rss_holding - rss_before) / count,
                "connect_s": connect_s,
                "late_client_accepted": late_ok,
                "late_client_detail": late_detail,
            }
            if answer:
                result["head_reply"] = answer_head(server, held)
        finally:
            for sock in held:
                sock.close()
            if late is not None:
                late.close()
    return result


def run_memory(
    plan: Plan, support: NamesServerSupport, workdir: Path, failures: list[str]
) -> dict[str, Any]:
    """names-server without --name, then the bare Twisted server with --hold."""
    memory: dict[str, Any] = {}
    cases: list[tuple[str, Callable[[int], list[str]], bool]] = [
        (
            "names",
            lambda port: names_server_argv(support, port, None, workdir / "memory-names.log"),
            True,
        ),
        ("twisted", lambda port: twisted_argv(port, hold=True), False),
    ]
    for key, make_argv, answer in cases:
        port = free_port()
        try:
            memory[key] = measure_memory(
                key, make_argv(port), port, plan.memory_clients, workdir, answer
            )
        except (BenchmarkError, OSError) as e:
            failures.append(f"memory {LABELS[key]}: {e}")
            log(f"FAILED memory {LABELS[key]}: {e}")
            continue
        m = memory[key]
        head = m.get("head_reply")
        log(
            f"memory {LABELS[key]}: {m['bytes_per_client']:.0f} bytes/client over"
            f" {m['clients']} clients; late client accepted: {m['late_client_accepted']}"
            + (
                f"; stdin reply to head in {head.get('ms', 0):.1f} ms (ok={head['ok']})"
                if head
                else ""
            )
        )
    return memory


def main(argv: list[str] | None = None) -> int:
    """The memory benchmark alone, C{--rounds} times; bytes per client of each round."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=FULL_PLAN.memory_clients)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--twistd", default=TWISTD, help="the twistd to measure")
    args = parser.parse_args(argv)
    plan = dataclasses.replace(FULL_PLAN, memory_clients=args.clients)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="names-memory-") as scratch:
        workdir = Path(scratch)
        try:
            support = probe_names_server(workdir, args.twistd)
        except BenchmarkError as e:
            sys.stderr.write(f"memory.py: {e}\n")
            return 2
        for round_ in range(1, args.rounds + 1):
            memory = run_memory(plan, support, workdir, failures)
            figures = ", ".join(
                f"{LABELS[key]} {m['bytes_per_client']:.0f}" for key, m in memory.items()
            )
            print(f"round {round_}: bytes per waiting client: {figures}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
