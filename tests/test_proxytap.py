"""Tests for L{twisted_names.app.proxytap}: names-proxy's options and services."""

from __future__ import annotations

import io
import sys
from typing import Any

from twisted.application.service import IServiceMaker
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.app import serveroptions
from twisted_names.app.proxyservice import ProxyPlan, proxyService
from twisted_names.app.proxytap import Options, upstreamDescription
from twisted_names.proxy.relay import RelaySettings


def parsed(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


class PluginTests(SynchronousTestCase):
    def test_twistdFindsThePlugin(self) -> None:
        makers: dict[str, Any] = {m.tapname: m for m in getPlugins(IServiceMaker)}
        self.assertIn("names-proxy", makers)
        self.assertEqual(makers["names-proxy"].module, "twisted_names.app.proxytap")


class OptionsTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        """Beside names-server's 5000; the ladder on; no idle timeout."""
        options = parsed()
        self.assertEqual(options["port"], 5001)
        self.assertEqual(options["to"], "127.0.0.1:5000")
        self.assertFalse(options["no-trace"])
        self.assertEqual(options["idle-timeout"], 0)
        self.assertEqual(options["connect-timeout"], 10)
        self.assertEqual(options["upstream"], "tcp:host=127.0.0.1:port=5000:timeout=10")

    def test_to(self) -> None:
        self.assertEqual(
            upstreamDescription("[::1]:5000", 2.5), "tcp:host=\\:\\:1:port=5000:timeout=3"
        )
        self.assertEqual(
            upstreamDescription("example.org:80", 10), "tcp:host=example.org:port=80:timeout=10"
        )
        self.assertEqual(upstreamDescription("unix:path=/tmp/s.sock", 10), "unix:path=/tmp/s.sock")

    def test_badTo(self) -> None:
        error = self.assertRaises(usage.UsageError, parsed, "--to", "nonsense:1:2")
        self.assertIn("bad endpoint 'nonsense:1:2'", str(error))

    def test_connectTimeoutBounded(self) -> None:
        """Every wait bounded: 0 is not a connect timeout."""
        error = self.assertRaises(usage.UsageError, parsed, "--connect-timeout", "0")
        self.assertIn("--connect-timeout", str(error))

    def test_daemonNeedsNoTrace(self) -> None:
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        self.patch(serveroptions, "DAEMONIZES", True)  # As a POSIX twistd does.
        options = Options()
        options.parent = ServerOptions()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertRaises(SystemExit, options.parseOptions, [])
        self.assertIn("twistd names-proxy: error: the ladder is drawn", stderr.getvalue())
        options = Options()
        options.parent = ServerOptions()
        options.parseOptions(["--no-trace"])  # A daemon without the ladder is fine.

    def test_windowsTwistdIsNoDaemon(self) -> None:
        """
        Windows' twistd never daemonizes: without C{-n} the ladder is still
        drawn at the terminal, not refused as a daemon's (as names-server's
        was before the Windows stage found it).
        """
        self.patch(serveroptions, "DAEMONIZES", False)
        options = Options()
        options.parent = {"nodaemon": 0}  # type: ignore[assignment]
        options.parseOptions(["--port", "0"])
        self.assertFalse(options["no-trace"])

    def test_twistdOptionAfterThePlugin(self) -> None:
        """The shared one-line error names this program."""
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        options = Options()
        options.parent = ServerOptions()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertRaises(SystemExit, options.parseOptions, ["-n"])
        self.assertEqual(
            stderr.getvalue(),
            "twistd names-proxy: error: option -n not recognized (-n is twistd's own option:"
            " put it before names-proxy, as in 'twistd -n ... names-proxy ...')\n"
            "Run 'twistd names-proxy --help' for the options.\n",
        )


class ServiceTests(SynchronousTestCase):
    def plan(self, **changes: Any) -> ProxyPlan:
        fields: dict[str, Any] = {
            "listen": "tcp:0:interface=127.0.0.1",
            "where": None,
            "upstream": "tcp:host=127.0.0.1:port=5000:timeout=10",
            "server": "127.0.0.1:5000",
            "settings": RelaySettings(),
        }
        fields.update(changes)
        return ProxyPlan(**fields)

    def test_withLadder(self) -> None:
        service = proxyService(self.plan(), None, MemoryReactorClock())
        self.assertEqual([s.name for s in service], ["terminal", "listening"])

    def test_noTraceNoTerminal(self) -> None:
        """Without the ladder or a terminal log there is nothing to show: no terminal."""
        service = proxyService(self.plan(ladder=False), None, MemoryReactorClock())
        self.assertEqual([s.name for s in service], ["listening"])
