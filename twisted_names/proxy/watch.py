"""
What the relay (L{twisted_names.proxy.relay}) tells the person.

L{TracingWatcher}: the trace.  Both legs of each relayed connection are
observed by the trace's own wrapper (L{twisted_names.trace.wrapper}) under
one connection number, each event marked with its leg; what only the relay
knows (no server, the idle timeout, who ended first) becomes events of
its own.  The ladder and the Mermaid file draw them (L{Role.PROXY}).

L{LoggingWatcher}: without the trace, the one line a failed connection to
the server gets, in the log.
"""

from __future__ import annotations

from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger

from twisted_names.display import describeAddress
from twisted_names.i18n import N_
from twisted_names.proxy.relay import NoUpstream, NoWatcher, RelayServer, Side
from twisted_names.trace.events import (
    IdleTimedOut,
    NoServer,
    RelayEnded,
    Role,
    UpstreamFailed,
)
from twisted_names.trace.wrapper import Tracer, TracingClientEndpoint, TracingProtocol

log = Logger(namespace="names")

_NO_SERVER = {
    NoUpstream.REFUSED: NoServer.REFUSED,
    NoUpstream.UNREACHABLE: NoServer.UNREACHABLE,
    NoUpstream.TIMED_OUT: NoServer.TIMED_OUT,
    NoUpstream.OTHER: NoServer.OTHER,
}

_ROLES = {Side.CLIENT: Role.CLIENT, Side.SERVER: Role.SERVER}


class TracingWatcher:
    """
    The relay, traced: the connection to the server traced as the second
    leg of the client's (L{TracingClientEndpoint} with its number), and the
    relay's own events emitted to the same tracer.

    @ivar server: where the proxy connects, as the person gave it (escaped).
    """

    def __init__(self, tracer: Tracer, server: str) -> None:
        self.tracer = tracer
        self.server = server

    @staticmethod
    def _wrapper(relay: RelayServer) -> TracingProtocol:
        wrapper = relay.transport
        assert isinstance(wrapper, TracingProtocol), "the listening endpoint is traced"
        return wrapper

    def begun(self, relay: RelayServer) -> None:
        wrapper = self._wrapper(relay)

        def ended() -> None:
            self.tracer.emit(
                RelayEnded(
                    wrapper.connection,
                    wrapper._at(),
                    None if relay.first is None else _ROLES[relay.first],
                    relay.firstWasReset,
                    relay.toServer,
                    relay.toClient,
                )
            )

        self.tracer.atEnd(wrapper.connection, ended)

    def upstream(
        self, relay: RelayServer, endpoint: IStreamClientEndpoint
    ) -> IStreamClientEndpoint:
        connection = self._wrapper(relay).connection
        return TracingClientEndpoint(endpoint, self.tracer, Role.SERVER, connection)

    def upstreamFailed(
        self, relay: RelayServer, why: NoUpstream, took: float, detail: str
    ) -> None:
        wrapper = self._wrapper(relay)
        timeout = relay.factory.settings.connectTimeout
        self.tracer.emit(
            UpstreamFailed(
                wrapper.connection,
                wrapper._at(),
                self.server,
                _NO_SERVER[why],
                took,
                timeout,
                detail,
            )
        )

    def idle(self, relay: RelayServer) -> None:
        wrapper = self._wrapper(relay)
        timeout = relay.factory.settings.idleTimeout
        self.tracer.emit(IdleTimedOut(wrapper.connection, wrapper._at(), timeout))


#: What the log says when the server cannot be reached (the console
#: translates these formats; the fields stay as they are).
NO_SERVER_LOG = {
    NoUpstream.REFUSED: N_(
        "{client}: cannot connect to the server {server}: connection refused; closing the client"
    ),
    NoUpstream.UNREACHABLE: N_(
        "{client}: cannot connect to the server {server}: unreachable; closing the client"
    ),
    NoUpstream.TIMED_OUT: N_(
        "{client}: cannot connect to the server {server}: no answer within {timeout} s;"
        " closing the client"
    ),
    NoUpstream.OTHER: N_(
        "{client}: cannot connect to the server {server}: {detail}; closing the client"
    ),
}


class LoggingWatcher(NoWatcher):
    """
    The relay untraced: a server that cannot be reached, and an idle
    timeout, are one log line each; the rest is L{NoWatcher}'s silence.
    """

    def __init__(self, server: str) -> None:
        self.server = server

    def upstreamFailed(
        self, relay: RelayServer, why: NoUpstream, took: float, detail: str
    ) -> None:
        log.warn(
            NO_SERVER_LOG[why],
            client=describeAddress(relay.transport.getPeer()),
            server=self.server,
            timeout=relay.factory.settings.connectTimeout,
            detail=repr(detail),
        )

    def idle(self, relay: RelayServer) -> None:
        log.info(
            N_("{client}: no bytes either way for {timeout} s (--idle-timeout): closing"),
            client=describeAddress(relay.transport.getPeer()),
            timeout=relay.factory.settings.idleTimeout,
        )
