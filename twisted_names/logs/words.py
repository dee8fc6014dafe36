"""
The log's events in the operator's language, for the console only.

Log events keep their English formats: the log file and the JSON log are
read by programs and compared across machines.  The operator's console
shows the same events as text for a person, so it looks each format up in
the catalog (formats are marked with L{N_} where they are logged).  twistd's
own lines are marked here, and its legacy ones, which arrive as finished
English text, are taken apart into a format and its fields first.
"""

from __future__ import annotations

import gettext
import re

from twisted.logger import LogEvent

from twisted_names import i18n
from twisted_names.i18n import N_, Preformatted

#: twistd's own log lines the operator's console shows, marked here so that
#: the console can translate them as it does ours.
TWISTED_FORMATS = (
    N_("twistd {version} ({exe} {pyVersion}) starting up."),
    N_("reactor class: {reactor}."),
    N_("Server Shut Down."),
    N_("Main loop terminated."),
    N_("Received SIGINT, shutting down."),
    N_("Received SIGTERM, shutting down."),
    N_("Starting factory {factory!r}"),
    N_("Stopping factory {factory!r}"),
)


#: twistd's legacy lines (already formatted text), as formats of their parts:
#: Twisted writes them with C{log.msg}, so there is no format to look up
#: (docs/design.md, "Twisted's own words"; tests/test_twistedwords.py).
_TWISTED_TEXTS = (
    (
        re.compile(r"(?P<factory>\S+(?: \(TLS\))?) starting on (?P<port>\S+)"),
        N_("{factory} starting on {port}"),
    ),
    (re.compile(r"\(TCP Port (?P<port>\S+) Closed\)"), N_("(TCP Port {port} Closed)")),
    (re.compile(r"\(TLS Port (?P<port>\S+) Closed\)"), N_("(TLS Port {port} Closed)")),
    (re.compile(r"\(UNIX Port (?P<port>.+) Closed\)"), N_("(UNIX Port {port} Closed)")),
)


def _legacy(event: LogEvent) -> LogEvent:
    """A legacy event (C{log.msg} text) of twistd's that we know, as a format."""
    text = event.get("log_text")
    if not isinstance(text, str):
        return event
    for pattern, form in _TWISTED_TEXTS:
        match = pattern.fullmatch(text)
        if match is not None:
            return {**event, "log_format": form, **match.groupdict()}
    return event


def translated(event: LogEvent) -> LogEvent:
    """
    C{event} as the operator's console shows it: its format in the chosen
    language, if it has a translation.  Only the console uses this; the
    event itself, and so every log file, keeps its English format.
    """
    catalog = i18n.current()
    if type(catalog) is gettext.NullTranslations:
        return event  # English: nothing to do, at no cost.
    form = event.get("log_format")
    if not form:
        return event
    if isinstance(form, Preformatted):
        form = form.form  # Its text was formatted in English ahead.
    elif form == "{log_text}":
        event = _legacy(event)
        form = event["log_format"]
    words = catalog.gettext(form)
    if words == form:
        return event
    return {**event, "log_format": words}
