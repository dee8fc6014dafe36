"""
What the trace (issue 10) costs, in this process, without sockets
(docs/performance.md, "The trace"):

  - CPU per exchange of the server protocol alone (C{--name}, no log
    observers), a line-terminated name and an unterminated one (the quiet
    period's timer), with tracing off: the framing's observer hook is the
    only code of the trace on that path.  Run the same script against the
    checkout before the trace (C{PYTHONPATH=that/checkout}) for the
    baseline: with tracing off the numbers should not differ beyond noise;
  - the same exchanges with tracing on: wrapped (L{TracingFactory}) with no
    sink, and with the live ladder rendered to a function that drops it.

    python benchmarks/tracecost.py [--exchanges 50000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from twisted.internet import epollreactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure

from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory, ServerSettings

ADDRESS = IPv4Address("TCP", "127.0.0.1", 50000)
HOST = IPv4Address("TCP", "127.0.0.1", 5000)


def perExchange(run: Callable[[], None], count: int, rounds: int = 5) -> float:
    """Microseconds per call of C{run}, the best of C{rounds} rounds."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(count):
            run()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def exchanges(factory: Any, reactor: Any, name: bytes) -> Callable[[], None]:
    """One connection: connect, send C{name}, (quiet period), close."""
    done = Failure(ConnectionDone())
    turns = [0]

    def exchange() -> None:
        protocol = factory.buildProtocol(ADDRESS)
        protocol.makeConnection(StringTransport(hostAddress=HOST, peerAddress=ADDRESS))
        protocol.dataReceived(name)
        protocol.connectionLost(done)
        turns[0] += 1
        if turns[0] % 3 == 0:
            reactor.runUntilCurrent()

    return exchange


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=50000)
    args = parser.parse_args()
    for observer in list(globalLogPublisher._observers):
        globalLogPublisher.removeObserver(observer)
    reactor = epollreactor.EPollReactor()
    factory = NameServerFactory(FixedReply("Bob"), reactor, ServerSettings())
    for label, name in (("LF", b"Ana\n"), ("unterminated", b"Ana")):
        cost = perExchange(exchanges(factory, reactor, name), args.exchanges)
        print(f"trace off, {label}: {cost:.2f} us an exchange")
    try:
        from twisted_names.trace.events import Role
        from twisted_names.trace.ladder import Ladder
        from twisted_names.trace.wrapper import LiveTrace, Tracer, TracingFactory
    except ImportError:
        print("(no trace in this checkout)")
        return
    for sinks, what in (([], "wrapped, no sink"), (None, "live ladder rendered")):
        tracer = Tracer(Role.SERVER, reactor, [])
        if sinks is None:
            tracer.sinks = [LiveTrace(Ladder(Role.SERVER), lambda line: None)]
        wrapped = TracingFactory(factory, tracer)
        for label, name in (("LF", b"Ana\n"), ("unterminated", b"Ana")):
            cost = perExchange(exchanges(wrapped, reactor, name), args.exchanges)
            print(f"trace on ({what}), {label}: {cost:.2f} us an exchange")


if __name__ == "__main__":
    main()
