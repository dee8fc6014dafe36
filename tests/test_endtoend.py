"""
End-to-end tests: the real server under C{twistd -n}, the real client's
command line and raw TCP peers, on 127.0.0.1 and ports the system chose.

Tests synchronise on what the server prints to its operator (see
L{tests.processes}); every wait is bounded, so a broken program fails a test
instead of hanging the run.

Only what needs the processes is here: one whole exchange as a smoke test,
signals, the client's chat through real stdio, piped input ending, twistd's
errors and the plugin.  Every other exchange (the line of clients, leavers,
timeouts, line endings, typed-ahead lines, limits) runs in memory, with the
same assertions, in L{tests.test_exchanges}.
"""

from __future__ import annotations

import os
import re
from unittest import skipIf

from twisted.internet.defer import gatherResults
from twisted.internet.protocol import Factory, Protocol

from tests.processes import (
    CHECKOUT,
    PIDFILE,
    PYTHON,
    STOPPED,
    TWISTD,
    ProgramTestCase,
    WatchedProcess,
    pluginRoot,
    reactor,
    spawn,
    spawnServer,
    startClient,
    startServer,
)
from tests.said import ADDRESS, asking, exchangeLogged, leftEarly, nextAnswers, sent, waitingToo
from tests.skips import NO_CTRL_C_TO_CHILD

#: A twistd application file that says where twistd found our code.
REPORT_TAC = """\
import sys

import twisted_names
from twisted.application.service import Application, IServiceMaker
from twisted.internet import reactor
from twisted.plugin import getPlugins

makers = [m for m in getPlugins(IServiceMaker) if m.tapname == "names-server"]
plugin = sys.modules["twisted.plugins.names_server"]
print(f"package: {twisted_names.__file__}")
print(f"plugin: {plugin.__file__}")
print(f"makers: {len(makers)}, the plugin's: {makers[0] is plugin.namesServer}")
reactor.callWhenRunning(reactor.stop)
application = Application("report")
"""


class EndToEndTests(ProgramTestCase):
    """The programs as people run them."""

    async def stop(self, server: WatchedProcess) -> int:
        """SIGTERM the server and return its exit status."""
        server.signal("TERM")
        return await server.ended

    # One exchange, the operator typing the reply.

    async def test_oneExchange(self):
        """
        The operator's line answers the client, which prints it and exits 0;
        the console says it was sent, and the exchange is logged once.
        """
        server, port = await startServer(self)
        client = startClient(self, port, "--name", "Alice")
        arrived = await server.waitFor(asking("Alice"))
        address = arrived.group(1)
        await server.waitFor(nextAnswers("Alice", 1))
        server.write(b"Server\n")
        await self.assertAnswered(client, "Server")
        sentLine = await server.waitFor(sent("Server", "Alice"))
        self.assertEqual(sentLine.group(1), address)
        logged = await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertEqual(logged.group(1), address)
        self.assertEqual(len(re.findall(exchangeLogged("Alice", "Server"), server.out, re.M)), 1)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, client)

    @skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
    async def test_interruptedClientLeavesTheLine(self):
        """
        The client interrupted (Ctrl-C) while it waits exits with status 130,
        and the server takes it out of the line.
        """
        server, port = await startServer(self)
        alice = startClient(self, port, "--name", "Alice", label="Alice")
        await server.waitFor(asking("Alice"))
        alice.signal("INT")
        self.assertExited(alice, await alice.ended, 130)
        # Noticed when she leaves, not at a timeout: the server's are minutes.
        await server.waitFor(leftEarly("Alice"))

    # Lines typed ahead.

    async def test_typedAheadLinesAnswerNextClients(self):
        """
        Lines piped in before any client came answer the next clients in
        order; once they are used up (the input having ended), the next
        client is closed.
        """
        server, port = await startServer(self, stdin=b"A\nB\n", closeStdin=True)
        await server.waitFor(r"^Input closed: no more replies\. Closed 0 waiting clients\.$")
        await server.waitFor(
            r"^2 typed-ahead lines will answer the next clients; later ones will be closed\.$"
        )
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await self.assertAnswered(first, "A")
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await self.assertAnswered(second, "B")
        third = startClient(self, port, "--name", "Cat", label="Cat")
        self.assertExited(third, await third.ended, 5)
        self.assertEqual(third.out, "", third.describe())
        await server.waitFor(rf'^"Ann" \({ADDRESS}\) was answered "A", typed ahead')
        await server.waitFor(rf'^"Ben" \({ADDRESS}\) was answered "B", typed ahead')
        await server.waitFor(rf'^"Cat" \({ADDRESS}\) was closed: no more replies')
        self.assertTrue(server.running, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)

    # Chat mode.

    async def test_chat(self):
        """
        In chat mode each line the client sends is answered in turn, on one
        connection; the client ends at the end of its input.
        """
        server, port = await startServer(self, "--chat")
        client = startClient(self, port, "--chat")
        client.write(b"one\ntwo\n")
        client.closeStdin()
        first = await server.waitFor(asking("one"))
        server.write(b"1\n")
        second = await server.waitFor(asking("two"))
        self.assertEqual(first.group(1), second.group(1), "one connection for both turns")
        server.write(b"2\n")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "Server: 1\nServer: 2\n", client.describe())
        self.assertEqual(client.err, "", client.describe())
        await server.waitFor(exchangeLogged("one", "1"))
        await server.waitFor(exchangeLogged("two", "2"))
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, client)

    # Stopping.

    @skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
    async def test_sigtermClosesWaitingClients(self):
        """
        SIGTERM while clients wait: each is closed (exit status 5), and the
        server stops with exit status 0 and no traceback.
        """
        server, port = await startServer(self)
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await server.waitFor(asking("Ann"))
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await server.waitFor(waitingToo("Ben"))
        server.signal("TERM")
        statuses = await gatherResults([first.ended, second.ended, server.ended])
        self.assertEqual(
            statuses,
            [5, 5, 0],
            "\n".join(p.describe() for p in (first, second, server)),
        )
        self.assertIn("SIGTERM: stopping", server.out)
        self.assertIn("names-server: stopped.", server.out)
        self.assertEqual(server.err, "", server.describe())
        self.assertNoTraceback(server, first, second)

    # Errors: one line, an exit status, no traceback.

    async def test_portInUse(self):
        """A port in use: one line on stderr saying so, exit status 1."""
        taken = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)
        number = taken.getHost().port
        server = spawnServer(self, port=number)
        status = await server.ended
        self.assertNotEqual(status, 0, server.describe())
        self.assertEqual(status, 1, server.describe())
        lines = server.lines("err")
        self.assertEqual(len(lines), 1, server.describe())
        self.assertIn("cannot listen", lines[0])
        self.assertIn(str(number), lines[0])
        self.assertIn("the port is in use", lines[0])
        self.assertNoTraceback(server)

    async def test_badOption(self):
        """A bad option value: one error line naming it, exit status 2."""
        server = spawn(
            self, "server", [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "banana"]
        )
        status = await server.ended
        self.assertNotEqual(status, 0, server.describe())
        self.assertEqual(status, 2, server.describe())
        errors = [line for line in server.lines("err") if "error" in line]
        self.assertEqual(len(errors), 1, server.describe())
        self.assertIn("--port", errors[0])
        self.assertIn("banana", errors[0])
        self.assertEqual(server.out, "", server.describe())
        self.assertNoTraceback(server)

    async def test_badEndpoint(self):
        """An endpoint string of no known kind: one error line, exit status 2."""
        server = spawn(
            self, "server", [*TWISTD, "-n", *PIDFILE, "names-server", "--endpoint", "banana:1"]
        )
        self.assertExited(server, await server.ended, 2)
        errors = [line for line in server.lines("err") if "error" in line]
        self.assertEqual(len(errors), 1, server.describe())
        self.assertIn("bad endpoint 'banana:1'", errors[0])
        self.assertNoTraceback(server)

    # The plugin.

    async def test_twistdListsPlugin(self):
        """C{twistd --help} lists names-server, so it can be run at all."""
        twistd = spawn(self, "twistd", [*TWISTD, "--help"])
        self.assertExited(twistd, await twistd.ended, 0)
        self.assertRegex(twistd.out, r"(?m)^\s+names-server\s")

    async def test_processesRunTheCheckout(self):
        """
        twistd and the client's interpreter import this checkout's
        C{twisted_names}, and twistd loads this checkout's plugin, even when
        another copy is installed: a test never passes on stale code.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        with open(os.path.join(directory, "report.tac"), "w") as tac:
            tac.write(REPORT_TAC)
        twistd = spawn(self, "twistd", [*TWISTD, "-n", *PIDFILE, "-y", "report.tac"], directory)
        self.assertExited(twistd, await twistd.ended, 0)
        package = os.path.join(CHECKOUT, "twisted_names", "__init__.py")
        self.assertIn(f"package: {package}\n", twistd.out, twistd.describe())
        plugin = os.path.join(pluginRoot(), "twisted", "plugins", "names_server.py")
        self.assertIn(f"plugin: {plugin}\n", twistd.out, twistd.describe())
        self.assertIn("makers: 1, the plugin's: True\n", twistd.out, twistd.describe())
        with (
            open(plugin, "rb") as linked,
            open(os.path.join(CHECKOUT, "twisted_plugins", "names_server.py"), "rb") as original,
        ):
            self.assertEqual(linked.read(), original.read())

        # The client: python -m twisted_names.client, from the same directory.
        client = spawn(
            self, "client", [PYTHON, "-c", "import twisted_names; print(twisted_names.__file__)"]
        )
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, f"{package}\n", client.describe())
