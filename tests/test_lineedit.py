"""Tests for L{twisted_names.console.lineedit}: the line being typed, as a pure model."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.console.lineedit import LineBuffer, clip, displayWidth, fitLine, graphemes, wrap


def typed(text: str, maxChars: int = 4096) -> LineBuffer:
    line = LineBuffer(maxChars)
    line.insert(text)
    return line


class WidthTests(SynchronousTestCase):
    def test_widths(self) -> None:
        self.assertEqual(displayWidth("Caio"), 4)
        self.assertEqual(displayWidth("日本"), 4)
        self.assertEqual(displayWidth("😀"), 2)
        self.assertEqual(displayWidth("e\u0301"), 1)  # A combining accent takes no cell.
        self.assertEqual(displayWidth("José"), 4)

    def test_clip(self) -> None:
        self.assertEqual(clip("Caio", 4), "Caio")
        self.assertEqual(clip("Caio", 3), "Ca…")
        self.assertEqual(clip("日本語", 4), "日…")

    def test_wrapBetweenWords(self) -> None:
        self.assertEqual(wrap("one two three four", 9), ["one two", "three", "four"])

    def test_wrapCutsAWordWiderThanARow(self) -> None:
        self.assertEqual(wrap("abcdefghijkl", 8), ["abcdefgh", "ijkl"])

    @given(st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs", "So"])))
    def test_wrapRowsFit(self, text: str) -> None:
        for row in wrap(text, 10):
            self.assertLessEqual(displayWidth(row), 10)


class EditingTests(SynchronousTestCase):
    def test_insertAtCursor(self) -> None:
        line = typed("Cio")
        line.left()
        line.left()
        line.insert("a")
        self.assertEqual((line.text, line.cursor), ("Caio", 2))

    def test_combiningAccentJoinsItsLetter(self) -> None:
        """A decomposed é is one character to move over and erase."""
        line = typed("Jose")
        line.insert("\u0301")
        self.assertEqual(line.text, "Jose\u0301")
        line.left()
        self.assertEqual(line.before(), "Jos")
        line.end()
        line.backspace()
        self.assertEqual(line.text, "Jos")

    def test_wideCharacters(self) -> None:
        line = typed("日本😀")
        line.left()
        self.assertEqual(line.before(), "日本")
        line.backspace()
        self.assertEqual(line.text, "日😀")

    def test_unsafeCharactersDropped(self) -> None:
        line = typed("a\x1b[2J\u202eb")
        self.assertEqual(line.text, "a[2Jb")

    def test_bounded(self) -> None:
        line = typed("abc", maxChars=4)
        self.assertFalse(line.insert("de"))
        self.assertTrue(line.insert("d"))
        self.assertEqual(line.text, "abcd")

    def test_homeEndDelete(self) -> None:
        line = typed("abc")
        line.home()
        line.delete()
        self.assertEqual((line.text, line.cursor), ("bc", 0))
        line.backspace()  # Nothing left of the cursor.
        line.end()
        line.delete()  # Nothing right of it.
        self.assertEqual((line.text, line.cursor), ("bc", 2))

    def test_killToStart(self) -> None:
        line = typed("hello world")
        for _ in range(5):
            line.left()
        line.killToStart()
        self.assertEqual((line.text, line.cursor), ("world", 0))

    def test_killWord(self) -> None:
        line = typed("hello big  world  ")
        line.killWord()
        self.assertEqual(line.text, "hello big  ")
        line.killWord()
        self.assertEqual(line.text, "hello ")
        line.killWord()
        line.killWord()
        self.assertEqual(line.text, "")


class HistoryTests(SynchronousTestCase):
    def test_upDownKeepsTheDraft(self) -> None:
        line = LineBuffer()
        line.remember("one")
        line.remember("two")
        line.insert("dra")
        line.up()
        self.assertEqual(line.text, "two")
        line.up()
        line.up()  # No further.
        self.assertEqual(line.text, "one")
        line.down()
        self.assertEqual(line.text, "two")
        line.down()
        self.assertEqual((line.text, line.cursor), ("dra", 3))
        line.down()
        self.assertEqual(line.text, "dra")

    def test_noDuplicatesInARowAndBounded(self) -> None:
        line = LineBuffer(maxHistory=2)
        for word in ("a", "a", "b", "c"):
            line.remember(word)
        self.assertEqual(line.history, ["b", "c"])


class FitLineTests(SynchronousTestCase):
    def test_fits(self) -> None:
        self.assertEqual(fitLine("> ", "日本", "日", 80), ("> 日本", 4))

    def test_longLineScrollsToTheCursor(self) -> None:
        text = "".join(str(i % 10) for i in range(100))
        row, column = fitLine("> ", text, text, 20)
        self.assertLessEqual(displayWidth(row), 19)
        self.assertTrue(row.startswith("> …"))
        self.assertTrue(row.endswith("789"))
        self.assertEqual(column, displayWidth(row))

    def test_cursorAtStartOfLongLine(self) -> None:
        text = "x" * 100
        row, column = fitLine("> ", text, "", 20)
        self.assertEqual((row, column), ("> " + "x" * 16 + "…", 2))

    @given(
        st.text(st.sampled_from("ab日😀é"), max_size=60),
        st.integers(0, 60),
        st.integers(12, 40),
    )
    def test_alwaysFitsAndCursorInside(self, text: str, at: int, width: int) -> None:
        line = typed(text)
        line.home()
        for _ in range(at):
            line.right()
        row, column = fitLine('→ "Ana" 1 waiting > ', line.text, line.before(), width)
        self.assertLessEqual(displayWidth(row), width - 1)
        self.assertLessEqual(column, displayWidth(row))


class WrapIndentTests(SynchronousTestCase):
    def test_indentKept(self) -> None:
        """A row of a help table keeps its indent, also on the rows it wraps to."""
        self.assertEqual(
            wrap("  /who  list the waiting clients", 16),
            ["  /who  list the", "  waiting", "  clients"],
        )

    def test_indentAtMostHalf(self) -> None:
        """A text of spaces does not push the words off a narrow row."""
        rows = wrap(" " * 30 + "word", 10)
        self.assertTrue(all(displayWidth(r) <= 10 for r in rows))
        self.assertEqual("".join(rows).strip(), "word")


class LongLineTests(SynchronousTestCase):
    @given(
        st.lists(st.sampled_from(["a", "ç", "e\u0301", "\u0301", "日", " ", "👍🏽"])), st.data()
    )
    def test_insertAnywhereSameAsWhole(self, pieces: list[str], data: st.DataObject) -> None:
        """
        Inserting piece by piece, cursor moved around, keeps the same
        graphemes and length as splitting the whole text at once (insert
        splits only around the cursor).
        """
        line = LineBuffer(maxChars=10_000)
        for piece in pieces:
            for _ in range(data.draw(st.integers(0, 2))):
                line.left()
            line.insert(piece)
        self.assertEqual(line.length(), len(line.text))
        self.assertEqual(line._chars, graphemes(line.text))

    def test_room(self) -> None:
        line = LineBuffer(maxChars=5)
        line.insert("abc")
        self.assertEqual(line.room(), 2)
        self.assertFalse(line.insert("def"))
        self.assertEqual(line.text, "abc")
