"""
A test-only program: the operator's editor on a real terminal, over a
L{ReplyQueue} whose clients are fake, for the pty tests (tests/test_editor.py)
until the console is wired into C{twistd names-server}.

    python -m tests.consoledemo CONTROL_IN CONTROL_OUT [--chat]

CONTROL_IN and CONTROL_OUT are inherited file descriptors.  Lines read from
CONTROL_IN, fields separated by tabs: C{ask NAME PEER} (a client arrives),
C{leave NAME} (it disconnects).  Lines written to CONTROL_OUT: C{got NAME
REPLY} or C{failed NAME WHY} for each client, C{stopped} at the end.
"""

# ruff: noqa: E402  (the platform is asserted before the POSIX-only imports)
from __future__ import annotations

import sys

assert sys.platform != "win32", "POSIX terminals only"

import os
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.stdio import StandardIO
from twisted.protocols.basic import LineReceiver

from twisted_names.console.editor import OperatorEditor
from twisted_names.console.model import Operator
from twisted_names.console.rawtty import attachEditor
from twisted_names.replies import ReplyQueue


class Control(LineReceiver):
    delimiter = b"\n"

    def __init__(self, queue: ReplyQueue, out: int) -> None:
        self.queue = queue
        self.out = out
        self.asking: dict[str, Deferred[str]] = {}

    def lineReceived(self, line: bytes) -> None:
        command, *args = line.decode("utf-8").split("\t")
        if command == "ask":
            name, peer = args
            d = self.asking[name] = self.queue.ask(name, peer)
            d.addCallbacks(
                lambda reply: self.tell("got", name, reply),
                lambda f: self.tell("failed", name, type(f.value).__name__),
            )
        elif command == "leave":
            self.asking.pop(args[0]).cancel()

    def tell(self, *fields: str) -> None:
        os.write(self.out, ("\t".join(fields) + "\n").encode("utf-8"))


async def main(reactor: Any, controlIn: str, controlOut: str, *flags: str) -> None:
    queue = ReplyQueue(reactor, timeout=300)
    finished: Deferred[None] = Deferred()

    def stop() -> None:
        editor.close("demo: stopped.")

    editor = OperatorEditor(onInterrupt=stop)

    def closed() -> None:
        if not finished.called:
            finished.callback(None)

    editor.onClosed = closed
    editor.operator = Operator(
        queue,
        editor,
        reactor,
        maxLength=100,
        stop=stop,
        chat="--chat" in flags,
    )
    editor.operator.greet("a demo with fake clients")
    control = Control(queue, int(controlOut))
    devnull = os.open(os.devnull, os.O_WRONLY)
    StandardIO(control, stdin=int(controlIn), stdout=devnull, reactor=reactor)  # type: ignore[call-arg]
    _, raw = attachEditor(editor, reactor)
    try:
        await finished
    finally:
        raw.restore()
        control.tell("stopped")


def run() -> None:
    task.react(main, sys.argv[1:])


if __name__ == "__main__":
    run()
