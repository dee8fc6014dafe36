"""
The operator's editor and model, second round (issue 16, item 9): a refused
command is never joined by what is typed next, keys the editor does not use
and pasted escape strings never become reply text, a narrowed terminal keeps
no stale copy of the input row, a narrow prompt keeps its count, and in chat
mode the operator hears that a client left.  In memory: the real editor
behind C{insults} on a L{StringTransport}, the real model and queue.
"""

from __future__ import annotations

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.test_editor_batch import EditorCase
from tests.test_operator import OperatorTestCase
from tests.test_server import Client, ServerTestCase
from twisted_names.console.editor import EscapeStrings
from twisted_names.console.lineedit import displayWidth, promptRoom
from twisted_names.console.model import Operator
from twisted_names.console.words import EditorLines
from twisted_names.replies import Departure, Dismissed, ReplyQueue

UP = b"\x1b[A"


class RefusedCommandTests(EditorCase):
    def test_refusedCommandIsClearedNotJoined(self) -> None:
        """
        C{/keep X} refused while someone waits: the line is cleared (and the
        notice says so), so the C{/close} typed next runs on its own; ↑
        brings the refused line back.
        """
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"/keep X")
        self.protocol.dataReceived(b"\r")
        self.assertEqual(self.editor.line.text, "")
        self.assertIn(b"The line was", self.transport.value())
        self.protocol.dataReceived(b"/close")
        self.protocol.dataReceived(b"\r")
        self.failureResultOf(ana, Dismissed)
        self.protocol.dataReceived(UP)
        self.assertEqual(self.editor.line.text, "/close")
        self.protocol.dataReceived(UP)
        self.assertEqual(self.editor.line.text, "/keep X")

    def test_unknownCommandCleared(self) -> None:
        """An unknown command is cleared too: typing after it starts a new line."""
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"/nope\r")
        self.protocol.dataReceived(b"Max\r")
        self.assertEqual(self.successResultOf(ana), "Max")

    def test_invalidReplyStaysAndSaysSo(self) -> None:
        """A reply refused (too long) is a reply to fix: it stays, and the notice says so."""
        ana = self.queue.ask("Ana", "p")
        self.editor.operator.maxLength = 3
        self.protocol.dataReceived(b"Maxi\r")
        self.assertEqual(self.editor.line.text, "Maxi")
        self.assertIn("The line stays, for you to", self.transport.value().decode())
        self.assertNoResult(ana)


class UnhandledKeyTests(EditorCase):
    #: What terminals send for keys the editor does not use.
    KEYS = {
        "F1": b"\x1bOP",
        "F1 (linux console)": b"\x1b[[A",
        "F5": b"\x1b[15~",
        "F12": b"\x1b[24~",
        "PgUp": b"\x1b[5~",
        "PgDn": b"\x1b[6~",
        "Insert": b"\x1b[2~",
        "Ctrl-Right": b"\x1b[1;5C",
        "Alt-x": b"\x1bx",
    }

    def test_functionKeysAreNotText(self) -> None:
        """F1-F12, PgUp, PgDn, Insert...: nothing typed (a client got C{ok[F5]})."""
        for key, sequence in self.KEYS.items():
            ana = self.queue.ask("Ana", "p")
            self.protocol.dataReceived(b"o")
            self.protocol.dataReceived(sequence)
            self.protocol.dataReceived(b"k\r")
            self.assertEqual(self.successResultOf(ana), "ok", key)

    def test_functionKeysInOneRead(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"o" + b"".join(self.KEYS.values()) + b"k\r")
        self.assertEqual(self.successResultOf(ana), "ok")


class PastedEscapeTests(EditorCase):
    def test_pastedOSCDroppedWhole(self) -> None:
        """A pasted OSC (a title) is dropped whole, not typed as C{0;TITLE}."""
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"o\x1b]0;TITLE\x07k\r")
        self.assertEqual(self.successResultOf(ana), "ok")

    def test_cutAcrossReads(self) -> None:
        """A string cut between reads, ended by ST (ESC backslash), is dropped whole."""
        ana = self.queue.ask("Ana", "p")
        for part in (b"o\x1b", b"]8;;http://x", b"/y\x1b", b"\\", b"k\r"):
            self.protocol.dataReceived(part)
        self.assertEqual(self.successResultOf(ana), "ok")

    def test_dcsApcPm(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"\x1bP1$r0m\x1b\\o\x1b_apc\x1b\\\x1b^pm\x07k\r")
        self.assertEqual(self.successResultOf(ana), "ok")

    def test_enterEndsAnUnterminatedString(self) -> None:
        """
        A string never terminated (Alt-] typed by mistake) ends at the next
        control key: Enter is still Enter, and what follows is typed.
        """
        ana = self.queue.ask("Ana", "p")
        self.protocol.dataReceived(b"\x1b]lost\r")
        self.assertNoResult(ana)  # An empty line: nothing sent.
        self.protocol.dataReceived(b"ok\r")
        self.assertEqual(self.successResultOf(ana), "ok")


class EscapeStringsTests(SynchronousTestCase):
    """The filter alone: bytes in, bytes out."""

    def test_plainTextUntouched(self) -> None:
        self.assertEqual(EscapeStrings().feed(b"abc \xc3\xa9"), b"abc \xc3\xa9")

    def test_csiKept(self) -> None:
        """Keys (CSI, SS3) pass: insults reads them."""
        strings = EscapeStrings()
        self.assertEqual(strings.feed(b"\x1b[A\x1bOP"), b"\x1b[A\x1bOP")
        self.assertEqual(strings.feed(b"x\x1b"), b"x")
        self.assertEqual(strings.feed(b"[B"), b"\x1b[B")

    def test_stringThenKey(self) -> None:
        """An ESC inside a string that is not ST ends it and starts a key."""
        self.assertEqual(EscapeStrings().feed(b"\x1b]t\x1b[Cz"), b"\x1b[Cz")

    def test_cancelled(self) -> None:
        self.assertEqual(EscapeStrings().feed(b"\x1b]t\x18z\x1bXs\x1az"), b"zz")


class ResizeTests(EditorCase):
    def test_narrowingErasesTheWrappedRow(self) -> None:
        """
        Narrowed from 100 to 40 columns with the cursor at column 60, a
        terminal that wraps the old row shows it on two rows, the cursor on
        the second: the editor goes up one row and erases down before
        drawing again, so no stale copy is left.
        """
        self.editor.terminalSize(100, 24)
        self.protocol.dataReceived(b"x" * (60 - displayWidth(self.editor.operator.prompt())))
        self.assertEqual(self.editor._column, 60)
        self.transport.clear()
        self.editor.terminalSize(40, 24)
        written = self.transport.value()
        self.assertTrue(written.startswith(b"\r\x1b[1A\x1b[J"), written)
        self.assertIn(b"\r\x1b[K", written)  # Drawn again.

    def test_wideningErasesOnlyTheRow(self) -> None:
        self.editor.terminalSize(40, 24)
        self.protocol.dataReceived(b"abc")
        self.transport.clear()
        self.editor.terminalSize(100, 24)
        self.assertTrue(self.transport.value().startswith(b"\r\x1b[J"))

    def test_narrowPromptKeepsTheCount(self) -> None:
        """At 40 columns the prompt shortens the name and keeps the count."""
        self.queue.ask("Maria Eduarda dos Santos Oliveira", "127.0.0.1:42652")
        self.queue.ask("Caio", "127.0.0.1:42653")
        self.transport.clear()
        self.editor.terminalSize(40, 24)
        row = self.transport.value().decode().rsplit("\r\x1b[K", 1)[1]
        self.assertIn("2 waiting >", row)
        self.assertIn('"Mari', row)


class NarrowPromptTests(OperatorTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.queue.ask("Maria Eduarda dos Santos Oliveira", "127.0.0.1:42652")
        self.queue.ask("Caio", "127.0.0.1:42653")

    def test_wideRowWhole(self) -> None:
        self.assertEqual(
            self.op.prompt(200), '→ "Maria Eduarda dos Santo…" 127.0.0.1:42652 · 2 waiting > '
        )

    def test_nameShortenedFirst(self) -> None:
        self.assertEqual(self.op.prompt(45), '→ "Maria Edu…" 127.0.0.1:42652 · 2 waiting > ')

    def test_thenTheAddressLeftOut(self) -> None:
        """At 40 columns (L{promptRoom}: 26 cells) the name and the count stay."""
        self.assertEqual(self.op.prompt(promptRoom(40)), '→ "Maria…" · 2 waiting > ')

    def test_everyWidthKeepsTheCount(self) -> None:
        """From 34 columns up (narrower, the prompt is cut at its end)."""
        for width in range(34, 120):
            prompt = self.op.prompt(promptRoom(width))
            self.assertLessEqual(displayWidth(prompt), promptRoom(width), width)
            self.assertIn("2 waiting", prompt)


class ChatDepartureTests(SynchronousTestCase):
    """In chat mode the operator is told when a client between turns leaves."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.notices: list[str] = []
        self.op = Operator(
            self.queue, EditorLines(self, chat=True), self.clock, 100, stop=lambda: None, chat=True
        )
        self.server = ServerTestCase()
        self.server.clock, self.server.queue = self.clock, self.queue

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def promptChanged(self) -> None:
        pass

    def chatted(self, **settings: object) -> Client:
        client = Client(self.server.factory(chat=True, **settings))
        client.send(b"hello\n")
        self.queue.answer("hi")
        del self.notices[:]
        return client

    def test_leftBetweenTurns(self) -> None:
        """The client closes after an answer (Ctrl-D): the operator is told, once."""
        client = self.chatted()
        client.protocol.readConnectionLost()
        client.finishClosing()
        self.assertEqual(self.notices, ["127.0.0.1:50000 left the conversation."])

    def test_emptyLine(self) -> None:
        client = self.chatted()
        client.send(b"\n")
        client.finishClosing()
        self.assertEqual(self.notices, ["127.0.0.1:50000 left the conversation."])

    def test_resetBetweenTurns(self) -> None:
        client = self.chatted()
        client.finishClosing(Failure(ConnectionLost()))
        self.assertEqual(self.notices, ["127.0.0.1:50000 left the conversation."])

    def test_silentTooLong(self) -> None:
        client = self.chatted(nameTimeout=30)
        self.clock.advance(30)
        client.finishClosing()
        self.assertEqual(
            self.notices,
            ["127.0.0.1:50000 was closed: it did not go on with the conversation in time."],
        )

    def test_leftWhileWaitingToldOnce(self) -> None:
        """Gone while waiting for a reply: the queue's notice only, not two."""
        client = self.chatted()
        client.send(b"again\n")
        del self.notices[:]
        client.finishClosing(Failure(ConnectionDone()))
        self.assertEqual(self.notices, ["127.0.0.1:50000 left before your reply."])

    def test_replyTimeoutToldOnce(self) -> None:
        """Closed for no reply in time: the queue's notice only, not "left" too."""
        client = self.chatted()
        client.send(b"again\n")
        del self.notices[:]
        self.clock.advance(300)
        client.finishClosing()
        self.assertEqual(
            self.notices, ["127.0.0.1:50000 waited too long for a reply and was closed."]
        )

    def test_closedByTheOperatorToldOnce(self) -> None:
        client = self.chatted()
        client.send(b"again\n")
        del self.notices[:]
        self.queue.dismiss()
        client.finishClosing()
        self.assertEqual(self.notices, ["Closed 127.0.0.1:50000 without a reply."])

    def test_emptyLineAfterOwedReplies(self) -> None:
        """Lines owed, then an empty line: told once the last reply is sent."""
        client = self.chatted()
        client.send(b"again\n\n")
        del self.notices[:]
        self.queue.answer("yes")
        client.finishClosing()
        self.assertEqual(
            self.notices,
            ['Sent "yes" to 127.0.0.1:50000.', "127.0.0.1:50000 left the conversation."],
        )

    def test_neverAnsweredNotTold(self) -> None:
        """A chat client that closes before its first line was never shown: nothing to say."""
        client = Client(self.server.factory(chat=True))
        client.finishClosing()
        self.assertEqual(self.notices, [])

    def test_stoppingSaysItOnce(self) -> None:
        client = self.chatted()
        self.op.stopping(1)
        client.finishClosing()
        self.assertEqual(self.notices, ["Stopping: closed 1 connection."])

    def test_departureReason(self) -> None:
        self.queue.ended("p", Departure.LEFT)
        self.assertEqual(self.notices, ["p left the conversation."])


class ChatNarrowPromptTests(OperatorTestCase):
    """
    In chat mode the prompt names the client by its address: on a narrow
    row the line is left out, then the address shortened from its start
    (the port, which tells apart the clients of one machine, stays), so
    the count stays as the README and docs/design.md say.  The address was
    never shortened: at 40 columns the prompt was cut to
    C{→ 127.0.0.1:42652 · 2 wai…}, the count and the C{>} gone.
    """

    chat = True

    def setUp(self) -> None:
        super().setUp()
        self.queue.ask("uma linha de conversa", "127.0.0.1:42652")
        self.queue.ask("outra", "127.0.0.1:42653")

    def test_wideRowWhole(self) -> None:
        self.assertEqual(
            self.op.prompt(200), '→ 127.0.0.1:42652 "uma linha de conversa" · 2 waiting > '
        )

    def test_fortyColumns(self) -> None:
        """At 40 columns (26 cells) the port and the count stay."""
        self.assertEqual(self.op.prompt(promptRoom(40)), "→ …42652 · 2 waiting > ")

    def test_everyWidthKeepsTheCount(self) -> None:
        """From 34 columns up, as without --chat; with an IPv6 address too."""
        for peer in ("127.0.0.1:42652", "[2001:db8::1234:5678]:54321"):
            queue = ReplyQueue(self.clock, timeout=300)
            op = Operator(
                queue,
                EditorLines(self.view, chat=True),
                self.clock,
                20,
                stop=lambda: None,
                chat=True,
            )
            queue.ask("uma linha de conversa", peer)
            for width in range(34, 120):
                prompt = op.prompt(promptRoom(width))
                self.assertLessEqual(displayWidth(prompt), promptRoom(width), (peer, width))
                self.assertIn("1 waiting > ", prompt, (peer, width))
