"""
C{--trace-file}: each traced connection as a Mermaid C{sequenceDiagram},
in a Markdown file a student can paste into a lab report (it renders on
GitHub, GitLab and in most Markdown editors).

    ## Connection 1

    ```mermaid
    sequenceDiagram
        participant C as client 127.0.0.1#58;50432
        participant S as server 127.0.0.1#58;5000
        Note over C,S: 0.0 ms: connection from ... (TCP over IPv4)
        C->>S: 1.2 ms: "Ana\\n" (4 bytes)
        Note right of S: 1.3 ms: line complete (LF): "Ana"
        S->>C: 2403.1 ms: "Bob\\n" (4 bytes)
        S-)C: 2403.2 ms: FIN
        Note over C,S: 2404.0 ms: connection closed: the server sent its FIN ...
    ```

One arrow per chunk (as it was received or written), notes for the
framing's decisions, the operator's wait and the close.  Every word a peer
chose is escaped twice: by L{twisted_names.display} (control characters,
line breaks) and then for Mermaid (L{mermaidSafe}), so that no peer can end
a diagram, forge a line or inject HTML.  Diagrams are bounded
(L{MAX_ARROWS} events each).  Pure: no I/O.
"""

from __future__ import annotations

import re
import textwrap

from twisted_names.i18n import _, ngettext
from twisted_names.trace.events import (
    Chunk,
    Closed,
    CloseHow,
    Closing,
    Connected,
    PeerFinished,
    RelayEnded,
    Role,
    TraceEvent,
    UpstreamFailed,
)
from twisted_names.trace.ladder import eventText, milliseconds, preview

#: The most events one diagram shows; later ones are counted, not drawn.
MAX_ARROWS = 200

#: Bytes of a chunk an arrow shows as text.
ARROW_BYTES = 40

#: The longest line of text in a note or on an arrow.  Mermaid does not wrap
#: text by itself: a longer note is drawn past its box, and cut where it
#: passes the diagram's edge (the connection's first note always did).  Its
#: own C{wrap} setting breaks lines inside entity codes (C{#quot;}).
LINE_WIDTH = 60

_NUMBER_AND_UNIT = re.compile(r"(\d) (?=\S)")

_MERMAID_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    "<": "#lt;",
    ">": "#gt;",
    '"': "#quot;",
    "&": "#amp;",
    "%": "#37;",
    "`": "#96;",
    "{": "#123;",
    "}": "#125;",
}


def mermaidSafe(text: str, alias: bool = False) -> str:
    """
    C{text} (already escaped for display: one line, printable) made safe
    inside a Mermaid message or note: its C{#}, C{;}, C{<}, C{>}, quotes and
    the like as Mermaid entity codes (C{#35;}, which Mermaid decodes before
    parsing), and any line break as a space, whatever the caller passed.
    In a participant's C{alias}, colons and commas too.
    """
    text = " ".join(text.splitlines())
    out = []
    for char in text:
        if alias and char in ":,":
            out.append(f"#{ord(char)};")
        else:
            out.append(_MERMAID_ESCAPES.get(char, char))
    return "".join(out)


def mermaidText(text: str) -> str:
    """
    C{text} (escaped for display) for a note or an arrow: in lines of at most
    L{LINE_WIDTH} characters, broken at spaces where it can, each made safe
    by L{mermaidSafe} and joined by Mermaid's line break, C{<br>} (a peer's
    own C{<} is an entity code, never a tag).
    """
    # A number keeps its unit ("1.3 s"): glued by a no-break space, which
    # text escaped for display never holds (it shows one as \\xa0).
    glued = _NUMBER_AND_UNIT.sub("\\1\xa0", " ".join(text.splitlines()))
    lines = textwrap.wrap(glued, LINE_WIDTH, break_on_hyphens=False)
    return "<br>".join(mermaidSafe(line.replace("\xa0", " ")) for line in lines)


class Diagram:
    """
    One connection's diagram, kept as it will be drawn: the statements of
    at most L{MAX_ARROWS} events (each bounded: a message or a chunk is
    cut as an arrow is), the rest counted; the end always.
    """

    def __init__(self, role: Role, connection: int, maxArrows: int = MAX_ARROWS) -> None:
        self.role = role
        self.connection = connection
        self.maxArrows = maxArrows
        #: Who is at each end: the client's and the server's addresses.
        self.ends: tuple[str, str] | None = None
        #: On a proxy: its own address (the client's connection's far end).
        self.proxyAt: str | None = None
        self.statements: list[str] = []
        self.drawn = 0
        #: The L{Closed} event's statements, once it came.
        self.end: list[str] = []
        self.left = 0

    def add(self, event: TraceEvent) -> None:
        """Draw C{event}, if there is room; count it otherwise."""
        us, them = ("S", "C") if self.role is Role.SERVER else ("C", "S")
        if self.role is Role.PROXY:
            # Three participants: the event's leg is between the proxy (P)
            # and the peer that leg faces.
            side = getattr(event, "side", None)
            us, them = ("P", "S") if side is Role.SERVER else ("P", "C")
            self._proxyEnds(event)
        elif isinstance(event, Connected) and self.ends is None:
            self.ends = (
                (event.remote, event.local)
                if self.role is Role.SERVER
                else (event.local, event.remote)
            )
        if self.role is Role.PROXY and isinstance(event, (Closed, RelayEnded)):
            # Two legs end, then the relay: always drawn, in their order.
            self.statements.extend(self._statements(event, us, them))
        elif isinstance(event, Closed):
            self.end = self._statements(event, us, them)
        elif self.drawn < self.maxArrows:
            self.statements.extend(self._statements(event, us, them))
            self.drawn += 1
        else:
            self.left += 1

    def _proxyEnds(self, event: TraceEvent) -> None:
        """A proxy's participants, from its legs' connections (or its target)."""
        client, server = self.ends or ("", "")
        if isinstance(event, Connected) and event.side is Role.SERVER:
            server = event.remote
        elif isinstance(event, Connected):
            client, self.proxyAt = event.remote, event.local
        elif isinstance(event, UpstreamFailed):
            server = event.server
        else:
            return
        self.ends = (client, server)

    def markdown(self) -> str:
        """The diagram, in a Markdown section of its own."""
        heading = _("Connection {number}").format(number=self.connection)
        body = "\n".join("    " + line for line in self.lines())
        return f"## {heading}\n\n```mermaid\nsequenceDiagram\n{body}\n```\n\n"

    def lines(self) -> list[str]:
        """The diagram's statements, after C{sequenceDiagram}."""
        client, server = _("client"), _("server")
        lines: list[str] = []
        if self.role is Role.PROXY:
            clientAt, serverAt = self.ends or ("", "")
            proxyAt = self.proxyAt or ""
            for letter, name, at in (
                ("C", client, clientAt),
                ("P", _("proxy"), proxyAt),
                ("S", server, serverAt),
            ):
                alias = f"{name} {mermaidSafe(at, alias=True)}" if at else name
                lines.append(f"participant {letter} as {alias}")
        elif self.ends is not None:
            clientAt, serverAt = self.ends
            lines.append(f"participant C as {client} {mermaidSafe(clientAt, alias=True)}")
            lines.append(f"participant S as {server} {mermaidSafe(serverAt, alias=True)}")
        else:
            lines.append(f"participant C as {client}")
            lines.append(f"participant S as {server}")
        lines.extend(self.statements)
        if self.left:
            lines.append(f"Note over C,S: {self._leftText()}")
        lines.extend(self.end)
        return lines

    def _leftText(self) -> str:
        return mermaidText(
            ngettext(
                "… {count} more event not drawn (at most {limit} a connection)",
                "… {count} more events not drawn (at most {limit} a connection)",
                self.left,
            ).format(count=self.left, limit=self.maxArrows)
        )

    def _statements(self, event: TraceEvent, us: str, them: str) -> list[str]:
        when = f"{milliseconds(event.at)} ms: "
        if isinstance(event, Chunk):
            sender, receiver = (us, them) if event.outgoing else (them, us)
            text = preview(event.data, event.size, ARROW_BYTES)
            count = ngettext("{count} byte", "{count} bytes", event.size).format(count=event.size)
            return [f"{sender}->>{receiver}: {mermaidText(f'{when}{text} ({count})')}"]
        # On a proxy, notes about one leg span that leg; the rest, all three.
        leg = f"{min(us, them)},{max(us, them)}" if self.role is Role.PROXY else "C,S"
        note = self._note(when, event)
        if isinstance(event, Closing):
            mark = "-x" if event.how is CloseHow.RESET else "-)"
            signal = "RST" if event.how is CloseHow.RESET else "FIN"
            statements = [f"{us}{mark}{them}: {when}{signal}"]
            return statements + ([f"Note over {us}: {note}"] if note else [])
        if isinstance(event, PeerFinished):
            return [f"{them}-){us}: {when}FIN", f"Note over {us}: {note}"]
        if isinstance(event, Closed):
            statements = []
            if event.closedBy is None and not event.peerFinished:
                signal = "FIN" if event.clean else "RST"
                mark = "-)" if event.clean else "-x"
                statements.append(f"{them}{mark}{us}: {when}{signal}")
            statements.append(f"Note over {leg}: {note}")
            return statements
        if not note:
            return []
        where = leg if isinstance(event, Connected) else us
        if self.role is Role.PROXY and not isinstance(event, Connected):
            where = "C,S"  # The relay's own words (no server, idle, its end).
        return [f"Note over {where}: {note}"]

    def _note(self, when: str, event: TraceEvent) -> str:
        """
        What C{event} says, after its time: each of its lines (a whole
        sentence each) starts a line of the note (C{""}: it says nothing).
        """
        lines = [line.strip() for line in eventText(self.role, event)]
        if not lines:
            return ""
        lines[0] = when + lines[0]
        return "<br>".join(mermaidText(line) for line in lines)


def fileHeading(role: Role) -> str:
    """The start of a trace file."""
    if role is Role.PROXY:
        title = _("names-proxy trace")
    else:
        title = _("names-server trace") if role is Role.SERVER else _("names-client trace")
    intro = _(
        "Each connection as a Mermaid sequence diagram (times in milliseconds since the"
        " connection began)."
    )
    return f"# {title}\n\n{intro}\n\n"


def truncatedNote(written: int) -> str:
    """The last words of a trace file that reached its size limit."""
    return (
        _("The trace file is full: connections after the first {count} are not written.").format(
            count=written
        )
        + "\n"
    )


def skippedNote(count: int, limit: int) -> str:
    """The last words of a trace file that left out connections open at once."""
    return (
        ngettext(
            "{count} connection is not in this file: more than {limit} were open at once.",
            "{count} connections are not in this file: more than {limit} were open at once.",
            count,
        ).format(count=count, limit=limit)
        + "\n"
    )
