"""
The server's side in Portuguese (issue 9): the operator's console (the
editor's model and the plain console for pipes), the log lines it shows,
C{--help} and usage errors; with the pt_BR catalog (L{portuguese}) in unit
tests, and with C{LANGUAGE=pt_BR.UTF-8} in real processes.  Without a
language, the same is English.
"""

from __future__ import annotations

import gettext
import io
import sys
from pathlib import Path
from typing import Any
from unittest import skipIf

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver, MemoryReactorClock
from twisted.logger import LogLevel, globalLogPublisher
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from tests.pipes import until
from tests.processes import (
    ADOPTED,
    PIDFILE,
    STOPPED,
    TWISTD,
    TWISTD_ADOPTING,
    ProgramTestCase,
    childEnvironment,
    heldListener,
    reactor,
    readToEnd,
    saidPort,
    sendOver,
    spawn,
    spawnServer,
    startClient,
    startServer,
)
from tests.said import ADDRESS
from tests.skips import NO_CHILD_FDS, WINDOWS, WINDOWS_NO_DAEMON
from tests.test_i18n import portuguese
from tests.test_operator import FakeView
from twisted_names import i18n
from twisted_names.app.tap import Options
from twisted_names.console.model import Discipline, Entered, Operator
from twisted_names.console.plain import PlainLines
from twisted_names.console.words import EditorLines
from twisted_names.logs.observers import BatchedFileLogObserver, TerminalLogObserver
from twisted_names.replies import ReplyQueue
from twisted_names.server import Why, logExchange


class InPortuguese(SynchronousTestCase):
    """A test with the pt_BR catalog in use, and English again after it."""

    def setUp(self) -> None:
        self.addCleanup(i18n.use, None)
        i18n.use(portuguese())


class OperatorInPortugueseTests(InPortuguese):
    """The editor's model: notices, prompt and /help in Portuguese."""

    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.view = FakeView()
        self.op = Operator(
            self.queue, EditorLines(self.view), self.clock, maxLength=20, stop=lambda: None
        )
        self.view.operator = self.op

    def enter(self, line: str) -> Entered:
        self.op.typingChanged(True)
        outcome = self.op.lineEntered(line)
        if outcome is Entered.DONE:
            self.op.typingChanged(False)
        return outcome

    def test_promptPlural(self) -> None:
        """One client waiting is singular, three are plural; nobody has its own words."""
        self.assertEqual(self.op.prompt(), "ninguém esperando > ")
        self.queue.ask("José", "127.0.0.1:1")
        self.assertEqual(self.op.prompt(), '→ "José" 127.0.0.1:1 · 1 na fila > ')
        self.queue.ask("Ana", "127.0.0.1:2")
        self.queue.ask("Íris", "127.0.0.1:3")
        self.assertEqual(self.op.prompt(), '→ "José" 127.0.0.1:1 · 3 na fila > ')

    def test_notices(self) -> None:
        """Arrivals, a sent reply and a departure are told in Portuguese."""
        self.op.greet("127.0.0.1:5000")
        d1 = self.queue.ask("José", "127.0.0.1:1")
        d2 = self.queue.ask("Conceição", "127.0.0.1:2")
        self.enter("Servidor")
        self.assertEqual(self.successResultOf(d1), "Servidor")
        d2.cancel()
        self.failureResultOf(d2, CancelledError)
        self.assertEqual(
            self.view.notices,
            [
                "names-server: escutando em 127.0.0.1:5000.\n"
                "Os nomes dos clientes aparecem aqui; digite uma resposta e tecle Enter."
                " /help lista os comandos.",
                '"José" (127.0.0.1:1) está pedindo o seu nome.',
                '"Conceição" (127.0.0.1:2) também está esperando (2 na fila).',
                'Resposta "Servidor" enviada para "José" (127.0.0.1:1).',
                '"Conceição" (127.0.0.1:2) saiu antes da sua resposta.',
            ],
        )

    def test_keptAndDropped(self) -> None:
        """Kept replies: the prompt and the notices agree in number."""
        self.enter("Bia")
        self.assertIn("Não enviada: ninguém está esperando.", self.view.notices[-1])
        self.enter("/keep Zé")
        self.assertEqual(self.op.prompt(), "ninguém esperando · 1 guardada > ")
        self.enter("/keep Lia")
        self.assertEqual(self.op.prompt(), "ninguém esperando · 2 guardadas > ")
        self.enter("/drop")
        self.assertEqual(self.view.notices[-1], "2 respostas guardadas descartadas.")

    def test_help(self) -> None:
        """/help is Portuguese, the command names stay as they are typed."""
        self.enter("/help")
        text = self.view.notices[-1]
        self.assertTrue(text.startswith("Digite uma resposta e tecle Enter"), text)
        self.assertIn("/keep RESPOSTA", text)
        self.assertIn("/who", text)
        self.assertNotIn("Type a reply", text)

    def test_who(self) -> None:
        """/who: a plural title and a duration."""
        self.queue.ask("José", "127.0.0.1:1")
        self.clock.advance(65)
        self.enter("/who")
        self.assertEqual(
            self.view.notices[-1],
            '1 cliente esperando:\n1. "José" (127.0.0.1:1), esperando há 1 min 5 s',
        )

    def test_english(self) -> None:
        """Without a catalog, the same model speaks English."""
        i18n.use(gettext.NullTranslations())
        self.queue.ask("José", "127.0.0.1:1")
        self.assertEqual(self.op.prompt(), '→ "José" 127.0.0.1:1 · 1 waiting > ')


class PlainConsoleInPortugueseTests(InPortuguese):
    """The console for pipes, in Portuguese."""

    def test_exchange(self) -> None:
        lines: list[str] = []
        queue = ReplyQueue(Clock(), timeout=0)
        console = Operator(
            queue, PlainLines(lines.append), queue.clock, maxLength=20, discipline=Discipline.PIPE
        )
        console.greet("127.0.0.1:5000")
        queue.ask("José", "127.0.0.1:1")
        iris = queue.ask("Íris", "127.0.0.1:2")
        console.lineTyped("Conceição")
        iris.cancel()
        self.failureResultOf(iris, CancelledError)
        self.assertEqual(
            lines,
            [
                "names-server: escutando em 127.0.0.1:5000.",
                "Os nomes dos clientes aparecem aqui; digite o nome do servidor e tecle Enter"
                " para responder.",
                "Ctrl-D: sem mais respostas (os clientes que esperam são fechados)."
                " Ctrl-C: encerrar.",
                '"José" (127.0.0.1:1) está pedindo o seu nome.',
                '> A próxima linha responde a "José" (127.0.0.1:1) [1 na fila]',
                '"Íris" (127.0.0.1:2) também está esperando.',
                '> A próxima linha responde a "José" (127.0.0.1:1) [2 na fila]',
                'Resposta "Conceição" enviada para "José" (127.0.0.1:1).',
                '> A próxima linha responde a "Íris" (127.0.0.1:2) [1 na fila]',
                '"Íris" (127.0.0.1:2) saiu antes da sua resposta.',
                "Ninguém está esperando agora; a próxima linha responde ao próximo cliente.",
            ],
        )


class LogsInPortugueseTests(InPortuguese):
    """
    The console shows log lines translated; the log file keeps the same
    events in English.
    """

    def events(self) -> list[dict[str, Any]]:
        """An exchange and a warning, as the server logs them."""
        events = EventLoggingObserver()
        globalLogPublisher.addObserver(events)
        self.addCleanup(globalLogPublisher.removeObserver, events)
        logExchange("127.0.0.1:1", "José", "Conceição", 0.25)
        from twisted_names.server import log

        log.emit(LogLevel.warn, Why.TOO_LONG, peer="127.0.0.1:2", limit=10, size=20)
        return [dict(e) for e in events if e.get("log_namespace") == "names"]

    def observed(self, plain: bool) -> tuple[list[str], str]:
        shown: list[str] = []
        terminal = TerminalLogObserver(None)
        terminal.plain = plain
        terminal.show = shown.append
        logFile = io.StringIO()
        batched = BatchedFileLogObserver(logFile, MemoryReactorClock())  # type: ignore[arg-type]
        for event in self.events():
            terminal(event)
            batched(event)
        return shown, logFile.getvalue()

    def test_pipe(self) -> None:
        """On a pipe every line is shown, translated; the log file has English."""
        shown, written = self.observed(plain=False)
        self.assertEqual(len(shown), 2, shown)
        self.assertIn(
            "[names#info] 127.0.0.1:1 'José' recebeu a resposta 'Conceição' em 0.250 s", shown[0]
        )
        self.assertIn(
            "127.0.0.1:2 enviou uma linha com mais de 10 bytes (20 bytes); fechando", shown[1]
        )
        self.assertIn("127.0.0.1:1 'José' answered 'Conceição' in 0.250 s", written)
        self.assertIn("127.0.0.1:2 sent a line longer than 10 bytes (20 bytes); closing", written)
        self.assertNotIn("recebeu", written)

    def test_editor(self) -> None:
        """With the editor only warnings are shown, in plain Portuguese words."""
        shown, written = self.observed(plain=True)
        self.assertEqual(
            shown,
            ["aviso: 127.0.0.1:2 enviou uma linha com mais de 10 bytes (20 bytes); fechando"],
        )
        self.assertIn("sent a line longer than 10 bytes", written)


class OptionsInPortugueseTests(InPortuguese):
    """C{twistd names-server --help} and its usage errors."""

    def test_help(self) -> None:
        text = str(Options())
        self.assertIn("Porta TCP em que escutar (0: qualquer porta livre).", text)
        self.assertIn("Uma troca de nomes por TCP.", text)
        self.assertIn("Mostra esta ajuda e sai.", text)
        self.assertIn("[padrão: 5000]", text)
        self.assertNotIn("TCP port to listen on", text)

    def test_unknownOption(self) -> None:
        error = self.assertRaises(usage.UsageError, Options().parseOptions, ["--banana"])
        self.assertEqual(str(error), "opção --banana desconhecida")

    def test_getoptWords(self) -> None:
        """getopt's other complaints, read from its error, not from its English."""
        cases = {
            ("--chat=sim",): "a opção --chat não aceita valor",
            ("--port",): "a opção --port precisa de um valor",
            ("--max",): "--max é o começo de mais de uma opção: digite mais letras do nome dela",
        }
        for args, message in cases.items():
            error = self.assertRaises(usage.UsageError, Options().parseOptions, list(args))
            self.assertEqual(str(error), message, args)

    def test_twistdOptionHint(self) -> None:
        """An option of twistd's after names-server: the error and the hint, translated."""
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        options = Options()
        options.parent = ServerOptions()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertRaises(SystemExit, options.parseOptions, ["-n"])
        self.assertEqual(
            stderr.getvalue(),
            "twistd names-server: erro: opção -n desconhecida (-n é uma opção do próprio"
            " twistd: coloque-a antes de names-server, como em 'twistd -n ... names-server"
            " ...')\nRode 'twistd names-server --help' para ver as opções.\n",
        )

    @skipIf(WINDOWS_NO_DAEMON is not None, WINDOWS_NO_DAEMON or "")
    def test_daemonWithoutName(self) -> None:
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        options = Options()
        options.parent = ServerOptions()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertRaises(SystemExit, options.parseOptions, [])
        self.assertIn(
            "twistd names-server: erro: sem --name as respostas são digitadas neste terminal",
            stderr.getvalue(),
        )


class Peer(Protocol):
    """A client that sends a name and collects the answer."""

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.received = b""
        self.closed: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(self.name)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: object = None) -> None:
        self.closed.callback(self.received)


PT = "pt_BR.UTF-8"


class EndToEndInPortugueseTests(ProgramTestCase):
    """The real server under twistd, with LANGUAGE=pt_BR.UTF-8 and without."""

    async def test_pipeConsole(self) -> None:
        """
        On a pipe: the console's lines and the log lines it shows are
        Portuguese, with a real client exchanging accented names.
        """
        server, port = await startServer(self, language=PT)
        client = startClient(self, port, "--name", "José", language=PT)
        await server.waitFor(rf'^"José" \({ADDRESS}\) está pedindo o seu nome\.$')
        await server.waitFor(rf'^> A próxima linha responde a "José" \({ADDRESS}\) \[1 na fila\]$')
        server.write("Conceição\n".encode())
        await self.assertAnswered(client, "Conceição")
        await server.waitFor(rf'^Resposta "Conceição" enviada para "José" \({ADDRESS}\)\.$')
        await server.waitFor(
            rf"\[names#info\] {ADDRESS} 'José' recebeu a resposta 'Conceição' em \d+\.\d{{3}} s$"
        )
        self.assertIn("names-server: escutando em 127.0.0.1:", server.out)
        self.assertIn("Ctrl-D: sem mais respostas", server.out)
        server.signal("TERM")
        self.assertEqual(await server.ended, STOPPED, server.describe())
        if WINDOWS:  # Terminated (see STOPPED): no closing words to read.
            return
        self.assertIn("names-server: encerrado.", server.out)
        self.assertRegex(server.out, r"NameServerFactory iniciando na porta \d+")
        self.assertRegex(server.out, r"\(porta TCP \d+ fechada\)")
        self.assertIn("Servidor encerrado.", server.out)
        for english in ("starting on", "Closed)", "Shut Down", "stopping", "closed "):
            self.assertNotIn(english, server.out)
        self.assertNotIn("answered", server.out)
        self.assertNotIn("is asking", server.out)
        self.assertNoTraceback(server, client)

    async def test_pipeConsoleEnglish(self) -> None:
        """Without a language the same session is English."""
        await self.englishSession(None)

    async def test_pipeConsoleCLocale(self) -> None:
        """C{LANG=C} means English, whatever C{LANGUAGE} says (as in GNU gettext)."""
        await self.englishSession({**childEnvironment(PT), "LANG": "C"})

    async def englishSession(self, env: dict[str, str] | None) -> None:
        server, port = await startServer(self, env=env)
        client = startClient(self, port, "--name", "José")
        await server.waitFor(rf'^"José" \({ADDRESS}\) is asking for your name\.$')
        server.write("Conceição\n".encode())
        await self.assertAnswered(client, "Conceição")
        await server.waitFor(rf"{ADDRESS} 'José' answered 'Conceição' in \d+\.\d{{3}} s$")
        server.signal("TERM")
        self.assertEqual(await server.ended, STOPPED, server.describe())
        self.assertNotIn("esperando", server.out)
        self.assertNoTraceback(server, client)

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_logFileStaysEnglish(self) -> None:
        """
        With --logfile and a Portuguese console, the log file has the
        English text of the same exchange.
        """
        path = self.mktemp()
        # It logs to the file, not to stdout: it listens on a socket the test holds.
        held = heldListener(self)
        server = spawn(
            self,
            "server",
            [
                *TWISTD_ADOPTING,
                "-n",
                *PIDFILE,
                f"--logfile={path}",
                "names-server",
                "--endpoint",
                ADOPTED,
                "--name",
                "Conceição",
            ],
            language=PT,
            childFDs={0: "w", 1: "r", 2: "r", 3: held.fileno()},
        )
        self.addCleanup(lambda: server.signal("TERM") if server.running else None)
        port = held.getsockname()[1]
        peer = Peer("José\n".encode())
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), peer)
        self.assertEqual(await peer.closed, "Conceição\n".encode())
        # Written once a reactor turn: there before the server is stopped
        # (on Windows, terminated: see STOPPED).
        await until(lambda: "answered" in Path(path).read_text("utf-8"))
        server.signal("TERM")
        self.assertEqual(await server.ended, STOPPED, server.describe())
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertRegex(text, r"names-server listening on 127\.0\.0\.1:\d+")
        self.assertRegex(text, r"'José' answered 'Conceição' in \d+\.\d{3} s")
        self.assertNotIn("escutando", text)
        self.assertNotIn("recebeu", text)

    async def test_help(self) -> None:
        """C{twistd names-server --help} in Portuguese, and in English without a language."""
        helped = spawn(self, "twistd", [*TWISTD, "names-server", "--help"], language=PT)
        self.assertEqual(await helped.ended, 0, helped.describe())
        self.assertIn("Uso: twistd [opções] names-server [opções]", helped.out)
        self.assertIn("Porta TCP em que escutar (0: qualquer porta livre).", helped.out)
        self.assertIn("Uma troca de nomes por TCP.", helped.out)
        self.assertNotIn("TCP port to listen on", helped.out)
        english = spawn(self, "twistd", [*TWISTD, "names-server", "--help"])
        self.assertEqual(await english.ended, 0, english.describe())
        self.assertIn("TCP port to listen on (0: any free port).", english.out)
        self.assertNotIn("Porta TCP", english.out)
        cLocale = {**childEnvironment(PT), "LANG": "C"}
        english = spawn(self, "twistd", [*TWISTD, "names-server", "--help"], env=cLocale)
        self.assertEqual(await english.ended, 0, english.describe())
        self.assertIn("TCP port to listen on (0: any free port).", english.out)
        self.assertNotIn("Porta TCP", english.out)

    async def test_usageErrors(self) -> None:
        """A twistd option after names-server, and a port in use, in Portuguese."""
        misplaced = spawn(self, "server", [*TWISTD, *PIDFILE, "names-server", "-n"], language=PT)
        self.assertEqual(await misplaced.ended, 2, misplaced.describe())
        self.assertIn(
            "erro: opção -n desconhecida (-n é uma opção do próprio twistd", misplaced.err
        )
        taken = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)
        server = spawnServer(self, port=taken.getHost().port, language=PT)
        self.assertEqual(await server.ended, 1, server.describe())
        self.assertIn("não é possível escutar em 127.0.0.1:", server.err)
        self.assertIn("a porta está em uso", server.err)


if sys.platform != "win32":
    from tests.screen import Screen

    class TerminalInPortugueseTests(SynchronousTestCase):
        """The line editor on a real pty, in Portuguese and in English."""

        def start(self, language: str | None) -> Screen:
            argv = [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "0"]
            environment = childEnvironment(language=language)
            environment.pop("TERM", None)
            # Screen adds our own environment under this one: blank the
            # locale variables it would bring back (a C{LANG=C} means English).
            for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
                environment[variable] = ""
            screen = Screen(argv, columns=110, rows=30, env=environment)
            self.addCleanup(screen.close)
            return screen

        def port(self, screen: Screen, words: str) -> int:
            self.assertIn(words, screen.text)
            port = saidPort(screen.text)
            assert port is not None, screen.text
            return port

        def test_portuguese(self) -> None:
            """
            Notices, the prompt with its plural, a warning from the log and
            the farewell are Portuguese; accented names go both ways.
            """
            screen = self.start(PT)
            screen.expect("ninguém esperando >")
            port = self.port(screen, "escutando em")
            jose = sendOver(self, port, "José\n".encode())
            screen.expect('"José"')
            screen.expect(lambda: "1 na fila >" in screen.cursorRow())
            screen.expect("está pedindo o seu nome.")
            sendOver(self, port, "Íris\n".encode())
            screen.expect("também está esperando (2 na fila).")
            sendOver(self, port, "Lúcia\n".encode())
            screen.expect(lambda: "3 na fila >" in screen.cursorRow())
            screen.send("Conceição\r")
            self.assertEqual(readToEnd(jose), "Conceição\n".encode())
            screen.expect('Resposta "Conceição" enviada para "José"')
            sendOver(self, port, b"\xff\xfe inv\xe1lido\n")
            screen.expect("aviso: 127.0.0.1:")
            screen.expect("enviou UTF-8 inválido")
            screen.send("/help\r")
            screen.expect("Digite uma resposta e tecle Enter")
            screen.send("\x03")
            self.assertEqual(screen.waitForExit(), 0)
            self.assertIn("names-server: encerrado.", screen.text)
            for english in ("waiting", "asking", "Sent ", "warning", "stopped"):
                self.assertNotIn(english, screen.text)

        def test_english(self) -> None:
            """Without a language the same screen is English."""
            screen = self.start(None)
            screen.expect("nobody waiting >")
            port = self.port(screen, "listening on")
            jose = sendOver(self, port, "José\n".encode())
            screen.expect(lambda: "1 waiting >" in screen.cursorRow())
            screen.send("Conceição\r")
            self.assertEqual(readToEnd(jose), "Conceição\n".encode())
            screen.expect('Sent "Conceição" to "José"')
            screen.send("\x03")
            self.assertEqual(screen.waitForExit(), 0)
            self.assertNotIn("esperando", screen.text)
