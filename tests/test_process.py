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
    ProgramTestCase,
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
