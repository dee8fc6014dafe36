"""
What only the names-server as a whole process may do, under twistd: catch
signals, tune the garbage collector.  Tests of the other services never
start this one: it would take their signals over.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
from types import FrameType
from typing import Any

from twisted.application.service import Service
from twisted.logger import Logger

log = Logger(namespace="names")

#: Signals that stop the server cleanly, with exit status 0.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class ProcessService(Service):
    """
    The process's signals and garbage collector, for twistd's process.
    """

    _stopping = False

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    def startService(self) -> None:
        super().startService()
        # Once running: Twisted installs its own SIGINT and SIGTERM handlers
        # as the reactor starts.
        self.reactor.callWhenRunning(self._handleSignals)
        # What start-up made (Twisted's modules and the like: some 100,000
        # objects) lives as long as the process.  Out of the collector's
        # sight, it is no longer scanned by every full collection a busy
        # server triggers: p99 latency at 500 clients fell from about 33 ms
        # to 24 ms, and CPU per exchange by about 3 us (docs/performance.md).
        gc.freeze()

    def _handleSignals(self) -> None:
        """
        Stop on SIGINT, SIGTERM and SIGHUP with exit status 0: twistd would
        otherwise re-raise SIGINT and SIGTERM on itself after shutdown.
        """
        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, self._signalled)

    def _signalled(self, number: int, frame: FrameType | None) -> None:
        self.reactor.callFromThread(self.stopFor, signal.Signals(number).name)

    def stopFor(self, why: str, status: int = 0) -> None:
        """
        Stop the reactor (and so the server), once, saying C{why}; the
        process exits with C{status}.
        """
        if self._stopping or not self.reactor.running:
            return  # Already stopping: Ctrl-C twice is not an error.
        self._stopping = True
        log.info("{why}: stopping", why=why)
        if status:
            _exitStatusAtExit(status)
        self.reactor.stop()


def _exitStatusAtExit(status: int) -> None:
    """
    Make the process exit with C{status} once twistd is done.

    twistd exits 0 whenever its reactor stopped, and nothing raised in the
    reactor reaches its caller; so the last word is an C{atexit} handler,
    run after twistd has stopped the services, logged its last lines and
    removed its pid file: it flushes the standard streams and ends the
    process with C{status}, skipping only the exit handlers registered
    before it (Python's own, for a process that has nothing left to do).
    """

    def exit() -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        os._exit(status)

    atexit.register(exit)
