"""
What single pieces of the server cost, measured in this process, without
sockets (docs/performance.md, "What each hand-written piece is worth"):

  - Python memory per waiting client: N clients over C{StringTransport}, each
    having sent its name and waiting for the operator (tracemalloc; the real
    transport's own objects are not counted), arriving as they do in
    C{memory.py}: a probe connection first, then 256 connects at once
    (C{--one-at-a-time}: each whole before the next, which hides what
    bursts cost);
  - what one C{DelayedCall} per waiting client would add (a reply timer each,
    instead of the queue's one timer for its head);
  - CPU per exchange of the protocol alone (C{--name}, no logging observers);
  - what a C{callLater} set and cancelled for every exchange costs (the name
    timeout, as L{twisted.protocols.policies.TimeoutMixin} does it), with the
    epoll reactor holding 500 other timers.

    python benchmarks/pieces.py [--clients 20000] [--exchanges 100000] [--one-at-a-time]

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
from twisted.internet.protocol import Protocol
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


def waitingClients(count: int, burst: int = 1, probe: bool = False) -> float:
    """
    Python memory per waiting client.  C{burst}: connections accepted (and
    their protocols built) before their names arrive, as a server sees
    C{loadgen.hold_clients}'s 256 connects at once; C{probe}: first a
    connection that closes without a word, as C{servers.py}'s check that the
    port accepts.  Both matter: Python shares one table of attribute names
    among a class's instances, grows it only while few instances exist, and
    gives an instance that sets a name missing from it a dict of its own
    (docs/performance.md, "Memory per waiting client (issue 18)").
    """
    clock = Clock()
    factory = NameServerFactory(ReplyQueue(clock, 300), clock, ServerSettings(maxClients=count))
    if probe:
        first = factory.buildProtocol(ADDRESS)
        first.makeConnection(StringTransport(peerAddress=ADDRESS))
        first.connectionLost(Failure(ConnectionDone()))
    transports = iter([StringTransport(peerAddress=ADDRESS) for _ in range(count)])
    accepted: list[Protocol] = []
    made = [0]

    def waiting() -> object:
        protocol = factory.buildProtocol(ADDRESS)
        protocol.makeConnection(next(transports))
        accepted.append(protocol)
        made[0] += 1
        if len(accepted) >= burst or made[0] == count:
            for each in accepted:
                each.dataReceived(b"Ana\n")
            accepted.clear()
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
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="each client connects and sends its name before the next connects"
        " (the count before issue 18; the real server sees bursts)",
    )
    args = parser.parse_args()
    for observer in list(globalLogPublisher._observers):
        globalLogPublisher.removeObserver(observer)

    # What one order leaves in the class's shared attribute names stays for
    # the process: one order a run.
    if args.one_at_a_time:
        order, cost = "one connection at a time", waitingClients(args.clients)
    else:
        order = "a probe first, then 256 accepted at a time"
        cost = waitingClients(args.clients, burst=256, probe=True)
    print(f"python memory per waiting client ({order}): {cost:.0f} bytes")
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
