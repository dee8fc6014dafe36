"""Tests for L{twisted_names.logs}."""

from __future__ import annotations

import io
import json
import os

from twisted.logger import Logger, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.logs import TerminalLogObserver, jsonFile
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
