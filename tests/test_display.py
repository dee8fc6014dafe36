"""Tests for L{twisted_names.display}: nothing a peer sends reaches a terminal raw."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.display import describeAddress, quoted, quotedPath, shown, unsafeCharacters

HOSTILE = {
    "clear screen": ("\x1b[2J", '"\\x1b[2J"'),
    "OSC 52 clipboard": ("\x1b]52;c;aGk=\x07", '"\\x1b]52;c;aGk=\\x07"'),
    "title": ("\x1b]0;pwned\x1b\\", '"\\x1b]0;pwned\\x1b\\\\"'),
    "C1 CSI": ("\x9b31m", '"\\x9b31m"'),
    "DEL and NUL": ("a\x7f\x00", '"a\\x7f\\x00"'),
    "right-to-left override": ("abc\u202etxt.exe", '"abc\\u202etxt.exe"'),
    "isolate": ("\u2066x\u2069", '"\\u2066x\\u2069"'),
    "line separator": ("a\u2028b", '"a\\u2028b"'),
    "tab and newline": ("a\tb\nc\r", '"a\\tb\\nc\\r"'),
    "quote and backslash": ('say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
}


class QuotedTests(SynchronousTestCase):
    def test_plainNames(self) -> None:
        self.assertEqual(quoted("Ana"), '"Ana"')
        self.assertEqual(quoted("José 山田"), '"José 山田"')

    def test_hostileNames(self) -> None:
        for what, (name, expected) in HOSTILE.items():
            self.assertEqual(quoted(name), expected, what)

    def test_emojiSequencesKept(self) -> None:
        family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
        self.assertEqual(quoted(family), f'"{family}"')

    @given(st.text())
    def test_alwaysPrintable(self, text: str) -> None:
        """Whatever the text, what is shown has no control or format character."""
        shownText = quoted(text)
        self.assertEqual(unsafeCharacters(shownText), [])
        self.assertNotIn("\x1b", shownText)

    @given(st.text())
    def test_shownIsSafeToo(self, text: str) -> None:
        self.assertEqual(unsafeCharacters(shown(text)), [])

    def test_shown(self) -> None:
        self.assertEqual(shown("Bob"), "Bob")
        self.assertEqual(shown("\x1b[2J"), '"\\x1b[2J"')
        self.assertEqual(shown(""), '""')
        self.assertEqual(shown(" Bob"), '" Bob"')


class DescribeAddressTests(SynchronousTestCase):
    def test_addresses(self) -> None:
        self.assertEqual(describeAddress(IPv4Address("TCP", "127.0.0.1", 5000)), "127.0.0.1:5000")
        self.assertEqual(describeAddress(IPv6Address("TCP", "::1", 5000)), "[::1]:5000")
        self.assertEqual(describeAddress(UNIXAddress(b"/tmp/s")), "unix:/tmp/s")
        self.assertEqual(describeAddress(UNIXAddress(None)), "unix")


class QuotedPathTests(SynchronousTestCase):
    """A path the user typed: as typed, but for unsafe characters."""

    def test_windowsPath(self) -> None:
        self.assertEqual(quotedPath("C:\\Users\\Ana\\aula.md"), '"C:\\Users\\Ana\\aula.md"')

    def test_unsafeEscaped(self) -> None:
        self.assertEqual(quotedPath("a\x1b[2J\u202eb.md"), '"a\\x1b[2J\\u202eb.md"')
