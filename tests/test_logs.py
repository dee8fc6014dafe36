"""Tests for L{twisted_names.logs.observers}."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
from collections.abc import Callable
from typing import Any

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import Logger, LogLevel, formatEvent, globalLogPublisher
from twisted.python import runtime
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.logs.file import MAX_ROTATED_FILES, SafeLogFile
from twisted_names.logs.limit import LIMIT, MAX_KINDS, PERIOD, RateLimitedObserver
from twisted_names.logs.observers import (
    FLUSH_LINES,
    BatchedFileLogObserver,
    ClassicText,
    TerminalLogObserver,
    jsonFile,
)
from twisted_names.server import logExchange

LISTDIR = os.listdir


class TerminalLogObserverTests(SynchronousTestCase):
    def test_fallbackThenTerminal(self) -> None:
        fallback = io.StringIO()
        observer = TerminalLogObserver(fallback)
        log = Logger(namespace="names", observer=observer)
        log.info("before {what}", what="start")
        shown: list[str] = []
        observer.show = shown.append
        log.info("{peer} said {name!r}", peer="p", name="\x1b[2J")
        self.assertIn("[names#info] before start\n", fallback.getvalue())
        self.assertEqual(len(shown), 1)
        self.assertTrue(shown[0].endswith("[names#info] p said '\\x1b[2J'"), shown[0])


class ClassicTextTests(SynchronousTestCase):
    def test_sameAsTwistd(self) -> None:
        """The cheaper formatter writes what twistd's would, for every kind of event."""
        from twisted.logger import LogLevel, formatEventAsClassicLogText

        events: list[dict[str, object]] = [
            {"log_format": "{exchange}", "exchange": "p 'Ana' answered 'Bob' in 0.5 s"},
            {"log_format": "{peer} sent {name!r}", "peer": "p", "name": "\x1b"},
            {"log_format": "{x}", "x": "two\nlines"},
            {"log_format": "{x}", "x": 42},
            {"log_format": "{x}", "x": "with system", "log_system": "-"},
            {"log_format": "no fields"},
            {},
        ]
        text = ClassicText()
        for when in (1_700_000_000.25, 1_700_000_000.75, 1_700_000_001.0):
            for event in events:
                event = dict(event, log_time=when, log_namespace="names", log_level=LogLevel.info)
                self.assertEqual(text(event), formatEventAsClassicLogText(event), event)


class BatchedFileLogObserverTests(SynchronousTestCase):
    def test_batchedWhileRunning(self) -> None:
        from twisted.internet.testing import MemoryReactorClock
        from twisted.python.logfile import LogFile

        reactor = MemoryReactorClock()
        reactor.running = True
        path = self.mktemp()
        logFile = LogFile.fromFullPath(path)
        self.addCleanup(logFile.close)
        observer = BatchedFileLogObserver(logFile, reactor)
        log = Logger(namespace="names", observer=observer)
        log.info("{x}", x="one")
        log.info("{x}", x="two")
        self.assertEqual(os.path.getsize(path), 0)
        self.assertEqual(len(reactor.getDelayedCalls()), 1)
        reactor.advance(0.099)
        self.assertEqual(os.path.getsize(path), 0)
        reactor.advance(0.001)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(
            [line.split(" ", 1)[1] for line in lines], ["[names#info] one", "[names#info] two"]
        )
        self.assertEqual(reactor.getDelayedCalls(), [])
        for i in range(FLUSH_LINES):
            log.info("{x}", x=f"line {i}")
        with open(path, encoding="utf-8") as f:
            self.assertTrue(f.read().endswith(f"[names#info] line {FLUSH_LINES - 1}\n"))
        self.assertEqual(reactor.getDelayedCalls(), [])
        reactor.running = False
        log.info("{x}", x="at once")
        with open(path, encoding="utf-8") as f:
            self.assertTrue(f.read().endswith("[names#info] at once\n"))


class JsonFileTests(SynchronousTestCase):
    def test_exchangeFields(self) -> None:
        """Each exchange is one JSON object with its fields."""
        path = self.mktemp()
        self.patch(os, "environ", {"NAMES_SERVER_JSON_LOG": path})
        observer = jsonFile()
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        logExchange("127.0.0.1:1", "Ana", "Bob", 0.5)
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line.strip("\x1e")) for line in f if line.strip()]
        self.assertEqual(len(records), 1)
        record = records[0]
        self.assertEqual(
            (record["peer"], record["name"], record["reply"], record["duration"]),
            ("127.0.0.1:1", "Ana", "Bob", 0.5),
        )
        self.assertEqual(record["exchange"], "127.0.0.1:1 'Ana' answered 'Bob' in 0.500 s")


def legacyEvent(text: str) -> dict[str, object]:
    """An event as twisted.python.log.msg makes it, through the bridge."""
    return {
        "log_namespace": "log_legacy",
        "log_level": LogLevel.info,
        "log_format": "{log_text}",
        "log_text": text,
    }


class RateLimitedObserverTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.clock.running = True
        self.events: list[dict[str, object]] = []
        self.observer = RateLimitedObserver(self.events.append, self.clock)  # type: ignore[arg-type]
        self.port = Logger(namespace="twisted.internet.tcp.Port", observer=self.observer)

    def summaries(self) -> list[str]:
        return [formatEvent(e) for e in self.events if "more log events" in e["log_format"]]  # type: ignore[operator]

    def test_floodOfOneKind(self) -> None:
        """
        Twisted's three lines per refused connection at the descriptor limit:
        ten of each kind a second, then how many were left out.
        """
        for i in range(1000):
            self.port.info("EMFILE encountered; releasing reserved file descriptor.")
            self.port.info("EMFILE recovery: Closed socket from {address}", address=("1.2.3.4", i))
            self.port.info("Re-reserving EMFILE recovery file descriptor.")
        self.assertEqual(len(self.events), 3 * LIMIT)
        self.clock.advance(PERIOD)
        self.assertEqual(
            sorted(self.summaries()),
            [
                "990 more log events like this were left out in 1 s:"
                " [twisted.internet.tcp.Port#info] 'EMFILE encountered; releasing reserved"
                " file descriptor.'",
                "990 more log events like this were left out in 1 s:"
                " [twisted.internet.tcp.Port#info] 'EMFILE recovery: Closed socket from"
                " {address}'",
                "990 more log events like this were left out in 1 s:"
                " [twisted.internet.tcp.Port#info] 'Re-reserving EMFILE recovery file"
                " descriptor.'",
            ],
        )
        self.events.clear()
        self.port.info("Re-reserving EMFILE recovery file descriptor.")
        self.assertEqual(len(self.events), 1, "a new second: passed again")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_everySecondItsShare(self) -> None:
        for _ in range(3):
            for _i in range(50):
                self.port.warn("Could not accept new connection ({e})", e="EMFILE")
            self.clock.advance(PERIOD)
        passed = [e for e in self.events if str(e["log_format"]).startswith("Could not")]
        self.assertEqual(len(passed), 3 * LIMIT)
        self.assertEqual(len(self.summaries()), 3)

    def test_exchangesAlwaysPass(self) -> None:
        """The server's own info events (one per exchange) are never held back."""
        log = Logger(namespace="names", observer=self.observer)
        for i in range(1000):
            log.info("{exchange}", exchange=f"peer {i}")
        self.assertEqual(len(self.events), 1000)

    def test_ownWarningsLimited(self) -> None:
        log = Logger(namespace="names", observer=self.observer)
        for i in range(100):
            log.warn("{peer} sent invalid UTF-8", peer=f"127.0.0.1:{i}")
        self.assertEqual(len(self.events), LIMIT)

    def test_legacyByText(self) -> None:
        """Legacy log.msg events all have one format: their text tells them apart."""
        for _ in range(20):
            self.observer(legacyEvent("(TCP Port 5000 Closed)"))
            self.observer(legacyEvent("something else"))
        self.assertEqual(len(self.events), 2 * LIMIT)

    def test_kindsBounded(self) -> None:
        """Past MAX_KINDS kinds in a second, the others share one count."""
        for i in range(MAX_KINDS + 100):
            self.observer(legacyEvent(f"line {i}"))
        self.assertEqual(len(self.observer._counts), MAX_KINDS + 1)
        self.assertEqual(len(self.events), MAX_KINDS + LIMIT)
        self.clock.advance(PERIOD)
        self.assertEqual(
            self.summaries(),
            ["90 more log events like this were left out in 1 s: [-#-] '(others)'"],
        )

    def test_notRunning(self) -> None:
        """Start-up and shutdown pass whole; what was left out is said first."""
        for _ in range(20):
            self.port.info("x")
        self.clock.running = False
        self.port.info("y")
        self.assertEqual(len(self.summaries()), 1)
        self.assertEqual(formatEvent(self.events[-1]), "y")
        for _ in range(20):
            self.port.info("y")
        self.assertEqual(len(self.events), LIMIT + 1 + 1 + 20)


class ShortWrites:
    """A log file's file whose writes stop short, then fail: a disk filling up."""

    def __init__(self, real: Any, room: int) -> None:
        self.real = real
        self.room = room

    def write(self, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        count: int = self.real.write(data[: self.room])
        self.room -= count
        return count

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _isOpen(path: str) -> bool:
    """Whether this process holds C{path} open (Linux: C{/proc/self/fd})."""
    target = os.path.realpath(path)
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                return True
    return False


def _windowsRename(real: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """C{os.rename} or C{os.replace} refusing, as Windows does, to move an open file."""

    def rename(source: str, target: str) -> None:
        if _isOpen(source):
            raise PermissionError(errno.EACCES, "being used by another process", source)
        real(source, target)

    return rename


class SafeLogFileTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.directory = os.path.abspath(self.mktemp())
        os.makedirs(self.directory)
        self.path = os.path.join(self.directory, "names.log")
        self.logFile = SafeLogFile.fromFullPath(self.path, rotateLength=10)
        self.addCleanup(lambda: self.logFile.closed or self.logFile.close())

    def read(self, suffix: str = "") -> str:
        with open(self.path + suffix, encoding="utf-8") as f:
            return f.read()

    def test_rotatedFilesCapped(self) -> None:
        """At most MAX_ROTATED_FILES rotated files; the newest is .1."""
        for i in range(MAX_ROTATED_FILES + 5):
            self.logFile.write(f"line {i:08d}\n")
        self.logFile.write("last\n")
        self.assertEqual(self.logFile.listLogs(), list(range(1, MAX_ROTATED_FILES + 1)))
        self.assertEqual(self.read(".1"), f"line {MAX_ROTATED_FILES + 4:08d}\n")
        self.assertEqual(self.read(), "last\n")
        self.assertFalse(os.path.exists(self.path + f".{MAX_ROTATED_FILES + 1}"))

    def test_rotationWithoutDescriptors(self) -> None:
        """
        Out of descriptors (the directory cannot be listed): no rotation, no
        file lost, the lines still written; the next write rotates.
        """
        self.logFile.write("first line\n")
        self.logFile.rotate()
        self.logFile.write("second line\n")

        def emfile(path: str) -> list[str]:
            raise OSError(errno.EMFILE, "Too many open files")

        self.patch(os, "listdir", emfile)
        self.logFile.write("third line\n")
        self.assertEqual(self.read(".1"), "first line\n")
        self.assertEqual(self.read(), "second line\nthird line\n")
        self.patch(os, "listdir", LISTDIR)
        self.logFile.write("fourth line\n")
        self.assertEqual(
            (self.read(".2"), self.read(".1"), self.read()),
            ("first line\n", "second line\nthird line\n", "fourth line\n"),
        )

    def test_rotatesWhereOpenFilesCannotBeRenamed(self) -> None:
        """
        Bug 5 of issue 14: Windows renames no open file (a sharing
        violation), and the log file was renamed while open, the error
        ignored: it never rotated.  On Linux, renaming an open file fails
        here as it does on Windows.
        """
        if not runtime.platform.isWindows():
            self.patch(os, "rename", _windowsRename(os.rename))
            self.patch(os, "replace", _windowsRename(os.replace))
        self.logFile.write("first line\n")
        self.logFile.write("second line\n")
        self.logFile.write("third line\n")
        self.assertEqual(
            (self.read(".2"), self.read(".1"), self.read()),
            ("first line\n", "second line\n", "third line\n"),
        )

    def test_newFileCannotBeOpened(self) -> None:
        """The new file cannot be opened: the current one is kept, nothing renamed."""
        self.logFile.write("first line\n")
        os.mkdir(self.path + ".opening")
        self.logFile.write("second line\n")
        self.assertEqual(self.read(), "first line\nsecond line\n")
        self.assertEqual(self.logFile.listLogs(), [])

    def test_failedWriteLeavesNoPartialLine(self) -> None:
        """
        A write that stops half-way (a full disk) is cut back and raises: the
        next line is not glued to half a line.
        """
        logFile = SafeLogFile.fromFullPath(self.path + "-disk")
        self.addCleanup(logFile.close)
        logFile.write("whole line\n")
        real = logFile._file
        logFile._file = ShortWrites(real, 7)
        e = self.assertRaises(OSError, logFile.write, "a line that will not fit\n")
        self.assertEqual(e.errno, errno.ENOSPC)
        logFile._file = real
        logFile.write("next line\n")
        self.assertEqual(self.read("-disk"), "whole line\nnext line\n")
        self.assertEqual(logFile.size, len("whole line\nnext line\n"))


class LostLinesTests(SynchronousTestCase):
    def test_countedAndSaid(self) -> None:
        """
        Events that could not be written are counted; the first write that
        works says how many, in a line of its own.
        """
        reactor = MemoryReactorClock()
        path = os.path.abspath(self.mktemp())
        logFile = SafeLogFile.fromFullPath(path)
        self.addCleanup(logFile.close)
        observer = BatchedFileLogObserver(logFile, reactor)
        log = Logger(namespace="names", observer=observer)
        log.info("{x}", x="before")
        real = logFile._file
        logFile._file = ShortWrites(real, 5)
        log.info("{x}", x="lost one")
        log.info("{x}", x="lost two")
        self.assertEqual(observer.lost, 2)
        logFile._file = real
        log.info("{x}", x="after")
        self.assertEqual(observer.lost, 0)
        with open(path, encoding="utf-8") as f:
            lines = [line.split(" ", 1)[1] for line in f.read().splitlines()]
        self.assertEqual(
            lines,
            [
                "[names#info] before",
                "[names#warn] 2 log events could not be written (No space left on device)",
                "[names#info] after",
            ],
        )
