"""
What a careless user typed that got a wrong line or a traceback (issue 16's
review of what landed), each as the test that failed before the mend.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from tests.test_cli_i18n import inEnglish, usageError
from twisted_names.app import proxytap, tap
from twisted_names.trace import file as tracefile


def refusal(options: usage.Options, *argv: str) -> str:
    """The one line C{options} (a plugin's, outside twistd) says of C{argv}."""
    try:
        options.parseOptions(list(argv))
    except usage.UsageError as e:
        return str(e)
    raise AssertionError(f"{argv} parsed")


class SameValueTests(SynchronousTestCase):
    """
    A bad value is said of the option that refused it, not of the first
    option given the same text.  Before: C{--port 0 --max-clients 0} said
    C{--port: '0' is not a whole number of at least 1}.
    """

    def setUp(self) -> None:
        inEnglish(self)

    def test_server(self) -> None:
        self.assertEqual(
            refusal(tap.Options(), "--port", "0", "--max-clients", "0"),
            "--max-clients: '0' is not a whole number of at least 1",
        )

    def test_proxy(self) -> None:
        self.assertEqual(
            refusal(proxytap.Options(), "-p", "0", "--max-clients=0"),
            "--max-clients: '0' is not a whole number of at least 1",
        )

    def test_abbreviated(self) -> None:
        """getopt takes a long option's unambiguous start: so does the line."""
        self.assertEqual(
            refusal(proxytap.Options(), "-p", "0", "--max-c", "0"),
            "--max-c: '0' is not a whole number of at least 1",
        )

    def test_client(self) -> None:
        self.assertEqual(
            usageError("--port", "0", "--max-length", "0").split("\n")[0],
            "--max-length: '0' is not a whole number of at least 1",
        )


class ProxyToPortTests(SynchronousTestCase):
    """
    C{--to HOST:PORT} with a port above 65535 is a usage error (status 2),
    as C{--port}'s is.  Before: the proxy started, and each client was
    closed with C{"connect_ex(): port must be 0-65535."} in the ladder.
    """

    def setUp(self) -> None:
        inEnglish(self)

    def test_above65535(self) -> None:
        self.assertEqual(
            refusal(proxytap.Options(), "--to", "127.0.0.1:99999"),
            "--to: '99999' is not a port number (0-65535)",
        )

    def test_highestTaken(self) -> None:
        options = proxytap.Options()
        options.parseOptions(["--to", "[::1]:65535"])
        self.assertIn("port=65535", options["upstream"])


class TraceFileSeekTests(SynchronousTestCase):
    """
    A C{--trace-file} that opens but cannot be added to is one line.
    Before: C{--trace-file /proc/self/mem} (a regular file whose C{lseek}
    refuses C{SEEK_END}) was a traceback from both twistd plugins, and
    names-client's "unexpected OSError ... a bug in names-client".
    """

    def setUp(self) -> None:
        inEnglish(self)

    def test_seekRefused(self) -> None:
        path = os.path.join(tempfile.mkdtemp(), "trace.md")
        self.addCleanup(os.unlink, path)
        realSeek = os.lseek

        def lseek(fd: int, position: int, how: int) -> int:
            if how == os.SEEK_END:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            return realSeek(fd, position, how)

        self.patch(os, "lseek", lseek)
        # Linux's count of this process's descriptors (under Wine, /proc is
        # Wine's own process, whose descriptors are not Python's).
        proc = sys.platform != "win32" and os.path.isdir("/proc/self/fd")
        opened = os.listdir("/proc/self/fd") if proc else None
        with self.assertRaises(usage.UsageError) as caught:
            tracefile.openTraceFile(path)
        self.assertTrue(str(caught.exception).startswith(f'--trace-file: cannot write "{path}": '))
        if opened is not None:  # Its descriptor is closed.
            self.assertEqual(len(os.listdir("/proc/self/fd")), len(opened))


class SameValueMixedSpellingsTests(SynchronousTestCase):
    """The option named is found past other long options given before it."""

    def setUp(self) -> None:
        inEnglish(self)

    def test_afterAnotherLongOption(self) -> None:
        self.assertEqual(
            refusal(
                tap.Options(), "--interface", "::1", "--port=0", "-p", "0", "--max-clients", "0"
            ),
            "--max-clients: '0' is not a whole number of at least 1",
        )


class ProxyToItselfTests(SynchronousTestCase):
    """
    C{--to} naming the proxy's own address is a usage error.  Before: the
    proxy started, and one client's connection was relayed to the proxy
    again and again (measured: one C{nc}-like client, 1,001 connections
    drawn on the ladder, every C{--max-clients} slot taken, then a reset
    back down the chain, 1 s later).
    """

    def setUp(self) -> None:
        inEnglish(self)

    def test_itself(self) -> None:
        for argv in (
            ["--port", "5001", "--to", "127.0.0.1:5001"],
            ["--to", "localhost:5001"],  # The default --port and --interface.
            ["-p", "6000", "--interface", "0.0.0.0", "--to", "127.0.0.5:6000"],
            ["-p", "6000", "--interface", "::1", "--to", "[::1]:6000"],
        ):
            message = refusal(proxytap.Options(), *argv)
            self.assertIn("is this proxy itself", message, argv)

    def test_notItself(self) -> None:
        for argv in (
            ["--port", "5001", "--to", "127.0.0.1:5000"],
            ["--port", "5001", "--interface", "127.0.0.1", "--to", "127.0.0.2:5001"],
            ["--port", "0", "--to", "127.0.0.1:5001"],
            ["--endpoint", "tcp:5001", "--to", "127.0.0.1:5001"],
        ):
            options = proxytap.Options()
            options.parseOptions(argv)  # Not refused.
