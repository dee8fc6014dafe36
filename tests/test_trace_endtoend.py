"""
End-to-end tests of C{--trace} and C{--trace-file} (issue 10): the real
server under twistd, the real client, and a course-style peer on a raw
socket.
"""

from __future__ import annotations

import os

from tests.processes import (
    STOPPED,
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    startClient,
    startServer,
)
from tests.test_endtoend import asking
from tests.test_trace import checkStructure
from twisted_names.display import isUnsafe

#: A line of the trace: connection 1, milliseconds, then the words.
ONE = r"^#1 +\d+\.\d ms  "
#: A note of connection 1 (a decision, a wait, the close): indented.
NOTE = ONE + "   "


class TraceEndToEndTests(ProgramTestCase):
    async def stop(self, server: WatchedProcess) -> int:
        server.signal("TERM")
        return await server.ended

    async def test_courseClientQuietPeriod(self) -> None:
        """
        A course-style client sends C{Ana} with no line ending and waits: the
        server's trace shows the chunk, the quiet-period decision, the wait
        for the operator, the reply and the close, with no colour on a pipe;
        the trace file holds its diagram.
        """
        path = os.path.abspath(self.mktemp())
        server, port = await startServer(
            self, "--trace", "--trace-file", path, "--quiet-period", "0.1"
        )
        peer = await connectRaw(self, port)
        await server.waitFor(ONE + r"connection from the client 127\.0\.0\.1:\d+ to this server")
        peer.send(b"Ana")
        await server.waitFor(ONE + r'client --> server  "Ana"  3 bytes  41 6e 61$')
        await server.waitFor(
            NOTE + r"no line ending: quiet for 0\.1 s, taken as the whole message: \"Ana\"$"
        )
        await server.waitFor(NOTE + r"waiting for the operator to type a reply$")
        await server.waitFor(asking("Ana"))
        server.write(b"Bob\n")
        self.assertEqual(await peer.whenClosed(), b"Bob")
        await server.waitFor(NOTE + r'the operator typed the reply "Bob" after \d+\.\d s$')
        await server.waitFor(ONE + r'client <-- server  "Bob"  3 bytes  42 6f 62$')
        await server.waitFor(NOTE + r"connection closed: the server closed it first$")
        self.assertNotIn("\x1b", server.out)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(checkStructure(self, text), 1)
        self.assertIn(
            "no line ending: quiet for 0.1 s, taken as the whole message",
            text.replace("<br>", " "),
        )

    async def test_hostileBytesEscaped(self) -> None:
        """Control characters, bidi overrides and forged lines reach the terminal escaped."""
        server, port = await startServer(self, "--trace", "--name", "Bob")
        peer = await connectRaw(self, port)
        peer.send(b"\x1b]0;pwned\x07\xe2\x80\xae\r\n#2     0.0 ms  forged\x00\n")
        await peer.whenClosed()
        await server.waitFor(NOTE + r"connection closed")
        self.assertEqual(await self.stop(server), STOPPED)
        traced = [line for line in server.lines() if line.startswith("#")]
        self.assertIn(
            '"\\x1b]0;pwned\\x07\\u202e\\r\\n#2     0.0 ms  forged\\x00\\n"', "\n".join(traced)
        )
        self.assertFalse([line for line in traced if not line.startswith("#1 ")])
        self.assertFalse([c for c in server.out if isUnsafe(c) and c != "\n"])

    async def test_clientTrace(self) -> None:
        """The client's trace is on stderr; stdout holds only the answer."""
        server, port = await startServer(self, "--name", "Bob")
        client = startClient(self, port, "--name", "Ana", "--trace")
        self.assertEqual(await client.ended, 0, client.describe())
        self.assertEqual(client.out, "Server: Bob\n")
        self.assertRegex(client.err, r'#1 +\d+\.\d ms  client --> server  "Ana\\n"  4 bytes')
        self.assertRegex(client.err, r"connection closed: the client closed it first")
        self.assertNotIn("\x1b", client.err)
        self.assertEqual(await self.stop(server), STOPPED)
