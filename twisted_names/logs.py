"""
Where the server's log lines go when the operator's terminal is also its
log (C{twistd -n} with no C{--logfile}).

twistd would write them to stdout itself; with C{StandardIO} owning that
(non-blocking) stdout, a log write could fail with C{BlockingIOError} or land
in the middle of a line the console is writing.  L{TerminalLogObserver}
formats each event the way twistd does and hands it to the terminal, in
order with the console's own lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from twisted.logger import (
    ILogObserver,
    LogEvent,
    formatEventAsClassicLogText,
    jsonFileLogObserver,
)
from zope.interface import implementer


@implementer(ILogObserver)
class TerminalLogObserver:
    """
    Writes log events as twistd's classic text, through C{show} once a
    terminal is attached, to C{fallback} before and after.
    """

    def __init__(self, fallback: TextIO) -> None:
        self._fallback = fallback
        self.show: Callable[[str], None] | None = None

    def __call__(self, event: LogEvent) -> None:
        text = formatEventAsClassicLogText(event)
        if text is None:
            return
        if self.show is not None:
            self.show(text.rstrip("\n"))
            return
        self._fallback.write(text)
        self._fallback.flush()


def jsonFile() -> ILogObserver:
    """
    For C{twistd --logger=twisted_names.logs.jsonFile}: every event as one
    JSON object a line, appended to C{names-server.json} in the working
    directory, or to the file C{$NAMES_SERVER_JSON_LOG} names.  Exchanges
    carry their C{peer}, C{name}, C{reply} and C{duration} fields.
    """
    path = os.environ.get("NAMES_SERVER_JSON_LOG", "names-server.json")
    return jsonFileLogObserver(open(path, "a", encoding="utf-8"))
