"""
The client in Brazilian Portuguese (issue 9): its messages with the pt_BR
catalog, in this process; then the real command line, with C{LANGUAGE} set
or not, through pipes and on a pseudo-terminal.
"""

from __future__ import annotations

import gettext
import socket
import sys
import threading
from typing import Any
from unittest import skipIf

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python import usage
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.harness import Input
from tests.processes import (
    CLIENT,
    ProgramTestCase,
    childEnvironment,
    reactor,
    refusingPort,
    spawn,
)
from tests.skips import NO_TLS
from tests.test_cli import CLITestCase
from tests.test_i18n import portuguese
from twisted_names import i18n
from twisted_names.app.cli import ClientOptions, answerLine
from twisted_names.app.options import explainUsageError, unknownOption
from twisted_names.client import NameClientProtocol
from twisted_names.wire import InvalidName, checkName

PORTUGUESE = "pt_BR.UTF-8"


def inPortuguese(testCase: SynchronousTestCase) -> None:
    """Use the pt_BR catalog until the test ends."""
    testCase.addCleanup(i18n.use, None)
    i18n.use(portuguese())


def inEnglish(testCase: SynchronousTestCase) -> None:
    """Use no catalog (English) until the test ends, whatever the environment says."""
    testCase.addCleanup(i18n.use, None)
    i18n.use(gettext.NullTranslations())


def usageError(*argv: str) -> str:
    """What the client says of C{argv}, which has a usage error."""
    try:
        ClientOptions().parseOptions(list(argv))
    except usage.UsageError as e:
        return explainUsageError(e, list(argv))
    raise AssertionError(f"{argv} parsed")


class UsageErrorTests(SynchronousTestCase):
    """getopt's and Twisted's English messages are replaced by ours, in both languages."""

    cases = {
        ("--bogus",): ("option --bogus not recognized", "opção --bogus desconhecida"),
        ("-x",): ("option -x not recognized", "opção -x desconhecida"),
        ("--port",): ("option --port needs a value", "a opção --port precisa de um valor"),
        ("--chat=yes",): ("option --chat takes no value", "a opção --chat não aceita valor"),
        ("--h",): (
            "option --h is the start of more than one option: type more of it",
            "--h é o começo de mais de uma opção: digite mais letras do nome dela",
        ),
        ("Ana",): (
            "unexpected argument: every value is given after its option (such as --name NAME)",
            "argumento inesperado: todo valor vem depois da sua opção (como em --name NOME)",
        ),
        ("-pabc",): (
            "-p: 'abc' is not a port number (0-65535)",
            "-p: 'abc' não é um número de porta (0-65535)",
        ),
        ("--timeout=-1",): (
            "--timeout: '-1' is not a number of seconds (0 for no limit)",
            "--timeout: '-1' não é um número de segundos (0: sem limite)",
        ),
        ("--max-length", "0"): (
            "--max-length: '0' is not a whole number of at least 1",
            "--max-length: '0' não é um número inteiro maior ou igual a 1",
        ),
        ("--port", "70000"): (
            "--port: 70000 is not a port number (0-65535)",
            "--port: 70000 não é um número de porta (0-65535)",
        ),
        ("--name", " "): ("--name: the name is empty", "--name: o nome está vazio"),
        ("-e", "nosuch:x"): (
            "bad endpoint 'nosuch:x': unknown endpoint type 'nosuch'",
            "endpoint inválido 'nosuch:x': tipo de endpoint desconhecido 'nosuch'",
        ),
    }

    def test_english(self) -> None:
        inEnglish(self)
        for argv, (english, _portuguese) in self.cases.items():
            self.assertEqual(usageError(*argv), english, argv)

    def test_portuguese(self) -> None:
        inPortuguese(self)
        for argv, (_english, expected) in self.cases.items():
            self.assertEqual(usageError(*argv), expected, argv)

    def test_unknownOption(self) -> None:
        """The option getopt did not know, whatever the language of the message."""
        inPortuguese(self)
        for argv, expected in [(["--bogus"], "--bogus"), (["-x"], "-x"), (["--port"], None)]:
            with self.assertRaises(usage.UsageError) as caught:
                ClientOptions().parseOptions(argv)
            self.assertEqual(unknownOption(caught.exception), expected, argv)


class MessageTests(SynchronousTestCase):
    """A few messages of each kind, in Portuguese."""

    def test_invalidNameIsAWholeSentence(self) -> None:
        """What the operator's C{Not sent: ...} and the client quote, translated whole."""
        inPortuguese(self)
        self.assertEqual(str(self.assertRaises(InvalidName, checkName, "")), "o nome está vazio")
        self.assertEqual(
            str(self.assertRaises(InvalidName, checkName, "a\x07")),
            'o nome contém caracteres de controle ("\\x07")',
        )

    def test_plural(self) -> None:
        """pt_BR: 0 and 1 are singular."""
        inPortuguese(self)
        self.assertEqual(
            str(self.assertRaises(InvalidName, checkName, "a", 0)),
            "o nome tem 1 byte; o limite é 0",
        )
        self.assertEqual(
            str(self.assertRaises(InvalidName, checkName, "João", 2)),
            "o nome tem 5 bytes; o limite é 2",
        )
        for limit, expected in [(1, "1 byte"), (3, "3 bytes")]:
            protocol = NameClientProtocol(Clock(), maxLength=limit)
            protocol.makeConnection(StringTransport())
            asked = protocol.ask("Ana")
            protocol.dataReceived(b"Bobby\n")
            self.assertEqual(
                str(self.failureResultOf(asked).value),
                f"a resposta do servidor tem mais de {expected}",
            )

    @skipIf(NO_TLS is not None, NO_TLS or "")
    def test_trust(self) -> None:
        """TLS refusals: the certificate's names are data, the sentence is translated."""
        from tests.certs import selfSigned
        from twisted_names.trust import certificateProblem, refusal

        inPortuguese(self)
        names = ["a.example", "b.example", "c.example", "d.example", "e.example"]
        self.assertEqual(
            certificateProblem(selfSigned("x", names), "localhost"),
            "o certificado dele é de a.example, b.example, c.example e mais 2, não de localhost",
        )
        self.assertEqual(
            certificateProblem(selfSigned("evil.example", None), "localhost"),
            "o certificado dele não tem subjectAltName (o subject dele: CN=evil.example),"
            " então não é de nenhum host, nem de localhost",
        )
        self.assertEqual(
            str(refusal("localhost")),
            "não é possível confiar no servidor: o certificado dele não é de localhost",
        )

    def test_answerLabel(self) -> None:
        """
        The answer is data: never translated, always escaped.  Its label is
        translated on a terminal only; programs reading a pipe get C{Server:}.
        """
        inPortuguese(self)
        self.assertEqual(answerLine("João", onTerminal=True), "Servidor: João")
        self.assertEqual(answerLine("João", onTerminal=False), "Server: João")
        self.assertEqual(answerLine("\x1b[2J", onTerminal=True), 'Servidor: "\\x1b[2J"')

    def test_help(self) -> None:
        """Every description, the exit statuses, Twisted's words: Portuguese."""
        inPortuguese(self)
        text = str(ClientOptions())
        for expected in [
            "names-client [opções]",
            "Opções:",
            "Mostra esta ajuda e sai.",
            "Mostra a versão do twisted-names (e do Twisted) e sai.",
            "A porta TCP do servidor. [padrão: 5000]",
            "Código de saída: 0",
            "130 interrompido.",
        ]:
            self.assertIn(expected, " ".join(text.split()), expected)
        self.assertEqual(text.count("[padrão:"), 5, text)
        for english in ["default", "Display", "The server", "Exit status", "Seconds"]:
            self.assertNotIn(english, text)


class CommandLineTests(CLITestCase):
    """The command line, in this process, with the pt_BR catalog."""

    def setUp(self) -> None:
        inPortuguese(self)

    async def test_badOption(self) -> None:
        status, out, err = await self.runClient("--port", "banana")
        self.assertEqual(
            (status, out, err),
            (
                2,
                "",
                "erro: --port: 'banana' não é um número de porta (0-65535)\n"
                "Use --help para ver as opções.\n",
            ),
        )

    async def test_refused(self) -> None:
        listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Factory())
        port = listening.getHost().port
        await listening.stopListening()
        result = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual(
            result,
            (
                3,
                "",
                f"erro: não foi possível conectar com 127.0.0.1:{port}: conexão recusada"
                " (o servidor está rodando, e escutando nesse endereço e nessa porta? O"
                " console dele diz onde: 127.0.0.1, a não ser que tenha sido iniciado com"
                " --interface 0.0.0.0, que deixa outras máquinas entrarem)\n",
            ),
        )

    async def test_prompt(self) -> None:
        class Terminal(Input):
            def isatty(self) -> bool:
                return True

        status, out, err = await self.runClient("-p", "1", stdin=Terminal(""))
        self.assertEqual(
            (status, out, err),
            (
                2,
                "Digite seu nome: \n",
                "erro: nenhum nome: a entrada terminou antes de uma linha ser lida\n",
            ),
        )


class ProcessTestCase(ProgramTestCase):
    async def runClient(self, *options: str, **variables: str) -> tuple[int, str, str]:
        """Run the client with these language variables (and no others)."""
        env = childEnvironment()
        env.update(variables)
        process = spawn(self, "client", [*CLIENT, *options], env=env)
        status = await process.ended
        self.assertNoTraceback(process)
        return status, process.out, process.err


class ProcessTests(ProcessTestCase):
    """The real client: Portuguese with C{LANGUAGE=pt_BR.UTF-8}, English with C{LANG=C}."""

    async def test_refused(self) -> None:
        port = refusingPort(self)
        portuguese = (
            3,
            "",
            f"erro: não foi possível conectar com 127.0.0.1:{port}: conexão recusada"
            " (o servidor está rodando, e escutando nesse endereço e nessa porta? O console"
            " dele diz onde: 127.0.0.1, a não ser que tenha sido iniciado com --interface"
            " 0.0.0.0, que deixa outras máquinas entrarem)\n",
        )
        english = (
            3,
            "",
            f"error: cannot connect to 127.0.0.1:{port}: connection refused"
            " (is the server running, and listening on that address and port? Its console"
            " says where: 127.0.0.1 unless started with --interface 0.0.0.0, which lets"
            " other machines in)\n",
        )
        options = ("-p", str(port), "-n", "Ana")
        self.assertEqual(await self.runClient(*options, LANGUAGE=PORTUGUESE), portuguese)
        self.assertEqual(await self.runClient(*options, LANG="pt_BR.UTF-8"), portuguese)
        self.assertEqual(await self.runClient(*options), english)
        self.assertEqual(await self.runClient(*options, LANG="C"), english)
        # LANG=C means English even where LANGUAGE asks for Portuguese (as gettext does).
        self.assertEqual(await self.runClient(*options, LANGUAGE=PORTUGUESE, LANG="C"), english)

    async def test_badOption(self) -> None:
        self.assertEqual(
            await self.runClient("--bogus", LANGUAGE=PORTUGUESE),
            (2, "", "erro: opção --bogus desconhecida\nUse --help para ver as opções.\n"),
        )
        self.assertEqual(
            await self.runClient("--bogus", LANGUAGE=PORTUGUESE, LC_ALL="C"),
            (2, "", "error: option --bogus not recognized\nRun with --help for the options.\n"),
        )

    async def test_help(self) -> None:
        status, out, err = await self.runClient("--help", LANGUAGE=PORTUGUESE)
        self.assertEqual((status, err), (0, ""))
        out = " ".join(out.split())
        for expected in ["Opções:", "Mostra esta ajuda e sai.", "Código de saída", "[padrão:"]:
            self.assertIn(expected, out)
        self.assertNotIn("default", out)
        status, out, err = await self.runClient("--help", LANGUAGE=PORTUGUESE, LANG="C")
        self.assertEqual((status, err), (0, ""))
        out = " ".join(out.split())
        for expected in ["Options:", "Display this help and exit.", "Exit status", "[default:"]:
            self.assertIn(expected, out)
        self.assertNotIn("Opções", out)

    async def test_answerForScripts(self) -> None:
        """Through a pipe the answer line stays C{Server: NAME} in Portuguese too."""
        server = await _answeringServer(self, b"Jos\xc3\xa9\n")
        status, out, err = await self.runClient(
            "-p", str(server), "-n", "João", LANGUAGE=PORTUGUESE
        )
        self.assertEqual((status, out, err), (0, "Server: José\n", ""))


async def _answeringServer(testCase: Any, answer: bytes) -> int:
    """A server in this process answering C{answer} to any line; its port."""
    from twisted.internet.protocol import Protocol

    class Answer(Protocol):
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(answer)  # type: ignore[union-attr]
            self.transport.loseConnection()  # type: ignore[union-attr]

    listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(Answer)
    )
    testCase.addCleanup(listening.stopListening)
    return int(listening.getHost().port)


class OneAnswer:
    """
    A server in a thread (the pseudo-terminal test blocks this one): it
    answers the first line of one client with C{answer}, then closes.
    """

    def __init__(self, testCase: SynchronousTestCase, answer: bytes) -> None:
        self.received = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(30)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, args=(answer,), daemon=True)
        self._thread.start()
        testCase.addCleanup(self._stop)

    def _serve(self, answer: bytes) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(30)
            while b"\n" not in self.received:
                chunk = connection.recv(1024)
                if not chunk:
                    return
                self.received += chunk
            connection.sendall(answer)

    def _stop(self) -> None:
        self._listener.close()
        self._thread.join(30)


class TerminalTests(SynchronousTestCase):
    """The client on a pseudo-terminal, read through pyte, as a student sees it."""

    def onTerminal(self, port: int, **variables: str) -> Any:
        if sys.platform == "win32":
            raise SkipTest("no pseudo-terminals here")
        from tests.screen import Screen

        env = childEnvironment()
        # Screen adds our own environment under env: blank what we do not set.
        for variable in i18n.LANGUAGE_VARIABLES:
            env[variable] = variables.get(variable, "")
        screen = Screen([*CLIENT, "-p", str(port)], env=env)
        self.addCleanup(screen.close)
        return screen

    def test_portuguese(self) -> None:
        server = OneAnswer(self, "Zé\n".encode())
        screen = self.onTerminal(server.port, LANGUAGE=PORTUGUESE)
        screen.expect("Digite seu nome:")
        screen.send("João\r")
        self.assertEqual(screen.waitForExit(), 0, screen.text)
        # Every line fits in 80 columns: none is cut in the middle of a word.
        self.assertEqual(screen.rows[0], "Digite seu nome: João")
        self.assertEqual(
            screen.rows[1],
            f"Aguardando 127.0.0.1:{server.port}: o operador digita a resposta"
            " (Ctrl-C cancela)...",
        )
        self.assertEqual(screen.rows[2], "Servidor: Zé")
        self.assertEqual(server.received, "João\n".encode())
        self.assertEqual(screen.errors(), "")

    def test_english(self) -> None:
        """C{LANG=C} wins over C{LANGUAGE}."""
        server = OneAnswer(self, "Zé\n".encode())
        screen = self.onTerminal(server.port, LANGUAGE=PORTUGUESE, LANG="C")
        screen.expect("Your name:")
        screen.send("João\r")
        self.assertEqual(screen.waitForExit(), 0, screen.text)
        self.assertEqual(screen.rows[0], "Your name: João")
        self.assertTrue(screen.rows[1].startswith("Waiting for 127.0.0.1:"), screen.text)
        self.assertIn("Server: Zé", screen.rows)
        self.assertEqual(server.received, "João\n".encode())

    def test_errorOnTerminal(self) -> None:
        """An empty name asks again; Ctrl-D gives up; all in Portuguese."""
        screen = self.onTerminal(1, LANGUAGE="pt")
        screen.expect("Digite seu nome:")
        screen.send("\r")
        screen.expect("É preciso um nome: uma linha vazia não envia nada.")
        screen.send("\x04")
        self.assertEqual(screen.waitForExit(), 2, screen.text)
        self.assertEqual(
            screen.errors(), "erro: nenhum nome: a entrada terminou antes de uma linha ser lida\n"
        )
