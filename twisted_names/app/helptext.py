"""
C{--help} in the reader's language: L{usage.Options} has no translation
hooks of its own, so L{TranslatedOptions} translates what it is given (the
long description, the synopsis, each option's description) and the few words
Twisted adds itself.

An option's description is written in English, marked with L{N_} where it is
defined (C{optParameters}, C{optFlags}, C{longdesc}); an C{opt_*} method's
description is its docstring, which the extractor does not see, so a class
also lists those in C{optDocs}, marked with L{N_}.
"""

from __future__ import annotations

import getopt
import sys
from typing import ClassVar

from twisted.python import usage

from twisted_names.app.options import badOption
from twisted_names.i18n import N_, _

#: The descriptions Twisted's own C{opt_help} and C{opt_version} carry.
TWISTED_DOCS = {
    "help": N_("Display this help and exit."),
    "version": N_("Display Twisted version and exit."),
}

#: What Twisted writes around the descriptions, with what to write instead.
_TWISTED_WORDS = {
    "Usage: ": N_("Usage: "),
    "Options:\n": N_("Options:\n"),
    "Options: None\n": N_("Options: None\n"),
    "Commands:\n": N_("Commands:\n"),
    "[default: ": N_("[default: "),
}


def _twistedWords(text: str) -> str:
    for english, marked in _TWISTED_WORDS.items():
        text = text.replace(english, _(marked))
    # Where Twisted wrapped the line just after "[default:".
    return text.replace("[default:\n", _(_TWISTED_WORDS["[default: "]).rstrip() + "\n")


class TranslatedOptions(usage.Options):
    """
    L{usage.Options} whose C{--help} is in the chosen language.

    @cvar optDocs: descriptions of C{opt_*} options, marked with L{N_}, by
        long option name; they replace the docstrings.
    """

    optDocs: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        docs = {**TWISTED_DOCS, **self.optDocs}
        self.docs = {
            name: _(docs.get(name, doc)) if (docs.get(name, doc) or "").strip() else doc
            for name, doc in self.docs.items()
        }
        longdesc = getattr(self, "longdesc", None)
        if longdesc:
            self.longdesc = _(longdesc)

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Parse; an option C{getopt} refuses is a L{BadOption} in our words,
        found from this class's own option tables.
        """
        argv = sys.argv[1:] if options is None else list(options)
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            refused = e.__context__
            if isinstance(refused, getopt.GetoptError) and str(e) == str(refused):
                raise badOption(refused, argv, self.shortOpt, self.longOpt) from e
            raise

    def getSynopsis(self) -> str:
        """The synopsis (our own, and the C{Usage:} of twistd's) translated."""
        synopsis = getattr(type(self), "synopsis", None)
        text = super().getSynopsis()
        if synopsis:
            text = text.replace(synopsis.rstrip(), _(synopsis).rstrip())
        return _twistedWords(text)

    def getUsage(self, width: int | None = None) -> str:
        """The options' descriptions, and Twisted's words around them, translated."""
        return _twistedWords(super().getUsage(width))
