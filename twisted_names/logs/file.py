"""
The log file: twistd's rotating L{LogFile}, made safe for a server under
pressure.

Twisted's rotation lists the rotated files with C{glob}, which answers
"none" when it cannot open the directory: out of file descriptors
(C{EMFILE}, a connection flood), it then renamed the current file over
C{.1} (that file lost) and failed to open the new one (every later line
lost).  A write that fails half-way (a full disk) left half a line, and the
next write glued its line to it.  So here:

  - at most L{MAX_ROTATED_FILES} rotated files are kept;
  - a rotation first lists the directory (an error stops it) and opens the
    new file; if either fails nothing is renamed, the current file is kept
    and the rotation is tried again at the next write;
  - a write is whole or nothing: one that fails half-way is cut back to
    where it began, and raises C{OSError} for the caller to count.
"""

from __future__ import annotations

import contextlib
import os
from typing import BinaryIO, cast

from twisted.python.logfile import LogFile

#: Rotated files kept (C{NAME.1} the newest ... C{NAME.10}); older ones are
#: deleted.  With the 1 MB rotation, the logs take at most 11 MB.
MAX_ROTATED_FILES = 10

#: The rotation length, as twistd's.
ROTATE_LENGTH = 1_000_000

#: Suffix of the new file while a rotation opens it.
_OPENING = ".opening"


class SafeLogFile(LogFile):
    """A L{LogFile} whose rotations and writes cannot lose what was logged."""

    def __init__(
        self,
        name: str,
        directory: str,
        rotateLength: int = ROTATE_LENGTH,
        defaultMode: int | None = None,
        maxRotatedFiles: int = MAX_ROTATED_FILES,
    ) -> None:
        super().__init__(name, directory, rotateLength, defaultMode, maxRotatedFiles)

    def write(self, data: str | bytes) -> None:
        """
        Write C{data} whole, or raise C{OSError} having written none of it.
        """
        if self.shouldRotate():
            self.rotate()
        if isinstance(data, str):
            data = data.encode("utf-8")
        start = self._file.tell()
        written = 0
        try:
            while written < len(data):
                count = self._file.write(data[written:])  # Unbuffered: may be short.
                if not count:
                    raise OSError("nothing written")
                written += count
        except OSError:
            if written:
                with contextlib.suppress(OSError):
                    self._file.truncate(start)
                    self._file.seek(start)
            raise
        self.size += written

    def listLogs(self) -> list[int]:
        """The rotated files' numbers, sorted; C{OSError} if the directory cannot be read."""
        prefix = self.name + "."
        numbers = []
        for entry in os.listdir(self.directory):
            suffix = entry[len(prefix) :]
            if entry.startswith(prefix) and suffix.isdigit() and int(suffix):
                numbers.append(int(suffix))
        return sorted(numbers)

    def rotate(self) -> None:
        """
        Rotate, if the new file can be opened: otherwise keep writing to the
        current one (the next write tries again).

        Windows renames no file that is open (a sharing violation): the
        current file is closed before it is renamed and the new one opened
        after.  The new file is opened first all the same (then closed), so
        that a rotation that could not open it (out of file descriptors, a
        full disk) renames nothing.
        """
        if not (os.access(self.directory, os.W_OK) and os.access(self.path, os.W_OK)):
            return
        opening = self.path + _OPENING
        try:
            logs = self.listLogs()
            with open(opening, "wb"):
                pass
        except OSError:
            return
        try:
            if self.defaultMode is not None:
                os.chmod(opening, self.defaultMode)
            for number in reversed(logs):
                older = f"{self.path}.{number}"
                if number >= self.maxRotatedFiles:
                    os.remove(older)
                else:
                    os.replace(older, f"{self.path}.{number + 1}")
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(opening)
            return
        self._file.close()
        try:
            os.replace(self.path, self.path + ".1")
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(opening)
            self._file = self._reopen(self.path)
            return
        try:
            os.replace(opening, self.path)
        except OSError:
            # The new file cannot take the name: the old one gets it back.
            os.replace(self.path + ".1", self.path)
            self._file = self._reopen(self.path)
            return
        self._file = self._reopen(self.path)
        self.size = 0

    @staticmethod
    def _reopen(path: str) -> BinaryIO:
        """C{path}, open unbuffered for writing at its end."""
        file = cast(BinaryIO, open(path, "r+b", 0))  # noqa: SIM115 (kept open)
        file.seek(0, os.SEEK_END)
        return file
