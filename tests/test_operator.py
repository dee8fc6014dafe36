"""Tests for L{twisted_names.console.model}: the operator's console as a pure model."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.console.model import LIST_MAX, Entered, Operator
from twisted_names.console.words import EditorLines
from twisted_names.replies import Dismissed, OperatorGone, ReplyQueue, ReplyTimedOut


class FakeView:
    """
    The screen as the editor keeps it: after each notice or prompt change
    the prompt is drawn again (L{Operator.promptShown}), so the operator has
    seen whom it names.
    """

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.redraws = 0
        self.operator: Operator | None = None

    def notice(self, text: str) -> None:
        self.notices.append(text)
        self._draw()

    def promptChanged(self) -> None:
        self.redraws += 1
        self._draw()

    def _draw(self) -> None:
        if self.operator is not None:
            self.operator.promptShown()


class OperatorTestCase(SynchronousTestCase):
    chat = False

    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.view = FakeView()
        self.stops: list[None] = []
        self.op = Operator(
            self.queue,
            EditorLines(self.view, chat=self.chat),
            self.clock,
            maxLength=20,
            stop=lambda: self.stops.append(None),
            chat=self.chat,
        )
        self.view.operator = self.op

    def said(self) -> list[str]:
        notices, self.view.notices[:] = list(self.view.notices), []
        return notices

    def enter(self, line: str) -> Entered:
        """Type C{line} from an empty input line, then press Enter."""
        self.op.typingChanged(True)
        return self.finish(line)

    def finish(self, line: str) -> Entered:
        """Press Enter on C{line}, already typed."""
        outcome = self.op.lineEntered(line)
        if outcome is Entered.DONE:
            self.op.typingChanged(False)
        return outcome


class PromptTests(OperatorTestCase):
    def test_nobody(self) -> None:
        self.assertEqual(self.op.prompt(), "nobody waiting > ")

    def test_namesTheHeadAndCount(self) -> None:
        self.queue.ask("Caio", "127.0.0.1:42652")
        self.queue.ask("Duda", "127.0.0.1:2")
        self.assertEqual(self.op.prompt(), '→ "Caio" 127.0.0.1:42652 · 2 waiting > ')

    def test_longOrHostileNameClippedAndEscaped(self) -> None:
        self.queue.ask("\x1b[2J" + "x" * 40, "p")
        prompt = self.op.prompt()
        self.assertTrue(prompt.startswith('→ "\\x1b[2Jxxx'), prompt)
        self.assertIn('…" p · 1 waiting > ', prompt)
        self.assertNotIn("\x1b", prompt)

    def test_keptAndClosed(self) -> None:
        self.enter("/keep Zé")
        self.assertEqual(self.op.prompt(), "nobody waiting · 1 kept > ")
        self.op.inputEnded()
        self.assertEqual(self.op.prompt(), "input closed · 1 kept · Ctrl-C stops > ")

    def test_redrawnOnEveryEvent(self) -> None:
        before = self.view.redraws
        ana = self.queue.ask("Ana", "p")
        self.assertEqual(self.view.redraws, before + 1)
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.assertEqual(self.view.redraws, before + 2)


class ReplyTests(OperatorTestCase):
    def test_sentToTheHead(self) -> None:
        ana = self.queue.ask("Ana", "127.0.0.1:1")
        bea = self.queue.ask("Bea", "127.0.0.1:2")
        self.assertEqual(
            self.said(),
            [
                '"Ana" (127.0.0.1:1) is asking for your name.',
                '"Bea" (127.0.0.1:2) is waiting too (2 in line).',
            ],
        )
        self.assertIs(self.enter("Server"), Entered.DONE)
        self.assertEqual(self.successResultOf(ana), "Server")
        self.assertNoResult(bea)
        self.assertEqual(self.said(), ['Sent "Server" to "Ana" (127.0.0.1:1).'])

    def test_slashReplyTypedDoubled(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.enter("//etc")
        self.assertEqual(self.successResultOf(ana), "/etc")

    def test_refusedWhileNobodyWaits(self) -> None:
        """A line typed while nobody waits is not kept: a later client is not answered by it."""
        self.assertIs(self.enter("clear"), Entered.DONE)
        self.assertEqual(
            self.said(),
            [
                "Not sent: nobody is waiting. To keep it for the next client: /keep clear"
                " (↑ brings the line back)."
            ],
        )
        self.assertEqual(list(self.queue.typedAhead), [])
        ana = self.queue.ask("Ana", "p")
        self.assertNoResult(ana)

    def test_invalidReplyStaysForFixing(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.assertIs(self.enter("x" * 21), Entered.KEEP)
        (notice,) = self.said()
        self.assertTrue(notice.startswith("Not sent: "), notice)
        self.assertIn("reply", notice)
        self.assertNoResult(ana)

    def test_blankLineDoesNothing(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.assertIs(self.enter("  "), Entered.DONE)
        self.assertEqual(self.said(), [])
        self.assertNoResult(ana)


class RetargetTests(OperatorTestCase):
    def test_headLeavesWhileTyping(self) -> None:
        """Typed for Caio, who leaves: Duda gets it only after a second Enter."""
        caio = self.queue.ask("Caio", "p1")
        duda = self.queue.ask("Duda", "p2")
        self.said()
        self.op.typingChanged(True)
        caio.cancel()
        self.failureResultOf(caio, CancelledError)
        self.assertEqual(
            self.said(),
            [
                '"Caio" (p1) left before your reply. Your line now answers "Duda" (p2):'
                " Enter asks you to confirm."
            ],
        )
        self.assertEqual(self.op.prompt(), '→ "Duda" p2 · 1 waiting · Enter confirms > ')
        self.assertIs(self.finish("Olá Caio"), Entered.KEEP)
        self.assertNoResult(duda)
        self.assertEqual(
            self.said(),
            [
                'Not sent yet: this line was begun for "Caio" (p1); it would go to "Duda" (p2).'
                " Press Enter again to send it, or Ctrl-U to clear it."
            ],
        )
        self.assertEqual(self.op.prompt(), '→ "Duda" p2 · 1 waiting > ')
        self.assertIs(self.finish("Olá Duda"), Entered.DONE)
        self.assertEqual(self.successResultOf(duda), "Olá Duda")

    def test_clientArrivesWhileTypingForNobody(self) -> None:
        """Begun while nobody waited (the 'clear' trap): the newcomer needs a confirmation."""
        self.op.typingChanged(True)
        ana = self.queue.ask("Ana", "p")
        self.assertEqual(
            self.said(),
            [
                '"Ana" (p) is asking for your name. Your line now answers "Ana" (p):'
                " Enter asks you to confirm."
            ],
        )
        self.assertIs(self.finish("clear"), Entered.KEEP)
        self.assertNoResult(ana)
        self.assertIn("begun while nobody waited", self.said()[0])

    def test_lastLeavesWhileTyping(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.op.typingChanged(True)
        self.said()
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.assertEqual(
            self.said(),
            [
                '"Ana" (p) left before your reply.'
                " Nobody is waiting now: your line will not be sent."
            ],
        )

    def test_toldOncePerChange(self) -> None:
        """More arrivals behind the new head add nothing about the line."""
        self.op.typingChanged(True)
        self.queue.ask("Ana", "p1")
        self.queue.ask("Bea", "p2")
        self.assertEqual(self.said()[1], '"Bea" (p2) is waiting too (2 in line).')

    def test_othersArrivingChangeNothing(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        self.op.typingChanged(True)
        self.queue.ask("Bea", "p2")
        self.assertIs(self.finish("S"), Entered.DONE)
        self.assertEqual(self.successResultOf(ana), "S")

    def test_newLineAfterClearingAnswersTheNewHead(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        bea = self.queue.ask("Bea", "p2")
        self.op.typingChanged(True)
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.op.typingChanged(False)  # Ctrl-U
        self.assertIs(self.enter("S"), Entered.DONE)
        self.assertEqual(self.successResultOf(bea), "S")


class CommandTests(OperatorTestCase):
    def test_help(self) -> None:
        self.enter("/help")
        (notice,) = self.said()
        for command in ("/who", "/close", "/keep", "/kept", "/drop", "/stop", "//"):
            self.assertIn(command, notice)

    def test_who(self) -> None:
        self.assertIs(self.enter("/who"), Entered.DONE)
        self.assertEqual(self.said(), ["Nobody is waiting."])
        self.queue.ask("Ana", "p1")
        self.clock.advance(75)
        self.queue.ask("Bea", "p2")
        self.clock.advance(3)
        self.said()
        self.enter("/who")
        self.assertEqual(
            self.said(),
            ['2 clients waiting:\n1. "Ana" (p1), waiting 1 min 18 s\n2. "Bea" (p2), waiting 3 s'],
        )

    def test_whoIsBounded(self) -> None:
        for i in range(LIST_MAX + 5):
            self.queue.ask(str(i), "p")
        self.said()
        self.enter("/who")
        (notice,) = self.said()
        self.assertEqual(len(notice.splitlines()), LIST_MAX + 2)
        self.assertTrue(notice.endswith("… and 5 more."))

    def test_close(self) -> None:
        ana = self.queue.ask("Ana", "p1")
        bea = self.queue.ask("Bea", "p2")
        self.said()
        self.enter("/close")
        self.failureResultOf(ana, Dismissed)
        self.assertNoResult(bea)
        self.assertEqual(self.said(), ['Closed "Ana" (p1) without a reply.'])
        self.enter("/close")
        self.enter("/close")
        self.failureResultOf(bea, Dismissed)
        self.assertEqual(self.said()[-1], "Nobody is waiting: nobody to close.")

    def test_keepShownAndUsed(self) -> None:
        self.enter("/keep Zé")
        self.assertEqual(
            self.said(), ['Kept "Zé" for the next client (1 kept; /drop forgets them).']
        )
        self.enter("/kept")
        self.assertEqual(
            self.said(), ['Kept for the next clients, in order (/drop forgets them):\n1. "Zé"']
        )
        ana = self.queue.ask("Ana", "p")
        self.assertEqual(self.successResultOf(ana), "Zé")
        self.assertEqual(self.said(), ['"Ana" (p) got the kept reply "Zé".'])

    def test_keepRefusedWhileSomeoneWaits(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.assertIs(self.enter("/keep Zé"), Entered.DONE)
        self.assertEqual(
            self.said(),
            [
                'Not kept: "Ana" (p) is waiting now; type the reply without /keep.'
                " The line was cleared; ↑ brings it back."
            ],
        )
        self.assertNoResult(ana)
        self.assertEqual(list(self.queue.typedAhead), [])

    def test_keepNeedsAReply(self) -> None:
        self.assertIs(self.enter("/keep "), Entered.DONE)
        self.assertEqual(
            self.said(),
            [
                "/keep needs the reply to keep: /keep REPLY."
                " The line was cleared; ↑ brings it back."
            ],
        )

    def test_drop(self) -> None:
        self.enter("/drop")
        self.assertEqual(self.said(), ["No replies are kept."])
        self.enter("/keep a")
        self.enter("/keep b")
        self.said()
        self.enter("/drop")
        self.assertEqual(self.said(), ["Dropped 2 kept replies."])
        ana = self.queue.ask("Ana", "p")
        self.assertNoResult(ana)

    def test_stop(self) -> None:
        self.enter("/stop")
        self.assertEqual(self.stops, [None])

    def test_unknownCommandCleared(self) -> None:
        self.assertIs(self.enter("/etc/passwd"), Entered.DONE)
        self.assertEqual(
            self.said(),
            [
                'Unknown command "/etc/passwd": /help lists the commands.'
                " A reply that starts with / is typed //. The line was cleared;"
                " ↑ brings it back."
            ],
        )


class EventTests(OperatorTestCase):
    def test_timedOut(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.clock.advance(300)
        self.failureResultOf(ana, ReplyTimedOut)
        self.assertEqual(self.said(), ['"Ana" (p) waited too long for a reply and was closed.'])

    def test_inputEnded(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.op.inputEnded()
        self.failureResultOf(ana, OperatorGone)
        self.assertEqual(self.said(), ["Input closed: no more replies. Closed 1 waiting client."])
        self.enter("late")
        self.assertEqual(
            self.said(), ["Not sent: the input is closed, no more replies. Ctrl-C stops."]
        )
        bea = self.queue.ask("Bea", "p2")
        self.failureResultOf(bea, OperatorGone)
        self.assertEqual(self.said(), ['"Bea" (p2) was closed: no more replies (input closed).'])

    def test_stoppingSaidOnce(self) -> None:
        ana = self.queue.ask("Ana", "p")
        self.said()
        self.op.stopping(1)
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.assertEqual(self.said(), ["Stopping: closed 1 connection."])

    def test_greet(self) -> None:
        self.op.greet("127.0.0.1:5000")
        self.assertTrue(self.said()[0].startswith("names-server: listening on 127.0.0.1:5000."))


class ChatTests(OperatorTestCase):
    chat = True

    def test_chatLinesAreMessages(self) -> None:
        first = self.queue.ask("hello", "127.0.0.1:1")
        self.assertEqual(self.said(), ['127.0.0.1:1 says "hello".'])
        self.assertEqual(self.op.prompt(), '→ 127.0.0.1:1 "hello" · 1 waiting > ')
        self.enter("hi")
        self.assertEqual(self.successResultOf(first), "hi")
        self.assertEqual(self.said(), ['Sent "hi" to 127.0.0.1:1.'])
