"""
The whole benchmark suite in one command.

    python benchmarks/run.py            # full run, about 3 minutes on 2 cores
    python benchmarks/run.py --quick    # smoke run, well under 30 s

It measures names-server against two reference servers doing the same
exchange with nothing else: a bare Twisted line receiver (the floor for
anything built on Twisted) and an asyncio streams server (the stdlib way).
The targets are ratios to those two because absolute figures depend on the
machine, while ratios measured in the same run on the same machine do not
much.

What it does, in order:

1. Throughput and latency: for each server and each number of clients in
   flight, a fresh server on a free port, loaded by C{loadgen.py} for a fixed
   time; the server's CPU time (/proc/PID/stat) before and after gives its
   CPU per exchange.  Runs are interleaved across servers so slow drift of
   the machine hits all of them alike.
2. Memory: names-server without C{--name} (so nobody is answered) holding
   many idle clients that each sent a name, against the bare Twisted server
   with C{--hold}; then a late client must still be accepted, and one line on
   names-server's stdin must answer the head of the queue promptly.
3. Start-up: spawn to first accepted connection, a whole client run, and the
   floor of importing the reactor.

Results go to benchmarks/results/latest.json (raw), and to the section of
docs/performance.md between the result markers, with docs/performance.png.
The target lines are printed as PASS/FAIL.  Exit status: 0 done (targets
may have failed; see C{--strict}), 1 a target failed under C{--strict},
2 a server could not be run or measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import loadgen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
#: twistd of the same environment as this Python.
TWISTD = str(Path(sys.executable).with_name("twistd"))
HOST = "127.0.0.1"

# --- What names-server is started with: the one place to change it. --------

#: With --endpoint, names-server takes the listen queue from the endpoint
#: string (its --backlog applies to --port only), so backlog=1024 goes here
#: to match the baselines; a plain tcp: endpoint would listen with 50.
NAMES_ENDPOINT = "tcp:{port}:interface=127.0.0.1:backlog=1024"
#: Extra names-server options.  Long timeouts keep the held clients of the
#: memory benchmark from being cut; max-clients lets 10,000 of them in.  Any
#: option the installed names-server does not list in its --help is dropped
#: (and reported), so the suite runs against older servers too.
NAMES_SERVER_OPTIONS: dict[str, str] = {
    "--backlog": "1024",
    "--name-timeout": "600",
    "--reply-timeout": "600",
    "--max-clients": "20000",
}
#: The name names-server answers with under load.
BENCH_NAME = "bench"

SERVERS = ("names", "twisted", "asyncio")
LABELS = {
    "names": "names-server",
    "twisted": "bare Twisted",
    "asyncio": "asyncio streams",
}

# --- Targets. -------------------------------------------------------------

MIN_RATE_VS_TWISTED = 0.9
MIN_RATE_VS_ASYNCIO = 1.7
MAX_CPU_VS_TWISTED = 1.1
MAX_P99_VS_TWISTED = 1.3
#: Bytes of resident memory per waiting client (3 KB, taken as 3,000 bytes).
MAX_BYTES_PER_WAITING_CLIENT = 3000
MAX_STARTUP_VS_IMPORT = 1.5

# --- Bounds on every wait. ------------------------------------------------

#: A run during which more than this many cores were busy with neither the
#: server nor the load generator shared the machine: it is re-run if the
#: retry budget allows, and left out of the medians if a quiet run exists.
MAX_OTHER_CORES = 0.25
ACCEPT_TIMEOUT = 20.0
ACCEPT_POLL = 0.005
STOP_TIMEOUT = 10.0
HOLD_CONNECT_TIMEOUT = 120.0
HEAD_REPLY_TIMEOUT = 5.0


@dataclass(frozen=True)
class Plan:
    """How much to measure; C{--quick} shrinks everything."""

    quick: bool
    concurrency: tuple[int, ...]
    runs: int
    duration: float
    warmup: float
    workers: int
    memory_clients: int
    startup_repeats: int
    #: Extra runs allowed, over the whole suite, to replace contended ones.
    retries: int


FULL_PLAN = Plan(False, (1, 50, 500), 3, 5.0, 0.5, 1, 10_000, 5, 6)
QUICK_PLAN = Plan(True, (1, 50), 1, 1.0, 0.0, 1, 2_000, 2, 2)


def log(message: str) -> None:
    """Progress for the person waiting, on stderr so stdout stays the summary."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class BenchmarkError(Exception):
    """A server could not be started, measured or stopped as expected."""


# --- Processes and /proc. -------------------------------------------------


def free_port() -> int:
    """
    A port that was free a moment ago: bind port 0 on loopback, read it, close.

    Racy in principle; a fresh port per run keeps the TIME_WAIT sockets of the
    previous run out of the next one.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _raise_nofile() -> None:
    """preexec_fn: servers holding 10,000 clients need more than 1024 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _tail(path: Path, limit: int = 1500) -> str:
    """The end of a server's output file, for error messages."""
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


class Server:
    """
    One server process under test: spawned with a raised fd limit, stdin a
    pipe (names-server without --name reads its replies there), output to
    files in a scratch directory.
    """

    def __init__(self, argv: Sequence[str], workdir: Path, tag: str) -> None:
        self.argv = list(argv)
        self.workdir = workdir
        self.out_path = workdir / f"{tag}.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0

    @property
    def pid(self) -> int:
        """The server's pid (twistd -n does not fork)."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Spawn the server."""
        with open(self.out_path, "ab") as out:
            self.spawned_at = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                preexec_fn=_raise_nofile,
            )

    def wait_accepting(self, port: int, timeout: float = ACCEPT_TIMEOUT) -> float:
        """
        Poll connect every 5 ms until the port accepts; return seconds since
        spawn.  The probe connection is closed without sending anything.
        """
        assert self.proc is not None
        give_up = time.perf_counter() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchmarkError(
                    f"{self.argv[:4]}... exited with {self.proc.returncode}:\n"
                    f"{_tail(self.out_path)}"
                )
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return time.perf_counter() - self.spawned_at
            except OSError:
                pass
            if time.perf_counter() > give_up:
                raise BenchmarkError(
                    f"port {port} did not accept within {timeout} s:\n{_tail(self.out_path)}"
                )
            time.sleep(ACCEPT_POLL)

    def _proc_file(self, name: str) -> str:
        try:
            return Path(f"/proc/{self.pid}/{name}").read_text()
        except OSError as e:
            raise BenchmarkError(f"cannot read /proc/{self.pid}/{name}: {e}") from e

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds so far, from /proc/PID/stat."""
        stat = self._proc_file("stat")
        # Fields after the command name, which may itself hold spaces.
        fields = stat[stat.rfind(")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / ticks, int(fields[12]) / ticks

    def rss(self) -> int:
        """Resident set size in bytes, from VmRSS in /proc/PID/status."""
        for line in self._proc_file("status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise BenchmarkError("no VmRSS in /proc status")

    def fd_count(self) -> int:
        """Open file descriptors: how many clients the server has accepted."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError as e:
            raise BenchmarkError(f"cannot list /proc/{self.pid}/fd: {e}") from e

    def write_stdin(self, data: bytes) -> None:
        """Type a line as the operator would."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def stop(self) -> int | None:
        """SIGTERM, wait (bounded), SIGKILL if need be; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log(f"server {self.pid} ignored SIGTERM for {STOP_TIMEOUT} s; killing it")
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        if proc.stdin is not None:
            with suppress(OSError):
                proc.stdin.close()
        return proc.returncode


@contextmanager
def running(argv: Sequence[str], port: int, workdir: Path, tag: str) -> Iterator[Server]:
    """A server that accepts on C{port} for the duration of the block."""
    server = Server(argv, workdir, tag)
    server.start()
    try:
        server.wait_accepting(port)
        yield server
    finally:
        server.stop()


def machine_cpu() -> tuple[float, float]:
    """
    CPU seconds the whole machine has spent busy (everything but idle and
    iowait), and of those in interrupts (irq, softirq), from /proc/stat.

    Why: subtracting the server's and the load generator's own CPU from the
    busy time shows whether something else (a test suite, a build) shared the
    cores during a run, which would make its throughput meaningless.  The
    interrupt columns count: loopback TCP work done in softirqs shows there in
    /proc/stat, yet is also charged to the process it ran in.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks, (irq + softirq) / ticks


# --- The servers' command lines. ------------------------------------------


@dataclass
class NamesServerSupport:
    """Whether names-server is installed, and which of our options it has."""

    available: bool
    options: dict[str, str]
    dropped: list[str]
    reason: str = ""


def probe_names_server(workdir: Path) -> NamesServerSupport:
    """Ask C{twistd names-server --help} what it supports."""
    try:
        done = subprocess.run(
            [TWISTD, "names-server", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return NamesServerSupport(False, {}, list(NAMES_SERVER_OPTIONS), f"twistd: {e}")
    text = done.stdout + done.stderr
    if done.returncode != 0 or "names-server" not in text:
        last = text.strip().splitlines()[-1:] or ["no output"]
        return NamesServerSupport(
            False,
            {},
            list(NAMES_SERVER_OPTIONS),
            f"twistd names-server --help exited {done.returncode}: {last[0]}",
        )
    options: dict[str, str] = {}
    dropped: list[str] = []
    for option, value in NAMES_SERVER_OPTIONS.items():
        if re.search(re.escape(option) + r"(?![\w-])", text):
            options[option] = value
        else:
            dropped.append(option)
    return NamesServerSupport(True, options, dropped)


def names_server_argv(
    port: int, options: dict[str, str], name: str | None, logfile: Path | None
) -> list[str]:
    """twistd -n names-server, logging to a file, on loopback."""
    argv = [TWISTD, "-n", "--pidfile="]
    if logfile is not None:
        argv.append(f"--logfile={logfile}")
    argv.append("names-server")
    if name is not None:
        argv += ["--name", name]
    argv += ["--endpoint", NAMES_ENDPOINT.format(port=port)]
    for option, value in options.items():
        argv += [option, value]
    return argv


def twisted_argv(port: int, hold: bool = False) -> list[str]:
    """The bare Twisted baseline."""
    return [PYTHON, str(HERE / "baseline_twisted.py"), str(port), *(["--hold"] if hold else [])]


def asyncio_argv(port: int) -> list[str]:
    """The asyncio streams baseline."""
    return [PYTHON, str(HERE / "baseline_asyncio.py"), str(port)]


# --- Statistics. ----------------------------------------------------------


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median with min and max: few runs, so no mean or deviation."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


#: Figures summarised per (server, concurrency), from one run's record.
FIGURES: dict[str, Callable[[dict[str, Any]], float]] = {
    "exchanges_per_s": lambda r: r["exchanges_per_s"],
    "p50_ms": lambda r: r["latency_ms"]["p50"],
    "p90_ms": lambda r: r["latency_ms"]["p90"],
    "p99_ms": lambda r: r["latency_ms"]["p99"],
    "max_ms": lambda r: r["latency_ms"]["max"],
    "server_cpu_us_per_exchange": lambda r: r["server_cpu_us_per_exchange"],
    "server_core_use": lambda r: r["server_core_use"],
    "loadgen_core_use": lambda r: r["loadgen_cpu_per_worker"],
    "errors": lambda r: r["errors"] + r["unfinished"],
    "other_cores": lambda r: r["other_cores"],
}
#: The figures that are compared between servers.
RATIO_FIGURES = ("exchanges_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_exchange")


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


# --- 1. Throughput and latency. -------------------------------------------


def load_once(
    argv: list[str], port: int, concurrency: int, plan: Plan, workdir: Path, tag: str
) -> dict[str, Any]:
    """One fresh server, one load generator run; returns the merged record."""
    with running(argv, port, workdir, tag) as server:
        cpu0 = server.cpu()
        machine0 = machine_cpu()
        wall0 = time.monotonic()
        limit = plan.warmup + plan.duration + loadgen.DRAIN_SECONDS + 30
        try:
            done = subprocess.run(
                [
                    PYTHON,
                    str(HERE / "loadgen.py"),
                    str(port),
                    "-c",
                    str(concurrency),
                    "-d",
                    str(plan.duration),
                    "--warmup",
                    str(plan.warmup),
                    "--workers",
                    str(plan.workers),
                ],
                capture_output=True,
                text=True,
                timeout=limit,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            raise BenchmarkError(f"loadgen did not finish within {limit} s") from e
        cpu1 = server.cpu()
        machine1 = machine_cpu()
        wall = time.monotonic() - wall0
        if server.proc is not None and server.proc.poll() is not None:
            raise BenchmarkError(f"server exited during the run:\n{_tail(server.out_path)}")
    if done.returncode != 0:
        raise BenchmarkError(f"loadgen exited {done.returncode}: {done.stderr[-1500:]}")
    record: dict[str, Any] = json.loads(done.stdout)
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    total = record["exchanges_total"]
    record["server_cpu_s"] = {"user": user, "sys": system}
    record["server_cpu_us_per_exchange"] = (user + system) / total * 1e6 if total else None
    record["server_core_use"] = (user + system) / (plan.warmup + plan.duration)
    loadgen_cpu = record["loadgen_cpu_s"]["user"] + record["loadgen_cpu_s"]["sys"]
    busy = machine1[0] - machine0[0]
    record["machine_busy_cores"] = busy / wall
    record["machine_irq_cores"] = (machine1[1] - machine0[1]) / wall
    record["other_cores"] = max(0.0, busy - user - system - loadgen_cpu) / wall
    record["contended"] = record["other_cores"] > MAX_OTHER_CORES
    return record


def run_load(
    plan: Plan,
    servers: dict[str, Callable[[int, Path], list[str]]],
    workdir: Path,
    failures: list[str],
) -> dict[str, dict[str, Any]]:
    """
    Every server at every concurrency, plan.runs times, interleaved; then
    runs that shared the machine with other work are re-run while the retry
    budget lasts, and the medians are taken over the quiet runs.
    """
    load: dict[str, dict[str, Any]] = {
        key: {str(c): {"runs": []} for c in plan.concurrency} for key in servers
    }

    def measure(key: str, concurrency: int, label: str) -> dict[str, Any] | None:
        port = free_port()
        tag = f"load-{key}-c{concurrency}-{len(load[key][str(concurrency)]['runs'])}"
        argv = servers[key](port, workdir / f"{tag}.log")
        try:
            record = load_once(argv, port, concurrency, plan, workdir, tag)
        except BenchmarkError as e:
            failures.append(f"{LABELS[key]} c={concurrency}: {e}")
            log(f"FAILED {LABELS[key]} c={concurrency}: {e}")
            return None
        load[key][str(concurrency)]["runs"].append(record)
        log(
            f"{label:<9} c={concurrency:<3} {LABELS[key]:<16}"
            f" {record['exchanges_per_s']:8.0f}/s  p99 {record['latency_ms']['p99']:7.2f} ms"
            f"  server {record['server_cpu_us_per_exchange'] or 0:6.1f} us/exch"
            f" {record['server_core_use']:4.0%} core"
            f"  loadgen {record['loadgen_cpu_per_worker']:4.0%}"
            f"  other {record['other_cores']:.2f} cores  errors {record['errors']}"
            + ("  (CONTENDED)" if record["contended"] else "")
        )
        return record

    for run_index in range(plan.runs):
        for concurrency in plan.concurrency:
            for key in servers:
                measure(key, concurrency, f"run {run_index + 1}/{plan.runs}")
    budget = plan.retries
    for concurrency in plan.concurrency:
        for key in servers:
            runs = load[key][str(concurrency)]["runs"]
            contended = sum(r["contended"] for r in runs)
            for _ in range(contended):
                if budget <= 0:
                    break
                budget -= 1
                measure(key, concurrency, "retry")
    for per_server in load.values():
        for cell in per_server.values():
            runs = cell["runs"]
            quiet = [r for r in runs if not r["contended"]]
            used = quiet or runs
            cell["runs_used"] = len(used)
            cell["contended"] = bool(runs) and not quiet
            cell["summary"] = {}
            for figure, get in FIGURES.items():
                values = [v for v in (get(r) for r in used) if v is not None]
                if values:
                    cell["summary"][figure] = spread(values)
    return load


def median_of(
    load: dict[str, dict[str, Any]], key: str, concurrency: int, figure: str
) -> float | None:
    """The median of one figure, or None if it was not measured."""
    cell = load.get(key, {}).get(str(concurrency))
    if not cell or figure not in cell.get("summary", {}):
        return None
    value: float = cell["summary"][figure]["median"]
    return value


def load_ratios(load: dict[str, dict[str, Any]], plan: Plan) -> dict[str, dict[str, Any]]:
    """Each compared figure as names/twisted, names/asyncio, twisted/asyncio."""
    out: dict[str, dict[str, Any]] = {}
    for concurrency in plan.concurrency:
        per_c: dict[str, Any] = {}
        for figure in RATIO_FIGURES:
            names, bare, aio = (median_of(load, k, concurrency, figure) for k in SERVERS)
            per_c[figure] = {
                "names_vs_twisted": ratio(names, bare),
                "names_vs_asyncio": ratio(names, aio),
                "twisted_vs_asyncio": ratio(bare, aio),
            }
        out[str(concurrency)] = per_c
    return out


# --- 2. Memory of waiting clients. ----------------------------------------


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
                raise BenchmarkError(f"server exited:\n{_tail(server.out_path)}")
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
        ("twisted", lambda port: twisted_argv(port, hold=True), False),
    ]
    if support.available:
        cases.insert(
            0,
            (
                "names",
                lambda port: names_server_argv(
                    port, support.options, None, workdir / "memory-names.log"
                ),
                True,
            ),
        )
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


# --- 3. Start-up. ---------------------------------------------------------


def time_to_accept(argv: list[str], port: int, workdir: Path, tag: str) -> float:
    """Seconds from spawn to the first accepted connection."""
    with running(argv, port, workdir, tag) as server:
        return server.wait_accepting(port)


def time_command(argv: list[str], workdir: Path, timeout: float = 60.0) -> float:
    """Seconds a command takes to run to completion; it must succeed."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=timeout, cwd=workdir, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as e:
        raise BenchmarkError(f"{argv} took more than {timeout} s") from e
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError(
            f"{argv} exited {done.returncode}: {(done.stdout + done.stderr)[-800:]!r}"
        )
    return elapsed


def repeat(measure: Callable[[], float], times: int) -> dict[str, Any]:
    """One untimed warm-up (bytecode and plugin caches), then C{times} timed."""
    measure()
    samples = [measure() * 1e3 for _ in range(times)]
    return {**spread(samples), "samples_ms": samples}


def run_startup(
    plan: Plan, support: NamesServerSupport, workdir: Path, failures: list[str]
) -> dict[str, Any]:
    """Start-up to accepting, a whole client run, and the import floor."""
    startup: dict[str, Any] = {}

    def names_start() -> float:
        port = free_port()
        argv = [
            TWISTD,
            "-n",
            "--pidfile=",
            "names-server",
            "--name",
            "x",
            "--endpoint",
            f"tcp:{port}:interface=127.0.0.1",
        ]
        return time_to_accept(argv, port, workdir, "startup-names")

    def twisted_start() -> float:
        port = free_port()
        return time_to_accept(twisted_argv(port), port, workdir, "startup-twisted")

    def import_floor() -> float:
        return time_command([PYTHON, "-c", "import twisted.internet.reactor"], workdir)

    cases: list[tuple[str, Callable[[], float]]] = [("import_floor", import_floor)]
    if support.available:
        cases.append(("names_server", names_start))
    cases.append(("twisted_baseline", twisted_start))
    for key, measure in cases:
        try:
            startup[key] = repeat(measure, plan.startup_repeats)
        except (BenchmarkError, OSError) as e:
            failures.append(f"start-up {key}: {e}")
            log(f"FAILED start-up {key}: {e}")
            continue
        log(f"start-up {key}: median {startup[key]['median']:.0f} ms")

    if support.available:
        port = free_port()
        argv = names_server_argv(port, support.options, BENCH_NAME, workdir / "client.log")
        client = [PYTHON, "-m", "twisted_names.client", "--name", "x", "--port", str(port)]
        try:
            with running(argv, port, workdir, "startup-client-server"):
                startup["client_run"] = repeat(
                    lambda: time_command(client, workdir), plan.startup_repeats
                )
            log(f"start-up client_run: median {startup['client_run']['median']:.0f} ms")
        except (BenchmarkError, OSError) as e:
            failures.append(f"start-up client run: {e}")
            log(f"FAILED start-up client run: {e}")
    return startup


# --- Targets. -------------------------------------------------------------


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


# --- Reports. -------------------------------------------------------------

#: Written as an escape: a literal en dash in source trips ruff (RUF001).
DASH = "\N{EN DASH}"
MARK_START = "<!-- results:start -->"
MARK_END = "<!-- results:end -->"

DOC_SKELETON = f"""# Performance

How fast names-server is, and what a waiting client costs, measured against
two servers that do the same exchange and nothing else: a bare Twisted
`LineOnlyReceiver` (`benchmarks/baseline_twisted.py`) and an asyncio streams
server (`benchmarks/baseline_asyncio.py`).  The targets are ratios to those,
measured in the same run on the same machine.

## How to run

```
pip install -e '.[bench]'
python benchmarks/run.py          # full run, a few minutes on 2 cores
python benchmarks/run.py --quick  # smoke run, under 30 s (does not touch this file)
```

The full run rewrites the section below and `docs/performance.png`; the text
outside the markers is kept.  Raw figures: `benchmarks/results/latest.json`.
`python benchmarks/run.py --from-json benchmarks/results/latest.json`
re-renders this section from them without measuring again.

## Results

{MARK_START}
{MARK_END}
"""


def _fmt_spread(cell: dict[str, Any] | None, fmt: str = "{:.0f}") -> str:
    if not cell:
        return DASH
    text = fmt.format(cell["median"])
    if cell["n"] > 1:
        text += f" ({fmt.format(cell['min'])}{DASH}{fmt.format(cell['max'])})"
    return text


def _fmt_ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}x"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def render_markdown(results: dict[str, Any], targets: list[Target]) -> str:
    """The generated section: targets, tables, plot."""
    meta, plan = results["meta"], results["plan"]
    load, memory, startup = results["load"], results["memory"], results["startup"]
    lines = [
        f"_Generated by `python benchmarks/run.py{' --quick' if plan['quick'] else ''}` on "
        f"{meta['date']}: {plan['runs']} run(s) of {plan['duration']:g} s"
        f" (after {plan['warmup']:g} s warm-up) per cell, a fresh server per run,"
        f" {plan['workers']} load generator process(es).  Machine: {meta['cpu']},"
        f" {meta['cores']} cores, Linux {meta['kernel']}, Python {meta['python']},"
        f" Twisted {meta['twisted']}; commit {meta['commit']}._",
        "",
        "### Targets",
        "",
        "| target | measured | limit | result |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {t.name} | {t.measured} | {t.limit} | **{t.status}** |" for t in targets]
    lines += [
        "",
        "### Throughput and latency",
        "",
        f"Medians of the runs, min{DASH}max in brackets.  An exchange is connect, send"
        " `bench\\n`, read the reply to EOF; latency runs from connect to close."
        "  Server CPU is user + system time of the server process from"
        " /proc/PID/stat (10 ms ticks) divided by the exchanges it served.  'Core'"
        " columns are CPU seconds per second of load: a load generator near 100%"
        " is close to being the limit itself.  'Other' is CPU the rest of the"
        f" machine used meanwhile; runs above {MAX_OTHER_CORES} core of it shared"
        " the machine with other work and are left out when a quiet run of the"
        " same cell exists (cells marked * had none).",
        "",
        "| server | clients in flight | exchanges/s | p50 ms | p90 ms | p99 ms | max ms"
        " | server CPU µs/exchange | server core | load gen core | other cores | errors"
        " | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for key in SERVERS:
        for concurrency in plan["concurrency"]:
            cell = load.get(key, {}).get(str(concurrency), {})
            summary = cell.get("summary", {})
            if not summary:
                lines.append(
                    f"| {LABELS[key]} | {concurrency} | not measured | | | | | | | | | | |"
                )
                continue
            lines.append(
                f"| {LABELS[key]}{'*' if cell['contended'] else ''} | {concurrency}"
                f" | {_fmt_spread(summary.get('exchanges_per_s'))}"
                f" | {_fmt_spread(summary.get('p50_ms'), '{:.2f}')}"
                f" | {_fmt_spread(summary.get('p90_ms'), '{:.2f}')}"
                f" | {_fmt_spread(summary.get('p99_ms'), '{:.2f}')}"
                f" | {_fmt_spread(summary.get('max_ms'), '{:.1f}')}"
                f" | {_fmt_spread(summary.get('server_cpu_us_per_exchange'), '{:.1f}')}"
                f" | {_fmt_spread(summary.get('server_core_use'), '{:.0%}')}"
                f" | {_fmt_spread(summary.get('loadgen_core_use'), '{:.0%}')}"
                f" | {_fmt_spread(summary.get('other_cores'), '{:.2f}')}"
                f" | {_fmt_spread(summary.get('errors'))}"
                f" | {cell['runs_used']}/{len(cell['runs'])} |"
            )
    lines += [
        "",
        "### Relative to the baselines",
        "",
        "Ratios of the medians above.  For exchanges/s higher is better; for"
        " latency and CPU lower is better.",
        "",
        "| clients in flight | figure | names-server ÷ bare Twisted"
        " | names-server ÷ asyncio | bare Twisted ÷ asyncio |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    figure_names = {
        "exchanges_per_s": "exchanges/s",
        "p50_ms": "p50 latency",
        "p99_ms": "p99 latency",
        "server_cpu_us_per_exchange": "server CPU per exchange",
    }
    for concurrency, per_c in results["ratios"].items():
        for figure, r in per_c.items():
            lines.append(
                f"| {concurrency} | {figure_names[figure]}"
                f" | {_fmt_ratio(r['names_vs_twisted'])}"
                f" | {_fmt_ratio(r['names_vs_asyncio'])}"
                f" | {_fmt_ratio(r['twisted_vs_asyncio'])} |"
            )
    lines += [
        "",
        "### Memory of waiting clients",
        "",
        "RSS (VmRSS) before and while holding idle clients that each sent a name"
        " and wait for a reply that does not come (names-server without `--name`;"
        " the bare Twisted server with `--hold`).  Then one more client connects"
        " and must be kept waiting, and for names-server one line written to its"
        " stdin must answer the first client.",
        "",
        "| server | clients | RSS before | RSS holding | bytes per client"
        " | late client accepted | stdin line answers head |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for key in ("names", "twisted"):
        m = memory.get(key)
        if not m:
            lines.append(f"| {LABELS[key]} | not measured | | | | | |")
            continue
        head = m.get("head_reply")
        if head is None:
            head_text = "n/a"
        elif "ms" in head:
            head_text = (
                f"{head['ms']:.1f} ms, client #{head['answered_index']}"
                f"{'' if head['ok'] else ' (FAIL: ' + head['detail'] + ')'}"
            )
        else:
            head_text = f"FAIL: {head['detail']}"
        lines.append(
            f"| {LABELS[key]} | {m['clients']:,} | {_mib(m['rss_before'])}"
            f" | {_mib(m['rss_holding'])} | {m['bytes_per_client']:,.0f}"
            f" | {'yes' if m['late_client_accepted'] else 'no: ' + m['late_client_detail']}"
            f" | {head_text} |"
        )
    lines += [
        "",
        "### Start-up",
        "",
        f"Milliseconds, median of {plan['startup_repeats']} after one untimed warm-up,"
        f" min{DASH}max in brackets.  The floor runs to process exit, interpreter"
        " shutdown included; a server is timed to its first accepted connection,"
        " which the kernel completes as soon as the server listens.  So a server"
        " can come in under the floor.",
        "",
        "| what | ms |",
        "| --- | ---: |",
    ]
    startup_names = {
        "import_floor": "`python -c 'import twisted.internet.reactor'` (the floor)",
        "names_server": "`twistd -n names-server --name x` spawn to first accepted connection",
        "twisted_baseline": "bare Twisted baseline, spawn to first accepted connection",
        "client_run": "`python -m twisted_names.client --name x`, whole run",
    }
    for key, text in startup_names.items():
        lines.append(f"| {text} | {_fmt_spread(startup.get(key))} |")
    if results["failures"]:
        lines += ["", "### Problems in this run", ""]
        lines += [f"- {f.splitlines()[0]}" for f in results["failures"]]
    if results.get("plot"):
        lines += ["", f"![exchanges/s and p99 latency by clients in flight]({results['plot']})"]
    return "\n".join(lines)


def write_docs(docs_dir: Path, markdown: str) -> Path:
    """Replace the text between the markers, keeping everything around them."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    path = docs_dir / "performance.md"
    text = path.read_text() if path.exists() else DOC_SKELETON
    if MARK_START not in text or MARK_END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{MARK_START}\n{MARK_END}\n"
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    path.write_text(f"{head}{MARK_START}\n{markdown}\n{MARK_END}{tail}")
    return path


def plot(results: dict[str, Any], path: Path) -> bool:
    """exchanges/s and p99 by concurrency, one line per server (matplotlib, Agg)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullLocator
    except ImportError:
        log("matplotlib is not installed: no plot (pip install -e '.[bench]')")
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


def machine() -> dict[str, Any]:
    """What the figures were measured on, since they mean nothing without it."""
    cpu = platform.processor() or "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = "none"
    with suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=10,
        )
        if done.returncode == 0:
            commit = done.stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=10,
            )
            if dirty.stdout.strip():
                commit += " (with uncommitted changes)"
    import twisted

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "twisted": twisted.__version__,
        "commit": commit,
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE),
    }


def print_summary(results: dict[str, Any], targets: list[Target], out: IO[str]) -> None:
    """The short version on stdout: medians per cell, then the target lines."""
    for key in SERVERS:
        for concurrency in results["plan"]["concurrency"]:
            s = results["load"].get(key, {}).get(str(concurrency), {}).get("summary", {})
            if not s:
                continue
            out.write(
                f"{LABELS[key]:<16} c={concurrency:<3} {s['exchanges_per_s']['median']:8.0f}"
                f" exch/s  p99 {s['p99_ms']['median']:7.2f} ms"
                f"  CPU {s['server_cpu_us_per_exchange']['median']:6.1f} us/exch\n"
            )
    contended = [
        f"{LABELS[key]} c={c}"
        for key, per_server in results["load"].items()
        for c, cell in per_server.items()
        if cell.get("contended")
    ]
    if contended:
        out.write(
            f"WARNING other work shared the machine during every run of: {', '.join(contended)};"
            " those figures (and ratios using them) are unreliable\n"
        )
    for target in targets:
        out.write(target.line() + "\n")


def measure_all(plan: Plan) -> tuple[dict[str, Any], NamesServerSupport]:
    """Run every benchmark of the plan; returns the raw results."""
    loadgen.raise_nofile_limit()
    failures: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="names-bench-") as scratch:
        workdir = Path(scratch)
        support = probe_names_server(workdir)
        if not support.available:
            failures.append(f"names-server unavailable: {support.reason}")
            log(f"names-server unavailable ({support.reason}); measuring the baselines only")
        elif support.dropped:
            log(f"names-server lacks {', '.join(support.dropped)}; running without them")

        servers: dict[str, Callable[[int, Path], list[str]]] = {}
        if support.available:
            servers["names"] = lambda port, logfile: names_server_argv(
                port, support.options, BENCH_NAME, logfile
            )
        servers["twisted"] = lambda port, logfile: twisted_argv(port)
        servers["asyncio"] = lambda port, logfile: asyncio_argv(port)

        log(
            f"load: {len(servers)} servers x c={list(plan.concurrency)} x {plan.runs} run(s)"
            f" x {plan.warmup + plan.duration:g} s"
        )
        load = run_load(plan, servers, workdir, failures)
        log(f"memory: {plan.memory_clients} waiting clients")
        memory = run_memory(plan, support, workdir, failures)
        log("start-up")
        startup = run_startup(plan, support, workdir, failures)

    results: dict[str, Any] = {
        "meta": machine(),
        "plan": {**plan.__dict__, "concurrency": list(plan.concurrency)},
        "config": {
            "names_server_available": support.available,
            "names_server_unavailable_reason": support.reason,
            "names_server_options": support.options,
            "names_server_options_dropped": support.dropped,
            "names_endpoint": NAMES_ENDPOINT,
            "names_server_example_argv": names_server_argv(
                0, support.options, BENCH_NAME, Path("LOGFILE")
            ),
        },
        "load": load,
        "ratios": load_ratios(load, plan),
        "memory": memory,
        "startup": startup,
        "failures": failures,
        "elapsed_s": time.monotonic() - started,
    }
    return results, support


def reload(path: Path) -> tuple[dict[str, Any], Plan, NamesServerSupport]:
    """
    Raw results of an earlier run, for C{--from-json}: re-render the docs
    after editing their wording without measuring again.
    """
    results: dict[str, Any] = json.loads(path.read_text())
    plan = Plan(**{**results["plan"], "concurrency": tuple(results["plan"]["concurrency"])})
    config = results["config"]
    support = NamesServerSupport(
        config["names_server_available"],
        config["names_server_options"],
        config["names_server_options_dropped"],
        config.get("names_server_unavailable_reason", ""),
    )
    return results, plan, support


def main(argv: list[str] | None = None) -> int:
    """Run everything the plan says; write the reports; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s, 1 run, c=1 and 50, fewer held clients: a smoke test",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument("--runs", type=int, help="runs per cell")
    parser.add_argument("--duration", type=float, help="seconds of load per run")
    parser.add_argument("--workers", type=int, help="load generator processes")
    parser.add_argument("--memory-clients", type=int, help="idle clients to hold")
    parser.add_argument(
        "--json",
        type=Path,
        help="raw results file (default: benchmarks/results/latest.json, or latest-quick.json)",
    )
    parser.add_argument(
        "--docs-dir",
        type=Path,
        help="where performance.md/.png go (default: docs/ for a full"
        " run; a --quick run writes none unless given)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: re-render the reports from raw results",
    )
    args = parser.parse_args(argv)

    if args.from_json is not None:
        results, plan, support = reload(args.from_json)
        json_path = None
    else:
        plan = QUICK_PLAN if args.quick else FULL_PLAN
        overrides = {
            k: v
            for k, v in (
                ("runs", args.runs),
                ("duration", args.duration),
                ("workers", args.workers),
                ("memory_clients", args.memory_clients),
            )
            if v is not None
        }
        if overrides:
            plan = Plan(**{**plan.__dict__, **overrides})
        if not (
            1 <= plan.runs <= 20
            and 0 < plan.duration <= 60
            and 1 <= plan.workers <= 8
            and 1 <= plan.memory_clients <= 15_000
        ):
            parser.error("runs 1-20, duration (0, 60], workers 1-8, memory clients 1-15000")
        json_path = args.json or HERE / "results" / (
            "latest-quick.json" if plan.quick else "latest.json"
        )
        results, support = measure_all(plan)
    docs_dir = args.docs_dir or (None if plan.quick else ROOT / "docs")

    results.pop("plot", None)
    if docs_dir is not None and plot(results, docs_dir / "performance.png"):
        results["plot"] = "performance.png"
    targets = evaluate(plan, results["load"], results["memory"], results["startup"], support)
    results["targets"] = [t.__dict__ for t in targets]
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1) + "\n")
        log(f"wrote {json_path}; took {results['elapsed_s']:.0f} s")
    if docs_dir is not None:
        doc = write_docs(docs_dir, render_markdown(results, targets))
        log(f"wrote {doc} and {docs_dir / 'performance.png'}")
    print_summary(results, targets, sys.stdout)
    failures: list[str] = results["failures"]
    if failures:
        for failure in failures:
            sys.stdout.write(f"ERROR {failure.splitlines()[0]}\n")
        return 2
    if args.strict and any(t.status == "FAIL" for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
