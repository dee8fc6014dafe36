"""
C{--help} in the reader's language: L{usage.Options} has no translation
hooks of its own, so L{TranslatedOptions} translates what it is given (the
long description, the synopsis, each option's description) and writes the
help itself (L{TranslatedOptions.getSynopsis}, L{TranslatedOptions.getUsage})
from the options' tables, with Twisted's own layout of the table
(L{usage.docMakeChunks}) and our words around it: no text of Twisted's is
rewritten after the fact.

An option's description is written in English, marked with L{N_} where it is
defined (C{optParameters}, C{optFlags}, C{longdesc}); an C{opt_*} method's
description is its docstring, which the extractor does not see, so a class
also lists those in C{optDocs}, marked with L{N_}.
"""

from __future__ import annotations

import getopt
import os
import sys
import textwrap
from typing import ClassVar

from twisted.application.app import ServerOptions
from twisted.python import usage

from twisted_names.app.options import badOption, nameRefusals
from twisted_names.i18n import N_, _

#: The descriptions Twisted's own C{opt_help} and C{opt_version} carry.
TWISTED_DOCS = {
    "help": N_("Display this help and exit."),
    "version": N_("Display Twisted version and exit."),
}


class TranslatedOptions(usage.Options):
    """
    L{usage.Options} whose C{--help} is in the chosen language.

    @cvar optDocs: descriptions of C{opt_*} options, marked with L{N_}, by
        long option name; they replace the docstrings.
    """

    optDocs: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        nameRefusals(self)
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
        """
        The synopsis, ours and translated; under twistd, the whole command
        line in our words (twistd's own synopsis, C{Usage: twistd [options]},
        is its English text); under another runner (C{twist}), its line.
        """
        synopsis = getattr(type(self), "synopsis", None)
        ours = _(synopsis).rstrip() if synopsis else ""
        if self.parent is None:
            return ours or super().getSynopsis()
        if not isinstance(self.parent, ServerOptions):
            # Another runner (twist): its own line, in its words, then ours.
            return f"{self.parent.getSynopsis()} {self.parent.subCommand} {ours}"
        return _("Usage: twistd [options] {command} {synopsis}").format(
            command=self.parent.subCommand, synopsis=ours
        )

    def getUsage(self, width: int | None = None) -> str:
        """
        The options and their descriptions, as L{usage.Options.getUsage}
        lays them out (L{usage.docMakeChunks}), in the chosen language: the
        table is made here from the options' own tables, its defaults said
        in our words.
        """
        width = width or int(os.environ.get("COLUMNS", "80"))
        shortOf = {long: short for short, long in self.synonyms.items() if len(short) == 1}
        rows = []
        for opt in self.longOpt:
            name = opt.rstrip("=")
            parameter = opt.endswith("=")
            doc = self.docs[name] or ""
            default = self.defaults.get(name) if parameter else None
            if default is not None:
                if isinstance(default, float) and default.is_integer():
                    default = int(default)  # 330 seconds, as the README says, not 330.0.
                doc = _("{description} [default: {value}]").format(
                    description=doc.strip(), value=default
                )
            optType = "parameter" if parameter else "flag"
            rows.append({"long": name, "short": shortOf.get(name), "doc": doc, "optType": optType})
        if rows:
            table = _("Options:") + "\n" + "".join(usage.docMakeChunks(rows, width))
        else:
            table = _("Options: None") + "\n"
        longdesc = getattr(self, "longdesc", None) or ""
        if longdesc:
            longdesc = "\n" + "\n".join(textwrap.wrap(longdesc, width)).strip() + "\n"
        return table + longdesc
