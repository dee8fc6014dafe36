"""
The operator's editor attacked (issue 16's review of what landed): keys
that typed text into a reply, as the tests that failed before the mend.
"""

from __future__ import annotations

from tests.test_editor_batch import EditorCase

UP = b"\x1b[A"


class EscapeThenKeyTests(EditorCase):
    """
    Esc pressed just before an arrow (one read: C{ESC ESC [ A}, also what
    PuTTY, and xterm or macOS Terminal with Alt as Meta, send for Alt-↑)
    is that key.  Before: C{insults} took C{ESC ESC} for Alt-Esc, and C{[A}
    was typed into the reply (seen in tmux: C{send-keys Escape Up} left
    C{[A} on the line).
    """

    def test_escapeThenUp(self) -> None:
        self.protocol.dataReceived(b"Bia\r")  # Nobody waits: kept in history.
        self.protocol.dataReceived(b"\x1b" + UP)
        self.assertEqual(self.editor.line.text, "Bia")

    def test_escapeThenLeft(self) -> None:
        self.protocol.dataReceived(b"Ab\x1b\x1b[D")
        self.assertEqual(self.editor.line.text, "Ab")
        self.protocol.dataReceived(b"c")
        self.assertEqual(self.editor.line.text, "Acb")

    def test_escapeTwiceThenFunctionKey(self) -> None:
        """F1 (C{ESC O P}) after two Escs: nothing typed."""
        self.protocol.dataReceived(b"A\x1b\x1b\x1bOP")
        self.assertEqual(self.editor.line.text, "A")

    def test_splitReads(self) -> None:
        """The Esc and the arrow in two reads, as a slow typist sends them."""
        self.protocol.dataReceived(b"Ab\x1b")
        self.protocol.dataReceived(b"\x1b[D")
        self.assertEqual(self.editor.line.text, "Ab")
        self.protocol.dataReceived(b"c")
        self.assertEqual(self.editor.line.text, "Acb")
