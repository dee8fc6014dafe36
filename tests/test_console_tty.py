"""
The real C{twistd -n names-server} on a pseudo-terminal: the operator's line
editor as a person meets it, with real clients (stdlib sockets) arriving and
leaving while the operator types.  The screen is read through pyte
(tests/screen.py); every wait is bounded.
"""

from __future__ import annotations

import socket
from unittest import skipIf

from twisted.trial.unittest import SynchronousTestCase

from tests.processes import PIDFILE, TWISTD, childEnvironment, readToEnd, saidPort, sendOver
from tests.skips import NO_PTY

if NO_PTY is None:
    from tests.screen import Screen


@skipIf(NO_PTY is not None, NO_PTY or "")
class ServerOnATerminal(SynchronousTestCase):
    options: tuple[str, ...] = ()

    def setUp(self) -> None:
        argv = [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "0", *self.options]
        environment = childEnvironment()
        environment.pop("TERM", None)
        self.screen = Screen(argv, columns=100, rows=30, env=environment)
        self.addCleanup(self.screen.close)
        self.screen.expect("nobody waiting >")
        port = saidPort(self.screen.text)
        assert port is not None, self.screen.text
        self.port = port

    def connect(self, name: str) -> socket.socket:
        return sendOver(self, self.port, name.encode() + b"\n")

    def answer(self, client: socket.socket) -> bytes:
        return readToEnd(client)

    def inputRow(self) -> str:
        return self.screen.cursorRow()


class OperatorTests(ServerOnATerminal):
    def test_typingWhileClientsComeAndGo(self) -> None:
        """
        A client arriving mid-typing is told above the input line, which
        stays as typed; Enter answers the client the prompt named; a head
        that leaves mid-typing changes the prompt and the line is not sent to
        anybody without the operator seeing it.
        """
        caio = self.connect("Caio")
        self.screen.expect(lambda: '→ "Caio"' in self.inputRow())
        self.screen.send("Jo")
        dani = self.connect("Dani 日本")
        self.screen.expect('"Dani 日本"')
        self.screen.expect(lambda: self.inputRow().endswith("> Jo"))
        self.assertIn('→ "Caio"', self.inputRow())
        self.screen.send("ão\r")
        self.assertEqual(self.answer(caio), "João\n".encode())
        self.screen.expect(lambda: '→ "Dani 日本"' in self.inputRow())

        self.screen.send("Ed")
        dani.close()
        self.screen.expect("left before your reply")
        self.screen.expect(lambda: self.inputRow().startswith("nobody waiting > Ed"))
        self.screen.send("\r")
        self.screen.expect("Not sent: nobody is waiting")

    def test_ctrlDThenCtrlCLeavesTheTerminalAsItWas(self) -> None:
        """Ctrl-D closes the input (waiting clients get no reply); Ctrl-C stops, exit 0."""
        ana = self.connect("Ana")
        self.screen.expect(lambda: '→ "Ana"' in self.inputRow())
        self.screen.send("\x04")
        self.screen.expect(lambda: self.inputRow().startswith("input closed"))
        self.assertEqual(self.answer(ana), b"")
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 0)
        self.assertIn("names-server: stopped.", self.screen.text)
        self.assertNotIn("Traceback", self.screen.text + self.screen.errors())
        self.assertEqual(self.screen.modes(), self.screen.modesBefore)
        self.assertEqual(self.screen.flags(), self.screen.flagsBefore)

    def test_noStartUpChatter(self) -> None:
        """twistd's start-up lines mean nothing to a student: not shown."""
        self.assertNotIn("UnixAppLogger", self.screen.text)
        self.assertNotIn("reactor class", self.screen.text)
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 0)
        self.assertNotIn("Main loop terminated", self.screen.text)


class ChatTests(ServerOnATerminal):
    options = ("--chat",)

    def test_chatLinesShownAsMessages(self) -> None:
        client = self.connect("oi")
        self.screen.expect('says "oi"')
        self.screen.send("olá\r")
        received = b""
        while not received.endswith(b"\n"):
            received += client.recv(1024)
        self.assertEqual(received, "olá\n".encode())
        client.sendall(b"tchau\n")
        self.screen.expect('says "tchau"')
        self.screen.send("\x03")
        self.assertEqual(self.screen.waitForExit(), 0)


@skipIf(NO_PTY is not None, NO_PTY or "")
class SuspendTests(SynchronousTestCase):
    def test_ctrlZAndFgUnderAShell(self) -> None:
        """
        Under a shell with job control: Ctrl-Z gives the shell its terminal
        back as it was (canonical, echoing, blocking); C{fg} gives back the
        editor with the line that was being typed; after Ctrl-C the terminal
        is as it was again.
        """
        import shlex

        environment = childEnvironment()
        environment.update({"PS1": "$ ", "TERM": "xterm"})
        self.screen = Screen(
            ["bash", "--norc", "--noprofile", "-i"],
            columns=120,
            rows=30,
            env=environment,
            controlling=True,
        )
        self.addCleanup(self.screen.close)
        self.screen.expect(lambda: self.screen.cursorRow() == "$")
        command = shlex.join([*TWISTD, "-n", *PIDFILE, "names-server", "--port", "0"])
        self.screen.send(f"clear; {command}\r")
        self.screen.expect("nobody waiting >")
        self.screen.send("abc")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("> abc"))

        def asTheShellHadIt(n: int) -> None:
            """Ask the shell how its terminal is (marked C{n}: no stale answer counts)."""
            self.screen.expect(lambda: self.screen.cursorRow() == "$")
            self.screen.send(
                "clear; stty -a | grep -o -- '-*icanon'; stty -a | grep -o -- '-*echo ';"
                f" python3 -c 'import os; print(\"check{n}\", os.get_blocking(0))'\r"
            )
            self.screen.expect(lambda: f"check{n} True" in self.screen.rows)
            self.screen.expect(lambda: self.screen.cursorRow() == "$")
            rows = self.screen.rows
            self.assertIn("icanon", rows)  # Not "-icanon" (raw).
            self.assertIn("echo", rows)

        self.screen.send("\x1a")
        self.screen.expect("Stopped")
        asTheShellHadIt(1)

        self.screen.send("fg\r")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("> abc"))
        self.screen.send("d")
        self.screen.expect(lambda: self.screen.cursorRow().endswith("> abcd"))

        self.screen.send("\x03")
        self.screen.expect("names-server: stopped.")
        asTheShellHadIt(2)
        self.screen.send("exit\r")
        self.screen.waitForExit()
