"""
What the options of a twistd server plugin share (C{names-server}, and a
proxy's): where to listen, one clear line for a usage error under twistd,
and the hint for an option of twistd's own given after the plugin's name.

L{ServerPluginOptions} is the base class; the listening options are
L{LISTENING_OPTIONS}, read back by L{listeningDescription} and
L{listeningWhere}.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from twisted.python import usage

from twisted_names.app.helptext import TranslatedOptions
from twisted_names.app.options import COUNT, PORT, explainUsageError, unknownOption
from twisted_names.app.services import ListeningAddress
from twisted_names.display import hostAndPort
from twisted_names.i18n import N_, _

__all__ = [
    "LISTENING_OPTIONS",
    "ServerPluginOptions",
    "listeningDescription",
    "listeningWhere",
    "twistdOptionHint",
]

#: Where a server listens by default.
ADDRESS = ListeningAddress()

#: The listening options (C{optParameters} rows) by long name, for a plugin
#: to list where its C{--help} should show them.
LISTENING_OPTIONS: dict[str, list[Any]] = {
    "port": ["port", "p", ADDRESS.port, N_("TCP port to listen on (0: any free port)."), PORT],
    "interface": [
        "interface",
        "i",
        ADDRESS.interface,
        N_(
            "Address to listen on: 127.0.0.1 (this machine only), ::1 (IPv6), 0.0.0.0 or ::"
            " (every network)."
        ),
    ],
    "endpoint": [
        "endpoint",
        "e",
        None,
        N_(
            "Where to listen, as a Twisted server endpoint string; overrides --port,"
            " --interface and --backlog. Examples: tcp:5000, tcp6:5000:interface=\\:\\:1,"
            " unix:/tmp/names.sock, ssl:5000:privateKey=key.pem:certKey=cert.pem."
        ),
    ],
    "backlog": [
        "backlog",
        None,
        ADDRESS.backlog,
        N_(
            "Connections the kernel holds before the server accepts them (the"
            " operating system may cap it)."
        ),
        COUNT,
    ],
}


#: C{--trace-file} of a server plugin, whose file holds many connections.
TRACE_FILE_OPTION: list[Any] = [
    "trace-file",
    None,
    None,
    N_(
        "Write each connection, as it ends, to this Markdown file as a Mermaid"
        " sequence diagram (for lab reports; added at its end, each run under a heading"
        " with its date and time)."
    ),
]


#: Whether twistd without C{-n} runs as a daemon (not on Windows, whose
#: twistd never daemonizes: C{-n} is accepted there and changes nothing).
DAEMONIZES = sys.platform != "win32"


def runsAsDaemon(twistd: Mapping[str, Any] | None) -> bool:
    """Whether the plugin runs as a daemon under C{twistd} (C{None}: not under twistd)."""
    return DAEMONIZES and twistd is not None and not twistd.get("nodaemon")


def listeningDescription(options: usage.Options) -> str:
    """The endpoint string the listening options say: C{--endpoint}, or TCP."""
    endpoint: str | None = options["endpoint"]
    if endpoint is not None:
        return endpoint
    address = ListeningAddress(options["port"], options["interface"], options["backlog"])
    return address.description()


def listeningWhere(options: usage.Options) -> str | None:
    """The address as people say it (C{127.0.0.1:5000}), or C{None} for C{--endpoint}."""
    if options["endpoint"] is not None:
        return None
    return hostAndPort(options["interface"], options["port"])


def twistdOptionHint(option: str | None, twistd: usage.Options, form: str) -> str:
    """
    For an unknown C{option} ("option -n not recognized"): a hint, C{form}
    (marked with L{N_}, with an C{{option}} field) translated, when it is
    one of twistd's own, given after the plugin's name instead of before.
    """
    if option is None:
        return ""
    name = option.lstrip("-")
    if option.startswith("--"):
        own = name in {o.rstrip("=") for o in twistd.longOpt}
    else:
        own = name[:1] in twistd.shortOpt.replace(":", "")
    if not own:
        return ""
    return f" ({_(form).format(option=option)})"


def refuseProfileForPort(twistd: Mapping[str, Any], form: str) -> None:
    """
    C{twistd -p 5001 names-server}: twistd's own C{-p} is C{--profile}, so
    it would run the server on the default port and write a profile into a
    file named C{5001}.  A value of digits only is a port given on the wrong
    side of the plugin's name: one line, C{form} (marked with L{N_}, a
    C{{value}} field) translated, and exit status 2, before twistd writes
    anything (a profile really meant for such a file can be given as
    C{--profile=./5001}).
    """
    value = twistd.get("profile")
    if isinstance(value, str) and re.fullmatch("[0-9]+", value):
        sys.stderr.write(_(form).format(value=value))
        raise SystemExit(2)


class ServerPluginOptions(TranslatedOptions):
    """
    The options of a twistd plugin: under twistd, a bad option is one clear
    line and exit status 2 instead of twistd's whole usage text.

    @cvar usageErrorForm: that line (marked with L{N_}; a C{{message}} field).
    @cvar profileForm: the line for C{-p PORT} before the plugin's name
        (L{refuseProfileForPort}).
    @cvar twistdOptionForm: the hint for twistd's own options given after the
        plugin's name (L{twistdOptionHint}).
    """

    usageErrorForm: ClassVar[str] = N_(
        "twistd names-server: error: {message}\n"
        "Run 'twistd names-server --help' for the options.\n"
    )
    twistdOptionForm: ClassVar[str] = N_(
        "{option} is twistd's own option: put it before names-server,"
        " as in 'twistd {option} ... names-server ...'"
    )

    profileForm: ClassVar[str] = N_(
        "twistd names-server: error: -p {value} before names-server is twistd's"
        " --profile (a profile written to a file named {value}), not the port:"
        " put it after names-server, as in 'twistd -n names-server -p {value}'\n"
    )

    def __init__(self) -> None:
        super().__init__()
        # The first of the plugin's code twistd runs, before --help or an
        # error is printed: on Windows, stdout and stderr that are pipes or
        # files are written in UTF-8 from here on.
        if sys.platform == "win32":
            from twisted_names.console.winstdio import utf8Streams

            utf8Streams()

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Parse; under twistd, a bad option gives one clear line and exit
        status 2 instead of twistd's whole usage text.
        """
        argv = sys.argv[1:] if options is None else list(options)
        if self.parent is not None:
            refuseProfileForPort(self.parent, self.profileForm)
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            message = explainUsageError(e, argv)
            if self.parent is None:
                raise usage.UsageError(message) from None
            message += twistdOptionHint(unknownOption(e), self.parent, self.twistdOptionForm)
            sys.stderr.write(_(self.usageErrorForm).format(message=message))
            raise SystemExit(2) from None
