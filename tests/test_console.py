"""Tests for L{twisted_names.console.plain}: what the operator sees and types."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.console.model import Discipline, Operator
from twisted_names.console.plain import PlainLines
from twisted_names.display import unsafeCharacters
from twisted_names.replies import OperatorGone, ReplyQueue, ReplyTimedOut


class ConsoleTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.lines: list[str] = []
        self.console = Operator(
            self.queue,
            PlainLines(self.lines.append),
            self.clock,
            maxLength=20,
            discipline=Discipline.PIPE,
        )

    def said(self) -> list[str]:
        lines, self.lines[:] = list(self.lines), []
        return lines

    def test_greeting(self) -> None:
        self.console.greet("127.0.0.1:5000")
        self.assertEqual(self.said()[0], "names-server: listening on 127.0.0.1:5000.")

    def test_showsWhoTheNextLineAnswers(self) -> None:
        ana = self.queue.ask("Ana", "127.0.0.1:1")
        self.assertEqual(
            self.said(),
            [
                '"Ana" (127.0.0.1:1) is asking for your name.',
                '> Next line answers "Ana" (127.0.0.1:1) [1 waiting]',
            ],
        )
        self.queue.ask("Bea", "127.0.0.1:2")
        self.assertEqual(
            self.said(),
            [
                '"Bea" (127.0.0.1:2) is waiting too.',
                '> Next line answers "Ana" (127.0.0.1:1) [2 waiting]',
            ],
        )
        self.console.lineTyped("Server")
        self.assertEqual(self.successResultOf(ana), "Server")
        self.assertEqual(
            self.said(),
            [
                'Sent "Server" to "Ana" (127.0.0.1:1).',
                '> Next line answers "Bea" (127.0.0.1:2) [1 waiting]',
            ],
        )

    def test_lastAnswered(self) -> None:
        self.queue.ask("Ana", "p")
        self.said()
        self.console.lineTyped("S")
        self.assertEqual(self.said(), ['Sent "S" to "Ana" (p).', "Nobody is waiting now."])

    def test_leaverToldAndNextShown(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        self.queue.ask("Bea", "p2")
        self.said()
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.assertEqual(
            self.said(),
            [
                '"Ana" (p1) left before your reply.',
                '> Next line answers "Bea" (p2) [1 waiting]',
            ],
        )

    def test_lastLeaverThenLineIsKept(self) -> None:
        """A reply typed for a client that just left is kept for the next one."""
        ana = self.queue.ask("Ana", "p1")
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.said()
        self.console.lineTyped("late reply")
        self.assertEqual(
            self.said(),
            ['Nobody is waiting: "late reply" will answer the next client (1 typed ahead).'],
        )
        self.assertEqual(self.successResultOf(self.queue.ask("Bea", "p2")), "late reply")
        self.assertEqual(
            self.said(),
            ['"Bea" (p2) was answered "late reply", typed ahead (0 more typed ahead).'],
        )

    def test_timeoutTold(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        self.said()
        self.clock.advance(300)
        self.failureResultOf(ana, ReplyTimedOut)
        self.assertEqual(
            self.said(),
            [
                '"Ana" (p1) waited too long for a reply and was closed.',
                "Nobody is waiting now; the next line answers the next client.",
            ],
        )

    def test_badRepliesRefused(self) -> None:
        """The operator's reply is checked like a name: nothing is sent, nobody disturbed."""
        ana = self.queue.ask("Ana", "p1")
        self.said()
        self.console.lineTyped("\x1b]52;c;aGk=\x07")
        self.console.lineTyped("x" * 21)
        self.console.lineTyped("   ")
        self.assertNoResult(ana)
        self.assertEqual(
            self.said(),
            [
                'Not sent: the reply holds control characters ("\\x1b", "\\x07"). Type it again.',
                '> Next line answers "Ana" (p1) [1 waiting]',
                "Not sent: the reply is 21 bytes long; the limit is 20. Type it again.",
                '> Next line answers "Ana" (p1) [1 waiting]',
            ],
        )
        self.console.lineTyped("  Server  ")
        self.assertEqual(self.successResultOf(ana), "Server")

    def test_inputEnded(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        self.said()
        self.console.inputEnded()
        self.failureResultOf(ana, OperatorGone)
        self.assertEqual(self.said(), ["Input closed: no more replies. Closed 1 waiting client."])
        self.failureResultOf(self.queue.ask("Bea", "p2"), OperatorGone)
        self.assertEqual(self.said(), ['"Bea" (p2) was closed: no more replies (input closed).'])

    def test_inputEndedWithTypedAhead(self) -> None:
        self.console.lineTyped("a")
        self.console.lineTyped("b")
        self.said()
        self.console.inputEnded()
        self.assertEqual(
            self.said(),
            [
                "Input closed: no more replies. Closed 0 waiting clients.",
                "2 typed-ahead lines will answer the next clients; later ones will be closed.",
            ],
        )

    def test_stoppingSaysItOnce(self) -> None:
        """At shutdown, closed clients are not reported as leaving one by one."""
        ana, bea = self.queue.ask("Ana", "p1"), self.queue.ask("Bea", "p2")
        self.said()
        self.console.stopping(2)
        for d in (ana, bea):
            d.cancel()
            self.failureResultOf(d, CancelledError)
        self.assertEqual(self.said(), ["Stopping: closed 2 connections."])

    def test_stoppingIdle(self) -> None:
        self.console.stopping(0)
        self.assertEqual(self.said(), ["Stopping."])

    def test_hostileNamesShownEscaped(self) -> None:
        self.queue.ask("\x1b[2J\u202eevil", "p1")
        for line in self.said():
            self.assertEqual(unsafeCharacters(line), [], line)
            self.assertIn("\\x1b[2J\\u202eevil", line)

    def test_longNamesShortenedInStatus(self) -> None:
        self.queue.ask("n" * 100, "p1")
        first, status = self.said()
        self.assertIn("n" * 100, first)
        self.assertEqual(status, '> Next line answers "' + "n" * 40 + '"… (p1) [1 waiting]')
