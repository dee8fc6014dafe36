"""
A bound on how many log lines a flood can make.

At the file descriptor limit, Twisted's TCP port logs three lines for every
connection it has to refuse (C{EMFILE encountered...}, C{EMFILE recovery:
Closed socket from ...}, C{Re-reserving...}): 74,000 lines in 3 s were
seen.  L{RateLimitedObserver} lets L{LIMIT} events of each kind through a
second and counts the rest; once the second is over it says how many of
each kind it left out.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import ILogObserver, LogEvent, LogLevel, formatEvent
from zope.interface import implementer

#: Events of one kind passed on per period.
LIMIT = 10
#: The period, in seconds.
PERIOD = 1.0
#: Kinds counted apart in one period; more share one count.
MAX_KINDS = 256

_Kind = tuple[str, str, str]

_INFO = LogLevel.info

#: The kind all kinds past L{MAX_KINDS} share.
_OTHERS: _Kind = ("-", "-", "(others)")


def kindOf(event: LogEvent) -> _Kind:
    """
    An event's kind: its namespace, level and format, which its code
    wrote (so events differing only in their fields, such as a peer's
    address, are one kind); for a legacy C{log.msg}, its text.
    """
    level = event.get("log_level")
    form = event.get("log_format") or ""
    if form == "{log_text}":  # twisted.python.log.msg's, through the bridge.
        form = formatEvent(event)
    return (str(event.get("log_namespace", "-")), level.name if level else "-", form)


@implementer(ILogObserver)
class RateLimitedObserver:
    """
    Passes events to C{observer}, at most L{LIMIT} of each kind (see
    L{kindOf}) per L{PERIOD}; for a kind that had more, an event saying how
    many were left out follows the period.

    The server's own C{info} events pass untouched: one exchange, start or
    stop each, their number is bounded by the connection limits, and every
    exchange is to be in the log.  So do all events while C{clock} is not
    running (start-up and shutdown are not floods).
    """

    def __init__(
        self, observer: ILogObserver, clock: Any, limit: int = LIMIT, period: float = PERIOD
    ) -> None:
        self.observer = observer
        self._clock = clock
        self.limit = limit
        self.period = period
        self._counts: dict[_Kind, int] = {}
        self._ends = 0.0
        self._timer: Any = None

    def __call__(self, event: LogEvent) -> None:
        if event.get("log_level") is _INFO and event.get("log_namespace") == "names":
            self.observer(event)
            return
        if not getattr(self._clock, "running", True):
            self.report()
            self.observer(event)
            return
        now = self._clock.seconds()
        if now >= self._ends:
            self.report()
            self._ends = now + self.period
        counts = self._counts
        kind = kindOf(event)
        if kind not in counts and len(counts) >= MAX_KINDS:
            kind = _OTHERS
        count = counts[kind] = counts.get(kind, 0) + 1
        if count <= self.limit:
            self.observer(event)
        elif self._timer is None:
            self._timer = self._clock.callLater(self._ends - now, self.report)

    def report(self) -> None:
        """Say how many events of each kind were left out, and start afresh."""
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        counts, self._counts = self._counts, {}
        for (namespace, level, form), count in counts.items():
            if count > self.limit:
                self.observer(
                    {
                        "log_namespace": "names",
                        "log_level": LogLevel.warn,
                        "log_time": self._clock.seconds(),
                        "log_format": "{count} more log events like this were left out in"
                        " {period:g} s: [{namespace}#{level}] {kind!r}",
                        "count": count - self.limit,
                        "period": self.period,
                        "namespace": namespace,
                        "level": level,
                        "kind": form,
                    }
                )
