"""
What the server's and the client's options share: checked numbers, and
usage errors worded for a person.
"""

from __future__ import annotations

import getopt
import re
from collections.abc import Callable
from enum import Enum
from typing import Any

from twisted.python import usage

from twisted_names.display import quotedPath, visible
from twisted_names.i18n import N_, _
from twisted_names.oserrors import describe
from twisted_names.wire import InvalidName, checkName

_TWISTED_PREFIX = "Parameter type enforcement failed: "
_WRONG_NUMBER = "Wrong number of arguments."
#: What C{clientFromString} and C{serverFromString} say of an unknown kind.
_UNKNOWN_KIND = re.compile("Unknown endpoint type: (.*)")
#: Python's words for a port (or any number field) that is not a number.
_NOT_A_NUMBER = re.compile(r"invalid literal for int\(\) with base 10: (.*)")


class BadValue(ValueError):
    """
    A value a coerce function refused: C{str()} says why, for a person, and
    C{value} is the text given, so L{explainUsageError} can find the option
    it was given to whatever the language of the message.
    """

    def __init__(self, message: str, value: str) -> None:
        super().__init__(message)
        self.value = value
        #: The option refusing it, once known (L{nameRefusals}): its long
        #: name and its letter, to tell it from another given the same value.
        self.option: tuple[str, str | None] | None = None


def nameRefusals(options: usage.Options) -> None:
    """
    Make each of C{options}' coerce functions say, in the L{BadValue} it
    raises, which option refused: C{--port 0 --max-clients 0} is a bad
    C{--max-clients}, not a bad C{--port} (the first given that value).
    """
    letters = {long: short for short, long in options.synonyms.items() if len(short) == 1}
    for name, dispatch in options._dispatch.items():
        if isinstance(dispatch, usage.CoerceParameter):
            dispatch.coerce = _naming(dispatch.coerce, (name, letters.get(name)))


def _naming(coerce: Callable[[str], Any], option: tuple[str, str | None]) -> Any:
    def named(value: str) -> Any:
        try:
            return coerce(value)
        except BadValue as e:
            e.option = option
            raise

    named.coerceDoc = getattr(coerce, "coerceDoc", "")  # type: ignore[attr-defined]
    return named


def number(kind: type[int] | type[float], minimum: float, message: str) -> Any:
    """
    A C{usage.Options} coerce function: C{kind} at least C{minimum}, else
    a L{BadValue} with C{message} (marked with L{N_}; its C{{value}} is the
    value given, quoted).
    """

    def coerce(value: str) -> int | float:
        try:
            result = kind(value)
        except ValueError:
            raise BadValue(_(message).format(value=repr(value)), value) from None
        if not result >= minimum or result == float("inf"):  # Also refuses NaN.
            raise BadValue(_(message).format(value=repr(value)), value)
        return result

    coerce.coerceDoc = ""  # type: ignore[attr-defined]
    return coerce


_NOT_A_PORT = N_("{value} is not a port number (0-65535)")
PORT = number(int, 0, _NOT_A_PORT)
COUNT = number(int, 1, N_("{value} is not a whole number of at least 1"))
COUNT_OR_ZERO = number(int, 0, N_("{value} is not a whole number (0 for no limit)"))
SECONDS = number(float, 0, N_("{value} is not a number of seconds (0 for no limit)"))
#: A wait that must end: at least a millisecond.
WAIT = number(float, 0.001, N_("{value} is not a number of seconds above 0"))


def notAPort(option: str, value: str) -> usage.UsageError:
    """The usage error for C{value}, given to C{option} as a port, above 65535."""
    return usage.UsageError(f"{option}: {_(_NOT_A_PORT).format(value=repr(value))}")


def checkPort(options: usage.Options) -> None:
    """Refuse a C{--port} above 65535 (the coerce function checks the rest)."""
    if options["port"] > 65535:
        raise usage.UsageError(f"--port: {_(_NOT_A_PORT).format(value=options['port'])}")


class OptionProblem(Enum):
    """Why C{getopt} refused an option, each worded for a person."""

    UNKNOWN = N_("option {option} not recognized")
    NEEDS_VALUE = N_("option {option} needs a value")
    TAKES_NO_VALUE = N_("option {option} takes no value")
    AMBIGUOUS = N_("option {option} is the start of more than one option: type more of it")


class BadOption(usage.UsageError):
    """
    An option C{getopt} refused, and why, found from the options' own
    tables (L{badOption}): in our words, whatever Python's say.

    @ivar option: the option as typed (C{--bogus}, C{-x}).
    """

    def __init__(self, problem: OptionProblem, option: str) -> None:
        super().__init__(_(problem.value).format(option=option))
        self.problem = problem
        self.option = option


def badOption(
    error: getopt.GetoptError, argv: list[str], shortOpt: str, longOpt: list[str]
) -> BadOption:
    """
    What C{getopt.getopt(argv, shortOpt, longOpt)} refused (C{error.opt},
    the option's name), and why, decided as C{getopt} does from the same
    tables rather than from its English message.
    """
    name = error.opt
    if _givenLong(name, argv):
        option = "--" + name
        possible = [o for o in longOpt if o.startswith(name)]
        if not possible:
            return BadOption(OptionProblem.UNKNOWN, option)
        if name in possible:
            return BadOption(OptionProblem.TAKES_NO_VALUE, option)
        if name + "=" in possible:
            return BadOption(OptionProblem.NEEDS_VALUE, option)
        if len(possible) > 1:
            return BadOption(OptionProblem.AMBIGUOUS, option)
        if possible[0].endswith("="):
            return BadOption(OptionProblem.NEEDS_VALUE, option)
        return BadOption(OptionProblem.TAKES_NO_VALUE, option)
    option = "-" + name
    if name not in shortOpt.replace(":", ""):
        return BadOption(OptionProblem.UNKNOWN, option)
    return BadOption(OptionProblem.NEEDS_VALUE, option)


def _givenLong(name: str, argv: list[str]) -> bool:
    """
    Whether the first option in C{argv} that C{name} could be is a long one
    (C{--name}, C{--name=...}) rather than a letter in C{-abc}; C{getopt}
    stops at the first problem, so the first one is it.
    """
    for arg in argv:
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        if arg.startswith("--"):
            if arg[2:].partition("=")[0] == name:
                return True
        elif name in arg[1:]:
            return False
    return len(name) > 1


def unknownOption(error: usage.UsageError) -> str | None:
    """
    The option C{getopt} did not recognize (C{--bogus}, C{-x}) if that is
    what C{error} is about, else L{None}: for a hint that must not depend
    on the language its message is in.
    """
    if isinstance(error, BadOption) and error.problem is OptionProblem.UNKNOWN:
        return error.option
    return None


def explainUsageError(error: usage.UsageError, argv: list[str]) -> str:
    """
    The message of a usage error in the chosen language, naming the option
    a bad value was given to (Twisted's own message does not say which).

    C{getopt}'s refusals are ours already (L{BadOption}, raised by
    L{twisted_names.app.helptext.TranslatedOptions}); Twisted's own few
    messages are in English: the ones a person can meet are replaced by ours.
    """
    message = str(error)
    context = error.__context__
    if isinstance(error, BadOption):
        return message
    if message == _WRONG_NUMBER:
        return _(
            "unexpected argument: every value is given after its option (such as --name NAME)"
        )
    if not message.startswith(_TWISTED_PREFIX):
        return message
    message = message[len(_TWISTED_PREFIX) :]
    if not isinstance(context, BadValue):
        return message
    given = _optionGiven(argv, context.value, context.option)
    return message if given is None else f"{given}: {message}"


def _optionGiven(
    argv: list[str], value: str, refusedBy: tuple[str, str | None] | None = None
) -> str | None:
    """
    The option C{value} was given to in C{argv} (C{--port}, C{-p}), if
    found; if C{refusedBy} (its long name and letter) is known, only that one.
    """
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            continue
        if refusedBy is not None and not _spells(arg, *refusedBy):
            continue
        if arg.startswith("--"):
            option, equals, given = arg.partition("=")
            if equals and given == value:
                return option
        elif len(arg) > 2 and arg[2:] == value:
            return arg[:2]
        if "=" not in arg and index + 1 < len(argv) and argv[index + 1] == value:
            return arg
    return None


def _spells(arg: str, long: str, letter: str | None) -> bool:
    """Whether C{arg} gives the option C{long} (or its start, as getopt takes), or C{letter}."""
    if arg.startswith("--"):
        given = arg[2:].partition("=")[0]
        return bool(given) and long.startswith(given)
    return letter is not None and arg[1:2] == letter


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
        unknown = _UNKNOWN_KIND.fullmatch(reason)
        if isinstance(e, OSError) and e.filename is not None:  # A certificate, a key.
            message = _("bad endpoint {endpoint}: cannot read {path}: {why}").format(
                endpoint=repr(description), path=quotedPath(str(e.filename)), why=describe(e)
            )
        elif unknown is not None:
            message = _("bad endpoint {endpoint}: unknown endpoint type {kind}").format(
                # Twisted's words quote the kind as typed: escaped here.
                endpoint=repr(description),
                kind=visible(unknown.group(1)),
            )
        elif (number := _NOT_A_NUMBER.fullmatch(reason)) is not None:
            message = _("bad endpoint {endpoint}: {value} is not a whole number").format(
                endpoint=repr(description), value=number.group(1)
            )
        else:  # Twisted's or Python's words: too many to translate.
            message = _("bad endpoint {endpoint}: {reason}").format(
                endpoint=repr(description),
                reason=reason if reason.isprintable() else visible(reason),
            )
        raise usage.UsageError(message) from None


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
