"""
C{names-proxy} as services: the relay listening (L{ListeningService}, as
names-server's), the terminal the ladder and the log lines are shown on
(stdin is not read), and, under twistd, the process (signals, limits, exit
status): names-server's pieces (L{twisted_names.app.assembly}), put
together for a relay.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint

from twisted_names.app.assembly import (
    Stopper,
    addProcessService,
    chooseConsole,
    serverLogObserver,
)
from twisted_names.app.services import (
    ListeningService,
    NamesServerService,
    TerminalService,
    standardFds,
)
from twisted_names.i18n import N_
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.proxy.relay import RelayFactory, RelaySettings, RelayWatcher


@dataclass(frozen=True)
class ProxyPlan:
    """
    What C{names-proxy} is asked to do (from its options).

    @ivar listen: the server endpoint string it listens on.
    @ivar where: that address as people write it (C{127.0.0.1:5001}), if known.
    @ivar upstream: the client endpoint string of the server it relays to.
    @ivar server: the server as the person gave it (C{--to}), escaped.
    @ivar ladder: whether to draw the ladder on the terminal.
    @ivar traceFile: where to write the Mermaid diagrams, if anywhere.
    """

    listen: str
    where: str | None
    upstream: str
    server: str
    settings: RelaySettings
    ladder: bool = True
    traceFile: str | None = None


class ProxyListeningService(ListeningService):
    """Listening, as names-server's, in names-proxy's own words."""

    listeningForm = N_("names-proxy listening on {address}, relaying to {server}")
    cannotListenForm = N_("names-proxy: cannot listen on {where}: {why}")
    portInUseForm = N_(
        "names-proxy: cannot listen on {where}: the port is in use: another program listens"
        " there, or a previous one's connections are still closing (wait a minute, or choose"
        " another port with --port)"
    )
    server = ""

    def _sayWhere(self, port: Any) -> None:
        from twisted.logger import Logger

        from twisted_names.display import describeAddress

        Logger(namespace="names").info(
            self.listeningForm, address=describeAddress(port.getHost()), server=self.server
        )


def _stdoutIsTerminal() -> bool:
    """Whether stdout is a terminal that takes colours (not on Windows: no VT mode)."""
    if sys.platform == "win32":
        return False
    stdout = standardFds()[1]
    return stdout is not None and os.isatty(stdout)


def proxyService(
    plan: ProxyPlan, twistd: Mapping[str, Any] | None, reactor: Any
) -> NamesServerService:
    """
    The services of C{names-proxy}, as L{plan} asks, from names-server's
    pieces (L{twisted_names.app.assembly}); under twistd (C{twistd} its
    options), with the process's own.
    """
    observer = serverLogObserver(twistd, reactor)
    service = NamesServerService(
        None if observer is None else RateLimitedObserver(observer, reactor)
    )
    stopper = Stopper(reactor.stop)
    # No operator: stdin is not read; a terminal only for the ladder and the log lines.
    console = chooseConsole(reactor, False, observer, stopper, 0, plan.ladder)
    if isinstance(console.service, TerminalService):
        console.service.stoppedText = N_("names-proxy: stopped.")

    endpoint: IStreamServerEndpoint = serverFromString(reactor, plan.listen)
    watcher: RelayWatcher
    if plan.ladder or plan.traceFile is not None:
        # Imported only when asked, as names-server's (docs/performance.md).
        from twisted_names.proxy.watch import TracingWatcher
        from twisted_names.trace.events import Role
        from twisted_names.trace.file import makeTracer
        from twisted_names.trace.ladder import useColour
        from twisted_names.trace.wrapper import TracingServerEndpoint

        show = console.show if plan.ladder else None
        colour = useColour(os.environ, _stdoutIsTerminal())
        tracer = makeTracer(Role.PROXY, reactor, show, colour, plan.traceFile, say=console.show)
        watcher = TracingWatcher(tracer, plan.server)
        endpoint = TracingServerEndpoint(endpoint, tracer, Role.CLIENT)
    else:
        from twisted_names.proxy.watch import LoggingWatcher

        watcher = LoggingWatcher(plan.server)
    upstream = clientFromString(reactor, plan.upstream)
    factory = RelayFactory(upstream, reactor, plan.settings, watcher)
    listening = ProxyListeningService(endpoint, plan.listen, factory, where=plan.where)
    listening.server = plan.server

    if twistd is not None:  # twistd runs the whole process for us.
        # Two descriptors a relayed connection.
        maxConnections = 2 * plan.settings.maxClients
        addProcessService(service, reactor, console, observer, maxConnections, listening, stopper)
    if console.service is not None:
        service.add("terminal", console.service)
    service.add("listening", listening)
    return service
