"""
Tests for the console model's notices: the one model says what happened,
under its discipline; each view words it.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.console.model import (
    Answered,
    Arrived,
    Discipline,
    Entered,
    Kept,
    Left,
    Notice,
    Now,
    Operator,
    ReplyRefused,
    Said,
)
from twisted_names.console.plain import plainText
from twisted_names.console.words import editorText
from twisted_names.replies import Departure, ReplyQueue


class Told:
    """A view that keeps the notices, unworded."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.redraws = 0

    def tell(self, notice: Notice) -> None:
        self.notices.append(notice)

    def promptChanged(self) -> None:
        self.redraws += 1


class NoticeTests(SynchronousTestCase):
    """The model tells events as data; the discipline decides what a line does."""

    def model(self, discipline: Discipline) -> tuple[Operator, ReplyQueue, Told]:
        queue = ReplyQueue(Clock(), timeout=300)
        view = Told()
        return Operator(queue, view, queue.clock, 20, discipline=discipline), queue, view

    def test_arrivalAndAnswer(self) -> None:
        """An arrival carries its position and who the next line answers."""
        op, queue, view = self.model(Discipline.PIPE)
        d = queue.ask("Ana", "127.0.0.1:1")
        ana = queue.head
        assert ana is not None
        op.lineTyped("Server")
        self.assertEqual(self.successResultOf(d), "Server")
        self.assertEqual(
            view.notices,
            [
                Arrived(ana, 1, Now(ana, 1)),
                Answered(ana, "Server", False, 0, Now(None, 0)),
            ],
        )

    def test_pipeKeepsALineTypedAhead(self) -> None:
        """On a pipe a line while nobody waits is kept, and a / line is a reply."""
        op, queue, view = self.model(Discipline.PIPE)
        self.assertIs(op.lineEntered("/help"), Entered.DONE)
        self.assertEqual(view.notices, [Kept("/help", 1, Now(None, 0))])
        d = queue.ask("Ana", "127.0.0.1:1")
        self.assertEqual(self.successResultOf(d), "/help")

    def test_editorRefusesALineForNobody(self) -> None:
        """In the editor the same lines are a command and a refusal: nothing kept."""
        op, queue, view = self.model(Discipline.EDITOR)
        op.lineEntered("/help")
        op.lineEntered("Server")
        self.assertEqual(view.notices[0], Said.HELP)
        self.assertEqual(len(queue.typedAhead), 0)

    def test_retargetedOnce(self) -> None:
        """The editor is told once that the line being typed now answers another client."""
        op, queue, view = self.model(Discipline.EDITOR)
        ana = queue.ask("Ana", "127.0.0.1:1")
        bia = queue.ask("Bia", "127.0.0.1:2")
        op.promptShown()
        op.typingChanged(True)
        ana.cancel()
        self.failureResultOf(ana)
        queue.ask("Caio", "127.0.0.1:3")
        departures = [n for n in view.notices if isinstance(n, Left)]
        self.assertEqual(len(departures), 1)
        self.assertTrue(departures[0].now.retargeted)
        last = view.notices[-1]
        assert isinstance(last, Arrived)
        self.assertFalse(last.now.retargeted)
        self.assertNoResult(bia)

    def test_pipeNeverRetargets(self) -> None:
        """A pipe has no line being typed: no notice says the target changed."""
        op, queue, view = self.model(Discipline.PIPE)
        op.typingChanged(True)
        queue.ask("Ana", "127.0.0.1:1")
        arrived = view.notices[0]
        assert isinstance(arrived, Arrived)
        self.assertFalse(arrived.now.retargeted)

    def test_refusedReplyWithReason(self) -> None:
        op, queue, view = self.model(Discipline.PIPE)
        queue.ask("Ana", "127.0.0.1:1")
        op.lineTyped("x" * 21)
        refused = view.notices[-1]
        assert isinstance(refused, ReplyRefused)
        self.assertFalse(refused.kept)
        self.assertEqual(refused.now.waiting, 1)


class TwoViewsTests(SynchronousTestCase):
    """One notice, two views, each in its own words."""

    def test_leftInBothViews(self) -> None:
        queue = ReplyQueue(Clock(), timeout=300)
        queue.ask("Ana", "127.0.0.1:1")
        ana = queue.head
        assert ana is not None
        notice = Left(ana, Departure.LEFT, Now(None, 0))
        self.assertEqual(editorText(notice), '"Ana" (127.0.0.1:1) left before your reply.')
        self.assertEqual(
            plainText(notice),
            [
                '"Ana" (127.0.0.1:1) left before your reply.',
                "Nobody is waiting now; the next line answers the next client.",
            ],
        )

    def test_editorOnlyNoticesAreNothingOnAPipe(self) -> None:
        """A command's answer has no pipe words: a pipe has no commands."""
        for said in Said:
            self.assertEqual(plainText(said), [])
            self.assertTrue(editorText(said))
