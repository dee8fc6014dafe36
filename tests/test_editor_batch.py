"""
Keys that arrive together are drawn once (L{KeepScreenServerProtocol}):
a paste must not flood the terminal with one redraw a character.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.console.editor import KeepScreenServerProtocol, OperatorEditor
from twisted_names.console.model import Operator
from twisted_names.replies import ReplyQueue


class EditorCase(SynchronousTestCase):
    """An operator's editor on a L{StringTransport}, nobody waiting yet."""

    def setUp(self) -> None:
        clock = Clock()
        self.queue = ReplyQueue(clock, timeout=300)
        self.editor = OperatorEditor(onInterrupt=lambda: None, maxChars=2048)
        self.editor.operator = Operator(self.queue, self.editor, clock, 2048, stop=lambda: None)
        self.transport = StringTransport()
        KeepScreenServerProtocol(lambda: self.editor).makeConnection(self.transport)
        self.protocol = self.editor.terminal
        self.transport.clear()


class PasteTests(EditorCase):
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


class PastedLinesTests(EditorCase):
    """
    Lines that arrive together (a paste, keys typed ahead while the server
    was busy): the operator has seen only the prompt drawn before them.
    """

    def test_secondLineAsksConfirmation(self) -> None:
        """
        The first line answers the client the prompt named; the next would
        go to a client the operator never saw named: not sent, and the rest
        of the paste joins it on the input line.
        """
        duda = self.queue.ask("Duda", "127.0.0.1:1")
        edu = self.queue.ask("Edu", "127.0.0.1:2")
        self.editor.drawInputLine()  # The prompt names Duda.
        self.protocol.dataReceived(b"Srv1\rSrv2\rSrv3\r")
        self.assertEqual(self.successResultOf(duda), "Srv1")
        self.assertNoResult(edu)
        self.assertEqual(self.editor.line.text, "Srv2 Srv3")
        self.assertIn(b"it would go to", self.transport.value())
        self.protocol.dataReceived(b"\r")  # Seen now: Enter confirms.
        self.assertEqual(self.successResultOf(edu), "Srv2 Srv3")

    def test_typedOneByOne(self) -> None:
        """Keys read one at a time: each prompt was drawn, nothing to confirm."""
        duda = self.queue.ask("Duda", "127.0.0.1:1")
        edu = self.queue.ask("Edu", "127.0.0.1:2")
        self.editor.drawInputLine()
        for key in b"A\rB\r":
            self.protocol.dataReceived(bytes([key]))
        self.assertEqual(self.successResultOf(duda), "A")
        self.assertEqual(self.successResultOf(edu), "B")

    def test_nothingAfterCtrlC(self) -> None:
        """Ctrl-C stops: a line that came with it is not sent."""
        stopped: list[None] = []
        self.editor.onInterrupt = lambda: stopped.append(None)
        caio = self.queue.ask("Caio", "127.0.0.1:7")
        self.editor.drawInputLine()
        self.protocol.dataReceived(b"\x03Abc\r")
        self.assertEqual(stopped, [None])
        self.assertNoResult(caio)
        self.assertEqual(self.editor.line.text, "")

    def test_tooLongSaidNotDropped(self) -> None:
        """A paste longer than the line: what did not fit is said, once."""
        self.protocol.dataReceived(b"x" * 2100)
        self.assertEqual(self.editor.line.text, "x" * 2048)
        written = self.transport.value()
        self.assertEqual(
            written.count(b"52 characters not typed: the line holds at most 2048."), 1
        )
