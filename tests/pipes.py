"""
Helpers for tests that drive L{twisted.internet.stdio} through real pipes.

Reading waits for the reactor to say the pipe is readable (on Windows,
whose C{select} takes only sockets, a thread reads the pipe and hands what
it read to the reactor); every wait is bounded by L{TIMEOUT}, a guard
against hangs, never a measure of speed.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReadDescriptor
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from zope.interface import implementer

from tests.processes import TIMEOUT, reactor, withTimeout

__all__ = ["TIMEOUT", "Pipe", "fired", "reactor", "until"]


@implementer(IReadDescriptor)
class _ReadEnd:
    """A pipe's read end as the reactor watches it: readable means L{Pipe._readable}."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe

    def fileno(self) -> int:
        return self.pipe.readFd

    def doRead(self) -> None:
        self.pipe._readable()

    def connectionLost(self, reason: Failure) -> None:
        pass

    def logPrefix(self) -> str:
        return "test pipe"


class Pipe:
    """
    An OS pipe whose read end is non-blocking; both ends closed at cleanup.

    @ivar received: every byte read from it so far.
    @ivar ended: whether its end was read (every write end closed).
    """

    def __init__(self, testCase: Any) -> None:
        self.readFd, self.writeFd = os.pipe()
        if sys.platform != "win32":
            os.set_blocking(self.readFd, False)
        self.received = b""
        self.ended = False
        self._readEnd: _ReadEnd | None = None
        self._thread: threading.Thread | None = None
        self._waiters: list[tuple[Callable[[bytes], object], str, Deferred[Any]]] = []
        testCase.addCleanup(self.close)

    def write(self, data: bytes) -> None:
        os.write(self.writeFd, data)

    def closeWriteEnd(self) -> None:
        if self.writeFd >= 0:
            os.close(self.writeFd)
            self.writeFd = -1

    def closeReadEnd(self) -> None:
        self._stopWatching()
        if self.readFd >= 0:
            os.close(self.readFd)
            self.readFd = -1

    def close(self) -> None:
        self.closeWriteEnd()
        self.closeReadEnd()

    def drain(self) -> bytes:
        """Read what is in the pipe now, without waiting; return all read so far."""
        if sys.platform == "win32":
            self._startReading()
            return self.received
        while not self.ended:
            try:
                chunk = os.read(self.readFd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                self.ended = True
                break
            self.received += chunk
        return self.received

    async def readUntil(self, expected: bytes, timeout: float = TIMEOUT) -> bytes:
        """
        Read until C{expected} came through the pipe; return all read so far.
        Fails if the pipe ends first, or after C{timeout} seconds.
        """
        await self._waitFor(lambda received: expected in received, repr(expected), timeout)
        return self.received

    async def readToEnd(self, timeout: float = TIMEOUT) -> bytes:
        """
        Close our write end and read until the pipe ends (every other writer
        closed or gone); return all read.  Unlike L{drain}, it waits for
        what is still on its way (on Windows, in the reading thread).
        """
        self.closeWriteEnd()
        await self._waitFor(lambda received: self.ended, "the end of the pipe", timeout)
        return self.received

    async def readMatch(self, pattern: bytes, timeout: float = TIMEOUT) -> re.Match[bytes]:
        """Read until the regular expression C{pattern} matches what was read; return the match."""
        regex = re.compile(pattern, re.MULTILINE)
        match: re.Match[bytes] = await self._waitFor(regex.search, repr(pattern), timeout)
        return match

    def _waitFor(self, test: Callable[[bytes], Any], what: str, timeout: float) -> Deferred[Any]:
        """Fire with C{test(received)} once it is true, waiting for the pipe to be readable."""
        d: Deferred[Any] = Deferred()
        entry = (test, what, d)
        self._waiters.append(entry)

        def forget(result: object) -> object:
            if entry in self._waiters:
                self._waiters.remove(entry)
            if not self._waiters:
                self._stopWatching()
            return result

        d.addBoth(forget)
        withTimeout(
            d, timeout, lambda: f"{what} not read within {timeout:g} s; read {self.received!r}"
        )
        self._readable()
        if self._waiters and self._readEnd is None and sys.platform != "win32":
            self._readEnd = _ReadEnd(self)
            reactor.addReader(self._readEnd)
        return d

    def _startReading(self) -> None:
        """Windows: a thread reads the pipe (blocking) and hands it to the reactor."""
        if self._thread is not None or self.readFd < 0:
            return
        fd = self.readFd

        def read() -> None:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                reactor.callFromThread(self._got, chunk)
                if not chunk:
                    return

        self._thread = threading.Thread(target=read, name="test pipe", daemon=True)
        self._thread.start()

    def _got(self, chunk: bytes) -> None:
        if chunk:
            self.received += chunk
        else:
            self.ended = True
        self._readable()

    def _readable(self) -> None:
        """Read what there is and fire the waiters it satisfies (or all, at the end)."""
        self.drain()
        for entry in list(self._waiters):
            test, what, d = entry
            result = test(self.received)
            if result:
                self._waiters.remove(entry)
                d.callback(result)
            elif self.ended:
                self._waiters.remove(entry)
                d.errback(AssertionError(f"the pipe ended before {what}; read {self.received!r}"))
        if not self._waiters:
            self._stopWatching()

    def _stopWatching(self) -> None:
        if self._readEnd is not None:
            reactor.removeReader(self._readEnd)
            self._readEnd = None


async def until(condition: Callable[[], object], timeout: float = TIMEOUT) -> None:
    """
    Let the reactor run until C{condition()} is true, checking every 10 ms
    (bounded by C{timeout} seconds): for states no event tells us about,
    such as another process filling a pipe.  Prefer waiting for an event.
    """
    deadline = reactor.seconds() + timeout
    while not condition():
        if reactor.seconds() > deadline:
            raise AssertionError(f"condition not met within {timeout:g} s")
        await deferLater(reactor, 0.01)


def fired() -> tuple[Deferred[None], Any]:
    """A Deferred, and a function that fires it once."""
    d: Deferred[None] = Deferred()

    def fire(*args: object) -> None:
        if not d.called:
            d.callback(None)

    return d, fire
