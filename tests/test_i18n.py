"""
Tests for L{twisted_names.i18n} and the pt_BR catalog (issue 9).

The catalog tests read the sources and the C{.po} with Babel, the tool the
build compiles with: every message marked in the code has a pt_BR
translation, and no translation drops or renames a placeholder.
"""

from __future__ import annotations

import gettext
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from twisted.trial.unittest import SynchronousTestCase

from twisted_names import i18n

ROOT = Path(__file__).parent.parent
PO = ROOT / "twisted_names" / "locale" / "pt_BR" / "LC_MESSAGES" / "twisted_names.po"


def portuguese() -> gettext.GNUTranslations:
    """The pt_BR catalog compiled from the checkout's C{.po}, as the build does."""
    with PO.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog)
    out.seek(0)
    return gettext.GNUTranslations(out)


def sourceMessages() -> dict[tuple[object, str | None], list[str]]:
    """Each message marked in the package and plugin (with its context), with where it is."""
    found: dict[tuple[object, str | None], list[str]] = {}
    for directory in ("twisted_names", "twisted_plugins"):
        for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")]
        ):
            found.setdefault((message, context), []).append(f"{directory}/{filename}:{lineno}")
    return found


def forms(value: object) -> tuple[str, ...]:
    """A catalog entry's id or string as a tuple: one text, or a plural's forms."""
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def fields(text: str) -> set[str]:
    """The C{str.format} placeholders in C{text}."""
    return {
        name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None
    }


class ChosenLanguageTests(SynchronousTestCase):
    """The language comes from the environment as gettext reads it, or Windows' UI."""

    def choose(self, environ: dict[str, str], ui: str | None = None) -> list[str]:
        return i18n.chosenLanguages(environ, lambda: ui)

    def test_portugueseSpellings(self) -> None:
        """C{pt}, C{pt_BR}, C{pt_BR.UTF-8}, C{pt-br} and C{pt_PT} all reach pt_BR."""
        for value in ("pt", "pt_BR", "pt_BR.UTF-8", "pt_BR.utf8@x", "pt-br", "pt_PT.UTF-8"):
            self.assertIn("pt_BR", self.choose({"LANG": value}), value)

    def test_order(self) -> None:
        """LANGUAGE, then LC_ALL, LC_MESSAGES, LANG: the first set wins."""
        env = {"LANGUAGE": "pt_BR", "LC_ALL": "de_DE", "LC_MESSAGES": "fr", "LANG": "es"}
        self.assertEqual(self.choose(env), ["pt_BR"])
        del env["LANGUAGE"]
        self.assertEqual(self.choose(env), ["de_DE"])
        del env["LC_ALL"]
        self.assertEqual(self.choose(env), ["fr"])
        del env["LC_MESSAGES"]
        self.assertEqual(self.choose(env), ["es"])

    def test_languageList(self) -> None:
        """LANGUAGE is a list, best first."""
        self.assertEqual(self.choose({"LANGUAGE": "fr:pt:en"}), ["fr", "pt", "pt_BR"])

    def test_englishFirst(self) -> None:
        """English before Portuguese in the list means English (it has no catalog)."""
        self.assertEqual(self.choose({"LANGUAGE": "en:pt_BR"}), [])
        self.assertEqual(self.choose({"LANGUAGE": "en_GB:pt"}), [])
        self.assertEqual(self.choose({"LANG": "en_US.UTF-8"}), [])
        self.assertEqual(self.choose({}, ui="en_US"), [])

    def test_cMeansEnglish(self) -> None:
        """C{C} or C{POSIX} as the locale means English, whatever LANGUAGE says."""
        self.assertEqual(self.choose({"LANG": "C"}), [])
        self.assertEqual(self.choose({"LANGUAGE": "pt_BR", "LC_ALL": "C"}), [])
        self.assertEqual(self.choose({"LANGUAGE": "pt_BR", "LANG": "POSIX"}), [])
        self.assertEqual(self.choose({"LANG": "C.UTF-8"}), [])

    def test_cUTF8KeepsLanguage(self) -> None:
        """
        C{C.UTF-8} (many containers' default) does not stop C{LANGUAGE}, as in
        glibc: only C{C} and C{POSIX} do.
        """
        self.assertEqual(self.choose({"LANGUAGE": "pt_BR", "LANG": "C.UTF-8"}), ["pt_BR"])

    def test_windowsUILanguage(self) -> None:
        """With nothing set (usual on Windows), the user's UI language is used."""
        self.assertEqual(self.choose({}, ui="pt_BR"), ["pt_BR"])
        self.assertEqual(self.choose({}, ui=None), [])
        self.assertEqual(self.choose({"LANG": "en_US"}, ui="pt_BR"), [])

    def test_notWindows(self) -> None:
        """Elsewhere there is no UI language to ask."""
        if sys.platform == "win32":
            raise self.skipTest("Windows has a display language to ask (tested above, faked)")
        self.assertIsNone(i18n.windowsUILanguage())

    def test_loadFallsBackToEnglish(self) -> None:
        """A language with no catalog, or none at all, gives the English text."""
        self.assertEqual(i18n.load(["xx"]).gettext("Hello"), "Hello")
        self.assertEqual(i18n.load([]).ngettext("a", "b", 2), "b")

    def test_use(self) -> None:
        """L{i18n.use} replaces the process's catalog; L{None} chooses again."""
        self.addCleanup(i18n.use, None)
        catalog = Catalog(locale="pt_BR")
        catalog.add("Hello", "Olá")
        out = io.BytesIO()
        write_mo(out, catalog)
        out.seek(0)
        i18n.use(gettext.GNUTranslations(out))
        self.assertEqual(i18n._("Hello"), "Olá")
        i18n.use(gettext.NullTranslations())
        self.assertEqual(i18n._("Hello"), "Hello")


class DecimalTests(SynchronousTestCase):
    """Numbers with decimals are written as the language writes them."""

    def test_english(self) -> None:
        self.addCleanup(i18n.use, None)
        i18n.use(gettext.NullTranslations())
        self.assertEqual(i18n.decimal(3.04), "3.0")
        self.assertEqual(i18n.decimal(1500.25, 2), "1500.25")

    def test_portuguese(self) -> None:
        """A comma in pt_BR, and no thousands separator added."""
        self.addCleanup(i18n.use, None)
        i18n.use(portuguese())
        self.assertEqual(i18n.decimal(3.04), "3,0")
        self.assertEqual(i18n.decimal(1500.25, 2), "1500,25")
        self.assertEqual(i18n.decimal(7, 0), "7")


class CatalogTests(SynchronousTestCase):
    """The pt_BR catalog is complete and keeps every placeholder."""

    def setUp(self) -> None:
        with PO.open("rb") as f:
            self.catalog = read_po(f)
        self.marked = sourceMessages()

    @staticmethod
    def first(message: object) -> str:
        """The singular of a plural message: the catalog's key."""
        return forms(message)[0]

    def test_somethingIsMarked(self) -> None:
        """The extraction finds the marked messages (a broken extractor finds none)."""
        self.assertGreater(len(self.marked), 0)

    def test_everyMessageTranslated(self) -> None:
        """Each message marked in the code has a non-fuzzy pt_BR translation."""
        missing = []
        for (message, context), where in self.marked.items():
            msgid = self.first(message)
            entry = self.catalog.get(msgid, context=context)
            strings = entry.string if entry is not None else None
            texts = forms(strings)
            if entry is None or entry.fuzzy or not texts or not all(texts):
                missing.append(f"{where[0]}: {msgid!r}")
        self.assertEqual(missing, [], f"{len(missing)} messages lack a pt_BR translation")

    def test_noStaleEntries(self) -> None:
        """The catalog holds no message the code no longer uses."""
        used = {(self.first(m), context) for m, context in self.marked}
        stale = [m.id for m in self.catalog if m.id and (self.first(m.id), m.context) not in used]
        self.assertEqual(stale, [])

    def test_placeholdersKept(self) -> None:
        """A translation has exactly the placeholders of its English text."""
        wrong = []
        for entry in self.catalog:
            if not entry.id:
                continue
            ids, texts = forms(entry.id), forms(entry.string)
            expected = set().union(*(fields(i) for i in ids))
            # A plural's singular form may leave out the count ("um cliente").
            if any(fields(t) - expected for t in texts) or fields(texts[-1]) != expected:
                wrong.append(f"{ids[0]!r}: {texts!r}")
        self.assertEqual(wrong, [])

    def test_pluralForms(self) -> None:
        """pt_BR's plural rule: 0 and 1 are singular."""
        self.assertEqual(self.catalog.plural_forms, "nplurals=2; plural=(n > 1);")

    def test_compiles(self) -> None:
        """Babel finds no error in the catalog (the build compiles it the same way)."""
        errors = [(m.id, e) for m, e in self.catalog.check()]
        self.assertEqual(errors, [])
        self.assertIsInstance(portuguese(), gettext.GNUTranslations)


class TranslatedOptionsTests(SynchronousTestCase):
    """C{--help} in Portuguese: our descriptions and Twisted's words around them."""

    def test_help(self) -> None:
        from twisted.python import usage

        from twisted_names.app.helptext import TranslatedOptions
        from twisted_names.i18n import N_

        class Example(TranslatedOptions):
            synopsis = N_("[options]")
            longdesc = N_("Display this help and exit.")
            optParameters = [["port", "p", 5000, N_("Display Twisted version and exit.")]]

        def example() -> Example:
            """An Example as twistd runs a plugin's options: the Usage line is twistd's."""
            from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

            twistd = ServerOptions()
            twistd.subCommand = "example"
            options = Example()
            options.parent = twistd
            return options

        self.addCleanup(i18n.use, None)
        i18n.use(portuguese())
        text = str(example())
        self.assertIn("Uso: twistd [opções] example [opções]", text)
        self.assertIn("Opções:", text)
        self.assertIn("Mostra a versão do Twisted e sai. [padrão: 5000]", text)
        self.assertIn("--help", text)
        self.assertEqual(text.count("Mostra esta ajuda e sai."), 2)  # longdesc and --help
        self.assertNotIn("Display", text)
        i18n.use(gettext.NullTranslations())
        self.assertIn("Display this help and exit.", str(example()))
        self.assertIsInstance(Example(), usage.Options)
