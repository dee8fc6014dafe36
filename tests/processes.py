"""
Helpers for end-to-end tests: real processes (the server under twistd, the
client's command line) and raw TCP peers, all watched from the reactor.

Every process runs the checkout's code, not whatever copy of
C{twisted_names} the virtualenv holds (see L{childEnvironment} and
L{TWISTD}).

Every wait is bounded by a generous hang guard (L{TIMEOUT}): a helper that
waits fails the test with what the process printed so far instead of
hanging.  No helper decides anything by how fast a process is.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectError, ProcessExitedAlready
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import ProcessProtocol, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

reactor: Any = _reactor

#: Seconds any single wait may take before the test fails: a guard against
#: hangs, not a measure of speed.  What it bounds takes milliseconds on an
#: idle machine; it is this long so that a loaded one never trips it.
TIMEOUT = 30.0

#: The checkout these tests belong to (the directory holding C{tests/}).
CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The interpreter, and the command lines of the two programs under test.
PYTHON = sys.executable

# twistd finds plugins in the twisted/plugins directories of sys.path, but
# lists the installed twisted/plugins (Twisted's own) first: with a
# non-editable install, the venv's copy of names_server.py would shadow the
# checkout's.  So twistd is started as its console script starts it, after
# giving the plugin directories of PYTHONPATH's entries the precedence Python
# gives PYTHONPATH's modules.
_TWISTD_MAIN = f"""\
import os, sys
import twisted.plugins
first = [
    os.path.join(os.path.abspath(entry), "twisted", "plugins")
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if entry
]
twisted.plugins.__path__[:0] = [path for path in first if os.path.isdir(path)]
sys.argv[0] = {os.path.join(os.path.dirname(sys.executable), "twistd")!r}
from twisted.scripts.twistd import run
sys.exit(run())
"""

#: C{twistd}, with the checkout's plugin (prefix for its options).
TWISTD: list[str] = [PYTHON, "-c", _TWISTD_MAIN]

#: C{twistd} adopting the listening socket a test passes as its descriptor
#: 3 (L{heldListener}, L{ADOPTED}): it says, as systemd would, that the
#: descriptor is for this very process, before Twisted reads that.
TWISTD_ADOPTING: list[str] = [
    PYTHON,
    "-c",
    "import os\n"
    "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1', LISTEN_FDNAMES='held')\n"
    + _TWISTD_MAIN,
]

#: The server endpoint of L{TWISTD_ADOPTING}: the socket at descriptor 3.
ADOPTED = "systemd:domain=INET:index=0"

#: twistd's option for no pid file: Windows' twistd writes none and refuses it.
PIDFILE: list[str] = [] if sys.platform == "win32" else ["--pidfile="]

#: The exit status of a server stopped with C{signal("TERM")}: 0 as it
#: stopped itself; on Windows 1, as Twisted's C{signalProcess} there is
#: C{TerminateProcess} (no signal reaches one process: the Windows stage's
#: end-to-end checks stop the server with Ctrl-C instead).
STOPPED = 1 if sys.platform == "win32" else 0

#: The status L{WatchedProcess.ended} gives after C{signal("KILL")}: minus
#: SIGKILL's number; on Windows TerminateProcess's exit code, 1.
KILLED = 1 if sys.platform == "win32" else -9

#: The client's command line (prefix for its options).
CLIENT: list[str] = [PYTHON, "-m", "twisted_names.client"]

#: What the server's console says once it listens (with --name, its log
#: line), in English or in Portuguese (C{language="pt_BR.UTF-8"}).
LISTENING = r"(?:listening on|escutando em) 127\.0\.0\.1:(\d+)"


def saidPort(text: str | bytes) -> int | None:
    """
    The port the server said it listens on (L{LISTENING}: its console or
    its log, in English or in Portuguese) in C{text}, or C{None} if it has
    not said so yet.  The one place that reads it: tests start the server on
    port 0 and read the port back, never choosing one themselves.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    match = re.search(LISTENING, text)
    return None if match is None else int(match.group(1))


_pluginRoot: str | None = None


def pluginRoot() -> str:
    """
    A directory made for this test run, holding C{twisted/plugins/}: a link
    to (or a copy of) the checkout's C{twisted_plugins/names_server.py} and
    C{names_proxy.py}, and
    no C{__init__.py}, so that it is a plugin directory to Twisted and not a
    package.  twistd writes its C{dropin.cache} there, not in the checkout.
    Removed when the run ends.
    """
    global _pluginRoot
    if _pluginRoot is None:
        root = tempfile.mkdtemp(prefix="names-test-plugins-")
        atexit.register(shutil.rmtree, root, True)
        plugins = os.path.join(root, "twisted", "plugins")
        os.makedirs(plugins)
        for plugin in ("names_server.py", "names_proxy.py"):
            source = os.path.join(CHECKOUT, "twisted_plugins", plugin)
            target = os.path.join(plugins, plugin)
            # No symbolic links: Windows without the privilege.
            with contextlib.suppress(OSError):
                os.symlink(source, target)
            if not os.path.isfile(target):  # Wine says it made the link, and did not.
                with contextlib.suppress(OSError):
                    os.remove(target)
                shutil.copyfile(source, target)
        _pluginRoot = root
    return _pluginRoot


def compiledCatalogs() -> None:
    """
    Compile the checkout's C{.po} catalogs where their C{.mo} is missing or
    older, as the build does (with Babel): the children run the checkout's
    code, so they read the checkout's catalogs.  Atomic, for parallel runs.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(CHECKOUT, "twisted_names", "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        os.replace(partial, mo)


def childEnvironment(language: str | None = None) -> dict[str, str]:
    """
    Our environment (PATH, the venv, ...), with unbuffered Python output, and
    C{PYTHONPATH} starting with the checkout and L{pluginRoot}: a child
    imports the checkout's C{twisted_names}, and twistd (see L{TWISTD}) loads
    the checkout's plugin, whatever is installed.

    The child speaks English, whatever language the tests run in, or
    C{language} (the value of C{LANGUAGE}, such as C{pt_BR.UTF-8}).
    """
    compiledCatalogs()
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(variable, None)
    if language is not None:
        env["LANGUAGE"] = language
    inherited = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    env["PYTHONPATH"] = os.pathsep.join([CHECKOUT, pluginRoot(), *inherited])
    return env


def _relay(source: Deferred[Any], target: Deferred[Any]) -> None:
    """Fire C{target} with C{source}'s result, unless it has fired already."""

    def fire(result: object) -> object:
        if not target.called:
            target.callback(result)
        return result

    source.addBoth(fire)


def scratchDirectory(testCase: Any) -> str:
    """A new directory for a process to run in (twistd may write files there)."""
    path = os.path.abspath(str(testCase.mktemp()))
    os.makedirs(path)
    return path


def withTimeout(d: Deferred[Any], timeout: float, what: str | Callable[[], str]) -> Deferred[Any]:
    """
    C{d}, failing with an C{AssertionError} after C{timeout} seconds; its
    message is C{what} (or what C{what()} returns then).
    """

    def onTimeout(failure: Failure) -> Failure:
        if failure.check(TimeoutError):
            text = what() if callable(what) else f"timed out after {timeout:g} s: {what}"
            return Failure(AssertionError(text))
        return failure

    d.addTimeout(timeout, reactor)
    d.addErrback(onTimeout)
    return d


def _lines(text: str) -> str:
    """
    C{text} with Windows' line endings as C{\\n}: on Windows, Python's text
    streams end lines with CR LF, what the program means is the same.
    """
    return text.replace("\r\n", "\n") if sys.platform == "win32" else text


class WatchedProcess(ProcessProtocol):
    """
    A child process whose stdout and stderr are collected, so that a test
    can wait for a line (L{waitFor}) and for its exit status (L{ended}).

    @ivar out: everything written to stdout so far, decoded.
    @ivar err: everything written to stderr so far, decoded.
    @ivar ended: fires with the exit status, or minus the signal number that
        killed the process.
    @ivar status: the exit status once ended, else C{None}.
    """

    transport: Any  # a process transport, once spawned

    def __init__(self, label: str) -> None:
        self.label = label
        self._outBytes = b""
        self._errBytes = b""
        self.status: int | None = None
        self._ended: Deferred[int] = Deferred()
        self._waiters: list[tuple[str, re.Pattern[str], int, Deferred[re.Match[str]]]] = []

    @property
    def out(self) -> str:
        return _lines(self._outBytes.decode("utf-8", "replace"))

    @property
    def err(self) -> str:
        return _lines(self._errBytes.decode("utf-8", "replace"))

    @property
    def running(self) -> bool:
        return self.status is None

    def describe(self) -> str:
        """What the process printed, for failure messages."""
        return (
            f"--- {self.label} stdout ---\n{self.out}"
            f"--- {self.label} stderr ---\n{self.err}"
            f"--- {self.label} status: {self.status} ---"
        )

    # Writing to the child.

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def closeStdin(self) -> None:
        self.transport.closeStdin()

    def signal(self, name: str) -> None:
        """Send C{name} (C{"TERM"}, C{"INT"}, C{"KILL"}) unless it has exited."""
        with contextlib.suppress(ProcessExitedAlready):
            self.transport.signalProcess(name)

    # Waiting.

    def waitFor(
        self, pattern: str, stream: str = "out", count: int = 1, timeout: float = TIMEOUT
    ) -> Deferred[re.Match[str]]:
        """
        Fire with the C{count}th match of the regular expression C{pattern}
        in everything the process wrote to C{stream} (C{"out"} or C{"err"}),
        as soon as it is there; fail if it is not within C{timeout} seconds
        or the process exits without writing it.
        """
        regex = re.compile(pattern, re.MULTILINE)
        d: Deferred[re.Match[str]] = Deferred()
        entry = (stream, regex, count, d)
        self._waiters.append(entry)
        self._check()
        if not d.called and not self.running:
            self._failWaiter(entry, "the process exited")

        def forget(result: object) -> object:
            if entry in self._waiters:
                self._waiters.remove(entry)
            return result

        withTimeout(
            d,
            timeout,
            lambda: (
                f"{pattern!r} not seen on {self.label}'s std{stream} within"
                f" {timeout:g} s\n{self.describe()}"
            ),
        )
        d.addBoth(forget)
        return d

    def waitForEnd(self, timeout: float = TIMEOUT) -> Deferred[int]:
        """Fire with the exit status (see L{ended}) within C{timeout} seconds."""
        d: Deferred[int] = Deferred()
        if self.status is not None:
            d.callback(self.status)
            return d
        _relay(self._ended, d)
        return withTimeout(
            d,
            timeout,
            lambda: f"{self.label} did not exit within {timeout:g} s\n{self.describe()}",
        )

    @property
    def ended(self) -> Deferred[int]:
        """The exit status, waited for at most L{TIMEOUT} seconds."""
        return self.waitForEnd()

    async def listeningPort(self, timeout: float = TIMEOUT) -> int:
        """The port the server says it listens on (L{saidPort}), once it says so."""
        match = await self.waitFor(LISTENING, timeout=timeout)
        return int(match.group(1))

    def lines(self, stream: str = "out") -> list[str]:
        text = self.out if stream == "out" else self.err
        return text.splitlines()

    # ProcessProtocol.

    def outReceived(self, data: bytes) -> None:
        self._outBytes += data
        self._check()

    def errReceived(self, data: bytes) -> None:
        self._errBytes += data
        self._check()

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        signal = getattr(reason.value, "signal", None)
        self.status = code if code is not None else -(signal or 0)
        self._check()
        for entry in list(self._waiters):
            self._failWaiter(entry, f"the process exited with status {self.status}")
        self._ended.callback(self.status)

    def _check(self) -> None:
        for entry in list(self._waiters):
            stream, regex, count, d = entry
            text = self.out if stream == "out" else self.err
            matches = list(regex.finditer(text))
            if len(matches) >= count:
                self._waiters.remove(entry)
                d.callback(matches[count - 1])

    def _failWaiter(
        self, entry: tuple[str, re.Pattern[str], int, Deferred[re.Match[str]]], why: str
    ) -> None:
        stream, regex, _, d = entry
        if entry in self._waiters:
            self._waiters.remove(entry)
        if not d.called:
            d.errback(
                AssertionError(
                    f"{regex.pattern!r} not seen on {self.label}'s std{stream}: {why}\n"
                    f"{self.describe()}"
                )
            )


def spawn(
    testCase: Any,
    label: str,
    argv: list[str],
    path: str | None = None,
    childFDs: dict[int, int | str] | None = None,
    language: str | None = None,
    env: dict[str, str] | None = None,
    usePTY: bool = False,
) -> WatchedProcess:
    """
    Start C{argv} with pipes for stdin, stdout and stderr (or the
    C{childFDs} given: a descriptor passed as a number is the child's own,
    and Twisted neither reads nor writes it; or, with C{usePTY}, a new
    pseudo-terminal that is its controlling terminal); at cleanup, kill it
    if it still runs and wait (bounded) for it to be gone, so the reactor is
    left clean.  It speaks English, or C{language} (see L{childEnvironment});
    C{env} replaces the whole environment.
    """
    process = WatchedProcess(label)
    if usePTY:
        reactor.spawnProcess(
            process, argv[0], argv, env=env or childEnvironment(language), usePTY=True
        )
    elif childFDs is None and sys.platform == "win32":
        # Windows' spawnProcess takes no childFDs: it always gives pipes.
        reactor.spawnProcess(
            process, argv[0], argv, env=env or childEnvironment(language), path=path
        )
    else:
        reactor.spawnProcess(
            process,
            argv[0],
            argv,
            env=env or childEnvironment(language),
            path=path,
            childFDs=childFDs or {0: "w", 1: "r", 2: "r"},
        )

    def cleanUp() -> Deferred[int] | None:
        if not process.running:
            return None
        process.signal("KILL")
        return process.waitForEnd()

    testCase.addCleanup(cleanUp)
    return process


def spawnServer(
    testCase: Any,
    *options: str,
    port: int = 0,
    stdin: bytes = b"",
    closeStdin: bool = False,
    language: str | None = None,
    env: dict[str, str] | None = None,
) -> WatchedProcess:
    """
    Start C{twistd -n names-server --port PORT OPTIONS} in a directory of its
    own; write C{stdin} to it at once (before it even listens) and close its
    stdin if asked.  C{language} and C{env} as for L{spawn}.
    """
    server = spawn(
        testCase,
        "server",
        [*TWISTD, "-n", *PIDFILE, "names-server", "--port", str(port), *options],
        path=scratchDirectory(testCase),
        language=language,
        env=env,
    )
    if stdin:
        server.write(stdin)
    if closeStdin:
        server.closeStdin()
    return server


async def startServer(
    testCase: Any,
    *options: str,
    stdin: bytes = b"",
    closeStdin: bool = False,
    language: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[WatchedProcess, int]:
    """
    Start the server on a free port (see L{spawnServer}) and wait until it
    listens; return it and its port, learnt from what it printed.
    """
    server = spawnServer(
        testCase, *options, stdin=stdin, closeStdin=closeStdin, language=language, env=env
    )
    return server, await server.listeningPort()


def startClient(
    testCase: Any,
    port: int,
    *options: str,
    label: str = "client",
    language: str | None = None,
) -> WatchedProcess:
    """Start C{python -m twisted_names.client --port PORT OPTIONS}."""
    return spawn(testCase, label, [*CLIENT, "--port", str(port), *options], language=language)


class RawPeer(Protocol):
    """
    A TCP peer that records what it receives and when the connection closes:
    for sending what the client program never would.

    @ivar received: every byte received so far.
    @ivar isClosed: whether the connection is gone (see L{whenClosed}).
    """

    transport: Any  # a TCP transport, once connected

    def __init__(self) -> None:
        self.received = b""
        self._closed: Deferred[bytes] = Deferred()
        self.isClosed = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.isClosed = True
        self._closed.callback(self.received)

    def send(self, data: bytes) -> None:
        self.transport.write(data)

    def disconnect(self) -> None:
        """
        Leave at once, with a reset: a FIN alone would only tell the server
        that we finished sending (a half-close, as C{nc -q} does).
        """
        self.transport.abortConnection()

    def finishSending(self) -> None:
        """Half-close: send a FIN, and keep reading."""
        self.transport.loseWriteConnection()

    def whenClosed(self, timeout: float = TIMEOUT) -> Deferred[bytes]:
        """Fire with everything received once the connection is closed."""
        d: Deferred[bytes] = Deferred()
        if self.isClosed:
            d.callback(self.received)
            return d
        _relay(self._closed, d)
        return withTimeout(
            d,
            timeout,
            lambda: f"the connection still open after {timeout:g} s (got {self.received!r})",
        )


async def connectRaw(testCase: Any, port: int) -> RawPeer:
    """
    Connect a L{RawPeer} to 127.0.0.1:C{port}; it is closed at cleanup.

    For a server that may close the connection at once (a limit's refusal,
    a short timeout), use L{connectRefused}: its close can arrive before
    this side has seen the connect complete, and then connecting fails.
    """
    return await connectRawTo(
        testCase, TCP4ClientEndpoint(reactor, "127.0.0.1", port), f"port {port}"
    )


async def connectRawTo(testCase: Any, endpoint: IStreamClientEndpoint, where: str) -> RawPeer:
    """Connect a L{RawPeer} to C{endpoint} (C{where}, for messages); closed at cleanup."""
    peer = RawPeer()
    await withTimeout(connectProtocol(endpoint, peer), TIMEOUT, f"connecting to {where}")
    _closeAtCleanup(testCase, peer)
    return peer


def _closeAtCleanup(testCase: Any, peer: RawPeer) -> None:
    def cleanUp() -> Deferred[bytes] | None:
        if peer.isClosed:
            return None
        peer.transport.abortConnection()
        return peer.whenClosed()

    testCase.addCleanup(cleanUp)


#: How a connection the server closed at once, sending nothing, can look
#: from here (see L{connectRefused}).
CLOSED = "connected, then closed"
RESET_WHILE_CONNECTING = "reset while connecting"


async def connectRefused(testCase: Any, port: int, timeout: float = TIMEOUT) -> str:
    """
    Connect to 127.0.0.1:C{port}, where the server is to accept the
    connection and close it at once without sending a byte (a refusal over
    a connection limit; a peer closed by a short timeout); fire once it is
    closed.

    The server's close races with this side's view of its own connect: the
    kernel completes the handshake, the server accepts and resets, and the
    reactor here may learn that the connect completed before or after the
    reset arrived.  Both outcomes mean "closed with nothing sent", so both
    are accepted; which one happened is returned (L{CLOSED} or
    L{RESET_WHILE_CONNECTING}).  Anything else fails the test: nothing
    listening (connection refused), bytes received, or the connection still
    open after C{timeout} seconds.  Whether the server said why (its log) is
    for the test to check.
    """
    peer = RawPeer()
    try:
        await withTimeout(
            connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), peer),
            timeout,
            f"connecting to port {port}",
        )
    except ConnectError as e:
        if e.osError == errno.ECONNRESET:
            return RESET_WHILE_CONNECTING
        raise
    _closeAtCleanup(testCase, peer)
    received = await peer.whenClosed(timeout)
    if received:
        raise AssertionError(f"a connection to be closed at once received {received!r}")
    return CLOSED


class ProgramTestCase(TestCase):
    """Assertions about the programs' processes, for end-to-end tests."""

    #: A hang guard for the whole test (several waits of up to L{TIMEOUT}).
    timeout = 120

    def assertExited(self, process: WatchedProcess, status: int, expected: int) -> None:
        self.assertEqual(status, expected, process.describe())

    def assertNoTraceback(self, *processes: WatchedProcess) -> None:
        for process in processes:
            self.assertNotIn("Traceback", process.out, process.describe())
            self.assertNotIn("Traceback", process.err, process.describe())

    async def assertAnswered(self, client: WatchedProcess, reply: str) -> None:
        """The client printed C{Server: REPLY} and nothing else, and exited 0."""
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, f"Server: {reply}\n", client.describe())
        self.assertEqual(client.err, "", client.describe())


def refusingPort(testCase: Any) -> int:
    """
    A loopback TCP port that refuses connections until the test ends: a
    socket bound to it and not listening holds it, so no other process can
    take it meanwhile (a port closed and given back could be reused).
    """
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    testCase.addCleanup(held.close)
    held.bind(("127.0.0.1", 0))
    return int(held.getsockname()[1])


def heldListener(testCase: Any) -> socket.socket:
    """
    A TCP socket listening on 127.0.0.1, on a port the system chose, held
    until the test ends: a port in use, or one for a server to adopt
    (L{TWISTD_ADOPTING}).  Connections to it queue in its backlog from the
    start, so a test never waits for a server to listen, and no other
    program can take the port meanwhile (as it could a port found free,
    closed and given to the server).
    """
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    testCase.addCleanup(held.close)
    held.bind(("127.0.0.1", 0))
    held.listen(16)
    return held


def sendOver(testCase: Any, port: int, data: bytes) -> socket.socket:
    """
    A plain blocking socket to 127.0.0.1:C{port} that has sent C{data}, for
    tests whose own thread waits on a terminal (L{tests.screen}) and not on
    the reactor; closed at cleanup.
    """
    client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    testCase.addCleanup(client.close)
    client.sendall(data)
    return client


def readToEnd(client: socket.socket) -> bytes:
    """Everything C{client} receives until the other side closes (bounded by its timeout)."""
    received = b""
    while chunk := client.recv(1024):
        received += chunk
    return received
