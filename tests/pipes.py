"""Helpers for tests that drive L{twisted.internet.stdio} through real pipes."""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

reactor: Any = _reactor


class Pipe:
    """An OS pipe; both ends closed at cleanup."""

    def __init__(self, testCase: Any) -> None:
        self.readFd, self.writeFd = os.pipe()
        os.set_blocking(self.readFd, False)
        self.received = b""
        testCase.addCleanup(self.close)

    def write(self, data: bytes) -> None:
        os.write(self.writeFd, data)

    def closeWriteEnd(self) -> None:
        if self.writeFd >= 0:
            os.close(self.writeFd)
            self.writeFd = -1

    def closeReadEnd(self) -> None:
        if self.readFd >= 0:
            os.close(self.readFd)
            self.readFd = -1

    def close(self) -> None:
        self.closeWriteEnd()
        self.closeReadEnd()

    def drain(self) -> bytes:
        """Read what is in the pipe now, without waiting."""
        while True:
            try:
                chunk = os.read(self.readFd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.received += chunk
        return self.received

    async def readUntil(self, expected: bytes, timeout: float = 5.0) -> bytes:
        """Let the reactor run until C{expected} came through the pipe (bounded)."""
        for _ in range(int(timeout / 0.01)):
            if expected in self.drain():
                return self.received
            await deferLater(reactor, 0.01)
        raise AssertionError(f"{expected!r} not seen in {self.received!r}")


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Let the reactor run until C{condition()} is true (bounded)."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await deferLater(reactor, 0.01)
    raise AssertionError("condition not met in time")


def fired() -> tuple[Deferred[None], Any]:
    """A Deferred, and a function that fires it once."""
    d: Deferred[None] = Deferred()

    def fire(*args: object) -> None:
        if not d.called:
            d.callback(None)

    return d, fire
