"""
Why a test cannot run here: each reason names the facility it needs that
this platform lacks, for C{unittest.skipIf(REASON is not None, REASON or "")}.
"""

from __future__ import annotations

import sys

from twisted.python import runtime

WINDOWS = runtime.platform.isWindows()


def _tlsMissing() -> str | None:
    try:
        import cryptography.hazmat.bindings._rust  # noqa: F401
        import OpenSSL.SSL  # noqa: F401
    except ImportError as e:
        return (
            f"TLS cannot load here ({e}): under Wine 8, cryptography's Rust module needs"
            " bcryptprimitives.dll, which Wine lacks"
        )
    return None


#: Why TLS cannot be tested (C{cryptography} and pyOpenSSL do not load), or C{None}.
NO_TLS = _tlsMissing()

#: Why pseudo-terminals cannot be used, or C{None}.
NO_PTY = "pseudo-terminals are POSIX (Windows has consoles)" if WINDOWS else None

#: Why a child's descriptors cannot be chosen (C{spawnProcess(childFDs=...)}), or C{None}.
NO_CHILD_FDS = (
    "childFDs (a child's own descriptors, closed ones, more than 3) are POSIX:"
    " Twisted's Windows processes get exactly stdin, stdout and stderr pipes"
    if WINDOWS
    else None
)

#: Why POSIX signals other than SIGINT and SIGTERM cannot be sent, or C{None}.
NO_POSIX_SIGNALS = (
    "POSIX signals (SIGHUP, SIGUSR1, SIGTSTP, SIGPIPE...) do not exist on Windows"
    if WINDOWS
    else None
)

#: Why UNIX sockets cannot be used, or C{None}.
NO_UNIX_SOCKETS = "UNIX sockets: Twisted has no AF_UNIX endpoints on Windows" if WINDOWS else None

#: Why file status flags (fcntl's O_NONBLOCK on stdin/stdout) cannot be kept, or C{None}.
NO_FCNTL = "file status flags (fcntl) are POSIX" if WINDOWS else None

#: Why Ctrl-C cannot be sent to one child process, or C{None}.
NO_CTRL_C_TO_CHILD = (
    "Ctrl-C or SIGTERM to one child process: Twisted's signalProcess on Windows is"
    " TerminateProcess"
    " (the Windows stage's end-to-end checks send Ctrl-C under Wine instead)"
    if WINDOWS
    else None
)


def _underWine() -> bool:
    if sys.platform != "win32":
        return False
    import ctypes

    try:
        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except OSError:
        return False


#: Whether this is Windows emulated by Wine (the Windows stage), not Windows.
UNDER_WINE = _underWine()

#: Why a reset connection cannot be told from a closed one here, or C{None}.
NO_RESET = (
    "under Wine 8 the client saw the server's reset (SO_LINGER 0 and abort) as a clean"
    " close: a Wine limit, to be tried on Windows"
    if UNDER_WINE
    else None
)

#: Why resource limits (setrlimit: open files, file size) cannot be set, or C{None}.
NO_RLIMIT = "resource limits (setrlimit, ulimit -n, ulimit -f) are POSIX" if WINDOWS else None

#: Why twistd cannot be a daemon (no C{-n}), or C{None}.
WINDOWS_NO_DAEMON = "Windows' twistd never daemonizes (no -n needed there)" if WINDOWS else None
