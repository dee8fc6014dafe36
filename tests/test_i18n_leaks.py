"""
English that reached a Portuguese-speaking person in a real pt_BR session,
now translated: the trace's reasons for no reply, the system's reasons
(C{strerror}, English whatever the language), twistd's lines for a TLS or
UNIX port, and Python's words for an endpoint's bad number.  Each test also
checks the English, so it fails if the translation is missing or the
English source changed.
"""

from __future__ import annotations

import errno
import gettext
import io
import os
import socket
import sys
from unittest import skipIf

import twisted
from twisted.internet.endpoints import serverFromString
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from tests.skips import NO_TLS
from tests.test_i18n import portuguese
from twisted_names import __version__, i18n
from twisted_names.app.options import checkEndpoint
from twisted_names.app.tap import Options
from twisted_names.logs.words import translated
from twisted_names.oserrors import describe
from twisted_names.trace.file import checkTraceFile


class LanguageCase(SynchronousTestCase):
    def inPortuguese(self) -> None:
        i18n.use(portuguese())
        self.addCleanup(i18n.use, None)

    def inEnglish(self) -> None:
        i18n.use(gettext.NullTranslations())
        self.addCleanup(i18n.use, None)


class SystemReasonTests(LanguageCase):
    def test_known(self) -> None:
        self.inPortuguese()
        missing = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT))
        self.assertEqual(describe(missing), "arquivo ou pasta inexistente")
        self.inEnglish()
        self.assertEqual(describe(missing), "no such file or folder")

    def test_unknown(self) -> None:
        """Any other reason: the system's words, or the exception's text."""
        self.inPortuguese()
        child = ChildProcessError(errno.ECHILD, "No child processes")
        self.assertEqual(describe(child), "No child processes")
        self.assertEqual(describe(ValueError("bad")), "bad")

    def test_traceFile(self) -> None:
        self.inPortuguese()
        path = os.path.join(self.mktemp(), "aula.md")
        with self.assertRaises(usage.UsageError) as raised:
            checkTraceFile({"trace-file": path})
        self.assertEqual(
            str(raised.exception),
            f'--trace-file: não é possível escrever em "{path}": arquivo ou pasta inexistente',
        )


class TwistdLinesTests(LanguageCase):
    def shown(self, text: str) -> str:
        event = translated({"log_format": "{log_text}", "log_text": text})
        return str(event["log_format"]).format(**event)

    def test_tlsAndUnix(self) -> None:
        self.inPortuguese()
        self.assertEqual(
            self.shown("NameServerFactory (TLS) starting on 5970"),
            "NameServerFactory (TLS) iniciando na porta 5970",
        )
        self.assertEqual(self.shown("(TLS Port 5970 Closed)"), "(porta TLS 5970 fechada)")
        self.assertEqual(
            self.shown("(UNIX Port '/tmp/names.sock' Closed)"),
            "(porta UNIX '/tmp/names.sock' fechada)",
        )


class EndpointTests(LanguageCase):
    def test_notANumber(self) -> None:
        self.inPortuguese()
        with self.assertRaises(usage.UsageError) as raised:
            checkEndpoint(serverFromString, "tcp:abc")
        self.assertEqual(
            str(raised.exception), "endpoint inválido 'tcp:abc': 'abc' não é um número inteiro"
        )

    @skipIf(NO_TLS is not None, NO_TLS or "")
    def test_missingFile(self) -> None:
        """A certificate or key file that is not there: said in our words."""
        self.inPortuguese()
        description = "ssl:0:privateKey=nokey.pem:certKey=nocert.pem"
        with self.assertRaises(usage.UsageError) as raised:
            checkEndpoint(serverFromString, description)
        self.assertRegex(
            str(raised.exception),
            r"^endpoint inválido 'ssl:0:privateKey=nokey\.pem:certKey=nocert\.pem': não é"
            r' possível ler ".*no(cert|key)\.pem": arquivo ou pasta inexistente$',
        )


class HostReasonTests(LanguageCase):
    def test_unknownHost(self) -> None:
        self.inPortuguese()
        error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.assertEqual(describe(error), "nome de host desconhecido")
        self.inEnglish()
        self.assertEqual(describe(error), "unknown host name")


class ServerVersionTests(LanguageCase):
    def test_version(self) -> None:
        """C{--version} is ours, words-free (Twisted's said "Twisted version:")."""
        self.inPortuguese()
        out = io.StringIO()
        self.patch(sys, "stdout", out)
        with self.assertRaises(SystemExit) as exited:
            Options().parseOptions(["--version"])
        self.assertEqual(exited.exception.code, 0)
        self.assertEqual(
            out.getvalue(),
            f"names-server (twisted-names) {__version__}, Twisted {twisted.__version__}\n",
        )
        self.assertIn(
            "Mostra a versão do twisted-names (e do Twisted) e sai.",
            " ".join(str(Options()).split()),
        )
