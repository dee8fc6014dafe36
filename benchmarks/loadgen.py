"""
A closed-loop load generator for one-line exchange servers, in Python: the
fallback for machines with no C compiler.  The benchmark uses C{loadgen.c}
(built by C{cgen.py}) when it can: this one runs at ~98% of its core
against the bare Twisted baseline, so figures taken with it are limited by
the generator, and the benchmark says so loudly when it has to use it.

Each of C connection slots does, over and over for a fixed time: connect,
send C{b"bench\\n"}, read the reply until the server closes, check it, close.
Latency is measured from the start of connect to the server's close.
Throughput counts the exchanges that ended inside the measured window;
latencies are those of the exchanges that started inside it.  The output
has the same keys as C{loadgen.c}'s.

Why it is written this way: the servers under test are single-threaded
Python, and on a 2-core machine the load generator gets the other core.  If
the generator spent more CPU per exchange than the server, it would measure
itself.  So it is raw non-blocking sockets on C{select.epoll}, no asyncio and
no per-exchange objects beyond a short list, and it reports its own CPU time
during the measured window (C{loadgen_core_use}, near 1.0 when it was the
bottleneck).  C{--workers N} splits the slots over N processes (on 2 cores
that takes CPU from the server instead).

Linux only (epoll, and the harness reads /proc anyway).

Usage::

    python benchmarks/loadgen.py PORT [-c 50] [-d 5] [--warmup 0.5] [--workers 1]

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import errno
import json
import multiprocessing
import resource
import select
import socket
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

#: Only loopback is ever a target of this tool.
HOST = "127.0.0.1"
PAYLOAD = b"bench\n"
#: Bytes read per recv(); replies are one short line.
CHUNK = 4096
#: Longest the generator waits, after the run, for exchanges still in flight.
DRAIN_SECONDS = 5.0
#: Connections opened at once by L{hold_clients}; below the servers' backlog
#: so that no SYN is dropped (a dropped SYN costs a 1 s retransmission).
HOLD_BATCH = 256


def raise_nofile_limit() -> int:
    """
    Raise this process's open-file limit to its hard limit.

    Why: 500 slots or 10,000 held clients need more descriptors than the
    usual soft limit of 1024.  Returns the new soft limit.
    """
    if sys.platform == "win32":  # epoll and /proc (a check mypy --platform win32 follows)
        raise NotImplementedError("Linux only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


@dataclass
class WorkerResult:
    """What one worker process measured; summed by L{merge}."""

    #: Exchanges that completed at any time (the server did the work for all
    #: of them, which is what CPU per exchange divides by).
    completed: int = 0
    #: Exchanges that ended inside the measured window.
    completed_in_window: int = 0
    #: Exchanges still in flight when the drain time ran out.
    unfinished: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    #: Latencies in seconds of exchanges started inside the measured window.
    latencies: array[float] = field(default_factory=lambda: array("d"))
    #: CPU seconds over the whole run, and inside the measured window.
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    window_user: float = 0.0
    window_sys: float = 0.0

    def error(self, kind: str) -> None:
        """Count one failed exchange of this kind."""
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _error_kind(exc: OSError) -> str:
    """A short, stable name for a socket error, for the report."""
    if exc.errno is not None and exc.errno in errno.errorcode:
        return errno.errorcode[exc.errno]
    return type(exc).__name__


def run_worker(
    port: int,
    concurrency: int,
    start_at: float,
    warmup: float,
    duration: float,
    drain: float = DRAIN_SECONDS,
) -> WorkerResult:
    """
    Keep C{concurrency} exchanges in flight from C{start_at} for
    C{warmup + duration} seconds (monotonic clock), then wait up to C{drain}
    seconds for the ones still in flight.

    The hot loop is deliberately flat (locals, lists, no method calls of our
    own per event) because its cost is what makes the generator a bottleneck
    or not.
    """
    if sys.platform == "win32":
        raise NotImplementedError("Linux only")
    EPOLLIN, EPOLLOUT = select.EPOLLIN, select.EPOLLOUT
    result = WorkerResult()
    perf = time.monotonic
    addr = (HOST, port)
    poller = select.epoll(max(concurrency, 16))
    # fd -> [sock, t0, received chunks, connecting?]
    conns: dict[int, list[Any]] = {}
    latencies = result.latencies
    record_from = start_at + warmup
    deadline = record_from + duration
    completed = 0
    in_window = 0
    new_socket = socket.socket
    af_inet, sock_stream = socket.AF_INET, socket.SOCK_STREAM
    sol_socket, so_error = socket.SOL_SOCKET, socket.SO_ERROR

    def start() -> None:
        sock = new_socket(af_inet, sock_stream)
        sock.setblocking(False)
        t0 = perf()
        err = sock.connect_ex(addr)
        if err and err != errno.EINPROGRESS:
            sock.close()
            result.error(errno.errorcode.get(err, str(err)))
            return
        fd = sock.fileno()
        try:
            # On loopback the handshake has usually completed by now: sending
            # at once saves a wake-up and an epoll_ctl per exchange.
            sock.send(PAYLOAD)
        except BlockingIOError:
            conns[fd] = [sock, t0, [], True]
            poller.register(fd, EPOLLOUT)
            return
        except OSError as exc:
            sock.close()
            result.error(_error_kind(exc))
            return
        conns[fd] = [sock, t0, [], False]
        poller.register(fd, EPOLLIN)

    now = perf()
    if start_at > now:
        time.sleep(start_at - now)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    window0 = ru0 if warmup == 0 else None
    window1 = None
    for _ in range(concurrency):
        start()
    hard_stop = deadline + drain
    running = True
    while conns or running:
        now = perf()
        if window0 is None and now >= record_from:
            window0 = resource.getrusage(resource.RUSAGE_SELF)
        if running and now >= deadline:
            window1 = resource.getrusage(resource.RUSAGE_SELF)
            running = False
        if not running and now >= hard_stop:
            break
        if running and len(conns) < concurrency:
            # A slot whose connect failed outright: refill it, but not in a
            # tight loop against a dead server.
            time.sleep(0.001)
            for _ in range(concurrency - len(conns)):
                start()
        timeout = (deadline if running else hard_stop) - now
        for fd, _events in poller.poll(min(timeout, 0.1) if timeout > 0 else 0):
            conn = conns[fd]
            sock = conn[0]
            if conn[3]:
                err = sock.getsockopt(sol_socket, so_error)
                if err:
                    del conns[fd]
                    sock.close()
                    result.error(errno.errorcode.get(err, str(err)))
                    if running:
                        start()
                    continue
                try:
                    sock.send(PAYLOAD)
                except OSError as exc:
                    del conns[fd]
                    sock.close()
                    result.error(_error_kind(exc))
                    if running:
                        start()
                    continue
                conn[3] = False
                poller.modify(fd, EPOLLIN)
                continue
            chunks = conn[2]
            failed = None
            try:
                while True:
                    data = sock.recv(CHUNK)
                    if not data:
                        break
                    chunks.append(data)
            except BlockingIOError:
                continue  # More to come.
            except OSError as exc:
                failed = _error_kind(exc)
            end = perf()
            del conns[fd]
            sock.close()
            if failed is None:
                reply = b"".join(chunks)
                if not reply or reply[-1:] != b"\n":
                    failed = "bad_reply" if reply else "empty_reply"
            if failed is not None:
                result.error(failed)
            else:
                completed += 1
                if record_from <= end <= deadline:
                    in_window += 1
                t0 = conn[1]
                if record_from <= t0 < deadline:
                    latencies.append(end - t0)
            if running:
                start()
    result.unfinished = len(conns)
    for conn in conns.values():
        conn[0].close()
    poller.close()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    window0 = window0 or ru0
    window1 = window1 or ru1
    result.completed = completed
    result.completed_in_window = in_window
    result.cpu_user = ru1.ru_utime - ru0.ru_utime
    result.cpu_sys = ru1.ru_stime - ru0.ru_stime
    result.window_user = window1.ru_utime - window0.ru_utime
    result.window_sys = window1.ru_stime - window0.ru_stime
    return result


def _worker_main(
    out: Connection,
    port: int,
    concurrency: int,
    start_at: float,
    warmup: float,
    duration: float,
) -> None:
    """Run one worker in a child process and send its result back."""
    raise_nofile_limit()
    out.send(run_worker(port, concurrency, start_at, warmup, duration))
    out.close()


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 if empty)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def merge(
    results: Sequence[WorkerResult], concurrency: int, duration: float, warmup: float, workers: int
) -> dict[str, Any]:
    """Sum the workers' results into the JSON report."""
    errors: dict[str, int] = {}
    latencies: list[float] = []
    for r in results:
        for kind, count in r.errors.items():
            errors[kind] = errors.get(kind, 0) + count
        latencies.extend(r.latencies)
    latencies.sort()
    in_window = sum(r.completed_in_window for r in results)
    cpu_user = sum(r.cpu_user for r in results)
    cpu_sys = sum(r.cpu_sys for r in results)
    window_user = sum(r.window_user for r in results)
    window_sys = sum(r.window_sys for r in results)
    return {
        "generator": "python",
        "concurrency": concurrency,
        "workers": workers,
        "duration_s": duration,
        "warmup_s": warmup,
        "exchanges_per_s": in_window / duration,
        "exchanges_in_window": in_window,
        "exchanges_total": sum(r.completed for r in results),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "unfinished": sum(r.unfinished for r in results),
        "latency_ms": {
            "p50": percentile(latencies, 0.50) * 1e3,
            "p90": percentile(latencies, 0.90) * 1e3,
            "p99": percentile(latencies, 0.99) * 1e3,
            "max": (latencies[-1] if latencies else 0.0) * 1e3,
            "samples": len(latencies),
        },
        "loadgen_cpu_s": {"user": cpu_user, "sys": cpu_sys},
        "loadgen_window_cpu_s": {"user": window_user, "sys": window_sys},
        # Share of one core per worker while measuring: near 1.0 means the
        # generator itself may have been the limit.
        "loadgen_core_use": (window_user + window_sys) / duration / max(1, workers),
    }


def run(
    port: int, concurrency: int, duration: float, warmup: float = 0.0, workers: int = 1
) -> dict[str, Any]:
    """Run the load (in this process, or in C{workers} child processes)."""
    if sys.platform == "win32":
        raise NotImplementedError("Linux only")
    raise_nofile_limit()
    workers = max(1, min(workers, concurrency))
    if workers == 1:
        start_at = time.monotonic()
        alone = run_worker(port, concurrency, start_at, warmup, duration)
        return merge([alone], concurrency, duration, warmup, 1)
    ctx = multiprocessing.get_context("fork")
    # All workers start together, a little ahead, once forked.
    start_at = time.monotonic() + 0.2
    share, extra = divmod(concurrency, workers)
    pipes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    for i in range(workers):
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_worker_main,
            args=(sender, port, share + (i < extra), start_at, warmup, duration),
        )
        proc.start()
        sender.close()
        pipes.append((proc, receiver))
    results: list[WorkerResult] = []
    limit = warmup + duration + DRAIN_SECONDS + 10.0
    for worker, receiver in pipes:
        if receiver.poll(max(0.0, start_at + limit - time.monotonic())):
            results.append(receiver.recv())
        worker.join(5.0)
        if worker.is_alive():
            worker.kill()
            worker.join(5.0)
    report = merge(results, concurrency, duration, warmup, workers)
    report["workers_reported"] = len(results)
    return report


def hold_clients(
    port: int, count: int, timeout: float, payload: bytes = PAYLOAD, batch: int = HOLD_BATCH
) -> list[socket.socket]:
    """
    Open C{count} connections, send C{payload} on each, and return them open.

    For the memory benchmark: each client has sent its name and now waits.
    At most C{batch} connects are in progress at once so the listen queue
    never overflows.  The sockets are returned in the order their names were
    sent, which is the order a FIFO server should answer them.  Raises
    C{TimeoutError} if not all are connected within C{timeout} seconds.
    """
    if sys.platform == "win32":
        raise NotImplementedError("Linux only")
    raise_nofile_limit()
    give_up = time.monotonic() + timeout
    poller = select.epoll()
    connecting: dict[int, socket.socket] = {}
    held: list[socket.socket] = []
    opened = 0
    try:
        while len(held) < count:
            if time.monotonic() > give_up:
                raise TimeoutError(f"only {len(held)} of {count} clients connected")
            while opened < count and len(connecting) < batch:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                err = sock.connect_ex((HOST, port))
                if err and err != errno.EINPROGRESS:
                    sock.close()
                    raise OSError(err, f"connect: {errno.errorcode.get(err, err)}")
                connecting[sock.fileno()] = sock
                poller.register(sock.fileno(), select.EPOLLOUT)
                opened += 1
            for fd, _events in poller.poll(0.1):
                sock = connecting.pop(fd)
                poller.unregister(fd)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sock.close()
                    raise OSError(err, f"connect: {errno.errorcode.get(err, err)}")
                sock.send(payload)
                held.append(sock)
    except BaseException:
        for sock in [*held, *connecting.values()]:
            sock.close()
        raise
    finally:
        poller.close()
    return held


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument(
        "-c", "--concurrency", type=int, default=50, help="exchanges kept in flight (default 50)"
    )
    parser.add_argument(
        "-d",
        "--duration",
        type=float,
        default=5.0,
        help="measured seconds (default 5, at most 600)",
    )
    parser.add_argument(
        "--warmup", type=float, default=0.0, help="seconds of load before measuring (default 0)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes to split the slots over (default 1)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("duration must be in (0, 600] and warmup in [0, 60]")
    if args.concurrency < 1 or args.workers < 1:
        parser.error("concurrency and workers must be at least 1")
    report = run(args.port, args.concurrency, args.duration, args.warmup, args.workers)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
