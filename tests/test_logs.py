"""Tests for L{twisted_names.logs}."""

from __future__ import annotations

import io
import json
import os

from twisted.logger import Logger, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.logs import (
    FLUSH_LINES,
    BatchedFileLogObserver,
    ClassicText,
    TerminalLogObserver,
    jsonFile,
)
from twisted_names.server import logExchange


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
