"""
What single pieces of the server cost, measured in this process, without
sockets (docs/performance.md, "What each hand-written piece is worth"):

  - Python memory per waiting client: N clients over C{StringTransport}, each
    having sent its name and waiting for the operator (tracemalloc; the real
    transport's own objects are not counted);
  - what one C{DelayedCall} per waiting client would add (a reply timer each,
    instead of the queue's one timer for its head);
  - CPU per exchange of the protocol alone (C{--name}, no logging observers);
  - what a C{callLater} set and cancelled for every exchange costs (the name
    timeout, as L{twisted.protocols.policies.TimeoutMixin} does it), with the
    epoll reactor holding 500 other timers.

    python benchmarks/pieces.py [--clients 20000] [--exchanges 100000]

Run it against another checkout with PYTHONPATH=that/checkout.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

from twisted.internet import epollreactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure

from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory, ServerSettings

ADDRESS = IPv4Address("TCP", "127.0.0.1", 50000)


def allocated(make: Callable[[], object], count: int) -> float:
    """Bytes that C{count} results of C{make} hold, each."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [make() for _ in range(count)]
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    del kept
    return total / count


def waitingClients(count: int) -> float:
    clock = Clock()
    factory = NameServerFactory(ReplyQueue(clock, 300), clock, ServerSettings(maxClients=count))
    transports = iter([StringTransport(peerAddress=ADDRESS) for _ in range(count)])

    def waiting() -> object:
        protocol = factory.buildProtocol(ADDRESS)
        protocol.makeConnection(next(transports))
        protocol.dataReceived(b"Ana\n")
        return protocol

    return allocated(waiting, count)


def timerEach(count: int) -> float:
    reactor = epollreactor.EPollReactor()
    timers = allocated(lambda: reactor.callLater(300, print, None), count)
    reactor.runUntilCurrent()  # Into the heap: one more list slot each.
    return timers


def perExchange(run: Callable[[], None], count: int) -> float:
    """Microseconds per call of C{run}, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(count):
            run()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--exchanges", type=int, default=100000)
    args = parser.parse_args()
    for observer in list(globalLogPublisher._observers):
        globalLogPublisher.removeObserver(observer)

    print(f"python memory per waiting client: {waitingClients(args.clients):.0f} bytes")
    print(f"one DelayedCall per waiting client would add: {timerEach(args.clients):.0f} bytes")

    reactor = epollreactor.EPollReactor()
    factory = NameServerFactory(FixedReply("Bob"), reactor, ServerSettings())
    done = Failure(ConnectionDone())
    turns = [0]

    def exchange() -> None:
        protocol = factory.buildProtocol(ADDRESS)
        protocol.makeConnection(StringTransport(peerAddress=ADDRESS))
        protocol.dataReceived(b"Ana\n")
        protocol.connectionLost(done)
        turns[0] += 1
        if turns[0] % 3 == 0:
            reactor.runUntilCurrent()

    print(f"CPU per exchange, protocol alone: {perExchange(exchange, args.exchanges):.2f} us")

    others = [reactor.callLater(1000 + i, print) for i in range(500)]
    reactor.runUntilCurrent()

    def timer() -> None:
        reactor.callLater(30, print).cancel()
        turns[0] += 1
        if turns[0] % 3 == 0:
            reactor.runUntilCurrent()

    def turnOnly() -> None:
        turns[0] += 1
        if turns[0] % 3 == 0:
            reactor.runUntilCurrent()

    cost = perExchange(timer, args.exchanges) - perExchange(turnOnly, args.exchanges)
    print(f"a callLater set and cancelled each exchange: {cost:.2f} us")
    del others


if __name__ == "__main__":
    main()
