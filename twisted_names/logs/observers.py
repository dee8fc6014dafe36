"""
Where the server's log lines go, and what writing them costs.

twistd chooses a log observer from its options; names-server gives it one
(as the application's C{ILogObserver}) in two cases:

  - C{twistd -n} with no C{--logfile}: the operator's terminal is the log.
    With C{StandardIO} owning that non-blocking stdout, twistd's own writes
    could fail with C{BlockingIOError} or land inside a console line, so
    L{TerminalLogObserver} hands each line to the terminal, in order with the
    console's own.
  - a log file (C{--logfile=PATH}, or C{twistd.log} for a daemon): twistd's
    stock observer formats every time stamp anew and writes every event with
    a system call of its own, which cost more than the rest of an exchange.
    L{BatchedFileLogObserver} writes the same text to a rotating log file
    (SIGUSR1 rotates it, as with twistd; see L{twisted_names.logs.file}), a
    time stamp formatted once a second and one write a reactor turn (see
    docs/performance.md).

Both write twistd's classic text: C{TIME [namespace#level] text}, and both
are behind a L{twisted_names.logs.limit.RateLimitedObserver}.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from twisted.logger import (
    ILogObserver,
    LogEvent,
    LogLevel,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    jsonFileLogObserver,
)
from twisted.python.logfile import LogFile
from zope.interface import implementer

from twisted_names.i18n import N_, _
from twisted_names.logs.file import SafeLogFile
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.logs.words import translated


class ClassicText:
    """
    twistd's classic text for an event (L{formatEventAsClassicLogText}),
    made cheaper for a busy server: the time stamp is formatted once a
    second, and an event whose format is one field holding text (as the
    exchange event's is) skips Twisted's formatter.
    """

    #: Most formats remembered (L{__call__}): format strings are the
    #: code's own, but a legacy C{log.msg} could make any text one.
    _FORMATS_KEPT = 1024

    def __init__(self) -> None:
        self._second: int | None = None
        self._stamp = "-"
        #: Per format string: the field it is made of alone (C{"{field}"}), else C{None}.
        self._fieldOf: dict[str, str | None] = {}

    def formatTime(self, when: float | None) -> str:
        """L{formatTime}, remembered for the second it falls in."""
        if when is None:
            return "-"
        second = int(when)
        if second != self._second:
            self._second, self._stamp = second, formatTime(second)
        return self._stamp

    def __call__(self, event: LogEvent) -> str | None:
        """
        The event as a line of text (ending in a newline), or C{None}.

        An event formatted as C{"{field}"} with a one-line str field (the
        exchange's) is written as that text, in this one call: which field
        a format is made of is worked out once a format, and the time stamp
        once a second (docs/performance.md, "Instructions per exchange").
        """
        form = event.get("log_format")
        text = None
        if isinstance(form, str):
            fieldOf = self._fieldOf
            try:
                field = fieldOf[form]
            except KeyError:
                alone = len(form) > 2 and form[0] == "{" and form[-1] == "}"
                field = form[1:-1] if alone else None
                if len(fieldOf) < self._FORMATS_KEPT:
                    fieldOf[form] = field
            if field is not None and "log_failure" not in event:
                value = event.get(field)
                if type(value) is str and "\n" not in value:
                    text = value
        if text is None:
            return formatEventAsClassicLogText(event, formatTime=self.formatTime)
        system = event.get("log_system")
        if system is None:
            level = event.get("log_level")
            system = f"{event.get('log_namespace', '-')}#{level.name if level else '-'}"
        return f"{self.formatTime(event.get('log_time'))} [{system}] {text}\n"


#: The levels a plain terminal log shows, and how it says them.
_SHOWN_PLAIN = {
    LogLevel.warn: N_("warning: {text}"),
    LogLevel.error: N_("error: {text}"),
    LogLevel.critical: N_("error: {text}"),
}


@implementer(ILogObserver)
class TerminalLogObserver:
    """
    Writes log events as classic text through C{show} once a terminal is
    attached, to C{fallback} before and after (nowhere if C{None}: the
    process was started with stdout closed).
    """

    def __init__(self, fallback: TextIO | None) -> None:
        self._fallback = fallback
        self._text = ClassicText()
        self.show: Callable[[str], None] | None = None
        #: Where the operator's console says every event in words of its own
        #: (a terminal with the line editor), only warnings and errors are
        #: shown, as plain "warning: ..." lines: no twistd start-up chatter,
        #: nothing said twice.  Full logs go to --logfile.
        self.plain = False

    def __call__(self, event: LogEvent) -> None:
        event = translated(event)
        if self.plain:
            level = event.get("log_level")
            if level not in _SHOWN_PLAIN:
                return
            words = formatEvent(event)
            if "log_failure" in event:
                words += f" ({event['log_failure'].getErrorMessage()})"
            line = _(_SHOWN_PLAIN[level]).format(text=words).replace("\n", " ")
            if self.show is not None:
                self.show(line)
            elif self._fallback is not None:
                self._fallback.write(line + "\n")
                self._fallback.flush()
            return
        text = self._text(event)
        if text is None:
            return
        if self.show is not None:
            self.show(text.rstrip("\n"))
        elif self._fallback is not None:
            self._fallback.write(text)
            self._fallback.flush()


#: Longest a log line waits before it is written, in seconds, while the
#: reactor runs; and most lines that wait.
FLUSH_DELAY = 0.1
FLUSH_LINES = 512


@implementer(ILogObserver)
class BatchedFileLogObserver:
    """
    Writes log events as classic text to a L{LogFile}: in one write at most
    L{FLUSH_DELAY} seconds or L{FLUSH_LINES} lines after the first waiting
    line while the reactor runs, at once otherwise (start-up and shutdown).

    A server killed with SIGKILL loses at most the last tenth of a second
    of log lines; one that stops normally loses none.  Lines that cannot be
    written (a full disk, a file over C{ulimit -f}) are counted, and the
    first write that works again begins by saying how many were lost.

    @ivar lost: events not written since the last write that worked.
    """

    def __init__(self, logFile: LogFile, reactor: Any) -> None:
        self.logFile = logFile
        self._reactor = reactor
        self._text = ClassicText()
        self._pending: list[str] = []
        self._timer: Any = None
        self.lost = 0
        self._whyLost = ""

    def __call__(self, event: LogEvent) -> None:
        text = self._text(event)
        if text is None:
            return
        pending = self._pending
        pending.append(text)
        if not self._reactor.running or len(pending) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = self._reactor.callLater(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write what is pending (whole lines, or nothing: see L{SafeLogFile})."""
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        text = "".join(pending)
        if self.lost:
            text = self._lostLine() + text
        try:
            self.logFile.write(text)
        except OSError as e:
            self.lost += len(pending)
            self._whyLost = e.strerror or str(e)
        else:
            self.lost = 0

    def rotate(self) -> None:
        """Rotate the log file (SIGUSR1), once what was logged before is written."""
        self.flush()
        self.logFile.rotate()

    def _lostLine(self) -> str:
        stamp = self._text.formatTime(self._reactor.seconds())
        return (
            f"{stamp} [names#warn] {self.lost} log events could not be written ({self._whyLost})\n"
        )


def fileObserver(path: str, reactor: Any) -> BatchedFileLogObserver:
    """
    A L{BatchedFileLogObserver} on a L{SafeLogFile} at C{path}, rotated at
    1 MB (as twistd's) and on SIGUSR1 (see L{twisted_names.app.process}).
    """
    return BatchedFileLogObserver(SafeLogFile.fromFullPath(path), reactor)


def jsonFile() -> ILogObserver:
    """
    For C{twistd --logger=twisted_names.logs.jsonFile}: every event as one
    JSON object a line, appended to C{names-server.json} in the working
    directory, or to the file C{$NAMES_SERVER_JSON_LOG} names.  Exchanges
    carry their C{peer}, C{name}, C{reply} and C{duration} fields.  As
    with the other logs, floods are bounded (L{RateLimitedObserver}).
    """
    from twisted.internet import reactor  # twistd has chosen which by now.

    path = os.environ.get("NAMES_SERVER_JSON_LOG", "names-server.json")
    return RateLimitedObserver(jsonFileLogObserver(open(path, "a", encoding="utf-8")), reactor)


def logObserverFor(twistd: Mapping[str, Any], reactor: Any) -> ILogObserver | None:
    """
    The log observer names-server gives twistd, from twistd's options: one
    that writes through the terminal under C{twistd -n} with no log
    destination, one that batches its writes for a log file (a daemon's
    default: C{twistd.log}); C{None} where twistd's own is to be used
    (C{--syslog}, C{--logger}).
    """
    if twistd.get("syslog") or twistd.get("logger"):
        return None
    logfile = twistd.get("logfile")
    if logfile and logfile != "-":
        return fileObserver(str(logfile), reactor)
    if twistd.get("nodaemon"):
        return TerminalLogObserver(sys.__stdout__)
    if logfile == "-":
        return None  # twistd refuses it: daemons cannot log to stdout.
    return fileObserver("twistd.log", reactor)
