"""
The operator's editor on a real pseudo-terminal (tests/screen.py), run by
tests/consoledemo.py over a queue of fake clients: keystrokes in, the screen
as a person sees it out.
"""

from __future__ import annotations

import os
import sys
from unicodedata import normalize
from unittest import skipIf

from twisted.trial.unittest import SynchronousTestCase

from tests.skips import NO_PTY
from twisted_names.console.lineedit import displayWidth

LEFT, RIGHT, UP, DOWN = "\x1b[D", "\x1b[C", "\x1b[A", "\x1b[B"
HOME, END, DELETE = "\x1b[H", "\x1b[F", "\x1b[3~"
BACKSPACE = "\x7f"

if NO_PTY is None:
    from tests.screen import LineReader, Screen


@skipIf(NO_PTY is not None, NO_PTY or "")
class EditorOnATerminal(SynchronousTestCase):
    chat = False

    def setUp(self) -> None:
        controlIn, self.control = os.pipe()
        results, resultsOut = os.pipe()
        argv = [sys.executable, "-m", "tests.consoledemo", str(controlIn), str(resultsOut)]
        if self.chat:
            argv.append("--chat")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.screen = Screen(argv, passFds=(controlIn, resultsOut), env={"PYTHONPATH": root})
        os.close(controlIn)
        os.close(resultsOut)
        self.results = LineReader(results)
        self.addCleanup(os.close, results)
        self.addCleanup(os.close, self.control)
        self.addCleanup(self.screen.close)
        self.screen.expect("nobody waiting >")

    def arrive(self, name: str, peer: str) -> None:
        os.write(self.control, f"ask\t{name}\t{peer}\n".encode())

    def leave(self, name: str) -> None:
        os.write(self.control, f"leave\t{name}\n".encode())

    def inputRow(self) -> str:
        return self.screen.cursorRow()

    def expectInput(self, prompt: str, typed: str, before: str | None = None) -> None:
        """The cursor's row is C{prompt + typed}, the cursor after C{before} (default: all)."""
        before = typed if before is None else before
        # pyte keeps a letter and its combining accent as one (composed) character.
        want = normalize("NFC", prompt + typed).rstrip(), displayWidth(prompt + before)
        try:
            self.screen.expect(
                lambda: (normalize("NFC", self.inputRow()), self.screen.cursor[0]) == want
            )
        except AssertionError as e:
            got = self.inputRow(), self.screen.cursor[0]
            raise AssertionError(f"want {want!r}, got {got!r}\n{e}") from None

    def stopWithCtrlC(self) -> None:
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 0)
        self.assertEqual(self.results.next(), "stopped")


class EditingTests(EditorOnATerminal):
    def test_noticeArrivingMidTyping(self) -> None:
        """A client arriving while the operator types is told above the line, which stays."""
        self.arrive("Caio", "127.0.0.1:42652")
        prompt = '→ "Caio" 127.0.0.1:42652 · 1 waiting > '
        self.expectInput(prompt, "")
        self.screen.send("Dan")
        self.expectInput(prompt, "Dan")
        self.arrive("Duda", "127.0.0.1:2")
        prompt2 = '→ "Caio" 127.0.0.1:42652 · 2 waiting > '
        self.expectInput(prompt2, "Dan")
        self.screen.send("iel")
        self.expectInput(prompt2, "Daniel")
        rows = self.screen.rows
        y = self.screen.cursor[1]
        self.assertEqual(rows[y - 1], '"Duda" (127.0.0.1:2) is waiting too (2 in line).')
        self.assertEqual(rows[y - 2], '"Caio" (127.0.0.1:42652) is asking for your name.')
        self.screen.send("\r")
        self.assertEqual(self.results.next(), "got\tCaio\tDaniel")
        self.expectInput('→ "Duda" 127.0.0.1:2 · 1 waiting > ', "")
        self.stopWithCtrlC()

    def test_editingKeys(self) -> None:
        self.arrive("Ana", "p")
        prompt = '→ "Ana" p · 1 waiting > '
        self.screen.send("hello big world")
        self.expectInput(prompt, "hello big world")
        self.screen.send("\x17")  # Ctrl-W
        self.expectInput(prompt, "hello big ")
        self.screen.send(LEFT * 4 + "X")
        self.expectInput(prompt, "hello Xbig ", "hello X")
        self.screen.send(HOME + DELETE)
        self.expectInput(prompt, "ello Xbig ", "")
        self.screen.send(END + BACKSPACE + RIGHT)
        self.expectInput(prompt, "ello Xbig")
        self.screen.send("\x01Y\x05Z")  # Ctrl-A, Ctrl-E
        self.expectInput(prompt, "Yello XbigZ")
        self.screen.send(LEFT * 3 + "\x15")  # Ctrl-U
        self.expectInput(prompt, "igZ", "")
        self.screen.send("\x0c")  # Ctrl-L: the screen cleared, the line drawn at the top.
        self.screen.expect(
            lambda: self.screen.cursor[1] == 0 and self.inputRow() == prompt + "igZ"
        )
        self.stopWithCtrlC()

    def test_wideAndAccentedCharacters(self) -> None:
        """CJK, emoji and a combining accent: each edited as one, drawn at its width."""
        self.arrive("Zoë", "p")
        prompt = '→ "Zoë" p · 1 waiting > '
        self.screen.send("日本😀Jose\u0301")
        self.expectInput(prompt, "日本😀Jose\u0301")
        self.screen.send(LEFT)
        self.expectInput(prompt, "日本😀Jose\u0301", "日本😀Jos")
        self.screen.send(LEFT * 4 + BACKSPACE)
        self.expectInput(prompt, "日😀Jose\u0301", "日")
        self.screen.send("語")
        self.expectInput(prompt, "日語😀Jose\u0301", "日語")
        self.screen.send("\r")
        self.assertEqual(self.results.next(), "got\tZoë\t日語😀Jose\u0301")
        self.stopWithCtrlC()

    def test_history(self) -> None:
        self.arrive("A", "p1")
        self.screen.send("first\r")
        self.assertEqual(self.results.next(), "got\tA\tfirst")
        self.arrive("B", "p2")
        prompt = '→ "B" p2 · 1 waiting > '
        self.expectInput(prompt, "")
        self.screen.send("dr" + UP)
        self.expectInput(prompt, "first")
        self.screen.send(DOWN)
        self.expectInput(prompt, "dr")
        self.screen.send(UP + "!\r")
        self.assertEqual(self.results.next(), "got\tB\tfirst!")
        self.stopWithCtrlC()


class QueueTests(EditorOnATerminal):
    def test_headLeavesMidTyping(self) -> None:
        """The line typed for Caio goes to Duda only after a confirming Enter."""
        self.arrive("Caio", "127.0.0.1:1")
        self.arrive("Duda", "127.0.0.1:2")
        self.screen.send("Oi Caio")
        self.expectInput('→ "Caio" 127.0.0.1:1 · 2 waiting > ', "Oi Caio")
        self.leave("Caio")
        self.assertEqual(self.results.next(), "failed\tCaio\tCancelledError")
        prompt = '→ "Duda" 127.0.0.1:2 · 1 waiting · Enter confirms > '
        self.expectInput(prompt, "Oi Caio")
        self.screen.expect('"Caio" (127.0.0.1:1) left before your reply. Your line now answers')
        self.screen.send("\r")
        self.screen.expect("Not sent yet: this line was begun for")
        self.expectInput('→ "Duda" 127.0.0.1:2 · 1 waiting > ', "Oi Caio")
        self.screen.send(BACKSPACE * 4 + "Duda\r")
        self.assertEqual(self.results.next(), "got\tDuda\tOi Duda")
        self.expectInput("nobody waiting > ", "")
        self.stopWithCtrlC()

    def test_lineWhileNobodyWaits(self) -> None:
        """'clear' typed into the wrong pane is refused; the next client is not answered by it."""
        self.screen.send("clear\r")
        self.screen.expect("Not sent: nobody is waiting. To keep it for the next client:")
        self.expectInput("nobody waiting > ", "")
        self.arrive("Ana", "p")
        self.expectInput('→ "Ana" p · 1 waiting > ', "")
        self.screen.send("Server\r")
        self.assertEqual(self.results.next(), "got\tAna\tServer")
        self.stopWithCtrlC()

    def test_commands(self) -> None:
        self.screen.send("/help\r")
        self.screen.expect("/keep REPLY")
        self.screen.send("/keep Zé\r")
        self.screen.expect('Kept "Zé" for the next client')
        self.expectInput("nobody waiting · 1 kept > ", "")
        self.screen.send("/keep Bia\r/kept\r")
        self.screen.expect('2. "Bia"')
        self.arrive("Ana", "p1")
        self.assertEqual(self.results.next(), "got\tAna\tZé")
        self.screen.send("/drop\r")
        self.screen.expect("Dropped 1 kept reply.")
        self.arrive("Caio", "p2")
        self.arrive("Duda", "p3")
        self.expectInput('→ "Caio" p2 · 2 waiting > ', "")
        self.screen.send("/who\r")
        self.screen.expect('2. "Duda" (p3), waiting')
        self.screen.send("/close\r")
        self.assertEqual(self.results.next(), "failed\tCaio\tDismissed")
        self.screen.expect('Closed "Caio" (p2) without a reply.')
        self.screen.send("//etc\r")
        self.assertEqual(self.results.next(), "got\tDuda\t/etc")
        self.screen.send("/nope")
        self.screen.send("\r")
        self.screen.expect('Unknown command "/nope"')
        self.expectInput("nobody waiting > ", "")
        self.screen.send(UP)
        self.expectInput("nobody waiting > ", "/nope")
        self.screen.send("\x15/stop\r")
        self.assertEqual(self.screen.waitForExit(), 0)
        self.assertEqual(self.results.next(), "stopped")


class EndTests(EditorOnATerminal):
    def test_ctrlDOnALineDoesNothingOnEmptyEndsInput(self) -> None:
        self.arrive("Ana", "p")
        self.screen.send("abc\x04")
        self.expectInput('→ "Ana" p · 1 waiting > ', "abc")
        self.screen.send("\x15\x04")
        self.assertEqual(self.results.next(), "failed\tAna\tOperatorGone")
        self.screen.expect("Input closed: no more replies. Closed 1 waiting client.")
        self.expectInput("input closed · Ctrl-C stops > ", "")
        self.screen.send("typed")  # Ignored once the input is closed.
        self.arrive("Bea", "p2")
        self.assertEqual(self.results.next(), "failed\tBea\tOperatorGone")
        self.expectInput("input closed · Ctrl-C stops > ", "")
        self.stopWithCtrlC()

    def test_ctrlCRestoresTheTerminal(self) -> None:
        """Raw mode and non-blocking flags are undone at exit; the screen is kept."""
        self.arrive("Ana", "p")
        self.screen.send("half typed")
        self.expectInput('→ "Ana" p · 1 waiting > ', "half typed")
        self.assertNotEqual(self.screen.modes(), self.screen.modesBefore)
        self.stopWithCtrlC()
        self.assertEqual(self.screen.modes(), self.screen.modesBefore)
        self.assertEqual(self.screen.flags(), self.screen.flagsBefore)
        self.assertIn('"Ana" (p) is asking for your name.', self.screen.text)
        self.assertEqual(self.inputRow(), "")
        self.assertEqual(self.screen.rows[self.screen.cursor[1] - 1], "demo: stopped.")


class ChatTests(EditorOnATerminal):
    chat = True

    def test_chatLinesAreMessages(self) -> None:
        self.arrive("hello there", "127.0.0.1:7")
        self.screen.expect('127.0.0.1:7 says "hello there".')
        self.expectInput('→ 127.0.0.1:7 "hello there" · 1 waiting > ', "")
        self.screen.send("hi\r")
        self.assertEqual(self.results.next(), "got\thello there\thi")
        self.screen.expect('Sent "hi" to 127.0.0.1:7.')
        self.stopWithCtrlC()
