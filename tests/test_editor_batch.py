"""
Keys that arrive together are drawn once (L{KeepScreenServerProtocol}):
a paste must not flood the terminal with one redraw a character.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.editor import KeepScreenServerProtocol, OperatorEditor
from twisted_names.operator import Operator
from twisted_names.replies import ReplyQueue


class PasteTests(SynchronousTestCase):
    def setUp(self) -> None:
        clock = Clock()
        self.queue = ReplyQueue(clock, timeout=300)
        self.editor = OperatorEditor(onInterrupt=lambda: None, maxChars=2048)
        self.editor.operator = Operator(self.queue, self.editor, clock, 2048, stop=lambda: None)
        self.transport = StringTransport()
        KeepScreenServerProtocol(lambda: self.editor).makeConnection(self.transport)
        self.protocol = self.editor.terminal
        self.transport.clear()

    def test_pasteDrawnOnce(self) -> None:
        """1,100 characters in one read: the line holds them all, drawn once."""
        self.protocol.dataReceived(b"x" * 1100)
        self.assertEqual(self.editor.line.text, "x" * 1100)
        written = self.transport.value()
        self.assertEqual(written.count(b"\r\x1b[K"), 1)
        self.assertLess(len(written), 200)

    def test_keysOneByOneDrawnEach(self) -> None:
        """Typed one at a time, each key is drawn as it comes."""
        for key in b"Ana":
            self.protocol.dataReceived(bytes([key]))
        self.assertEqual(self.transport.value().count(b"\r\x1b[K"), 3)

    def test_pasteWithEnterAnswers(self) -> None:
        """A pasted line with its Enter is sent; a notice in between is written whole."""
        d = self.queue.ask("Caio", "127.0.0.1:7")
        self.transport.clear()
        self.protocol.dataReceived(b"Max\r")
        self.assertEqual(self.successResultOf(d), "Max")
        self.assertIn(b"Max", self.transport.value())
        self.assertEqual(self.editor.line.text, "")
