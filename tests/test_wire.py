"""Tests for L{twisted_names.wire}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_names.wire import (
    CRLF,
    LF,
    UNTERMINATED,
    InvalidName,
    Message,
    checkName,
    decodeMessage,
    encodeLine,
    splitEnding,
)


class WireTests(SynchronousTestCase):
    def test_decode(self) -> None:
        self.assertEqual(decodeMessage("Zoë".encode(), LF), Message("Zoë", LF, 4))
        self.assertTrue(decodeMessage(b"\xc3", LF).replaced)

    def test_terminated(self) -> None:
        self.assertTrue(Message("a", CRLF, 1).terminated)
        self.assertFalse(Message("a", UNTERMINATED, 1).terminated)

    def test_splitEnding(self) -> None:
        self.assertEqual(splitEnding(b"a\r"), (b"a", CRLF))
        self.assertEqual(splitEnding(b"a"), (b"a", LF))

    def test_encode(self) -> None:
        self.assertEqual(encodeLine("Zoë"), "Zoë\n".encode())
        self.assertEqual(encodeLine("a", CRLF), b"a\r\n")
        self.assertEqual(encodeLine("a", UNTERMINATED), b"a")


class CheckNameTests(SynchronousTestCase):
    def test_stripped(self) -> None:
        self.assertEqual(checkName("  Ana \n"), "Ana")

    def test_empty(self) -> None:
        e = self.assertRaises(InvalidName, checkName, " \t")
        self.assertEqual(str(e), "the name is empty")

    def test_tooLongInBytes(self) -> None:
        self.assertEqual(checkName("é" * 5, 10), "é" * 5)
        e = self.assertRaises(InvalidName, checkName, "é" * 6, 10)
        self.assertEqual(str(e), "the name is 12 bytes long; the limit is 10")

    def test_controlCharacters(self) -> None:
        e = self.assertRaises(InvalidName, checkName, "a\x1b[2Jb\x07")
        self.assertEqual(str(e), 'the name holds control characters ("\\x1b", "\\x07")')
        self.assertRaises(InvalidName, checkName, "a\nb")
        self.assertRaises(InvalidName, checkName, "abc\u202edef")
