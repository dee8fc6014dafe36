"""
C{twistd names-server}: its options, handed to the package's assembly
(L{twisted_names.app.assembly}), as Twisted's own C{twistd portforward} hands
its options to C{strports.service}.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import twisted
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from twisted_names import __version__
from twisted_names.app.assembly import ServerPlan, assembleServer
from twisted_names.app.options import (
    COUNT,
    COUNT_OR_ZERO,
    SECONDS,
    BadValue,
    checkEndpoint,
    checkNameOption,
    checkPort,
    globalReactor,
)
from twisted_names.app.serveroptions import (
    LISTENING_OPTIONS,
    TRACE_FILE_OPTION,
    ServerPluginOptions,
    listeningDescription,
    listeningWhere,
    runsAsDaemon,
)
from twisted_names.app.services import CannotListen, NamesServerService
from twisted_names.i18n import N_, _
from twisted_names.server import ExchangeLog, ServerSettings

__all__ = ["CannotListen", "Options", "makeService"]

#: The defaults of the options, from the objects that use them.
SERVER = ServerSettings()


def exchangeLogMode(value: str) -> str:
    """C{--exchange-log}'s coerce function: C{each} or C{summary}."""
    if value not in {mode.value for mode in ExchangeLog}:
        raise BadValue(_("{value} is not 'each' or 'summary'").format(value=repr(value)), value)
    return value


exchangeLogMode.coerceDoc = ""  # type: ignore[attr-defined]


class Options(ServerPluginOptions):
    """The options of C{twistd names-server}."""

    synopsis = N_("[options]")

    optDocs = {"version": N_("Show the version of twisted-names (and of Twisted) and exit.")}
    longdesc = N_(
        "A TCP name exchange.  Each client sends its name; it is shown here, you type the"
        " server's name, it goes back to that client and the connection closes.  Clients"
        " that arrive while you type wait in line, answered in the order they came.  With"
        " --name, every client is answered at once with that name.  Run it with twistd -n"
        " (in the foreground) unless --name is given: the replies are read from stdin."
    )
    optFlags = [
        [
            "chat",
            "c",
            N_(
                "Keep each connection for turn after turn, as the course's chat did: every line"
                " a client sends gets one reply, until the client ends it."
            ),
        ],
        [
            "trace",
            None,
            N_(
                "Show each connection as it happens: who connected, every chunk of bytes"
                " received and sent (as text and hex), what the framing decided, the wait"
                " for the reply, and how the connection ended (docs/teaching.md)."
            ),
        ],
        [
            "no-evict",
            None,
            N_(
                "When --max-clients are connected, refuse every new client. By default a"
                " client from another address is let in, and the connection that has been"
                " silent longest (no name sent yet) of the address holding the most such"
                " connections is closed for it."
            ),
        ],
    ]
    optParameters = [
        LISTENING_OPTIONS["port"],
        LISTENING_OPTIONS["interface"],
        LISTENING_OPTIONS["endpoint"],
        [
            "name",
            None,
            None,
            N_(
                "Answer every client at once with this name: no operator, nothing read from"
                " stdin (for daemons, scripts and benchmarks)."
            ),
        ],
        [
            "max-length",
            None,
            SERVER.maxLength,
            N_("Longest name, in bytes; a client sending a longer line is logged and closed."),
            COUNT,
        ],
        [
            "quiet-period",
            None,
            SERVER.quietPeriod,
            N_(
                "Seconds after which bytes with no line ending count as a whole name, for"
                " clients that send none (0: only a line ending or the client's close do)."
            ),
            SECONDS,
        ],
        [
            "name-timeout",
            None,
            SERVER.nameTimeout,
            N_(
                "Seconds a client has to send its name (in chat mode, each next line);"
                " 0: no limit."
            ),
            SECONDS,
        ],
        [
            "reply-timeout",
            None,
            SERVER.replyTimeout,
            N_(
                "Seconds a client waits for the operator's reply before it is closed; 0: no limit."
            ),
            SECONDS,
        ],
        [
            "max-clients",
            None,
            SERVER.maxClients,
            N_("Connections open at once; more are refused at once (and logged)."),
            COUNT,
        ],
        [
            "max-per-address",
            None,
            SERVER.maxPerAddress,
            N_("Connections open at once from one IP address; 0: no limit."),
            COUNT_OR_ZERO,
        ],
        LISTENING_OPTIONS["backlog"],
        [
            "exchange-log",
            None,
            ExchangeLog.EACH.value,
            N_(
                "What the log says of exchanges: 'each', a line an exchange; 'summary',"
                " a line a second with how many were answered, closed without a reply"
                " and refused (for a busy server)."
            ),
            exchangeLogMode,
        ],
        TRACE_FILE_OPTION,
    ]

    def opt_version(self) -> NoReturn:
        """Show the version of twisted-names (and of Twisted) and exit."""
        # Names and numbers only: nothing to translate (Twisted's said "Twisted version:").
        print(f"names-server (twisted-names) {__version__}, Twisted {twisted.__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        checkPort(self)
        checkNameOption(self)
        self["description"] = listeningDescription(self)
        checkEndpoint(serverFromString, self["description"])
        twistd = self.parent
        # Windows' twistd never daemonizes: -n is accepted and changes nothing.
        daemon = runsAsDaemon(twistd)
        if daemon and self["name"] is None:
            raise usage.UsageError(
                _(
                    "without --name the replies are typed at this terminal, so names-server"
                    " runs in the foreground: 'twistd -n names-server' (or give --name NAME"
                    " to run it as a daemon)"
                )
            )
        if daemon and self["trace"]:
            raise usage.UsageError(
                _(
                    "--trace shows each connection at this terminal, so names-server runs"
                    " in the foreground: 'twistd -n names-server --trace' (a daemon can"
                    " write the diagrams with --trace-file FILE)"
                )
            )
        if self["trace-file"] is not None:
            # Last: it creates the file, which a refusal above must not leave.
            from twisted_names.trace.file import checkTraceFile

            checkTraceFile(self, terminalAllowed=False)


def makeService(options: Options, reactor: Any = None) -> NamesServerService:
    """Make the names-server service from the parsed C{options}."""
    reactor = reactor or globalReactor()
    settings = ServerSettings(
        maxLength=options["max-length"],
        quietPeriod=options["quiet-period"],
        nameTimeout=options["name-timeout"],
        chat=options["chat"],
        maxClients=options["max-clients"],
        maxPerAddress=options["max-per-address"],
        replyTimeout=options["reply-timeout"],
        evictSilent=not options["no-evict"],
        exchangeLog=ExchangeLog(options["exchange-log"]),
    )
    plan = ServerPlan(
        settings,
        serverFromString(reactor, options["description"]),
        options["description"],
        where=listeningWhere(options),
        fixedName=options["name"],
        trace=options["trace"],
        traceFile=options["trace-file"],
        twistd=options.parent,
    )
    return assembleServer(plan, reactor)
