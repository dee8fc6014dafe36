"""
End-to-end tests of the server as a process: started with stdin or stdout
closed, fed from a pipe, signalled, stopped with Ctrl-Z, and its terminal
given back as it was found.

The terminal is a pipe or a pseudo-terminal the test owns: a descriptor
passed to the child is the same open file as the test's, so its file status
flags (C{O_NONBLOCK}) are read on the test's own end.  Every wait is bounded
(see L{tests.processes}).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import deferLater

from tests.pipes import Pipe
from tests.processes import (
    PYTHON,
    TIMEOUT,
    TWISTD,
    ProgramTestCase,
    RawPeer,
    WatchedProcess,
    connectRaw,
    reactor,
    spawn,
    startClient,
    startServer,
)


class PipedInputTests(ProgramTestCase):
    """The operator's replies read from a pipe or a file."""

    async def test_lastLineWithoutLineEnding(self) -> None:
        """
        C{printf 'Leo\\nMia' | twistd -n names-server}: the last line has no
        line ending and still answers the second client.
        """
        server, port = await startServer(self, stdin=b"Leo\nMia", closeStdin=True)
        await server.waitFor(
            r"^2 typed-ahead lines will answer the next clients; later ones will be closed\.$"
        )
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await self.assertAnswered(first, "Leo")
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await self.assertAnswered(second, "Mia")
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)
        self.assertNoTraceback(server)


#: twistd names-server with an endpoint that listens asynchronously and
#: fails a moment later (as an onion service or an ACME one may).
FAILS_LATER = """\
import sys
from twisted.internet import defer, error
import twisted_names.tap as tap

class FailsLater:
    def __init__(self, reactor):
        self.reactor = reactor

    def listen(self, factory):
        d = defer.Deferred()
        failure = error.CannotListenError("", 0, OSError(98, "Address already in use"))
        self.reactor.callLater(0.1, d.errback, failure)
        return d

tap.serverFromString = lambda reactor, description: FailsLater(reactor)
from twisted.scripts.twistd import run
sys.argv = ["twistd", "-n", "--pidfile=", "names-server", *sys.argv[1:]]
run()
"""


class ListeningTests(ProgramTestCase):
    async def test_endpointFailingLater(self) -> None:
        """
        An endpoint that listens asynchronously is no longer refused; if it
        then fails, it is the same one line as a port in use, and exit
        status 1.
        """
        server = spawn(self, "server", [PYTHON, "-c", FAILS_LATER, "--port", "7"])
        self.assertExited(server, await server.ended, 1)
        self.assertEqual(
            server.err,
            "names-server: cannot listen on tcp:7:interface=127.0.0.1:backlog=1024:"
            " Address already in use\n",
        )
        self.assertIn("cannot listen: stopping", server.out)
        self.assertNoTraceback(server)


def freePort() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def connectWhenListening(testCase: Any, port: int) -> RawPeer:
    """
    A raw peer connected to C{port} as soon as something listens there
    (tried every 20 ms, for at most L{TIMEOUT} seconds): for a server that
    cannot say where it listens.
    """
    deadline = reactor.seconds() + TIMEOUT
    while True:
        try:
            return await connectRaw(testCase, port)
        except ConnectionRefusedError:
            if reactor.seconds() > deadline:
                raise AssertionError(f"nothing listening on {port} after {TIMEOUT:g} s") from None
            await deferLater(reactor, 0.02)


#: Log lines to C{names-server.json}, for a server whose stdout is closed.
JSON_LOG = "--logger=twisted_names.logs.jsonFile"


class ClosedStandardStreamsTests(ProgramTestCase):
    """
    Started with stdin, stdout or both closed (C{<&-}, C{>&-}), as daemons
    and CI may start it: the descriptors 0 and 1 then belong to the reactor,
    and the server must neither use them as a terminal nor crash.
    """

    async def serve(self, childFDs: dict[int, int | str], *options: str) -> WatchedProcess:
        """The server on a free port with C{childFDs}; one client served."""
        port = freePort()
        twistdOptions = [o for o in options if o.startswith("--logger")]
        serverOptions = [o for o in options if not o.startswith("--logger")]
        argv = [
            *TWISTD, "-n", "--pidfile=", *twistdOptions,
            "names-server", "--port", str(port), *serverOptions,
        ]  # fmt: skip
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        server = spawn(self, "server", argv, path=path, childFDs=childFDs)
        peer = await connectWhenListening(self, port)
        peer.send(b"Ann\n")
        received = await peer.whenClosed()
        if "--name" in options:
            self.assertEqual(received, b"Bob\n", server.describe())
        elif 0 in childFDs:  # The operator's line typed ahead answers.
            self.assertEqual(received, b"Typed\n", server.describe())
        else:  # No input: every client is closed unanswered, as documented.
            self.assertEqual(received, b"", server.describe())
        self.assertTrue(server.running, server.describe())
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)
        self.assertEqual(server.err, "", server.describe())
        if any(option.startswith("--logger") for option in options):
            with open(os.path.join(path, "names-server.json"), encoding="utf-8") as f:
                log = f.read()
            self.assertIn("names-server listening on", log)
            for trouble in ("Traceback", "Unhandled", "log_failure"):
                self.assertNotIn(trouble, log)
        return server

    async def test_stdinClosed(self) -> None:
        server = await self.serve({1: "r", 2: "r"})
        self.assertIn("Input closed: no more replies.", server.out)
        self.assertIn("names-server: stopped.\n", server.out)

    async def test_stdinClosedFixedName(self) -> None:
        server = await self.serve({1: "r", 2: "r"}, "--name", "Bob")
        self.assertIn("names-server: stopped.\n", server.out)

    async def test_stdoutClosed(self) -> None:
        stdin = Pipe(self)
        stdin.write(b"Typed\n")
        stdin.closeWriteEnd()
        await self.serve({0: stdin.readFd, 2: "r"}, JSON_LOG)

    async def test_stdoutClosedFixedName(self) -> None:
        await self.serve({0: "w", 2: "r"}, "--name", "Bob")

    async def test_bothClosed(self) -> None:
        await self.serve({2: "r"}, JSON_LOG)

    async def test_bothClosedFixedName(self) -> None:
        await self.serve({2: "r"}, "--name", "Bob")
