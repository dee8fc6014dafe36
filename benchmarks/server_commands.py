"""
The command line each server is started with.  What names-server is
started with (endpoint, timeouts, C{--max-clients}) is set here, in one
place.  Before anything is measured, C{twistd --help} must list
names-server (an editable install made without
C{--config-settings editable_mode=strict} does not expose the plugin), and
C{twistd names-server --help} says which of those options it has.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from suite import HERE, PYTHON, BenchmarkError

#: twistd of the same environment as this Python (C{run.py --twistd} overrides).
TWISTD = str(Path(sys.executable).with_name("twistd"))
#: How to install the project so that twistd sees the plugin.
INSTALL_HINT = (
    "install the project into this environment so that twistd sees the plugin:"
    " pip install '.[bench]', or for development"
    " pip install --config-settings editable_mode=strict -e '.[bench]'"
    " (a plain pip install -e does not expose twistd plugins)"
)

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
#: What names-server is given, besides those, for its summary log (issue 18).
SUMMARY_OPTIONS = ["--exchange-log", "summary"]
#: The name names-server answers with under load.
BENCH_NAME = "bench"


@dataclass
class NamesServerSupport:
    """Which of our options the installed names-server has, and its twistd."""

    options: dict[str, str]
    dropped: list[str]
    twistd: str = TWISTD


def lists_names_server(help_text: str) -> bool:
    """Whether C{twistd --help}'s list of commands holds names-server."""
    return re.search(r"^\s+names-server(\s|$)", help_text, re.MULTILINE) is not None


def _twistd(twistd: str, args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [twistd, *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchmarkError(f"cannot run {twistd} {' '.join(args)}: {e}; {INSTALL_HINT}") from e


def probe_names_server(workdir: Path, twistd: str = TWISTD) -> NamesServerSupport:
    """
    Check that C{twistd --help} lists names-server, then ask
    C{twistd names-server --help} which of our options it has.

    Raises L{BenchmarkError} with a message saying how to install the
    plugin when twistd does not list it: a benchmark without names-server
    would measure nothing it is meant to.
    """
    listing = _twistd(twistd, ["--help"], workdir)
    if listing.returncode != 0 or not lists_names_server(listing.stdout):
        raise BenchmarkError(
            f"'{twistd} --help' does not list names-server"
            f" (exit {listing.returncode}); {INSTALL_HINT}"
        )
    done = _twistd(twistd, ["names-server", "--help"], workdir)
    text = done.stdout + done.stderr
    if done.returncode != 0:
        last = text.strip().splitlines()[-1:] or ["no output"]
        raise BenchmarkError(f"'{twistd} names-server --help' exited {done.returncode}: {last[0]}")
    options: dict[str, str] = {}
    dropped: list[str] = []
    for option, value in NAMES_SERVER_OPTIONS.items():
        if re.search(re.escape(option) + r"(?![\w-])", text):
            options[option] = value
        else:
            dropped.append(option)
    return NamesServerSupport(options, dropped, twistd)


def names_server_argv(
    support: NamesServerSupport, port: int, name: str | None, logfile: Path | None
) -> list[str]:
    """twistd -n names-server, logging to a file, on loopback."""
    argv = [support.twistd, "-n", "--pidfile="]
    if logfile is not None:
        argv.append(f"--logfile={logfile}")
    argv.append("names-server")
    if name is not None:
        argv += ["--name", name]
    argv += ["--endpoint", NAMES_ENDPOINT.format(port=port)]
    for option, value in support.options.items():
        argv += [option, value]
    return argv


def names_summary_argv(support: NamesServerSupport, port: int, logfile: Path | None) -> list[str]:
    """names-server with C{--exchange-log summary}: a log line a second, not an exchange."""
    return [*names_server_argv(support, port, BENCH_NAME, logfile), *SUMMARY_OPTIONS]


def twisted_argv(port: int, hold: bool = False, logfile: Path | None = None) -> list[str]:
    """The bare Twisted baseline; with C{logfile}, logging each exchange there."""
    argv = [PYTHON, str(HERE / "baseline_twisted.py"), str(port)]
    if hold:
        argv.append("--hold")
    if logfile is not None:
        argv += ["--log", str(logfile)]
    return argv


def asyncio_argv(port: int) -> list[str]:
    """The asyncio streams baseline."""
    return [PYTHON, str(HERE / "baseline_asyncio.py"), str(port)]
