"""
The floor for names-server: the least a Twisted server can do per exchange.

A bare L{LineOnlyReceiver} that answers every line with C{b"server\\n"} and
closes, with no logging, no limits and no timeouts.  Whatever names-server
costs above this is the price of its own features, which is what the
benchmark targets are stated against.

With C{--log FILE} it also logs one line an exchange the way a
straightforward Twisted server would: C{log.info} with the peer, the name
and the reply as fields, to Twisted's own C{textFileLogObserver} on FILE
(issue 18: what names-server's log is compared with).

With C{--hold} it never answers: each client waits forever, so the memory a
waiting client costs in plain Twisted can be compared with names-server's.

Usage::

    python benchmarks/baseline_twisted.py PORT [--hold | --log FILE]
"""

from __future__ import annotations

import argparse

from twisted.internet.interfaces import ITransport
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger, globalLogBeginner, textFileLogObserver
from twisted.protocols.basic import LineOnlyReceiver

#: Listen queue length, the same as names-server is given (--backlog 1024),
#: so that bursts of connections are treated alike.
BACKLOG = 1024


class Answer(LineOnlyReceiver):
    """Answer the first line and close: the whole exchange, nothing more."""

    delimiter = b"\n"
    #: Set by makeConnection before any line arrives (a declaration only:
    #: checking for None on every line would be work the floor should not do).
    transport: ITransport

    def lineReceived(self, line: bytes) -> None:
        self.transport.write(b"server\n")
        self.transport.loseConnection()


class AnswerAndLog(Answer):
    """L{Answer}, and one log line an exchange, as Twisted's docs show it."""

    log = Logger()

    def lineReceived(self, line: bytes) -> None:
        self.transport.write(b"server\n")
        self.log.info(
            "{peer} {name!r} answered {reply!r}",
            peer=self.transport.getPeer(),
            name=line.decode("utf-8", "replace"),
            reply="server",
        )
        self.transport.loseConnection()


class Hold(LineOnlyReceiver):
    """Take the line and never answer, like a server waiting for its operator."""

    delimiter = b"\n"

    def lineReceived(self, line: bytes) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    """Listen on 127.0.0.1:PORT until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--hold", action="store_true", help="never answer")
    parser.add_argument("--log", metavar="FILE", help="log each exchange to FILE")
    args = parser.parse_args(argv)
    if args.log:
        logFile = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 (open until exit)
        globalLogBeginner.beginLoggingTo([textFileLogObserver(logFile)], redirectStandardIO=False)

    from twisted.internet import reactor

    factory = ServerFactory()
    factory.protocol = Hold if args.hold else AnswerAndLog if args.log else Answer
    reactor.listenTCP(args.port, factory, backlog=BACKLOG, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
