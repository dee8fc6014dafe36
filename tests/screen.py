"""
A program on a real pseudo-terminal, seen as a person sees it: keystrokes go
in, and the screen is read through the C{pyte} terminal emulator.

Every wait is bounded (L{WAIT} seconds at most) and returns as soon as what
is awaited is on the screen: no sleeps, so a loaded machine only makes the
tests slower, never wrong.
"""

# ruff: noqa: E402  (the platform is asserted before the POSIX-only imports)
from __future__ import annotations

import sys

assert sys.platform != "win32", "pseudo-terminals are POSIX"

import fcntl
import os
import select
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Callable, Sequence

import pyte

#: The longest any wait lasts, in seconds, before the test fails.
WAIT = 30.0


def _takeControllingTerminal() -> None:
    """In the child, after setsid: stdin's terminal becomes the controlling one."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Screen:
    """
    A program started on a new pseudo-terminal of C{columns} x C{rows}.

    @ivar modesBefore: the terminal's termios attributes before the start.
    @ivar flagsBefore: its file status flags (O_NONBLOCK...) before the start.
    """

    def __init__(
        self,
        argv: Sequence[str],
        columns: int = 80,
        rows: int = 24,
        passFds: Sequence[int] = (),
        env: dict[str, str] | None = None,
        controlling: bool = False,
    ) -> None:
        """
        @param controlling: make the terminal the program's controlling
            terminal, its stderr too (for a shell with job control: Ctrl-Z,
            C{fg}).
        """
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.modesBefore = termios.tcgetattr(self.slave)
        self.flagsBefore = fcntl.fcntl(self.slave, fcntl.F_GETFL)
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            list(argv),
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave if controlling else self.stderr,
            pass_fds=tuple(passFds),
            env={**os.environ, "TERM": "xterm", **(env or {})},
            start_new_session=True,
            preexec_fn=_takeControllingTerminal if controlling else None,
        )

    # Keys in.

    def send(self, keys: str | bytes) -> None:
        """Type C{keys} (text is sent as UTF-8)."""
        if isinstance(keys, str):
            keys = keys.encode("utf-8")
        os.write(self.master, keys)

    # The screen out.

    @property
    def rows(self) -> list[str]:
        """The screen's rows, as shown, without trailing blanks."""
        return [row.rstrip() for row in self.screen.display]

    @property
    def text(self) -> str:
        return "\n".join(row for row in self.rows)

    @property
    def cursor(self) -> tuple[int, int]:
        """The cursor's column and row."""
        return self.screen.cursor.x, self.screen.cursor.y

    def cursorRow(self) -> str:
        return self.rows[self.screen.cursor.y]

    def _read(self, timeout: float) -> bool:
        """Read what the program wrote, waiting at most C{timeout}; False at its end."""
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if not ready:
            return self.process.poll() is None
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every writer closed.
            return False
        if not data:
            return False
        self.stream.feed(data)
        return True

    def expect(self, condition: Callable[[], bool] | str, wait: float = WAIT) -> None:
        """
        Read the screen until C{condition} holds (a string: until the screen
        shows it); fail, showing the screen, if it does not within C{wait}.
        """
        check = (lambda: condition in self.text) if isinstance(condition, str) else condition
        deadline = time.monotonic() + wait
        while not check():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (not self._read(min(remaining, 1.0)) and not check()):
                raise AssertionError(
                    f"not seen on the screen: {condition!r}\n---\n{self.text}\n---\n"
                    f"stderr: {self.errors()}"
                )

    def waitForExit(self, wait: float = WAIT) -> int:
        """Read the screen until the program exits; its exit status."""
        deadline = time.monotonic() + wait
        while self.process.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"still running after {wait} s:\n{self.text}")
            self._read(min(remaining, 0.2))
        while self._read(0):
            if not select.select([self.master], [], [], 0)[0]:
                break
        return self.process.returncode

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    # The terminal after.

    def modes(self) -> list[object]:
        return termios.tcgetattr(self.slave)

    def flags(self) -> int:
        return fcntl.fcntl(self.slave, fcntl.F_GETFL)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)
        os.close(self.master)
        os.close(self.slave)
        self.stderr.close()


class LineReader:
    """Lines a program writes to a pipe, each wait bounded."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, wait: float = WAIT) -> str:
        deadline = time.monotonic() + wait
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(remaining, 0))
            if not ready:
                raise AssertionError(f"no line within {wait} s (have {self.buffer!r})")
            data = os.read(self.fd, 65536)
            if not data:
                raise AssertionError(f"the pipe closed (have {self.buffer!r})")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8")
