"""
The real C{twistd -n names-server} on a pseudo-terminal (tests/screen.py,
read through pyte), second round (issue 16, item 9): function keys and a
pasted escape string never reach a client, a narrow terminal keeps the
prompt's count, a refused command is not joined by the next, and in chat
mode the operator reads that a client left.
"""

from __future__ import annotations

import re
import socket
from unittest import skipIf

from twisted.trial.unittest import SynchronousTestCase

from tests.processes import TWISTD, childEnvironment, readToEnd, sendOver
from tests.skips import NO_PTY

if NO_PTY is None:
    from tests.screen import Screen

F5, PGUP, PGDN, INSERT, F1 = "\x1b[15~", "\x1b[5~", "\x1b[6~", "\x1b[2~", "\x1bOP"


@skipIf(NO_PTY is not None, NO_PTY or "")
class Server(SynchronousTestCase):
    options: tuple[str, ...] = ()
    columns = 100

    def setUp(self) -> None:
        argv = [*TWISTD, "-n", "--pidfile=", "names-server", "--port", "0", *self.options]
        environment = childEnvironment()
        environment.pop("TERM", None)
        self.screen = Screen(argv, columns=self.columns, rows=30, env=environment)
        self.addCleanup(self.screen.close)
        self.screen.expect("nobody waiting >")
        match = re.search(r"127\.0\.0\.1:(\d+)", self.screen.text)
        assert match is not None, self.screen.text
        self.port = int(match.group(1))

    def connect(self, name: str) -> socket.socket:
        return sendOver(self, self.port, name.encode() + b"\n")

    def stop(self) -> None:
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 0)


@skipIf(NO_PTY is not None, NO_PTY or "")
class KeyTests(Server):
    def test_functionKeysNotSent(self) -> None:
        """F5, PgUp, PgDn, Insert, F1 in a reply: the client gets C{ok} (it got C{ok[F5]})."""
        ana = self.connect("Ana")
        self.screen.expect(lambda: '→ "Ana"' in self.screen.cursorRow())
        self.screen.send("o")
        for key in (F5, PGUP, PGDN, INSERT, F1):
            self.screen.send(key)
        self.screen.send("k")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("> ok"))
        self.screen.send("\r")
        self.assertEqual(readToEnd(ana), b"ok\n")
        self.stop()

    def test_pastedTitleNotSent(self) -> None:
        """A pasted OSC (set the title) is dropped whole: no C{0;TITLE} in the reply."""
        ana = self.connect("Ana")
        self.screen.expect(lambda: '→ "Ana"' in self.screen.cursorRow())
        self.screen.send("o\x1b]0;TITLE\x07k\r")
        self.assertEqual(readToEnd(ana), b"ok\n")
        self.stop()

    def test_refusedCommandThenClose(self) -> None:
        """C{/keep X} refused, then C{/close}: the close runs (it was C{/keep X/close})."""
        ana = self.connect("Ana")
        self.screen.expect(lambda: '→ "Ana"' in self.screen.cursorRow())
        self.screen.send("/keep X\r")
        self.screen.expect("↑ brings it back.")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("waiting >"))
        self.screen.send("/close\r")
        self.assertEqual(readToEnd(ana), b"")
        self.screen.expect('Closed "Ana"')
        self.stop()


@skipIf(NO_PTY is not None, NO_PTY or "")
class NarrowTests(Server):
    columns = 40

    def test_promptKeepsTheCount(self) -> None:
        """At 40 columns the prompt still says how many wait (it lost the count)."""
        self.connect("Maria Eduarda dos Santos")
        self.connect("Caio")
        self.screen.expect(lambda: "2 waiting >" in self.screen.cursorRow())
        self.assertIn('"Maria', self.screen.cursorRow())
        self.screen.send("abc")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("2 waiting > abc"))
        self.stop()


@skipIf(NO_PTY is not None, NO_PTY or "")
class ChatDepartureTests(Server):
    options = ("--chat",)

    def test_clientLeavingIsTold(self) -> None:
        """A chat client answered, then gone (Ctrl-D on its side): the operator reads it."""
        client = self.connect("oi")
        self.screen.expect('says "oi"')
        self.screen.send("olá\r")
        received = b""
        while not received.endswith(b"\n"):
            chunk = client.recv(1024)
            # The server closing early ends the test, not spins it forever.
            self.assertTrue(chunk, f"closed after {received!r}")
            received += chunk
        client.shutdown(socket.SHUT_WR)
        self.screen.expect("left the conversation.")
        self.stop()
