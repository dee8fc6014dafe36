"""
The command line each server is started with.  What names-server is
started with (endpoint, timeouts, C{--max-clients}) is set here, in one
place; its C{--help} is asked first which of those options it has.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from suite import HERE, PYTHON

#: twistd of the same environment as this Python.
TWISTD = str(Path(sys.executable).with_name("twistd"))

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
