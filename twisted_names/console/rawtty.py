"""
A POSIX terminal in raw mode for the operator's editor, given back exactly as
it was: at exit, and around a suspension (Ctrl-Z).

Raw input as C{twisted.conch.stdio.runWithProtocol} sets it (C{tty.setraw}):
keys arrive one by one, unechoed, and Ctrl-C, Ctrl-Z, Ctrl-S and Ctrl-D are
keys for the editor rather than signals or flow control.  Unlike
C{tty.setraw}, output processing is left alone, so a stray line written by
anything else still starts at the left margin.

POSIX only (termios): the Windows console gets its own reader (see
docs/design.md).  The module asserts the platform, so that
C{mypy --platform win32} skips it; import it only where C{sys.platform} is
not C{"win32"}.
"""

from __future__ import annotations

# ruff: noqa: E402  (the platform is asserted before the POSIX-only imports)
import sys

assert sys.platform != "win32", "the Windows console has its own reader"

import contextlib
import fcntl
import os
import signal
import termios
from typing import Any

from twisted.internet.stdio import StandardIO

from twisted_names.console.editor import KeepScreenServerProtocol, OperatorEditor


class RawTerminal:
    """
    The terminal's attributes and file status flags as they were, and the
    means to put them back.
    """

    def __init__(self, stdin: int, stdout: int) -> None:

        self.stdin, self.stdout = stdin, stdout
        self.saved = termios.tcgetattr(stdin)
        self._flags: dict[int, int] = {}
        for fd in (stdin, stdout):
            with contextlib.suppress(OSError):
                self._flags[fd] = fcntl.fcntl(fd, fcntl.F_GETFL)

    def enter(self) -> None:
        """Raw input, output processing unchanged."""

        mode = termios.tcgetattr(self.stdin)
        mode[0] &= ~(
            termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON
        )
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        mode[6] = list(mode[6])
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.stdin, termios.TCSANOW, mode)

    def restore(self) -> None:
        """The terminal as it was when this object was made."""

        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self.stdin, termios.TCSADRAIN, self.saved)
        for fd, flags in self._flags.items():
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)

    def reclaim(self) -> None:
        """After C{SIGCONT} (C{fg}): raw and non-blocking again (the shell may reset both)."""
        with contextlib.suppress(OSError, termios.error):
            self.enter()
        for fd in self._flags:
            with contextlib.suppress(OSError):
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                if not flags & os.O_NONBLOCK:
                    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)

    def suspend(self) -> None:
        """
        Ctrl-Z: give the shell its terminal back and stop the process group,
        as the kernel would have; on C{fg}, raw and non-blocking again.
        """

        current: dict[int, int] = {}
        for fd in self._flags:
            with contextlib.suppress(OSError):
                current[fd] = fcntl.fcntl(fd, fcntl.F_GETFL)
        self.restore()
        os.kill(0, signal.SIGTSTP)
        # Here again after SIGCONT.
        self.enter()
        for fd, flags in current.items():
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)


def terminalWidth(fd: int) -> tuple[int, int]:
    """The terminal's columns and rows (80x24 if it does not say)."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return 80, 24
    return size.columns or 80, size.lines or 24


def attachEditor(
    editor: OperatorEditor, reactor: Any, stdin: int = 0, stdout: int = 1
) -> tuple[StandardIO, RawTerminal]:
    """
    Put the terminal in raw mode and connect C{editor} to it through
    C{insults.ServerProtocol} over C{StandardIO}; follow its size (SIGWINCH).

    The caller restores the terminal with L{RawTerminal.restore} once the
    C{StandardIO} is closed (however the program stops).
    """
    raw = RawTerminal(stdin, stdout)
    raw.enter()
    editor.onSuspend = raw.suspend
    editor.width, editor.height = terminalWidth(stdout)
    protocol = KeepScreenServerProtocol(lambda: editor)
    stdio = StandardIO(protocol, stdin=stdin, stdout=stdout, reactor=reactor)  # type: ignore[call-arg]

    def resized(number: int, frame: object) -> None:
        reactor.callFromThread(lambda: editor.terminalSize(*terminalWidth(stdout)))

    signal.signal(signal.SIGWINCH, resized)
    return stdio, raw
