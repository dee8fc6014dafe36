"""
What the server says to its operator (the console's lines for a pipe, and
twistd's log lines), as regular expressions: one copy for the process tests
(L{tests.processes}) and the in-memory ones (L{tests.harness}), which read
the same words.  Each pattern captures the client's address.
"""

from __future__ import annotations

import re

#: A client's address on 127.0.0.1 as the server shows it.
ADDRESS = r"127\.0\.0\.1:\d+"


def asking(name: str, address: str = ADDRESS) -> str:
    """The console line for the client the next line answers, on arrival."""
    return rf'^"{re.escape(name)}" \(({address})\) is asking for your name\.$'


def waitingToo(name: str, address: str = ADDRESS) -> str:
    """The console line for a client that arrives while another waits."""
    return rf'^"{re.escape(name)}" \(({address})\) is waiting too\.$'


def sent(reply: str, name: str, address: str = ADDRESS) -> str:
    """The console line once a typed reply went to a client."""
    return rf'^Sent "{re.escape(reply)}" to "{re.escape(name)}" \(({address})\)\.$'


def exchangeLogged(name: str, reply: str, address: str = ADDRESS) -> str:
    """twistd's log line for one exchange."""
    return (
        rf"\[names#info\] ({address}) {re.escape(repr(name))} answered"
        rf" {re.escape(repr(reply))} in \d+\.\d{{3}} s$"
    )


def leftEarly(name: str, address: str = ADDRESS) -> str:
    """The console line for a waiting client that disconnected."""
    return rf'^"{re.escape(name)}" \(({address})\) left before your reply\.$'


def nextAnswers(name: str, waiting: int, address: str = ADDRESS) -> str:
    """The console's status line: who the next line answers, how many wait."""
    return rf'^> Next line answers "{re.escape(name)}" \(({address})\) \[{waiting} waiting\]$'
