"""
Server processes under test: a free loopback port for each, spawning with
enough file descriptors, waiting until the port accepts, reading the
process's CPU time, memory and open descriptors from /proc, and stopping it
within a bounded time whatever happens.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from suite import HOST, BenchmarkError, log

# Bounds on every wait for a server.
ACCEPT_TIMEOUT = 20.0
ACCEPT_POLL = 0.005
STOP_TIMEOUT = 10.0


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
    if sys.platform == "win32":  # epoll and /proc (a check mypy --platform win32 follows)
        raise NotImplementedError("Linux only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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

    def output_tail(self, limit: int = 1500) -> str:
        """The end of the server's output file, for error messages."""
        try:
            return self.out_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

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
                    f"{self.argv[:4]}... exited with {self.proc.returncode}:\n{self.output_tail()}"
                )
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return time.perf_counter() - self.spawned_at
            except OSError:
                pass
            if time.perf_counter() > give_up:
                raise BenchmarkError(
                    f"port {port} did not accept within {timeout} s:\n{self.output_tail()}"
                )
            time.sleep(ACCEPT_POLL)

    def _proc_file(self, name: str) -> str:
        try:
            return Path(f"/proc/{self.pid}/{name}").read_text()
        except OSError as e:
            raise BenchmarkError(f"cannot read /proc/{self.pid}/{name}: {e}") from e

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds so far, from /proc/PID/stat."""
        if sys.platform == "win32":
            raise NotImplementedError("Linux only")
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


def start_checkout_server(
    scratch: str, checkout: Path, options: Sequence[str]
) -> tuple[subprocess.Popen[bytes], int]:
    """
    C{twistd -n names-server -p 0 OPTIONS} of this Python, running the code of
    C{checkout} (first on C{PYTHONPATH}), its log in C{scratch}; its port read
    back from that log (at most 20 s).  What it prints is discarded.  For the
    scripts that measure one behaviour against a checkout (fairness.py,
    silentflood.py).
    """
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    log = Path(scratch, "server.log")
    argv = [twistd, "-n", "--pidfile=", f"--logfile={log}", "names-server", "-p", "0"]
    server = subprocess.Popen(
        [*argv, *options],
        cwd=scratch,
        env=dict(os.environ, PYTHONPATH=str(checkout)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # The trace, when on: written, then discarded.
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
        if match:
            return server, int(match.group(1))
        time.sleep(0.02)
    server.kill()
    raise SystemExit("the server did not start")
