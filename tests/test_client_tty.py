"""
C{names-client --chat --trace} on a pseudo-terminal, read through pyte
(tests/screen.py): the trace (stderr) and the prompt (stdout) share the
terminal and must not glue (issue 16, item 11): a trace line landed right
after C{You: }, and after Ctrl-C the next trace line was glued to C{^C}.
The server is a socket in this test, driven step by step; every wait is
bounded.
"""

from __future__ import annotations

import socket
from unittest import skipIf

from twisted.trial.unittest import SynchronousTestCase

from tests.processes import CLIENT, childEnvironment
from tests.skips import NO_PTY

if NO_PTY is None:
    from tests.screen import WAIT, Screen


@skipIf(NO_PTY is not None, NO_PTY or "")
class ChatTraceOnATerminal(SynchronousTestCase):
    def setUp(self) -> None:
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(WAIT)
        port = listener.getsockname()[1]
        argv = [*CLIENT, "--chat", "--trace", "-p", str(port), "-n", "hi"]
        self.screen = Screen(argv, columns=200, rows=40, env=childEnvironment(), controlling=True)
        self.addCleanup(self.screen.close)
        self.server, _ = listener.accept()
        self.addCleanup(self.server.close)
        self.server.settimeout(WAIT)
        self.assertEqual(self.server.recv(100), b"hi\n")
        self.server.sendall(b"Bob\n")
        self.screen.expect(lambda: self.screen.cursorRow() == "You:")

    def assertNothingGlued(self) -> None:
        for row in self.screen.rows:
            self.assertFalse(row.startswith("You:") and "#1" in row, self.screen.text)
            self.assertNotIn("^C#", row, self.screen.text)

    def test_traceLineAtThePrompt(self) -> None:
        """
        A trace line arriving while the prompt waits starts a row of its
        own, and the prompt is drawn again below the lines that came
        together (once, not after each).
        """
        self.server.sendall(b"late\n")
        self.screen.expect('line complete (LF): "late"')
        self.screen.expect(lambda: self.screen.cursorRow() == "You:")
        self.assertNothingGlued()
        rows = [row for row in self.screen.rows if row]
        self.assertEqual(rows[-1], "You:")
        self.assertIn('line complete (LF): "late"', rows[-2])
        self.assertEqual(sum(row == "You:" for row in rows), 2, self.screen.text)

    def test_ctrlCEndsTheLine(self) -> None:
        """After Ctrl-C the trace's lines start below C{You: ^C}; exit 130."""
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 130)
        self.assertNothingGlued()
        rows = [row for row in self.screen.rows if row]
        self.assertIn("You: ^C", rows)
        after = rows[rows.index("You: ^C") + 1 :]
        self.assertTrue(after, self.screen.text)
        self.assertTrue(all(row.startswith("#1") for row in after), self.screen.text)

    def test_serverEndsTheConversation(self) -> None:
        """
        The server sends a line nobody asked for and closes between turns:
        the trace's lines, the end said, and no prompt drawn again after it
        (the chat is over).
        """
        self.server.sendall(b"late\n")
        self.server.close()
        self.assertEqual(self.screen.waitForExit(), 0)
        rows = [row for row in self.screen.rows if row]
        ended = [i for i, row in enumerate(rows) if row.endswith("ended the conversation.")]
        self.assertEqual(len(ended), 1, self.screen.text)
        self.assertNotIn("You:", rows[ended[0] :], self.screen.text)
        self.assertNothingGlued()
