"""
The operating system's reasons, in the chosen language.

Python gives C{strerror} in the C library's language, which is English
here whatever C{LANGUAGE} says (Python never sets C{LC_MESSAGES}), so a
Portuguese-speaking person would read "No such file or directory" in the
middle of a Portuguese sentence.  The reasons people meet when a file
cannot be written, a port cannot be taken or the terminal goes away are
translated here; any other keeps the system's words.
"""

from __future__ import annotations

import errno
import socket

from twisted_names.i18n import N_, _

_REASONS = {
    errno.ENOENT: N_("no such file or folder"),
    errno.ENOTDIR: N_("a part of the path is not a folder"),
    errno.EISDIR: N_("it is a folder"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("operation not permitted"),
    errno.EROFS: N_("read-only file system"),
    errno.ENOSPC: N_("no space left on the disk"),
    errno.EEXIST: N_("it exists already"),
    errno.EADDRNOTAVAIL: N_("this machine has no such address"),
    errno.EIO: N_("input/output error"),
    errno.EINVAL: N_("invalid argument"),
    errno.EPIPE: N_("the other end is closed"),
}

#: Windows' socket errors are WinSock's numbers (C{WSAE...}), not C's errnos.
_WSAEADDRINUSE = 10048
_WSAEADDRNOTAVAIL = 10049
_REASONS[_WSAEADDRNOTAVAIL] = _REASONS[errno.EADDRNOTAVAIL]

#: The errnos of "address already in use", on POSIX and from WinSock.
ADDRESS_IN_USE = frozenset({errno.EADDRINUSE, _WSAEADDRINUSE})

#: The resolver's (C{getaddrinfo}'s) reasons, whose numbers are not errnos.
_HOST_REASONS = {
    socket.EAI_NONAME: N_("unknown host name"),
    socket.EAI_AGAIN: N_("the host name could not be looked up now (try again)"),
}


def describe(error: object) -> str:
    """
    Why C{error} happened, for a person: its errno's reason translated, else
    the system's words (C{strerror}), else the exception's text.
    """
    number = getattr(error, "errno", None)
    if isinstance(error, socket.gaierror):
        if number in _HOST_REASONS:
            return _(_HOST_REASONS[number])
    elif number in _REASONS:
        return _(_REASONS[number])
    return getattr(error, "strerror", None) or str(error)
