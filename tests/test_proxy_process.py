"""
End-to-end tests of C{twistd names-proxy} (issue 17): the real proxy under
twistd between course-style programs (blocking sockets, no line endings:
C{tests/course/}), and between names-client and names-server.
"""

from __future__ import annotations

import os
import re
import sys

from tests.diagrams import keep
from tests.processes import (
    LISTENING,
    PYTHON,
    TWISTD,
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    refusingPort,
    spawn,
    startClient,
    startServer,
)
from twisted_names.display import isUnsafe

COURSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")
#: A line of the ladder for connection 1 (a decimal point, or a comma in
#: Portuguese); a note of it (indented); a note of any connection.
ONE = r"^#1 +\d+[.,]\d ms  "
NOTE = ONE + "   "
ANY_NOTE = r"^#\d+ +\d+[.,]\d ms     "

#: What a proxy's diagram may hold: three participants, arrows between
#: them, notes over one or two of them (anything else: a peer broke out).
_STATEMENT = re.compile(
    r"    (participant [CPS] as .+|[CPS](->>|-\)|-x)[CPS]: .+|Note over (C,P|P,S|C,S|[CPS]): .+)"
)


def checkProxyDiagrams(testCase: ProgramTestCase, text: str) -> int:
    """Every line of every diagram in C{text} is a statement we write; how many diagrams."""
    keep(text)  # For Mermaid's own parser in CI (tests/diagrams.py).
    blocks = text.split("```mermaid\nsequenceDiagram\n")[1:]
    for block in blocks:
        body, _, _ = block.partition("\n```\n")
        for line in body.splitlines():
            testCase.assertRegex(line, _STATEMENT)
    return len(blocks)


class ProxyProcessTestCase(ProgramTestCase):
    """Start the course's programs and the proxy, each on a port of its own (port 0)."""

    async def courseServer(self, mode: str) -> tuple[WatchedProcess, int]:
        server = spawn(self, "servidor", [PYTHON, os.path.join(COURSE, "servidor.py"), "0", mode])
        match = await server.waitFor(r"^escutando (\d+)$")
        return server, int(match.group(1))

    def courseClient(self, port: int, mode: str = "inteiro") -> WatchedProcess:
        return spawn(
            self, "cliente", [PYTHON, os.path.join(COURSE, "cliente.py"), str(port), mode]
        )

    async def proxy(
        self, to: int, *options: str, language: str | None = None
    ) -> tuple[WatchedProcess, int]:
        proxy = spawn(
            self,
            "proxy",
            [
                *TWISTD,
                "-n",
                "--pidfile=",
                "names-proxy",
                "--port",
                "0",
                "--to",
                f"127.0.0.1:{to}",
                *options,
            ],
            path=self.scratch(),
            language=language,
        )
        match = await proxy.waitFor(LISTENING)
        return proxy, int(match.group(1))

    def scratch(self) -> str:
        path = os.path.abspath(str(self.mktemp()))
        os.makedirs(path)
        return path

    def assertDrew(self, proxy: WatchedProcess, pattern: str) -> None:
        """The proxy drew a line matching C{pattern} (from its start)."""
        self.assertRegex(proxy.out, re.compile(pattern, re.M))

    async def stop(self, proxy: WatchedProcess) -> int:
        proxy.signal("TERM")
        return await proxy.ended


class CourseScriptsTests(ProxyProcessTestCase):
    async def test_courseClientAndServer(self) -> None:
        """
        The students' own blocking client and server, through the proxy: the
        exchange happens as without it, and is drawn (plain on a pipe), with
        its diagram in the trace file.
        """
        path = os.path.join(self.scratch(), "relatorio.md")
        server, serverPort = await self.courseServer("normal")
        proxy, port = await self.proxy(serverPort, "--trace-file", path)
        client = self.courseClient(port)
        self.assertEqual(await client.ended, 0, client.describe())
        self.assertEqual(client.out, "Servidor: 'Olá, Ana'\ndepois: b''\n", client.describe())
        self.assertEqual(await server.ended, 0, server.describe())
        await proxy.waitFor(NOTE + "relayed 3 bytes from the client to the server and 9 bytes")
        self.assertDrew(proxy, ONE + r"connection from the client 127\.0\.0\.1:\d+ to this proxy")
        self.assertDrew(proxy, ONE + r"the proxy connected from 127\.0\.0\.1:\d+ to the server")
        self.assertDrew(proxy, ONE + r'client --> server  "Ana"  3 bytes')
        self.assertDrew(proxy, ONE + r'client <-- server  "Olá, Ana"  9 bytes')
        self.assertDrew(proxy, NOTE + r"end: the server finished sending first \(FIN\)")
        self.assertNotIn("\x1b", proxy.out)
        self.assertEqual(await self.stop(proxy), 0)
        self.assertNoTraceback(proxy)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(checkProxyDiagrams(self, text), 1)
        self.assertIn("participant P as proxy 127.0.0.1#58;", text)

    async def test_twoSendsOneRecv(self) -> None:
        """
        A name sent in two send() calls: two chunks on the ladder, as the
        proxy read them, and the server's one recv(1024) gets both.
        """
        server, serverPort = await self.courseServer("junta")
        proxy, port = await self.proxy(serverPort)
        peer = await connectRaw(self, port)
        peer.send(b"An")
        await proxy.waitFor(ONE + r'client --> server  "An"  2 bytes  41 6e$')
        peer.send(b"a")
        await proxy.waitFor(ONE + r'client --> server  "a"  1 byte  61$')
        self.assertEqual(await peer.whenClosed(), "Olá, Ana".encode())
        self.assertEqual(await server.ended, 0)
        self.assertIn("recebi 'Ana'", server.out)
        await proxy.waitFor(NOTE + "end: ")
        self.assertEqual(await self.stop(proxy), 0)

    async def test_serverClosesWithUnreadBytes(self) -> None:
        """
        The server reads 3 bytes and closes with more unread: its system
        sends a reset, the proxy passes it on, the course client's recv()
        raises ConnectionResetError.
        """
        server, serverPort = await self.courseServer("resto")
        proxy, port = await self.proxy(serverPort)
        peer = await connectRaw(self, port)
        peer.send(b"Ana, tudo bem?")
        await peer.whenClosed()
        self.assertEqual(await server.ended, 0)
        await proxy.waitFor(NOTE + r"the server reset its connection \(RST\), or it broke$")
        await proxy.waitFor(NOTE + r"the proxy resets the client's connection \(RST\)$")
        await proxy.waitFor(NOTE + r"end: the server reset the connection first \(RST\)")
        self.assertLess(
            proxy.out.index("the server reset its connection"),
            proxy.out.index("the proxy resets the client's connection"),
        )
        self.assertEqual(await self.stop(proxy), 0)
        self.assertNoTraceback(proxy)

    async def test_courseClientSeesTheReset(self) -> None:
        _server, serverPort = await self.courseServer("resto")
        proxy, port = await self.proxy(serverPort)
        client = spawn(
            self,
            "cliente",
            [
                PYTHON,
                "-c",
                "import socket, sys\n"
                "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
                "s.send('Ana, tudo bem?'.encode())\n"
                "try:\n"
                "    print(repr(s.recv(1024)))\n"
                "except ConnectionResetError:\n"
                "    print('ConnectionResetError')\n",
                str(port),
            ],
        )
        self.assertEqual(await client.ended, 0, client.describe())
        self.assertEqual(client.out, "ConnectionResetError\n", client.describe())
        await proxy.waitFor(NOTE + "end: ")
        self.assertEqual(await self.stop(proxy), 0)

    async def test_clientHalfCloses(self) -> None:
        """
        The client finishes sending (shutdown): the server reads the end of
        the stream, and its answer still reaches the client.
        """
        _server, serverPort = await self.courseServer("normal")
        proxy, port = await self.proxy(serverPort)
        peer = await connectRaw(self, port)
        peer.send(b"Ana")
        await proxy.waitFor(ONE + r'client --> server  "Ana"')
        peer.transport.loseWriteConnection()
        self.assertEqual(await peer.whenClosed(), "Olá, Ana".encode())
        await proxy.waitFor(NOTE + "end: ")
        self.assertDrew(proxy, NOTE + r"the client finished sending \(FIN\); the proxy passes it")
        self.assertEqual(await self.stop(proxy), 0)


class NamesProgramsTests(ProxyProcessTestCase):
    async def test_namesClientAndServer(self) -> None:
        """names-client and names-server through the proxy: the same exchange, drawn."""
        server, serverPort = await startServer(self, "--name", "Bob")
        proxy, port = await self.proxy(serverPort)
        client = startClient(self, port, "--name", "Ana")
        await self.assertAnswered(client, "Bob")
        await proxy.waitFor(NOTE + "end: ")
        self.assertDrew(proxy, ONE + r'client --> server  "Ana\\n"  4 bytes')
        self.assertDrew(proxy, ONE + r'client <-- server  "Bob\\n"  4 bytes')
        self.assertEqual(await self.stop(proxy), 0)
        server.signal("TERM")
        await server.ended


class NoServerTests(ProxyProcessTestCase):
    async def test_refusedThenGoesOn(self) -> None:
        """A refused connection to the server: one line, the client closed, the proxy goes on."""
        proxy, port = await self.proxy(refusingPort(self), "--connect-timeout", "5")
        for _ in range(2):
            peer = await connectRaw(self, port)
            self.assertEqual(await peer.whenClosed(), b"")
        await proxy.waitFor(ANY_NOTE + "end: ", count=2)
        said = [line for line in proxy.lines() if "could not connect" in line]
        self.assertEqual(len(said), 2, proxy.describe())
        self.assertTrue(proxy.running)
        self.assertEqual(await self.stop(proxy), 0)
        self.assertNoTraceback(proxy)


class CommandLineTests(ProxyProcessTestCase):
    async def test_badOptionOneLine(self) -> None:
        proxy = spawn(self, "proxy", [*TWISTD, "-n", "--pidfile=", "names-proxy", "--to", "x:"])
        self.assertEqual(await proxy.ended, 2, proxy.describe())
        self.assertEqual(len(proxy.err.strip().splitlines()), 2, proxy.describe())
        self.assertIn("twistd names-proxy: error: bad endpoint 'x:'", proxy.err)

    async def test_portInUse(self) -> None:
        """A port another program holds: one line in names-proxy's words, exit status 1."""
        import socket

        held = socket.socket()
        self.addCleanup(held.close)
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        proxy = spawn(
            self,
            "proxy",
            [*TWISTD, "-n", "--pidfile=", "names-proxy", "--port", str(port)],
            path=self.scratch(),
        )
        self.assertEqual(await proxy.ended, 1, proxy.describe())
        said = [line for line in proxy.err.splitlines() if line.strip()]
        self.assertEqual(len(said), 1, proxy.describe())
        self.assertTrue(
            said[0].startswith(
                f"names-proxy: cannot listen on 127.0.0.1:{port}: the port is in use"
            ),
            proxy.describe(),
        )
        self.assertNoTraceback(proxy)

    async def test_twistdHelpListsIt(self) -> None:
        twistd = spawn(self, "twistd", [*TWISTD, "--help"])
        self.assertEqual(await twistd.ended, 0)
        self.assertRegex(twistd.out, re.compile(r"^\s+names-proxy\s", re.M))

    async def test_portuguese(self) -> None:
        """The ladder and --help in Portuguese; hostile bytes escaped on the terminal."""
        _server, serverPort = await self.courseServer("normal")
        proxy, port = await self.proxy(serverPort, language="pt_BR.UTF-8")
        peer = await connectRaw(self, port)
        peer.send(b"\x1b]0;pwned\x07\xe2\x80\xae\r\n#2 forged")
        await peer.whenClosed()
        await proxy.waitFor(NOTE + "fim: ")
        self.assertDrew(proxy, ONE + r"conexão do cliente .* para este proxy")
        self.assertIn(
            'cliente --> servidor  "\\x1b]0;pwned\\x07\\u202e\\r\\n#2 forged"', proxy.out
        )
        self.assertFalse([c for c in proxy.out if isUnsafe(c) and c != "\n"])
        self.assertEqual(await self.stop(proxy), 0)
        helped = spawn(
            self,
            "help",
            [*TWISTD, "-n", "names-proxy", "--help"],
            language="pt_BR.UTF-8",
        )
        self.assertEqual(await helped.ended, 0)
        self.assertIn("O que o proxy não vê", helped.out)


if sys.platform == "win32":  # pragma: no cover - the process tests use POSIX signals
    del CourseScriptsTests, NamesProgramsTests, NoServerTests, CommandLineTests
