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

from tests.processes import (
    PYTHON,
    ProgramTestCase,
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
