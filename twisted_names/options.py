"""
What the server's and the client's options share: checked numbers, and
usage errors worded for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.python import usage

from twisted_names.wire import InvalidName, checkName

_TWISTED_PREFIX = "Parameter type enforcement failed: "


def number(kind: type[int] | type[float], minimum: float, what: str) -> Any:
    """
    A C{usage.Options} coerce function: C{kind} at least C{minimum}, else
    a C{ValueError} saying the value is not C{what}.
    """

    def coerce(value: str) -> int | float:
        try:
            result = kind(value)
        except ValueError:
            raise ValueError(f"{value!r} is not {what}") from None
        if not result >= minimum or result == float("inf"):  # Also refuses NaN.
            raise ValueError(f"{value!r} is not {what}")
        return result

    coerce.coerceDoc = ""  # type: ignore[attr-defined]
    return coerce


PORT = number(int, 0, "a port number (0-65535)")
COUNT = number(int, 1, "a whole number of at least 1")
COUNT_OR_ZERO = number(int, 0, "a whole number (0 for no limit)")
SECONDS = number(float, 0, "a number of seconds (0 for no limit)")


def checkPort(options: usage.Options) -> None:
    """Refuse a C{--port} above 65535 (the coerce function checks the rest)."""
    if options["port"] > 65535:
        raise usage.UsageError(f"--port: {options['port']} is not a port number (0-65535)")


def explainUsageError(error: usage.UsageError, argv: list[str]) -> str:
    """
    The message of a usage error, naming the option a bad value was given
    to (Twisted's own message does not say which).
    """
    message = str(error)
    if not message.startswith(_TWISTED_PREFIX):
        return message
    message = message[len(_TWISTED_PREFIX) :]
    for index, arg in enumerate(argv[:-1]):
        value = argv[index + 1]
        if arg.startswith("-") and "=" not in arg and message.startswith(repr(value)):
            return f"{arg}: {message}"
    for arg in argv:
        option, _, value = arg.partition("=")
        if option.startswith("--") and value and message.startswith(repr(value)):
            return f"{option}: {message}"
    return message


def globalReactor() -> Any:
    """The reactor, imported late: twistd chooses which one before running us."""
    from twisted.internet import reactor

    return reactor


def checkEndpoint(parse: Callable[[Any, str], object], description: str) -> None:
    """
    Parse an endpoint string now, so a mistake in it (an unknown kind, a
    missing certificate file) is a usage error and not a traceback later.
    """
    try:
        parse(globalReactor(), description)
    except Exception as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise usage.UsageError(f"bad endpoint {description!r}: {reason}") from None


def escapeForEndpoint(value: str) -> str:
    """A value for an endpoint string: its colons (IPv6 addresses) escaped."""
    return value.replace(":", "\\:")


def checkNameOption(options: usage.Options) -> None:
    """Check C{--name} like any name to send, and keep it stripped."""
    if options["name"] is not None:
        try:
            options["name"] = checkName(options["name"], options["max-length"])
        except InvalidName as e:
            raise usage.UsageError(f"--name: {e}") from None
