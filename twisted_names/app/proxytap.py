"""
C{twistd names-proxy}: its options, wired to the relay
(L{twisted_names.proxy.relay}) by L{twisted_names.app.proxyservice}.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from typing import Any, NoReturn

import twisted
from twisted.application.service import IService
from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.python import usage

from twisted_names import __version__
from twisted_names.app.options import (
    COUNT,
    SECONDS,
    WAIT,
    checkEndpoint,
    checkPort,
    escapeForEndpoint,
    globalReactor,
    notAPort,
)
from twisted_names.app.serveroptions import (
    LISTENING_OPTIONS,
    TRACE_FILE_OPTION,
    ServerPluginOptions,
    listeningDescription,
    listeningWhere,
    runsAsDaemon,
)
from twisted_names.display import quoted, visible
from twisted_names.i18n import N_, _
from twisted_names.proxy.relay import RelaySettings

__all__ = ["Options", "checkTo", "makeService", "upstreamDescription"]

#: Where the proxy listens by default: beside names-server's 5000.
DEFAULT_PORT = 5001
RELAY = RelaySettings()
DEFAULT_TO = "127.0.0.1:5000"

#: C{HOST:PORT} (an IPv6 host in brackets), as people write a server's address.
_HOST_PORT = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>\d+)")


def upstreamDescription(to: str, timeout: float) -> str:
    """
    The client endpoint string for C{--to}: C{HOST:PORT} becomes a TCP
    endpoint (C{timeout}: the kernel's own connect timeout, which the
    relay's bounds too); anything else is taken as an endpoint string.
    """
    match = _HOST_PORT.fullmatch(to)
    if match is None:
        return to
    host = match.group("v6") or match.group("host")
    seconds = max(1, int(timeout + 0.999))
    return f"tcp:host={escapeForEndpoint(host)}:port={match.group('port')}:timeout={seconds}"


def checkTo(to: str) -> None:
    """
    Refuse a C{--to} that is only a port or only a host, as people first
    write a server's address, in words that say what is missing: as an
    endpoint string it would read as an endpoint of an unknown type
    (C{5000}, C{localhost}) or of none (C{::1}).
    """
    if to.isdigit():
        raise usage.UsageError(
            _(
                "--to: {value} is only a port: give the server as HOST:PORT,"
                " such as 127.0.0.1:{port}"
            ).format(value=repr(to), port=to)
        )
    try:
        address = ipaddress.ip_address(to)
    except ValueError:
        if ":" in to or "=" in to:  # HOST:PORT, or an endpoint string.
            return
        example = f"{visible(to)}:5000"
    else:
        example = f"[{to}]:5000" if address.version == 6 else f"{to}:5000"
    raise usage.UsageError(
        _("--to: {value} has no port: give the server as HOST:PORT, such as {example}").format(
            value=repr(to), example=example
        )
    )


class Options(ServerPluginOptions):
    """The options of C{twistd names-proxy}."""

    usageErrorForm = N_(
        "twistd names-proxy: error: {message}\nRun 'twistd names-proxy --help' for the options.\n"
    )
    twistdOptionForm = N_(
        "{option} is twistd's own option: put it before names-proxy,"
        " as in 'twistd {option} ... names-proxy ...'"
    )
    profileForm = N_(
        "twistd names-proxy: error: -p {value} before names-proxy is twistd's"
        " --profile (a profile written to a file named {value}), not the port:"
        " put it after names-proxy, as in 'twistd -n names-proxy -p {value}'\n"
    )
    synopsis = N_("[options]")
    optDocs = {"version": N_("Show the version of twisted-names (and of Twisted) and exit.")}
    longdesc = N_(
        "A relay that draws the exchange of any two TCP programs: point your client at"
        " this proxy (--port, 5001) instead of at your server (--to, 127.0.0.1:5000), and"
        " each connection is drawn as a ladder: who connected to whom, every chunk of"
        " bytes each way (as text and hex), each FIN and reset, who ended first.  The"
        " bytes are passed on unchanged, each chunk at once.  What the proxy cannot see:"
        " the TCP handshake and the segments are the kernel's; two send() calls can"
        " arrive as one chunk and one send() as two; the times are the proxy's, not your"
        " programs'.  Run it with twistd -n (in the foreground) to see the ladder."
    )
    optFlags = [
        [
            "no-trace",
            None,
            N_(
                "Do not draw the ladder (it is drawn by default): only the log lines, and"
                " the diagrams if --trace-file is given."
            ),
        ],
    ]
    optParameters = [
        # names-server's listening options, on the port beside its own.
        [*LISTENING_OPTIONS["port"][:2], DEFAULT_PORT, *LISTENING_OPTIONS["port"][3:]],
        LISTENING_OPTIONS["interface"],
        LISTENING_OPTIONS["endpoint"],
        [
            "to",
            "t",
            DEFAULT_TO,
            N_(
                "The server to relay to: HOST:PORT ([::1]:5000 for IPv6), or a Twisted client"
                " endpoint string such as unix:path=/tmp/names.sock."
            ),
        ],
        [
            "connect-timeout",
            None,
            RELAY.connectTimeout,
            N_(
                "Seconds to wait for the server to accept a connection; then the client's"
                " connection is closed."
            ),
            WAIT,
        ],
        [
            "idle-timeout",
            None,
            RELAY.idleTimeout,
            N_(
                "Seconds with no bytes either way after which both connections are closed;"
                " 0 (the default): never, a relay does not cut a conversation."
            ),
            SECONDS,
        ],
        [
            "max-clients",
            None,
            RELAY.maxClients,
            N_("Connections relayed at once; more are refused at once (and logged)."),
            COUNT,
        ],
        LISTENING_OPTIONS["backlog"],
        TRACE_FILE_OPTION,
    ]

    def opt_version(self) -> NoReturn:
        """Show the version of twisted-names (and of Twisted) and exit."""
        print(f"names-proxy (twisted-names) {__version__}, Twisted {twisted.__version__}")
        sys.exit(0)

    def _isItself(self, host: str, port: str) -> bool:
        """
        Whether C{--to HOST:PORT} is where this proxy listens (C{--port} and
        C{--interface}; not knowable for C{--endpoint} or C{--port 0}).
        """
        if self["endpoint"] is not None or not self["port"] or int(port) != self["port"]:
            return False
        return _sameListener(self["interface"], host)

    def postOptions(self) -> None:
        checkPort(self)
        self["description"] = listeningDescription(self)
        checkEndpoint(serverFromString, self["description"])
        checkTo(self["to"])
        to = _HOST_PORT.fullmatch(self["to"])
        if to is not None and int(to.group("port")) > 65535:
            raise notAPort("--to", to.group("port"))
        if to is not None and self._isItself(to.group("v6") or to.group("host"), to.group("port")):
            raise usage.UsageError(
                _(
                    "--to {to} is this proxy itself (it listens there): each connection would"
                    " be relayed to the proxy again, until --max-clients are used up; give the"
                    " server's address, and the proxy a --port of its own"
                ).format(to=quoted(self["to"]))
            )
        self["upstream"] = upstreamDescription(self["to"], self["connect-timeout"])
        checkEndpoint(clientFromString, self["upstream"])
        twistd = self.parent
        daemon = runsAsDaemon(twistd)
        if daemon and not self["no-trace"]:
            raise usage.UsageError(
                _(
                    "the ladder is drawn at this terminal, so names-proxy runs in the"
                    " foreground: 'twistd -n names-proxy' (a daemon can write the diagrams"
                    " with --no-trace --trace-file FILE)"
                )
            )
        if self["trace-file"] is not None:
            # Last: it creates the file, which a refusal above must not leave.
            from twisted_names.trace.file import checkTraceFile

            # Not the terminal: the ladder is drawn there.
            checkTraceFile(self, terminalAllowed=False)


def _loopback(host: str) -> bool:
    """Whether C{host} is this machine's loopback (a name, or an address of it)."""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _sameListener(interface: str, host: str) -> bool:
    """
    Whether connecting to C{host} reaches a port listening on C{interface}
    (names compared as written: a wildcard takes the loopback too).
    """
    if interface in ("0.0.0.0", "::", ""):
        return _loopback(host) or host in ("0.0.0.0", "::")
    return host == interface or (host == "localhost" and interface in ("127.0.0.1", "::1"))


def makeService(options: Options, reactor: Any = None) -> IService:
    """Make the names-proxy service from the parsed C{options}."""
    from twisted_names.app.proxyservice import ProxyPlan, proxyService

    plan = ProxyPlan(
        listen=options["description"],
        where=listeningWhere(options),
        upstream=options["upstream"],
        server=visible(options["to"]),
        settings=RelaySettings(
            maxClients=options["max-clients"],
            connectTimeout=options["connect-timeout"],
            idleTimeout=options["idle-timeout"],
        ),
        ladder=not options["no-trace"],
        traceFile=options["trace-file"],
    )
    return proxyService(plan, options.parent, reactor or globalReactor())
