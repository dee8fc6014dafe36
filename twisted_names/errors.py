"""
What can go wrong for the client, each with a message for a person and the
exit status the command line gives it (documented in the README).
"""

from __future__ import annotations


class ExchangeError(Exception):
    """A name exchange that did not complete.  C{str()} is for a person."""

    #: The client's exit status for this error.
    exitCode = 1


class UsageProblem(ExchangeError):
    """
    Bad options, or a name that cannot be sent (empty, too long, control
    characters, not UTF-8), or no name to read (stdin ended, closed or
    unreadable).
    """

    exitCode = 2


class CannotConnect(ExchangeError):
    """Connection refused, no route, unknown host, TLS handshake refused."""

    exitCode = 3


class TimedOut(ExchangeError):
    """No answer within C{--timeout} seconds."""

    exitCode = 4


class NoAnswer(ExchangeError):
    """The server closed the connection without answering."""

    exitCode = 5


class ServerDone(NoAnswer):
    """
    The server sent an empty line, its way of saying it is done
    (C{docs/protocol.md}), instead of answering.
    """


class BadAnswer(ExchangeError):
    """The server's answer breaks the protocol (longer than the limit)."""

    exitCode = 6


class NotTrusted(ExchangeError):
    """The server's TLS certificate could not be verified."""

    exitCode = 7


#: Exit status when the person interrupts the client (Ctrl-C), as shells do.
INTERRUPTED = 130
