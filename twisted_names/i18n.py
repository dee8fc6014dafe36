"""
The words people read, in their language (issue 9): standard gettext with a
C{twisted_names} domain whose catalogs ship in C{twisted_names/locale}.

English is the source language and the default.  The source marks a message
with L{_} where it is shown, or with L{N_} where it is only defined (an option
description, a log format) and translated later by whoever shows it; plurals
use L{ngettext}.  Messages use C{str.format} placeholders by name
(C{_("Sent {reply} to {who}.").format(...)}) so that a translation can put
them in its own order; a test checks that no translation drops or renames one.

What machines read is never translated: the wire, log events and their
fields, the JSON log, the text log (C{--logfile}), exit statuses.  A log
format is marked with L{N_} so that the operator's console can show it
translated (C{_(event["log_format"])}) while the log file keeps the English
text.

The language is chosen once per process, the standard way (L{chosenLanguages}).
"""

from __future__ import annotations

import functools
import gettext
import os
import string
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

DOMAIN = "twisted_names"
#: Where the compiled catalogs (C{<lang>/LC_MESSAGES/twisted_names.mo}) are:
#: built from the C{.po} sources next to them when the package is built.
LOCALE_DIR = Path(__file__).parent / "locale"

#: The environment variables that choose the language, in the order gettext
#: reads them.
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

#: The language the messages are written in: it needs no catalog.
SOURCE_LANGUAGE = "en"

#: Languages with a catalog, and what a bare language code selects.
_REGIONS = {"pt": "pt_BR"}


def _code(name: str) -> str:
    """C{pt_BR.UTF-8@euro} -> C{pt_BR}; C{pt-br} -> C{pt_BR}."""
    code = name.strip().split(".")[0].split("@")[0].replace("-", "_")
    language, _sep, region = code.partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def chosenLanguages(environ: Mapping[str, str], uiLanguage: Callable[[], str | None]) -> list[str]:
    """
    The languages to look for, best first; empty for English.

    As GNU gettext does: C{LANGUAGE} (a colon-separated list) is read first,
    unless the locale itself is C{C} or C{POSIX} (C{LANG=C} means English even
    where a desktop sets C{LANGUAGE}; C{C.UTF-8}, the default of many
    containers, does not stop C{LANGUAGE}, as in glibc); then the first of
    C{LC_ALL}, C{LC_MESSAGES}, C{LANG} that is set (C{C.UTF-8} there:
    English).  Where none is set (as usual on Windows) the user's UI
    language, from C{uiLanguage}, is used.

    C{pt}, C{pt_BR} and C{pt_BR.UTF-8} all select C{pt_BR}, the one
    Portuguese catalog.  English anywhere in the list ends it: with
    C{LANGUAGE=en:pt_BR} the person asked for English first, and English,
    the source language, has no catalog to be found.
    """
    locale = next((environ[v] for v in LANGUAGE_VARIABLES[1:] if environ.get(v)), "")
    if locale in ("C", "POSIX"):
        return []
    names: list[str] = []
    if environ.get("LANGUAGE"):
        names = environ["LANGUAGE"].split(":")
    elif locale:
        names = [locale]
    else:
        ui = uiLanguage()
        names = [ui] if ui else []
    return list(dict.fromkeys(_expanded(names)))


def _expanded(names: list[str]) -> Iterator[str]:
    for name in names:
        code = _code(name)
        if not code:
            continue
        if code.upper() in ("C", "POSIX") or code.partition("_")[0] == SOURCE_LANGUAGE:
            # English is the source: nothing further down the list is wanted.
            return
        yield code
        language = code.partition("_")[0]
        if language in _REGIONS:
            yield _REGIONS[language]


def windowsUILanguage() -> str | None:
    """
    The Windows user's display language as a locale name (C{pt_BR}), or
    L{None} elsewhere: Windows rarely sets C{LANG}; Mercurial's
    C{mercurial/i18n.py} does the same.
    """
    if sys.platform != "win32":
        return None
    import ctypes
    import locale

    try:
        langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()
    except (AttributeError, OSError):
        return None
    return locale.windows_locale.get(langid)


def _fields(text: str) -> frozenset[tuple[str, str | None, str]] | None:
    """
    The C{str.format} fields of C{text} (name, conversion, format spec;
    automatic numbers as C{#0}, C{#1}...), or L{None} if it is no format.
    """
    found = set()
    automatic = 0
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(text):
            if name is None:
                continue
            if name == "":
                name, automatic = f"#{automatic}", automatic + 1
            found.add((name, conversion, spec or ""))
    except ValueError:
        return None
    return frozenset(found)


@functools.lru_cache(maxsize=4096)
def fits(translation: str, *english: str) -> bool:
    """
    Whether C{translation} can be formatted wherever its English message
    (or any of its plural forms, C{english}) is: every field it uses is one
    of theirs.  A translation may leave out a field (C{"um cliente"} for
    C{"{count} client"}), never add, rename or break one: the call site's
    C{.format(...)} would raise.
    """
    theirs: set[tuple[str, str | None, str]] = set()
    for text in english:
        fields = _fields(text)
        if fields is None:
            return True  # Not a format in English: never formatted.
        theirs |= fields
    mine = _fields(translation)
    return mine is not None and mine <= theirs


class CheckedTranslations(gettext.GNUTranslations):
    """
    A catalog that never hands out a translation its call site cannot
    format (issue 16): the one place every message passes through on its
    way to C{.format(...)}, so that no call site has to guard against a
    catalog.  A translation with a placeholder the English message does
    not have (a typo, a translated name, a broken brace) gives the English
    message instead, for that message only; a plural formula that fails
    gives the English form.
    """

    def gettext(self, message: str) -> str:
        translated = super().gettext(message)
        return translated if translated is message or fits(translated, message) else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        english = msgid1 if n == 1 else msgid2
        try:
            translated = super().ngettext(msgid1, msgid2, n)
        except ArithmeticError:  # A Plural-Forms formula dividing by zero.
            return english
        return translated if fits(translated, msgid1, msgid2) else english

    def pgettext(self, context: str, message: str) -> str:
        translated = super().pgettext(context, message)
        return translated if translated is message or fits(translated, message) else message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        english = msgid1 if n == 1 else msgid2
        try:
            translated = super().npgettext(context, msgid1, msgid2, n)
        except ArithmeticError:
            return english
        return translated if fits(translated, msgid1, msgid2) else english


#: What is said when a catalog cannot be read: in English, and not marked for
#: translation, since there is then no catalog to translate it with.
UNREADABLE = (
    "twisted-names: warning: the {language} translation cannot be read ({why});"
    " messages are in English"
)


def load(
    languages: list[str],
    localedir: Path = LOCALE_DIR,
    warn: Callable[[str], object] | None = None,
) -> gettext.NullTranslations:
    """
    The catalog for the first of C{languages} that has one, or English.

    A catalog that cannot be read (a corrupt or truncated C{.mo}, a bad
    header) gives English for every message, and C{warn} is told why, once:
    a person's language is worth less than a program that runs.
    """
    try:
        return gettext.translation(
            DOMAIN,
            localedir,
            languages=languages or ["en"],
            fallback=True,
            class_=CheckedTranslations,
        )
    except Exception as e:  # Whatever the file holds: it is data, not code.
        if warn is not None:
            found = gettext.find(DOMAIN, str(localedir), languages or ["en"]) or "?"
            why = " ".join(str(e).split()) or type(e).__name__
            warn(UNREADABLE.format(language=", ".join(languages), why=f"{found}: {why}"))
        return gettext.NullTranslations()


def _warnOnStderr(text: str) -> None:
    """One line on stderr, if there is one to write to."""
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


_current: gettext.NullTranslations | None = None


def current() -> gettext.NullTranslations:
    """
    This process's catalog, chosen from its environment on first use (when
    the options are parsed, before any terminal is set up: a catalog that
    cannot be read is said on stderr then).
    """
    global _current
    if _current is None:
        _current = load(chosenLanguages(os.environ, windowsUILanguage), warn=_warnOnStderr)
    return _current


def use(translations: gettext.NullTranslations | None) -> None:
    """
    Use C{translations} from now on (L{None}: choose again from the
    environment).  For tests, and for a program that knows better.
    """
    global _current
    _current = translations


def _(message: str) -> str:
    """C{message} in the chosen language."""
    return current().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for C{n} things, in the chosen language."""
    return current().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """C{message}, in the sense C{context} gives it, in the chosen language."""
    return current().pgettext(context, message)


def N_(message: str) -> str:
    """Mark C{message} for translation where it is defined; L{_} shows it."""
    return message


class Preformatted(str):
    """
    A log event's format that is one field whose text was formatted ahead,
    in English (C{"{exchange}"}), carrying in L{form} the format that text
    follows, marked for translation.

    Formatting many fields with Twisted's formatter costs more than a busy
    server can spend on an event (docs/performance.md); formatting ahead
    keeps the log file fast, and L{form} lets the operator's console show
    the event in its language (L{twisted_names.logs.words}).  Everywhere
    else it is the plain string C{"{field}"}: the log file and the JSON log
    are unchanged.
    """

    form: str

    def __new__(cls, field: str, form: str) -> Preformatted:
        self = super().__new__(cls, "{" + field + "}")
        self.form = form
        return self


def decimal(value: float, digits: int = 1) -> str:
    """
    C{value} with C{digits} decimals, written as the chosen language writes
    numbers: C{3.5} in English, C{3,5} in Portuguese.  The separator is a
    message of its own (context C{decimal separator}), so a translation sets it.
    """
    return f"{value:.{digits}f}".replace(".", current().pgettext("decimal separator", "."))
