"""
The server protocol on real sockets, in this process: what only a kernel's
buffers and a real peer's address show (backpressure, a UNIX-socket peer's
own path).  Time is a L{Clock}: nothing here waits on the wall clock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from typing import Any
from unittest import skipIf

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.task import Clock, LoopingCall
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SkipTest, TestCase

from tests.pipes import reactor, until
from tests.processes import TIMEOUT, TWISTD, ProgramTestCase, RawPeer, spawn, withTimeout
from tests.skips import NO_TLS, NO_UNIX_SOCKETS
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory, NameServerProtocol, ServerSettings

#: A long reply: what makes replies fill a send buffer fast.
LONG_NAME = "N" * 1000


class WatchedFactory(NameServerFactory):
    """Tells the test of the protocol it builds, and of its first pause."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.built: Deferred[NameServerProtocol] = Deferred()
        self.paused: Deferred[None] = Deferred()

    def buildProtocol(self, addr: IPv4Address) -> NameServerProtocol:  # type: ignore[override]
        protocol = super().buildProtocol(addr)
        assert isinstance(protocol, NameServerProtocol)
        pause = protocol.pauseProducing

        def paused() -> None:
            pause()
            if not self.paused.called:
                # Told from the reactor, not from inside the write that paused.
                reactor.callLater(0, self.paused.callback, None)

        protocol.pauseProducing = paused  # type: ignore[method-assign]
        if not self.built.called:
            self.built.callback(protocol)
        return protocol


class ChatBackpressureTests(TestCase):
    async def test_clientThatNeverReadsIsNotReadFrom(self) -> None:
        """
        A chat client that sends line after line and reads none of its
        replies: once its replies fill the send buffer the server reads
        nothing more from it, so what it holds for that client stays bounded
        whatever the client sends; after the name timeout it is closed.
        """
        clock = Clock()
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        factory = WatchedFactory(
            FixedReply(LONG_NAME), clock, ServerSettings(chat=True, nameTimeout=30)
        )
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        peer = RawPeer()
        await withTimeout(
            connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), peer),
            TIMEOUT,
            "connecting",
        )
        peer.transport.pauseProducing()  # Reads nothing.
        # The fake clock's zero-delay calls run as the reactor turns: the
        # framing hands a client's lines over a turn at a time (issue 16).
        turns = LoopingCall(clock.advance, 0)
        turns.clock = reactor
        turns.start(0.001)
        self.addCleanup(turns.stop)
        protocol = await withTimeout(factory.built, TIMEOUT, "the server's protocol")
        sent = 0
        for _ in range(64):  # 4 MB of lines: far more than any buffer holds.
            chunk = b"hi\n" * 21_846
            peer.send(chunk)
            sent += len(chunk)
        await withTimeout(factory.paused, TIMEOUT, "the server to stop reading")
        # Paused by its full send buffer, and no turn of its lines pending.
        await until(lambda: protocol.pausedByConsumer and protocol._nextTurn is None)

        server: Any = protocol.transport
        held = len(server.dataBuffer) + server._tempDataLen + len(protocol._buffer)
        self.assertLess(held, 512 * 1024)
        self.assertLess(held, sent // 8)
        self.assertTrue(protocol.paused)

        clock.advance(30)
        peer.transport.resumeProducing()
        await peer.whenClosed()
        texts = [formatEvent(e) for e in events]
        self.assertEqual(
            len([t for t in texts if "took none of its replies within 30 s" in t]), 1, texts
        )


@skipIf(NO_UNIX_SOCKETS is not None, NO_UNIX_SOCKETS or "")
class HostileUnixPathTests(ProgramTestCase):
    async def test_pathReachesNoTerminalOrLogRaw(self) -> None:
        """
        A local client that binds its UNIX socket to an abstract name full of
        escape sequences and line breaks: the operator's console and the log
        file show it escaped; no escape byte, no forged console line.
        """
        if not sys.platform.startswith("linux"):
            raise SkipTest("abstract UNIX socket names are Linux's")
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        socketDirectory = tempfile.mkdtemp()  # Short: socket paths have a limit.
        self.addCleanup(shutil.rmtree, socketDirectory)
        path = os.path.join(socketDirectory, "names.sock")
        logfile = os.path.join(directory, "names.log")
        server = spawn(
            self,
            "server",
            [
                *TWISTD,
                "-n",
                "--pidfile=",
                f"--logfile={logfile}",
                "names-server",
                "-e",
                f"unix:{path}",
            ],
            path=directory,
        )
        await server.waitFor(r"listening on unix:")

        hostile = b'\0e\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\n> Next line answers "Eve" [1 waiting]'
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(client.close)
        client.bind(hostile)
        client.connect(path)
        client.sendall(b"Mallory\n")
        await server.waitFor(r'"Mallory" .* is asking for your name')
        client.close()
        await server.waitFor(r"left before your reply")
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)

        with open(logfile, "rb") as f:
            logged = f.read()
        for stream, text in (("console", server.out.encode()), ("log file", logged)):
            self.assertNotIn(b"\x1b", text, stream)
            self.assertNotIn(b"\x07", text, stream)
            self.assertNotIn(b"\r", text, stream)
            self.assertNotIn(b"\0", text, stream)
            forged = [line for line in text.splitlines() if line.startswith(b"> Next line")]
            self.assertTrue(all(b"Mallory" in line for line in forged), (stream, forged))
        self.assertIn(b"\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\r\\n> Next line", server.out.encode())


@skipIf(NO_TLS is not None, NO_TLS or "")
class TlsHalfCloseTests(TestCase):
    """What docs/protocol.md says of a half-close over TLS, checked."""

    async def halfCloseAfter(self, data: bytes) -> bytes:
        """
        Send C{data} over TLS to a C{--name Bob} server, then C{close_notify}
        (Python's C{unwrap}): return what came back before the close.
        """
        import ssl

        from twisted.internet.endpoints import serverFromString
        from twisted.internet.threads import deferToThread

        from tests.certs import makeCertificates

        paths = makeCertificates(self.mktemp())
        factory = ClosingFactory(FixedReply("Bob"), reactor, ServerSettings())
        port = await serverFromString(
            reactor,
            f"ssl:0:interface=127.0.0.1:privateKey={paths['server-key']}"
            f":certKey={paths['server']}",
        ).listen(factory)
        self.addCleanup(port.stopListening)

        def client() -> bytes:
            context = ssl.create_default_context(cafile=paths["ca"])
            with socket.create_connection(("127.0.0.1", port.getHost().port), TIMEOUT) as raw:
                tls = context.wrap_socket(raw, server_hostname="localhost")
                tls.sendall(data)
                received = b""
                if data.endswith(b"\n"):
                    received = tls.recv(100)
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()  # close_notify: TLS's half-close.
                return received

        received: bytes = await withTimeout(deferToThread(client), TIMEOUT, "the TLS client")
        await withTimeout(factory.gone, TIMEOUT, "the server to close")
        return received

    async def test_completeLineAnswered(self) -> None:
        self.assertEqual(await self.halfCloseAfter(b"Ana\n"), b"Bob\n")

    async def test_unterminatedThenCloseNotifyIsAFullClose(self) -> None:
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.assertEqual(await self.halfCloseAfter(b"Ana"), b"")
        texts = [formatEvent(e) for e in events]
        self.assertTrue(any("'Ana' and closed the connection" in t for t in texts), texts)


class ClosingFactory(NameServerFactory):
    """Fires L{gone} once its first client's connection is gone."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gone: Deferred[None] = Deferred()

    def clientLeft(self, protocol: NameServerProtocol) -> None:
        super().clientLeft(protocol)
        if not self.gone.called:
            self.gone.callback(None)
