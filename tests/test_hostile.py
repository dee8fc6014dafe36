"""
Random byte streams, in random chunks and with random pauses, against both
protocols: nothing raises, the outcome is one the protocol documents, and a
well-behaved client beside the hostile one is served as usual.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.test_client import connected
from tests.test_server import Client
from twisted_names.errors import ExchangeError
from twisted_names.replies import ReplyQueue
from twisted_names.server import NameServerFactory, Phase, ServerSettings

#: A stream: chunks of bytes (biased towards the interesting ones), each
#: followed by a pause in seconds.
chunks = st.lists(
    st.tuples(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(
                [b"\n", b"\r\n", b"\x1b[2J", b"\xff\xfe", b"\x00", b"\r", "\u202e".encode()]
            ),
            st.just(b"x" * 70),
        ),
        st.sampled_from([0.0, 0.0, 0.1, 0.3, 31.0]),
    ),
    max_size=12,
)
endings = st.sampled_from(["open", "half-close", "close", "reset"])


class HostileServerTests(SynchronousTestCase):
    @settings(max_examples=300, deadline=None)
    @given(stream=chunks, ending=endings, chat=st.booleans())
    def test_randomStreams(
        self, stream: list[tuple[bytes, float]], ending: str, chat: bool
    ) -> None:
        clock = Clock()
        # A reply timeout past the longest stream (12 pauses of 31 s, then
        # 31 s): the well-behaved client is not to time out waiting.
        queue = ReplyQueue(clock, timeout=1000)
        factory = NameServerFactory(
            queue, clock, ServerSettings(maxLength=64, nameTimeout=30, chat=chat)
        )
        good = Client(factory, port=1)
        good.send(b"Good\n")
        hostile = Client(factory, port=2)
        for data, pause in stream:
            if not hostile.transport.disconnecting:
                hostile.send(data)
            clock.advance(pause)
        if ending == "half-close" and not hostile.transport.disconnecting:
            hostile.protocol.readConnectionLost()
        elif ending in ("close", "reset"):
            reason = ConnectionDone() if ending == "close" else ConnectionLost()
            hostile.finishClosing(Failure(reason))

        # Past the name timeout, the documented outcomes are: waiting for a
        # reply (in the queue), or closed; never an answer nobody typed.
        clock.advance(31)
        if hostile.transport.disconnecting and hostile.protocol.phase is not Phase.GONE:
            hostile.finishClosing()  # What the reactor does after loseConnection.
        inQueue = "127.0.0.1:2" in {w.peer for w in queue.waiters()}
        closed = hostile.transport.disconnecting or ending in ("close", "reset")
        self.assertTrue(inQueue != closed, (inQueue, closed))
        self.assertEqual(hostile.received, b"")

        # The well-behaved client is served whatever happened next to it.
        while queue.head is not None and queue.head.peer != "127.0.0.1:1":
            queue.answer("for the hostile one")
        queue.answer("Bob")
        self.assertEqual(good.received, b"Bob\n")


class HostileClientSideTests(SynchronousTestCase):
    @settings(max_examples=300, deadline=None)
    @given(stream=chunks, close=st.booleans())
    def test_randomAnswers(self, stream: list[tuple[bytes, float]], close: bool) -> None:
        """Whatever a server sends, the client ends with an answer or a clear error."""
        protocol, transport, clock = connected(maxLength=64)
        answer = protocol.ask("Ana")
        for data, pause in stream:
            if not transport.disconnecting:
                protocol.dataReceived(data)
            clock.advance(pause)
        if close or transport.disconnecting:
            protocol.connectionLost(Failure(ConnectionDone()))
        results: list[object] = []
        answer.addBoth(results.append)
        if results:
            outcome = results[0]
            if isinstance(outcome, Failure):
                self.assertIsInstance(outcome.value, ExchangeError)
                self.assertTrue(str(outcome.value))
            else:
                self.assertIsInstance(outcome, str)
        else:
            self.assertFalse(close)
