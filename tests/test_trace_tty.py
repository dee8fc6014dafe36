"""
C{--trace} on the operator's terminal (a pseudo-terminal read with pyte):
the trace is printed above the input line, each connection in its colour,
and in none with C{NO_COLOR}.
"""

from __future__ import annotations

import socket
from unittest import skipIf

from twisted.trial.unittest import SynchronousTestCase

from tests.processes import PIDFILE, TIMEOUT, TWISTD, childEnvironment, saidPort
from tests.skips import NO_PTY

if NO_PTY is None:
    from tests.screen import Screen


@skipIf(NO_PTY is not None, NO_PTY or "")
class TraceOnATerminal(SynchronousTestCase):
    def start(self, **env: str) -> tuple[Screen, int]:
        argv = [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "0", "--trace"]
        environment = {**childEnvironment(), **env}
        environment.pop("TERM", None)
        screen = Screen(argv, columns=160, rows=30, env=environment)
        self.addCleanup(screen.close)
        screen.expect("nobody waiting >")
        port = saidPort(screen.text)
        assert port is not None, screen.text
        return screen, port

    def connectionRow(self, screen: Screen, port: int) -> int:
        """Connect a client that sends a name; the screen row of its first trace line."""
        client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.addCleanup(client.close)
        client.sendall(b"Ana\n")
        screen.expect('line complete (LF): "Ana"')
        screen.expect(lambda: screen.cursorRow().startswith("→"))
        return next(i for i, row in enumerate(screen.rows) if row.startswith("#1 "))

    def test_colourAboveTheInputLine(self) -> None:
        screen, port = self.start()
        row = self.connectionRow(screen, port)
        self.assertEqual(screen.screen.buffer[row][0].fg, "cyan")
        self.assertEqual(screen.screen.buffer[row][0].data, "#")
        # The input line is the last one, below the trace.
        last = max(i for i, text in enumerate(screen.rows) if text)
        self.assertTrue(screen.rows[last].startswith("→"), screen.text)
        self.assertGreater(last, row)

    def test_noColour(self) -> None:
        screen, port = self.start(NO_COLOR="1")
        row = self.connectionRow(screen, port)
        self.assertEqual(screen.screen.buffer[row][0].fg, "default")
