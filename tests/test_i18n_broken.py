"""
Tests for a broken translation (issue 16, item 12): a catalog that cannot
be read gives English and one warning; a translation whose placeholders do
not fit its message gives that message in English.  Never a traceback, never
"unexpected KeyError ... a bug".
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.processes import refusingPort
from tests.test_cli import CLITestCase
from tests.test_i18n import PO
from tests.test_trace import english
from twisted_names import i18n
from twisted_names.client import explain
from twisted_names.trace.ladder import chunkText

REFUSED = (
    "cannot connect to {where}: connection refused (is the server running, and listening on"
    " that address and port? Its console says where: 127.0.0.1 unless started with"
    " --interface 0.0.0.0, which lets other machines in)"
)
BYTES = ("{count} byte", "{count} bytes")


def catalog(folder: str, broken: dict[object, object] | None = None, header: str = "") -> Path:
    """
    The checkout's pt_BR catalog, compiled into C{folder} as
    C{pt_BR/LC_MESSAGES/twisted_names.mo}, with the translations of
    C{broken} (by message id) replaced, and C{header} added to its headers.
    """
    with PO.open("rb") as f:
        messages = read_po(f)
    for message in messages:
        if broken and message.id in broken:
            message.string = broken[message.id]  # type: ignore[assignment]
    mo = Path(folder, "pt_BR", "LC_MESSAGES", "twisted_names.mo")
    mo.parent.mkdir(parents=True)
    out = io.BytesIO()
    write_mo(out, messages)
    data = out.getvalue()
    if header:
        data = data.replace(b"Plural-Forms: nplurals=2; plural=(n > 1);", header.encode())
    mo.write_bytes(data)
    return mo


def refused() -> str:
    return str(explain(Failure(ConnectionRefusedError()), "127.0.0.1:1"))


class PlaceholderTests(SynchronousTestCase):
    """A translation with a wrong or broken placeholder: that message in English."""

    def setUp(self) -> None:
        english(self)

    def use(self, broken: dict[object, object]) -> None:
        folder = self.mktemp()
        catalog(folder, broken)
        i18n.use(i18n.load(["pt_BR"], Path(folder)))

    def test_renamed(self) -> None:
        self.use({REFUSED: "não foi possível conectar a {onde}: conexão recusada"})
        self.assertEqual(refused(), REFUSED.format(where="127.0.0.1:1"))
        # Every other message is still Portuguese.
        self.assertEqual(i18n._("Server: {answer}").format(answer="x"), "Servidor: x")

    def test_broken(self) -> None:
        self.use({REFUSED: "não foi possível conectar a {where: conexão recusada"})
        self.assertIn("connection refused", refused())

    def test_positional(self) -> None:
        self.use({REFUSED: "não foi possível conectar a {}: conexão recusada"})
        self.assertIn("connection refused", refused())

    def test_leftOutIsFine(self) -> None:
        """A translation may leave a placeholder out (a singular often does)."""
        self.use({REFUSED: "não foi possível conectar: conexão recusada"})
        self.assertEqual(refused(), "não foi possível conectar: conexão recusada")

    def test_plural(self) -> None:
        self.use({BYTES: ("{count} byte", "{contagem} bytes")})
        self.assertEqual(chunkText(b"abc", 3).split("  ")[1], "3 bytes")
        self.assertEqual(chunkText(b"a", 1).split("  ")[1], "1 byte")

    def test_pluralFormulaFails(self) -> None:
        folder = self.mktemp()
        catalog(folder, header="Plural-Forms: nplurals=2; plural=(n % 0);")
        i18n.use(i18n.load(["pt_BR"], Path(folder)))
        self.assertEqual(i18n.ngettext(*BYTES, 2).format(count=2), "2 bytes")


class UnreadableCatalogTests(SynchronousTestCase):
    """A catalog that cannot be read: English for everything, and one warning."""

    def load(self, data: bytes) -> tuple[gettext.NullTranslations, list[str]]:
        folder = self.mktemp()
        mo = catalog(folder)
        if data:
            mo.write_bytes(data)
        warned: list[str] = []
        return i18n.load(["pt_BR"], Path(folder), warn=warned.append), warned

    def test_notACatalog(self) -> None:
        translations, warned = self.load(b"this is not a catalog at all\n" * 10)
        self.assertEqual(translations.gettext(REFUSED), REFUSED)
        [line] = warned
        self.assertRegex(
            line,
            # The path as the system writes it (a backslash between folders on Windows).
            r"^twisted-names: warning: the pt_BR translation cannot be read \(.*pt_BR[/\\]"
            r"LC_MESSAGES[/\\]twisted_names\.mo: .+\); messages are in English$",
        )

    def test_truncated(self) -> None:
        folder = self.mktemp()
        whole = catalog(folder).read_bytes()
        translations, warned = self.load(whole[: len(whole) // 3])
        self.assertEqual(translations.gettext(REFUSED), REFUSED)
        self.assertEqual(len(warned), 1)

    def test_badPluralForms(self) -> None:
        folder = self.mktemp()
        catalog(folder, header="Plural-Forms: nplurals=2; plural=(n > import os);")
        warned: list[str] = []
        translations = i18n.load(["pt_BR"], Path(folder), warn=warned.append)
        self.assertEqual(translations.ngettext(*BYTES, 2), BYTES[1])
        self.assertEqual(len(warned), 1)

    def test_good(self) -> None:
        """The checkout's own catalog: no warning."""
        translations, warned = self.load(b"")
        self.assertEqual(warned, [])
        self.assertNotEqual(translations.gettext(REFUSED), REFUSED)


class ClientTests(CLITestCase):
    """The client's command line with a bad catalog: English, exit status 3, not 1."""

    async def test_refused(self) -> None:
        folder = self.mktemp()
        catalog(folder, {REFUSED: "não foi possível conectar a {onde}"})
        i18n.use(i18n.load(["pt_BR"], Path(folder)))
        self.addCleanup(i18n.use, None)
        port = refusingPort(self)
        status, out, err = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual((status, out), (3, ""))
        self.assertEqual(err, f"erro: {REFUSED.format(where=f'127.0.0.1:{port}')}\n")
