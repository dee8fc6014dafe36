"""
Tests of the tests' own helpers where a mistake would make tests race: the
ports they use are held from the start, never found free and given back
(L{tests.processes}).
"""

from __future__ import annotations

import errno
import socket

from twisted.trial.unittest import SynchronousTestCase

from tests.processes import heldListener, refusingPort, saidPort


def bindFails(port: int) -> bool:
    """Whether another socket cannot bind 127.0.0.1:C{port} now (another program could not)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        try:
            other.bind(("127.0.0.1", port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


class HeldPortTests(SynchronousTestCase):
    """
    A port a test uses is held by the test until it ends.  (C{freePort()}
    in C{tests/test_process.py} bound a port, closed it and gave the number
    to a server started later: another program took it meanwhile, and the
    test failed.)
    """

    def test_heldListenerCannotBeTaken(self) -> None:
        held = heldListener(self)
        port = held.getsockname()[1]
        self.assertTrue(bindFails(port))

    def test_heldListenerAcceptsAtOnce(self) -> None:
        """A connection to it is accepted by the kernel before any server adopts it."""
        held = heldListener(self)
        with socket.create_connection(held.getsockname(), timeout=5) as client:
            client.sendall(b"Ann\n")
        connection, _ = held.accept()
        with connection:
            self.assertEqual(connection.recv(16), b"Ann\n")

    def test_refusingPortCannotBeTaken(self) -> None:
        port = refusingPort(self)
        self.assertTrue(bindFails(port))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()


class SaidPortTests(SynchronousTestCase):
    def test_english(self) -> None:
        self.assertEqual(saidPort("names-server: listening on 127.0.0.1:40123.\n"), 40123)

    def test_portuguese(self) -> None:
        self.assertEqual(saidPort(b"names-server: escutando em 127.0.0.1:40123.\n"), 40123)

    def test_logLine(self) -> None:
        line = "2026-12-05T14:00:00+0000 [names#info] names-server listening on 127.0.0.1:5001"
        self.assertEqual(saidPort(line), 5001)

    def test_notYet(self) -> None:
        self.assertIsNone(saidPort("Clients' names appear here"))
