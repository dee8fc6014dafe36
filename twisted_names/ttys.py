"""
Whether a descriptor is a terminal a person types at and reads, on both
systems: the one question the console's and the trace's modules all ask.

On POSIX it is C{os.isatty}.  On Windows C{isatty} is also true of C{NUL}
(a character device), so a console is told by C{GetConsoleMode} succeeding
on the descriptor's handle.
"""

from __future__ import annotations

import os
import sys

__all__ = ["isConsole"]


def isConsole(fd: int) -> bool:
    """Whether C{fd} is a terminal (on Windows, a console handle)."""
    if sys.platform != "win32":
        return os.isatty(fd)
    import ctypes
    import msvcrt
    from ctypes import wintypes

    try:
        handle = msvcrt.get_osfhandle(fd)
    except OSError:
        return False
    mode = wintypes.DWORD()
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    return bool(kernel32.GetConsoleMode(wintypes.HANDLE(handle), ctypes.byref(mode)))
