"""
Showing peers' words on a person's terminal, safely.

A name is whatever bytes reached the port.  Written raw to a terminal, an
escape sequence can clear the screen, retitle the window or write the
clipboard (OSC 52), and a bidirectional override can make text read
differently from what it is.  Everything here is pure and reactor-free.
"""

from __future__ import annotations

#: Invisible characters that are harmless and needed for real names: the
#: zero-width joiner and non-joiner (emoji sequences, Persian, Indic scripts).
_ALLOWED_INVISIBLE = frozenset("\u200c\u200d")

_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\", '"': '\\"'}


def isUnsafe(char: str) -> bool:
    """
    Whether a character must not reach a terminal as it is.

    Unsafe: every character Python would not print as itself
    (C{str.isprintable}): C0 and C1 controls, DEL, format characters such as
    the bidirectional overrides U+202A-U+202E and isolates U+2066-U+2069, line
    and paragraph separators, unassigned code points; except the zero-width
    joiner and non-joiner.
    """
    return not char.isprintable() and char not in _ALLOWED_INVISIBLE


def unsafeCharacters(text: str) -> list[str]:
    """Return the distinct unsafe characters of C{text}, in order of appearance."""
    if text.isprintable():
        return []
    return list(dict.fromkeys(c for c in text if isUnsafe(c)))


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    if not isUnsafe(char):
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # An undecodable byte (surrogateescape).
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quoted(text: str) -> str:
    """
    Quote C{text} for a terminal: in double quotes, with every unsafe
    character, backslash and double quote escaped, so what is shown is
    visible, unambiguous and never interpreted.

        >>> quoted("Ana")
        '"Ana"'
        >>> quoted("\\x1b[2J")
        '"\\\\x1b[2J"'
    """
    return f'"{visible(text)}"'


def quotedPath(path: str) -> str:
    """
    A path the user typed, in double quotes, as typed: only unsafe
    characters are escaped (L{isUnsafe}), not backslashes, so that a
    Windows path reads C{"C:\\Users\\Ana\\aula.md"} as the user wrote it, not
    with every backslash doubled as in peers' words (L{quoted}).

        >>> print(quotedPath("C:\\Users\\Ana\\aula.md"))
        "C:\\Users\\Ana\\aula.md"
        >>> print(quotedPath("a\\x1b.md"))
        "a\\x1b.md"
    """
    if path.isprintable():
        return f'"{path}"'
    return '"' + "".join(_escape(c) if isUnsafe(c) else c for c in path) + '"'


def shown(text: str) -> str:
    """
    C{text} as it is when it is all printable, else L{quoted}: for output
    such as the client's C{Server: NAME} where quotes would only add noise.
    """
    if text.isprintable() and text.strip() == text and text:
        return text
    return quoted(text)


def visible(text: str) -> str:
    """
    C{text} with every unsafe character, backslash and double quote escaped,
    unquoted (names are shown in quotes beside it): for
    words a peer chose that are shown inside other text, such as the path a
    UNIX-socket client bound its socket to.

        >>> visible("/tmp/a\\x1b]52;c;bad\\x07")
        '/tmp/a\\\\x1b]52;c;bad\\\\x07'
    """
    if text.isprintable() and "\\" not in text and '"' not in text:
        return text
    return "".join(_escape(c) for c in text)


def describeAddress(address: object) -> str:
    """
    A peer's address for people to read, safe to show anywhere:
    C{127.0.0.1:5000}, C{[::1]:5000}, C{unix:/path} (or C{unix} for an
    unnamed socket).  A UNIX-socket client chooses its own path (or abstract
    name, which starts with a NUL): it is escaped with L{visible}.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is not None and port is not None:
        return visible(hostAndPort(host, port))
    name = getattr(address, "name", None)
    if name is not None or type(address).__name__ == "UNIXAddress":
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        return f"unix:{visible(name)}" if name else "unix"
    return visible(str(address))


def hostAndPort(host: str, port: int) -> str:
    """C{host:port}, with an IPv6 address in brackets: C{[::1]:5000}."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
