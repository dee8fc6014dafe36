"""
Instructions per exchange of the server protocol with its log, counted by
callgrind (issue 18; docs/performance.md, "Instructions per exchange").

A loop of N exchanges as C{twistd names-server --name Bob -l FILE} makes
them, without sockets: the protocol on a C{StringTransport}, a name, its
reply, the close; the log observer twistd would be given (the batched file
observer behind the rate limit) writing to C{/dev/null}, its batches
flushed as the reactor would.  Instructions are counted, not seconds: the
count is the same however loaded the machine is.

    python benchmarks/exchangecost.py --callgrind [--log each|summary|none|bare]

runs the loop under C{valgrind --tool=callgrind} twice (N1 and N2
exchanges) and prints (I(N2) - I(N1)) / (N2 - N1): start-up cancels out.
C{--log bare} runs bare Twisted's protocol (L{baseline_twisted.Answer})
in the same loop, for the floor.  Without C{--callgrind}, it runs the loop
once, for a profiler.  Run it against another checkout with
C{PYTHONPATH=that/checkout} (the callgrind runs inherit it).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import deque
from typing import Any

from twisted.internet import epollreactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure

ADDRESS = IPv4Address("TCP", "127.0.0.1", 50000)
HOST = IPv4Address("TCP", "127.0.0.1", 5000)


def loop(count: int, logMode: str, concurrent: int) -> None:
    """
    C{count} exchanges, the log as C{logMode} says, C{concurrent} connections
    open at once (each new one connects before the oldest sends its name).
    """
    from twisted_names.logs.limit import RateLimitedObserver
    from twisted_names.logs.observers import BatchedFileLogObserver
    from twisted_names.replies import FixedReply
    from twisted_names.server import NameServerFactory, ServerSettings

    for observer in list(globalLogPublisher._observers):
        globalLogPublisher.removeObserver(observer)
    reactor = epollreactor.EPollReactor()
    reactor.running = True  # The observer batches, as under twistd.
    settings = ServerSettings()
    if logMode == "summary":
        from twisted_names.server import ExchangeLog  # type: ignore[attr-defined,unused-ignore]

        settings = ServerSettings(exchangeLog=ExchangeLog.SUMMARY)
    if logMode != "none":
        devnull = open(os.devnull, "w")  # noqa: SIM115 (open until the process ends)
        observer = BatchedFileLogObserver(devnull, reactor)  # type: ignore[arg-type]
        globalLogPublisher.addObserver(RateLimitedObserver(observer, reactor))
    factory: Any = NameServerFactory(FixedReply("Bob"), reactor, settings)
    if logMode == "bare":  # The floor: benchmarks/baseline_twisted.py's protocol.
        from baseline_twisted import Answer
        from twisted.internet.protocol import ServerFactory

        factory = ServerFactory.forProtocol(Answer)
    done = Failure(ConnectionDone())
    inFlight: deque[Any] = deque()
    for turn in range(count + concurrent - 1):
        if turn < count:
            protocol = factory.buildProtocol(ADDRESS)
            protocol.makeConnection(StringTransport(hostAddress=HOST, peerAddress=ADDRESS))
            inFlight.append(protocol)
        if len(inFlight) == concurrent or turn >= count:
            protocol = inFlight.popleft()
            protocol.dataReceived(b"bench\n")
            protocol.connectionLost(done)
        if turn % 3 == 0:
            reactor.runUntilCurrent()


def counted(count: int, logMode: str, concurrent: int) -> int:
    """Instructions callgrind counts for a whole run of C{count} exchanges."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--exchanges",
                str(count),
                "--log",
                logMode,
                "--concurrent",
                str(concurrent),
            ],
            check=True,
            capture_output=True,
        )
        with open(out) as f:
            summary = re.search(r"^summary: (\d+)", f.read(), re.MULTILINE)
    assert summary is not None
    return int(summary.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=2000)
    parser.add_argument("--log", choices=("each", "summary", "none", "bare"), default="each")
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    if not args.callgrind:
        loop(args.exchanges, args.log, args.concurrent)
        return
    small, large = args.exchanges // 4, args.exchanges
    per = (
        counted(large, args.log, args.concurrent) - counted(small, args.log, args.concurrent)
    ) / (large - small)
    print(f"log {args.log}, {args.concurrent} at once: {per / 1000:.1f}k instructions an exchange")


if __name__ == "__main__":
    main()
