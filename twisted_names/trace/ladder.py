"""
The live ladder of C{--trace}: each trace event as a line of text, for a
terminal or a pipe.

    #1     0.0 ms  connection from 127.0.0.1:50432 ...
    #1     1.2 ms  client --> server  "Ana\\n"  4 bytes  41 6e 61 0a
    #1     1.3 ms     line complete (LF): "Ana"

Arrows point the way the course's ladder draws them, the client on the left
and the server on the right, whichever side is tracing.  Every byte a peer
sent is shown escaped (L{twisted_names.display}), with its line ending
visible, as hex, and with its length; long chunks are cut to a bounded
length.  On a colour terminal each connection has a colour of its own, so
interleaved connections can be told apart.  Pure: no I/O, no reactor.
"""

from __future__ import annotations

import codecs
import math
import time
from collections.abc import Mapping
from time import localtime

from twisted_names.display import quoted
from twisted_names.framing import Decision
from twisted_names.i18n import N_, _, decimal, ngettext
from twisted_names.trace.events import (
    Asked,
    Chunk,
    Closed,
    CloseHow,
    Closing,
    Connected,
    Ending,
    Family,
    Framed,
    IdleTimedOut,
    NoServer,
    NotReplied,
    PeerFinished,
    RelayEnded,
    Replied,
    ReplyHow,
    Role,
    TraceEvent,
    Unanswered,
    UpstreamFailed,
)
from twisted_names.wire import CRLF

#: Bytes of a chunk shown as text, and as hex; the length is always whole.
TEXT_BYTES = 48
HEX_BYTES = 16

#: The colours connections take in turn (ANSI SGR foreground codes).
PALETTE = (36, 33, 35, 32, 94, 91, 96, 93)


def useColour(environ: Mapping[str, str], onTerminal: bool) -> bool:
    """
    Whether to colour the trace: on a terminal, unless C{NO_COLOR} is set
    to anything but an empty string (U{https://no-color.org}).
    """
    return onTerminal and not environ.get("NO_COLOR")


def chunkText(data: bytes, size: int) -> str:
    """
    C{"Ana\\n"  4 bytes  41 6e 61 0a}: the bytes as escaped text (bytes that
    are not UTF-8 as C{\\xNN}), as hex and their count; the text and the hex
    cut with C{…} past L{TEXT_BYTES} and L{HEX_BYTES}.
    """
    text = preview(data, size, TEXT_BYTES)
    hexed = data[:HEX_BYTES].hex(" ")
    if size > HEX_BYTES:
        hexed += " …"
    count = ngettext("{count} byte", "{count} bytes", size).format(count=size)
    return f"{text}  {count}  {hexed}"


#: What carries a connection, each combination a whole phrase.
_CARRIERS = {
    (Family.IPV4, False): N_("TCP over IPv4"),
    (Family.IPV6, False): N_("TCP over IPv6"),
    (Family.UNIX, False): N_("a UNIX socket"),
    (Family.OTHER, False): N_("a stream connection"),
    (Family.IPV4, True): N_("TLS over TCP over IPv4"),
    (Family.IPV6, True): N_("TLS over TCP over IPv6"),
    (Family.UNIX, True): N_("TLS over a UNIX socket"),
    (Family.OTHER, True): N_("TLS over a stream connection"),
}


def preview(data: bytes, size: int, limit: int) -> str:
    """
    The first C{limit} bytes of C{data} (C{size} bytes sent), escaped, with
    C{…} if it was cut.  Cut at a character's boundary: a character cut in
    two is left out, not shown as C{\\xNN} as if it were not UTF-8 (bytes
    that are not UTF-8 are).
    """
    cut = size > limit or len(data) < size
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text = quoted(decoder.decode(data[:limit], final=not cut))
    return text + "…" if cut else text


def shortText(text: str) -> str:
    """
    C{text} (a message, a reply) escaped, cut like a chunk's text (to
    L{TEXT_BYTES} bytes of UTF-8, at a character's boundary), with C{…} if
    it was: a note is no longer than an arrow, whatever C{--max-length}.
    """
    data = text.encode("utf-8", "surrogatepass")
    return preview(data, len(data), TEXT_BYTES)


def familyText(family: Family, tls: bool) -> str:
    """What carries the connection, in words."""
    return _(_CARRIERS[family, tls])


def clockTime(wallClock: float) -> str:
    """C{14:03:07.250}: the local time of day, to the millisecond."""
    whole = math.floor(wallClock)
    millis = min(999, round((wallClock - whole) * 1000))
    return time.strftime("%H:%M:%S", localtime(whole)) + f".{millis:03d}"


def milliseconds(seconds: float) -> str:
    """C{seconds} in milliseconds, one decimal, as the chosen language writes it."""
    return decimal(seconds * 1000, 1)


#: What this side's closing means, by role and how.
_CLOSING = {
    (Role.SERVER, CloseHow.FULL): N_(
        "the server closes the connection: a FIN follows the bytes still queued;"
        " the client will read the end of the stream"
    ),
    (Role.CLIENT, CloseHow.FULL): N_(
        "the client closes the connection: a FIN follows the bytes still queued;"
        " the server will read the end of the stream"
    ),
    (Role.SERVER, CloseHow.HALF): N_(
        "the server closes its sending side (half-close, FIN) and keeps reading"
    ),
    (Role.CLIENT, CloseHow.HALF): N_(
        "the client closes its sending side (half-close, FIN) and keeps reading"
    ),
    (Role.SERVER, CloseHow.RESET): N_(
        "the server resets the connection (RST), dropping what is queued;"
        " the client will see the connection reset"
    ),
    (Role.CLIENT, CloseHow.RESET): N_(
        "the client resets the connection (RST), dropping what is queued;"
        " the server will see the connection reset"
    ),
}

_PEER_FINISHED = {
    Role.SERVER: N_("the client finished sending (FIN): the server read the end of the stream"),
    Role.CLIENT: N_("the server finished sending (FIN): the client read the end of the stream"),
}

#: This side closed (sent its FIN, or reset) before it read the other side's
#: FIN: said as this side saw it, never as who "closed first" (both sides of
#: a normal exchange send their FIN before reading the other's).
_CLOSED_BY_US = {
    (Role.SERVER, CloseHow.FULL): N_(
        "connection closed: the server sent its FIN before reading one from the client"
    ),
    (Role.CLIENT, CloseHow.FULL): N_(
        "connection closed: the client sent its FIN before reading one from the server"
    ),
    (Role.SERVER, CloseHow.HALF): N_(
        "connection closed: the server closed its sending side (FIN) before reading"
        " a FIN from the client"
    ),
    (Role.CLIENT, CloseHow.HALF): N_(
        "connection closed: the client closed its sending side (FIN) before reading"
        " a FIN from the server"
    ),
    (Role.SERVER, CloseHow.RESET): N_("connection closed: the server reset it"),
    (Role.CLIENT, CloseHow.RESET): N_("connection closed: the client reset it"),
}

#: The other side's FIN arrived first: by whether this side closed after it
#: (C{True}) or never did (Twisted closed for it once the stream ended).
_CLOSED_BY_PEER = {
    (Role.SERVER, False): N_(
        "connection closed: the client's FIN arrived first; the server read the end of the stream"
    ),
    (Role.CLIENT, False): N_(
        "connection closed: the server's FIN arrived first; the client read the end of the stream"
    ),
    (Role.SERVER, True): N_(
        "connection closed: the client's FIN arrived first, then the server closed"
    ),
    (Role.CLIENT, True): N_(
        "connection closed: the server's FIN arrived first, then the client closed"
    ),
}


#: Who connected to whom, when, and what the system did: by role, and
#: whether it did a TCP handshake.
_CONNECTED = {
    (Role.SERVER, True): N_(
        "connection from the client {client} to this server {server} ({carrier}) at {time};"
        " the operating system did the TCP handshake"
    ),
    (Role.SERVER, False): N_(
        "connection from the client {client} to this server {server} ({carrier}) at {time};"
        " the operating system connected the two ends"
    ),
    (Role.CLIENT, True): N_(
        "connection from this client {client} to the server {server} ({carrier}) at {time};"
        " the operating system did the TCP handshake"
    ),
    (Role.CLIENT, False): N_(
        "connection from this client {client} to the server {server} ({carrier}) at {time};"
        " the operating system connected the two ends"
    ),
}


def connectedText(role: Role, event: Connected) -> list[str]:
    """
    Who connected to whom, over what and when; on a client, how long
    connecting took; for TLS, what the bytes shown are.
    """
    client, server = (
        (event.remote, event.local) if role is Role.SERVER else (event.local, event.remote)
    )
    line = _(_CONNECTED[role, event.family is not Family.UNIX]).format(
        client=client,
        server=server,
        carrier=familyText(event.family, event.tls),
        time=clockTime(event.wallClock),
    )
    lines = [line]
    if event.connectTook is not None:
        lines.append(
            _("connecting took {ms} ms (from the endpoint's connect() to the connection)").format(
                ms=milliseconds(event.connectTook)
            )
        )
    if event.tls:
        lines.append(
            _("TLS: the bytes shown are the application's; on the wire they are encrypted")
        )
    return lines


def framedText(event: Framed) -> str:
    """What the framing decided, and why."""
    note = event.note
    decision = note.decision
    text = shortText(note.message.text) if note.message is not None else ""
    if decision is Decision.LINE:
        if note.ending == CRLF:
            return _("line complete (CRLF): {text}").format(text=text)
        return _("line complete (LF): {text}").format(text=text)
    if decision is Decision.WAITING_FOR_QUIET:
        return ngettext(
            "no line ending yet ({count} byte held): waiting for {seconds} s of quiet",
            "no line ending yet ({count} bytes held): waiting for {seconds} s of quiet",
            note.size,
        ).format(count=note.size, seconds=seconds(note.limit))
    if decision is Decision.QUIET:
        return _(
            "no line ending: quiet for {seconds} s, taken as the whole message: {text}"
        ).format(seconds=seconds(note.limit), text=text)
    if decision is Decision.PEER_FINISHED:
        return _(
            "no line ending, and the other side finished sending: taken as the whole"
            " message: {text}"
        ).format(text=text)
    if decision is Decision.CONNECTION_LOST:
        return _(
            "no line ending, and the connection was lost (reset or broken): taken as the"
            " whole message: {text}"
        ).format(text=text)
    if decision is Decision.TOO_LONG:
        return _("line too long ({size} bytes, the limit is {limit:g}): closing").format(
            size=note.size, limit=note.limit
        )
    return ngettext(
        "{count} byte ignored: no more messages are read on this connection",
        "{count} bytes ignored: no more messages are read on this connection",
        note.size,
    ).format(count=note.size)


def repliedText(event: Replied) -> str:
    """Where the server's reply came from, and after how long."""
    reply = shortText(event.reply)
    if event.how is ReplyHow.FIXED:
        return _("reply {reply}: the server's --name, at once").format(reply=reply)
    if event.how is ReplyHow.TYPED_AHEAD:
        return _("reply {reply}: typed ahead by the operator, at once").format(reply=reply)
    return _("the operator typed the reply {reply} after {seconds} s").format(
        reply=reply, seconds=decimal(event.waited, 1)
    )


#: Why the server sends no reply, by kind (L{Unanswered.TIMED_OUT} and
#: L{Unanswered.OTHER} have words of their own, with a value).
_UNANSWERED = {
    Unanswered.CLIENT_FINISHED: N_(
        "no reply: the client finished sending (FIN) while it waited; the server counts it as gone"
    ),
    Unanswered.CONNECTION_ENDED: N_("no reply: the connection ended while it waited"),
    Unanswered.OPERATOR_GONE: N_("no reply: the operator's input is closed"),
    Unanswered.DISMISSED: N_("no reply: the operator closed this client without a reply"),
}


def notRepliedText(event: NotReplied) -> str:
    """Why the server will send no reply."""
    if event.why is Unanswered.TIMED_OUT:
        return _("no reply: the operator did not reply within {seconds} s").format(
            seconds=seconds(event.timeout)
        )
    if event.why is Unanswered.OTHER:
        return _("no reply: the reply source failed ({detail})").format(
            detail=quoted(event.detail)
        )
    return _(_UNANSWERED[event.why])


def seconds(value: float) -> str:
    """
    A number of seconds given by a setting (C{0.25}, C{300}), with as many
    decimals as it has, written as the chosen language writes numbers.
    """
    text = f"{value:g}"
    if "e" in text:
        return text
    _whole, point, decimals = text.partition(".")
    return decimal(value, len(decimals) if point else 0)


#: A connection that did not end cleanly: by who had begun to close it
#: (C{None}: nobody, on this side) and how it ended.
_LOST = {
    (None, Ending.LOST): N_("connection lost: reset or broken by the other side"),
    (None, Ending.ABORTED): N_("connection aborted: dropped at once, with no FIN"),
    (None, Ending.TLS): N_("connection lost: the TLS session failed"),
    (None, Ending.OTHER): N_("connection lost, for another reason"),
    (Role.SERVER, Ending.LOST): N_(
        "connection lost after the server began to close it: reset or broken by the client"
    ),
    (Role.CLIENT, Ending.LOST): N_(
        "connection lost after the client began to close it: reset or broken by the server"
    ),
    (Role.SERVER, Ending.ABORTED): N_(
        "connection aborted after the server began to close it: dropped at once"
    ),
    (Role.CLIENT, Ending.ABORTED): N_(
        "connection aborted after the client began to close it: dropped at once"
    ),
    (Role.SERVER, Ending.TLS): N_(
        "connection lost after the server began to close it: the TLS session failed"
    ),
    (Role.CLIENT, Ending.TLS): N_(
        "connection lost after the client began to close it: the TLS session failed"
    ),
    (Role.SERVER, Ending.OTHER): N_(
        "connection lost after the server began to close it, for another reason"
    ),
    (Role.CLIENT, Ending.OTHER): N_(
        "connection lost after the client began to close it, for another reason"
    ),
}


def closedText(role: Role, event: Closed) -> list[str]:
    """
    How the connection ended, as this side saw it: whether it sent its FIN
    (or reset) before reading the other side's, and how; then, if Twisted
    or the system said more than that, its words (escaped), on a line of
    their own.
    """
    ours = event.closedBy
    if ours is CloseHow.RESET or (
        ours is not None and event.clean and not event.peerFinishedFirst
    ):
        lines = [_(_CLOSED_BY_US[role, ours])]
    elif event.clean:
        lines = [_(_CLOSED_BY_PEER[role, ours is not None])]
    else:
        lines = [_(_LOST[None if event.closedBy is None else role, event.ending])]
    if event.detail and not event.clean:
        lines.append(_("what the system said: {reason}").format(reason=quoted(event.detail)))
    return lines


#: A proxy's connection made: by leg, and whether TCP did a handshake.
_PROXY_CONNECTED = {
    (Role.CLIENT, True): N_(
        "connection from the client {client} to this proxy {proxy} ({carrier}) at {time};"
        " the operating system did the TCP handshake"
    ),
    (Role.CLIENT, False): N_(
        "connection from the client {client} to this proxy {proxy} ({carrier}) at {time};"
        " the operating system connected the two ends"
    ),
    (Role.SERVER, True): N_(
        "the proxy connected from {proxy} to the server {server} ({carrier}) in {ms} ms;"
        " the operating system did the TCP handshake"
    ),
    (Role.SERVER, False): N_(
        "the proxy connected to the server {server} ({carrier}) in {ms} ms;"
        " the operating system connected the two ends"
    ),
}

#: A proxy's leg whose peer sent a FIN, passed on to the other.
_PROXY_FINISHED = {
    Role.CLIENT: N_(
        "the client finished sending (FIN); the proxy passes it on: the server will read"
        " the end of the stream"
    ),
    Role.SERVER: N_(
        "the server finished sending (FIN); the proxy passes it on: the client will read"
        " the end of the stream"
    ),
}

#: A proxy's reset, passed on (or its own): by leg.
_PROXY_RESETS = {
    Role.CLIENT: N_("the proxy resets the client's connection (RST)"),
    Role.SERVER: N_("the proxy resets its connection to the server (RST)"),
}

#: How a proxy's leg ended: by leg, and how.
_PROXY_CLOSED = {
    (Role.CLIENT, "clean"): N_("the client's connection is closed"),
    (Role.SERVER, "clean"): N_("the connection to the server is closed"),
    (Role.CLIENT, "peer"): N_("the client reset its connection (RST), or it broke"),
    (Role.SERVER, "peer"): N_("the server reset its connection (RST), or it broke"),
    (Role.CLIENT, "us"): N_("the client's connection is closed: the proxy reset it"),
    (Role.SERVER, "us"): N_("the connection to the server is closed: the proxy reset it"),
    (Role.CLIENT, "other"): N_("the client's connection is lost, for another reason"),
    (Role.SERVER, "other"): N_("the connection to the server is lost, for another reason"),
}

#: Who ended a relayed connection first, as the proxy saw it.
_PROXY_FIRST = {
    (Role.CLIENT, False): N_("end: the client finished sending first (FIN), as the proxy saw it"),
    (Role.SERVER, False): N_("end: the server finished sending first (FIN), as the proxy saw it"),
    (Role.CLIENT, True): N_(
        "end: the client reset the connection first (RST), or it broke, as the proxy saw it"
    ),
    (Role.SERVER, True): N_(
        "end: the server reset the connection first (RST), or it broke, as the proxy saw it"
    ),
}

#: Why the proxy could not connect to its server (L{NoServer.TIMED_OUT} and
#: L{NoServer.OTHER} have words of their own, with a value).
_NO_SERVER = {
    NoServer.REFUSED: N_(
        "the proxy could not connect to the server {server}: connection refused (nothing"
        " listens there); it closes the client's connection"
    ),
    NoServer.UNREACHABLE: N_(
        "the proxy could not connect to the server {server}: the network or the host is"
        " unreachable; it closes the client's connection"
    ),
}


def upstreamFailedText(event: UpstreamFailed) -> str:
    """Why a proxy could not connect to its server: one line."""
    if event.why is NoServer.TIMED_OUT:
        return _(
            "the proxy could not connect to the server {server}: no answer within {seconds} s"
            " (--connect-timeout); it closes the client's connection"
        ).format(server=event.server, seconds=seconds(event.timeout))
    if event.why is NoServer.OTHER:
        return _(
            "the proxy could not connect to the server {server} ({detail}); it closes the"
            " client's connection"
        ).format(server=event.server, detail=quoted(event.detail))
    return _(_NO_SERVER[event.why]).format(server=event.server)


def relayEndedText(event: RelayEnded) -> list[str]:
    """Who ended a relayed connection first, and how many bytes went each way."""
    if event.first is None:
        first = _("end: the proxy ended it (no server, --idle-timeout or the proxy's stop)")
    else:
        first = _(_PROXY_FIRST[event.first, event.reset])
    toServer = ngettext("{count} byte", "{count} bytes", event.toServer).format(
        count=event.toServer
    )
    toClient = ngettext("{count} byte", "{count} bytes", event.toClient).format(
        count=event.toClient
    )
    relayed = _(
        "relayed {toServer} from the client to the server and {toClient} from the server"
        " to the client"
    ).format(toServer=toServer, toClient=toClient)
    return [first, relayed]


def proxyText(event: TraceEvent) -> list[str]:
    """
    What C{event} says on a proxy, whose connections have two legs (the
    event's C{side}): each chunk once, as it was read (it is written to the
    other leg at once, as one write); a FIN as it was read, and passed on; the
    legs' ends; who ended first.  Lines with nothing to add are left out.
    """
    side = getattr(event, "side", None) or Role.CLIENT
    if isinstance(event, Chunk):
        if event.outgoing:
            return []  # The same bytes as the chunk read on the other leg.
        client, server = _("client"), _("server")
        arrow = f"{client} --> {server}" if side is Role.CLIENT else f"{client} <-- {server}"
        return [f"{arrow}  {chunkText(event.data, event.size)}"]
    if isinstance(event, Connected):
        handshake = event.family is not Family.UNIX
        ms = milliseconds(event.connectTook or 0.0)
        line = _(_PROXY_CONNECTED[side, handshake]).format(
            client=event.remote,
            server=event.remote,
            proxy=event.local,
            carrier=familyText(event.family, event.tls),
            time=clockTime(event.wallClock),
            ms=ms,
        )
        if event.tls:
            return [
                line,
                _("TLS: the bytes shown are the application's; on the wire they are encrypted"),
            ]
        return [line]
    if isinstance(event, PeerFinished):
        words = [_(_PROXY_FINISHED[side])]
    elif isinstance(event, Closing):
        if event.how is CloseHow.RESET:
            words = [_(_PROXY_RESETS[side])]
        else:
            return []  # A FIN passed on (said with it), or the proxy's own (said why).
    elif isinstance(event, Closed):
        if event.clean:
            how = "clean"
        elif event.ending is Ending.LOST and event.closedBy is not CloseHow.RESET:
            how = "peer"
        elif event.ending is Ending.ABORTED:
            how = "us"
        else:
            how = "other"
        words = [_(_PROXY_CLOSED[side, how])]
        if event.detail and not event.clean:
            words.append(_("what the system said: {reason}").format(reason=quoted(event.detail)))
    elif isinstance(event, UpstreamFailed):
        words = [upstreamFailedText(event)]
    elif isinstance(event, IdleTimedOut):
        words = [
            _(
                "no bytes either way for {seconds} s (--idle-timeout): the proxy closes both"
                " connections"
            ).format(seconds=seconds(event.timeout))
        ]
    elif isinstance(event, RelayEnded):
        words = relayEndedText(event)
    else:  # The framing and the operator's wait are the server's, not a proxy's.
        return []
    return [f"   {line}" for line in words]


def eventText(role: Role, event: TraceEvent) -> list[str]:
    """
    What C{event} says, without its connection and time: one line, two for a
    TLS connection's start.  Arrows for chunks, words for the rest.
    """
    if role is Role.PROXY:
        return proxyText(event)
    if isinstance(event, Chunk):
        client, server = _("client"), _("server")
        toServer = event.outgoing == (role is Role.CLIENT)
        arrow = f"{client} --> {server}" if toServer else f"{client} <-- {server}"
        return [f"{arrow}  {chunkText(event.data, event.size)}"]
    if isinstance(event, Connected):
        return connectedText(role, event)
    if isinstance(event, Framed):
        words = framedText(event)
    elif isinstance(event, Asked):
        words = _("waiting for the operator to type a reply")
    elif isinstance(event, Replied):
        words = repliedText(event)
    elif isinstance(event, NotReplied):
        words = notRepliedText(event)
    elif isinstance(event, Closing):
        words = _(_CLOSING[role, event.how])
    elif isinstance(event, PeerFinished):
        words = _(_PEER_FINISHED[role])
    elif isinstance(event, Closed):
        return [f"   {words}" for words in closedText(role, event)]
    else:  # A proxy's own events: not in a client's or a server's trace.
        return []
    return [f"   {words}"]


class Ladder:
    """
    Renders events as lines: C{#N}, milliseconds since the connection
    began, then what happened; coloured by connection if C{colour}.
    """

    def __init__(self, role: Role, colour: bool = False) -> None:
        self.role = role
        self.colour = colour

    def lines(self, event: TraceEvent) -> list[str]:
        """The lines of text for C{event}."""
        prefix = f"#{event.connection} {milliseconds(event.at):>9} ms  "
        lines = [prefix + text for text in eventText(self.role, event)]
        if self.colour:
            code = PALETTE[(event.connection - 1) % len(PALETTE)]
            lines = [f"\x1b[{code}m{line}\x1b[0m" for line in lines]
        return lines
