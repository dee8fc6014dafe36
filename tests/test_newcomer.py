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
