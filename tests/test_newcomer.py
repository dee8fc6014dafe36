"""
What a newcomer read in the three programs' C{--help} that the programs did
not do (found by trying the product from the README, in both languages).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from twisted_names import i18n
from twisted_names.app import cli, proxytap, tap


def helpOf(program: Callable[[], usage.Options], language: str) -> str:
    """C{--help} of C{program}'s options in C{language}, as a person reads it."""
    before = i18n.current()
    i18n.use(i18n.load([language]))
    try:
        return " ".join(str(program()).split())
    finally:
        i18n.use(before)


class TraceFileHelpTests(SynchronousTestCase):
    """
    C{--trace-file} adds each run at the file's end and never empties it
    (README, docs/teaching.md); every C{--help} said it was overwritten.
    """

    programs: list[Callable[[], usage.Options]] = [
        tap.Options,
        proxytap.Options,
        cli.ClientOptions,
    ]

    def test_english(self) -> None:
        for options in self.programs:
            text = helpOf(options, "en")
            self.assertNotIn("overwritten", text)
            self.assertIn("The file is never emptied: each run is added at its end", text)

    def test_portuguese(self) -> None:
        for options in self.programs:
            text = helpOf(options, "pt_BR")
            self.assertNotIn("sobrescrito", text)
            self.assertIn("O arquivo nunca é apagado: cada execução é acrescentada no fim", text)


class ProxyToTests(SynchronousTestCase):
    """
    C{names-proxy --to} given only a port, or only a host, as a student
    first writes it: one line that says what C{--to} wants, not Twisted's
    C{unknown endpoint type '5000'}.
    """

    def refusal(self, to: str) -> str:
        error = self.assertRaises(usage.UsageError, proxytap.Options().parseOptions, ["--to", to])
        return str(error)

    def test_portOnly(self) -> None:
        self.assertEqual(
            self.refusal("5000"),
            "--to: '5000' is only a port: give the server as HOST:PORT, such as 127.0.0.1:5000",
        )

    def test_hostOnly(self) -> None:
        self.assertEqual(
            self.refusal("localhost"),
            "--to: 'localhost' has no port: give the server as HOST:PORT, such as localhost:5000",
        )

    def test_hostOnlyEscaped(self) -> None:
        """What the person typed is shown escaped."""
        self.assertIn("'a\\x1bb' has no port", self.refusal("a\x1bb"))

    def test_endpointStringsStillTaken(self) -> None:
        options = proxytap.Options()
        options.parseOptions(["--to", "tcp:host=127.0.0.1:port=5000"])
        self.assertEqual(options["upstream"], "tcp:host=127.0.0.1:port=5000")

    def test_ipv6HostOnly(self) -> None:
        self.assertEqual(
            self.refusal("::1"),
            "--to: '::1' has no port: give the server as HOST:PORT, such as [::1]:5000",
        )


class EndpointKindEscapedTests(SynchronousTestCase):
    """
    An unknown endpoint type is quoted from Twisted's words, which do not
    escape it: what was typed (a paste holding an escape sequence) reached
    the terminal raw in the error line.
    """

    def test_unknownKindEscaped(self) -> None:
        from twisted.internet.endpoints import serverFromString

        from twisted_names.app.options import checkEndpoint

        error = self.assertRaises(usage.UsageError, checkEndpoint, serverFromString, "a\x1bb:1")
        self.assertNotIn("\x1b", str(error))
        self.assertIn("unknown endpoint type 'a\\x1bb'", str(error))
