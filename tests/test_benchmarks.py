"""
A smoke test of the benchmark's load generator against the real server: it
still runs and counts exchanges.  No figure is asserted: speed is measured by
C{benchmarks/run.py}, never by the tests.
"""

from __future__ import annotations

import json
import os
import sys

from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from tests.processes import reactor, startServer

LOADGEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks", "loadgen.py")


class LoadGeneratorSmokeTest(TestCase):
    async def test_loadgenAgainstNamesServer(self) -> None:
        if not sys.platform.startswith("linux"):
            self.skipTest("the load generator uses epoll (Linux)")
        server, port = await startServer(self, "--name", "Bob")
        out, err, status = await getProcessOutputAndValue(
            sys.executable, [LOADGEN, str(port), "-c", "4", "-d", "0.5"], reactor=reactor
        )
        self.assertEqual(status, 0, err)
        figures = json.loads(out)
        self.assertGreater(figures["exchanges_total"], 0)
        self.assertEqual(figures["errors"], 0)
        self.assertLessEqual({"p50", "p99"}, set(figures["latency_ms"]))
        server.signal("TERM")
        self.assertEqual(await server.ended, 0)
