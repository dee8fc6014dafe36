"""
Run under the Windows Python (by tests/windows/endtoend.py): start a
Windows program with pipes the Windows side made, and copy our stdin to
its stdin, its stdout and stderr to ours, byte for byte; exit with its
status.

Why: under Wine a Unix pipe as a Windows program's stdin fails
C{PeekNamedPipe}, which Windows programs (Twisted's stdio among them) use
on pipes, and a regular file as a standard stream fails at start-up.  Pipes
made by C{CreatePipe} are what a Windows program gets when another one
(cmd.exe, PowerShell, a script's C{subprocess}) pipes into it.

    python.exe relay.py PROGRAM [ARG ...]
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable


def _pump(
    read: Callable[[int], bytes], write: Callable[[bytes], object], done: Callable[[], object]
) -> None:
    try:
        while True:
            data = read(65536)
            if not data:
                break
            write(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            done()


def main(argv: list[str]) -> int:
    # Ctrl-C (SIGINT to the process group, which Wine makes a console
    # control event) is for the program, not for the relay.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdin and child.stdout and child.stderr
    childIn, childOut, childErr = child.stdin, child.stdout, child.stderr

    def toChild(data: bytes) -> None:
        childIn.write(data)
        childIn.flush()

    threading.Thread(
        target=_pump, args=(lambda n: os.read(0, n), toChild, childIn.close), daemon=True
    ).start()
    outputs = [
        threading.Thread(
            target=_pump,
            args=(
                lambda n, s=stream: os.read(s.fileno(), n),
                lambda d, fd=fd: os.write(fd, d),
                stream.close,
            ),
        )
        for stream, fd in ((childOut, 1), (childErr, 2))
    ]
    for thread in outputs:
        thread.start()
    status = child.wait()
    for thread in outputs:
        thread.join()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
