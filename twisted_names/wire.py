"""
The wire format, as pure functions: what a message is, how bytes become text
and text becomes bytes.  No reactor, no transport: see L{twisted_names.framing}
for the protocol that cuts a byte stream into messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted_names.display import quoted, unsafeCharacters
from twisted_names.i18n import _, ngettext

#: The longest name, in bytes, without its line ending.  The course's scripts
#: read names with C{recv(1024)}.
DEFAULT_MAX_LENGTH = 1024

#: How long, in seconds, bytes may stay unterminated before they count as a
#: whole message (for peers that send without a line ending).
DEFAULT_QUIET_PERIOD = 0.25

LF = b"\n"
CRLF = b"\r\n"
UNTERMINATED = b""


@dataclass(slots=True)
class Message:
    """
    One message received from a peer.

    @ivar text: the decoded text, without its line ending.
    @ivar ending: how the peer ended it: L{LF}, L{CRLF} or L{UNTERMINATED}.
        Answers are sent the same way, so a peer that writes no line ending
        (the course's C{sock.send(name.encode())}) gets none back.
    @ivar size: the number of bytes of the message, without its ending.
    @ivar replaced: C{True} if the bytes were not valid UTF-8 and undecodable
        bytes were replaced with U+FFFD.

    Not frozen, though nothing changes one: a frozen dataclass sets each
    field through C{object.__setattr__}, 4% of an exchange
    (docs/performance.md, "Instructions per exchange").
    """

    text: str
    ending: bytes
    size: int
    replaced: bool = False

    @property
    def terminated(self) -> bool:
        """Whether the peer ended the message with a line ending."""
        return self.ending != UNTERMINATED


def decodeMessage(raw: bytes, ending: bytes) -> Message:
    """
    Decode the bytes of one message.

    Invalid UTF-8 never raises: undecodable bytes become U+FFFD and the
    message says so, so that the caller can log it.

    @param raw: the message's bytes, without its line ending.
    @param ending: the line ending it came with.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Message(raw.decode("utf-8", "replace"), ending, len(raw), replaced=True)
    return Message(text, ending, len(raw))


def splitEnding(line: bytes) -> tuple[bytes, bytes]:
    """
    Split a line that was cut at C{\\n} into its content and its ending.

    @param line: a line without its C{\\n}.
    @return: C{(content, CRLF)} if the line ended in C{\\r}, else C{(line, LF)}.
    """
    if line.endswith(b"\r"):
        return line[:-1], CRLF
    return line, LF


def encodeLine(text: str, ending: bytes = LF) -> bytes:
    """
    Encode one outgoing message.

    @param text: a name, already checked with L{checkName}.
    @param ending: the line ending to send (L{UNTERMINATED} for none).
    """
    return text.encode("utf-8") + ending


class InvalidName(ValueError):
    """
    A name that cannot be sent; the message says why, for a person, in the
    chosen language: the client's user and the server's operator both read
    it, after words of their own (C{Not sent: ...}).  The operator's
    console says it of the reply being typed (L{forReply}): a whole
    sentence of its own in every language.
    """

    def __init__(self, message: str, forReply: str) -> None:
        super().__init__(message)
        #: The same reason, said of the operator's reply.
        self.forReply = forReply


def checkName(text: str, maxLength: int = DEFAULT_MAX_LENGTH) -> str:
    """
    Check a name before it is sent, and return it without surrounding
    whitespace.

    An empty name is refused because an empty line ends a conversation (see
    C{docs/protocol.md}); a line break inside a name would split it in two;
    control characters and bidirectional overrides would reach the other
    side's terminal escaped, not as the sender meant them.

    @raise InvalidName: if the name is empty, too long, or holds a line break
        or another control character.
    """
    name = text.strip()
    if not name:
        raise InvalidName(_("the name is empty"), _("the reply is empty"))
    unsafe = unsafeCharacters(name)
    if unsafe:
        shown = ", ".join(quoted(c) for c in unsafe)
        raise InvalidName(
            _("the name holds control characters ({characters})").format(characters=shown),
            _("the reply holds control characters ({characters})").format(characters=shown),
        )
    size = len(name.encode("utf-8"))
    if size > maxLength:
        raise InvalidName(
            ngettext(
                "the name is {size} byte long; the limit is {limit}",
                "the name is {size} bytes long; the limit is {limit}",
                size,
            ).format(size=size, limit=maxLength),
            ngettext(
                "the reply is {size} byte long; the limit is {limit}",
                "the reply is {size} bytes long; the limit is {limit}",
                size,
            ).format(size=size, limit=maxLength),
        )
    return name
