"""
Smoke tests of the benchmark's tools, with real processes: the load
generators (the C one, built here with the system's compiler, and the Python
fallback) still run against the real server, count exchanges and report
what went wrong; and C{run.py} refuses at once, saying how to install the
plugin, when twistd does not list names-server.  No figure is asserted:
speed is measured by C{benchmarks/run.py}, never by the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

from twisted.internet.interfaces import ITransport
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineOnlyReceiver

from tests.processes import PYTHON, ProgramTestCase, reactor, refusingPort, spawn, startServer

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
#: Bound on building the C generator (a cold compile takes well under 5 s).
BUILD_TIMEOUT = 120.0
#: Bound on one generator run of under a second, start-up and drain included.
RUN_TIMEOUT = 30.0


def cCompiler() -> str | None:
    """The compiler C{benchmarks/cgen.py} would use: $CC, else cc, gcc or clang."""
    if os.environ.get("CC", "").strip():
        return shutil.which(os.environ["CC"].split()[0])
    return next(filter(None, map(shutil.which, ("cc", "gcc", "clang"))), None)


class BadReply(LineOnlyReceiver):
    """Reads the line, then answers with C{factory.reply} (maybe nothing) and closes."""

    delimiter = b"\n"
    factory: Any
    transport: ITransport

    def lineReceived(self, line: bytes) -> None:
        self.transport.write(self.factory.reply)
        self.transport.loseConnection()


class BenchmarkTestCase(ProgramTestCase):
    def setUp(self) -> None:
        if not sys.platform.startswith("linux"):
            self.skipTest("the benchmark tools use epoll and /proc (Linux)")

    async def runGenerator(self, argv: list[str], label: str = "loadgen") -> dict[str, Any]:
        """Run a load generator to its end (bounded); its JSON report."""
        generator = spawn(self, label, argv)
        self.assertExited(generator, await generator.waitForEnd(RUN_TIMEOUT), 0)
        report: dict[str, Any] = json.loads(generator.out)
        return report

    async def buildC(self) -> str:
        """Build the C generator into a fresh directory; the binary's path."""
        if cCompiler() is None:
            self.skipTest("no C compiler ($CC, cc, gcc or clang) to build benchmarks/loadgen.c")
        buildDir = os.path.abspath(self.mktemp())
        build = spawn(self, "cgen", [PYTHON, str(BENCHMARKS / "cgen.py"), "--build-dir", buildDir])
        self.assertExited(build, await build.waitForEnd(BUILD_TIMEOUT), 0)
        binary = build.out.strip()
        self.assertEqual(os.path.dirname(binary), buildDir, build.describe())
        return binary

    def assertExchanged(self, report: dict[str, Any], generator: str) -> None:
        """Exchanges were done, none failed, and every figure is there."""
        self.assertEqual(report["generator"], generator)
        self.assertGreater(report["exchanges_total"], 0, report)
        self.assertEqual((report["errors"], report["unfinished"]), (0, 0), report)
        latency = report["latency_ms"]
        self.assertGreater(latency["samples"], 0, report)
        self.assertTrue(0 < latency["p50"] <= latency["p99"] <= latency["max"], report)
        self.assertGreaterEqual(report["loadgen_core_use"], 0.0)
        self.assertLessEqual({"user", "sys"}, set(report["loadgen_window_cpu_s"]))


class PythonLoadGeneratorTests(BenchmarkTestCase):
    async def test_againstNamesServer(self) -> None:
        """The fallback generator still counts exchanges with the real server."""
        server, port = await startServer(self, "--name", "Bob")
        report = await self.runGenerator(
            [PYTHON, str(BENCHMARKS / "loadgen.py"), str(port), "-c", "4", "-d", "0.5"]
        )
        self.assertExchanged(report, "python")
        server.signal("TERM")
        self.assertExited(server, await server.waitForEnd(), 0)


class CLoadGeneratorTests(BenchmarkTestCase):
    async def test_againstNamesServer(self) -> None:
        """Built with the system's compiler, it counts exchanges with the real server."""
        binary = await self.buildC()
        server, port = await startServer(self, "--name", "Bob")
        report = await self.runGenerator(
            [binary, str(port), "-c", "4", "-d", "0.5", "--warmup", "0.1"]
        )
        self.assertExchanged(report, "c")
        self.assertEqual(report["concurrency"], 4)
        server.signal("TERM")
        self.assertExited(server, await server.waitForEnd(), 0)

    async def test_refusedConnectionsAreCounted(self) -> None:
        """
        With nobody listening, every connect is an error of its kind, and
        the run still ends on time.
        """
        binary = await self.buildC()
        port = refusingPort(self)
        report = await self.runGenerator([binary, str(port), "-c", "2", "-d", "0.2"])
        self.assertEqual(report["exchanges_total"], 0)
        self.assertGreater(report["error_kinds"].get("ECONNREFUSED", 0), 0, report)
        self.assertEqual(report["errors"], sum(report["error_kinds"].values()))

    async def test_badRepliesAreErrors(self) -> None:
        """
        A reply that is not one line ending in a newline, or that is longer
        than the generator keeps (64 KiB), is an error of its kind, not an
        exchange.
        """
        binary = await self.buildC()
        for reply, kind in (
            (b"", "empty_reply"),
            (b"no newline", "bad_reply"),
            (b"x" * 70_000 + b"\n", "reply_too_long"),
        ):
            factory = Factory.forProtocol(BadReply)
            factory.reply = reply  # type: ignore[attr-defined]
            listening = reactor.listenTCP(0, factory, interface="127.0.0.1")
            self.addCleanup(listening.stopListening)
            report = await self.runGenerator(
                [binary, str(listening.getHost().port), "-c", "2", "-d", "0.2"], label=kind
            )
            self.assertEqual(report["exchanges_total"], 0, (kind, report))
            self.assertGreater(report["error_kinds"].get(kind, 0), 0, (kind, report))

    async def test_outOfBoundsRefused(self) -> None:
        """Out-of-range options: exit 2 and why, no load and no report."""
        binary = await self.buildC()
        for options, why in (
            (["5000", "-c", "0"], "concurrency out of range"),
            (["5000", "-c", "20001"], "concurrency out of range"),
            (["5000", "-d", "601"], "duration out of range"),
            (["5000", "-d", "nan"], "duration must be a number"),
            (["5000", "--warmup", "-1"], "warmup out of range"),
            (["70000"], "PORT must be 1-65535"),
            (["5000", "-c", "x"], "concurrency must be a number"),
            (["5000", "--bogus"], "unknown or incomplete option"),
        ):
            generator = spawn(self, " ".join(options), [binary, *options])
            self.assertExited(generator, await generator.waitForEnd(), 2)
            self.assertIn(f"loadgen: {why}", generator.err, options)
            self.assertEqual(generator.out, "", options)


class RunTests(BenchmarkTestCase):
    async def test_namesServerNotListed(self) -> None:
        """
        A twistd that does not list names-server (what a plain editable
        install gives): exit 2 at once, saying how to install it, nothing
        measured.
        """
        scratch = Path(self.mktemp()).resolve()
        scratch.mkdir()
        twistd = scratch / "twistd"
        twistd.write_text(
            "#!/bin/sh\necho 'Usage: twistd [options]'\necho 'Commands:'\n"
            "echo '    web               A general-purpose web server.'\n"
        )
        twistd.chmod(twistd.stat().st_mode | stat.S_IXUSR)
        results = scratch / "results.json"
        run = spawn(
            self,
            "run.py",
            [
                PYTHON,
                str(BENCHMARKS / "run.py"),
                "--quick",
                "--twistd",
                str(twistd),
                "--json",
                str(results),
            ],
        )
        self.assertExited(run, await run.waitForEnd(), 2)
        self.assertIn(f"'{twistd} --help' does not list names-server", run.err)
        self.assertIn("editable_mode=strict", run.err)
        self.assertNotIn("Traceback", run.err)
        self.assertEqual(run.out, "")
        self.assertFalse(results.exists())
