"""
The client side of the name exchange.

L{exchangeNames} is the whole API: connect, send a name, get the server's
name back.  The command line (C{python -m twisted_names.client}, see
L{twisted_names.cli}) and other programs both call it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, error
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import connectProtocol
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure

from twisted_names.errors import (
    BadAnswer,
    CannotConnect,
    ExchangeError,
    NoAnswer,
    NotTrusted,
    TimedOut,
    UsageProblem,
)
from twisted_names.framing import MessageReceiver
from twisted_names.wire import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_QUIET_PERIOD,
    InvalidName,
    Message,
    checkName,
    encodeLine,
)


class NameClientProtocol(MessageReceiver):
    """
    Sends lines and hands back the server's answers, one L{Deferred} a line,
    in order.  Works with servers that answer with no line ending and never
    close (the course's C{Servidor.py}): see L{MessageReceiver}.
    """

    def __init__(
        self,
        clock: IReactorTime,
        maxLength: int = DEFAULT_MAX_LENGTH,
        quietPeriod: float = DEFAULT_QUIET_PERIOD,
    ) -> None:
        self.clock = clock
        self.setLimits(maxLength, quietPeriod)
        self._answers: deque[Deferred[str]] = deque()
        self._closed: list[Deferred[None]] = []
        self.closeReason: ExchangeError | None = None

    def ask(self, text: str) -> Deferred[str]:
        """
        Send C{text} as one line.

        @return: fires with the server's answer, or fails with an
            L{ExchangeError}; cancelling it drops the connection.
        """
        if self.closeReason is not None:
            return defer.fail(self.closeReason)
        answer: Deferred[str] = Deferred(lambda _: self.transport.abortConnection())
        self._answers.append(answer)
        self.transport.write(encodeLine(text))
        return answer

    def whenClosed(self) -> Deferred[None]:
        """A Deferred that fires when the connection is gone (cancellable)."""
        if self.closeReason is not None:
            return defer.succeed(None)
        closed: Deferred[None] = Deferred(lambda d: self._closed.remove(d))
        self._closed.append(closed)
        return closed

    def messageReceived(self, message: Message) -> None:
        if self._answers:
            answer = self._answers.popleft()
            if not answer.called:
                answer.callback(message.text)
        # An answer nobody asked for is not ours to show: dropped.

    def messageTooLong(self, size: int) -> None:
        self._failAll(BadAnswer(f"the server's answer is longer than {self.maxLength} bytes"))
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        problem: ExchangeError
        if reason.check(error.ConnectionDone):
            problem = NoAnswer("the server closed the connection without answering")
        elif _isCertificateProblem(reason.value):
            problem = NotTrusted(f"cannot trust the server: {_sslReason(reason.value)}")
        else:
            problem = NoAnswer(
                f"the connection was lost before an answer ({_oneLine(reason.value)})"
            )
        self._failAll(problem)
        closed, self._closed = self._closed, []
        for d in closed:
            d.callback(None)

    def _failAll(self, problem: ExchangeError) -> None:
        if self.closeReason is None:
            self.closeReason = problem
        answers, self._answers = self._answers, deque()
        for answer in answers:
            if not answer.called:
                answer.errback(problem)


def exchangeNames(
    endpoint: IStreamClientEndpoint,
    name: str,
    clock: IReactorTime,
    *,
    timeout: float | None = None,
    maxLength: int = DEFAULT_MAX_LENGTH,
    quietPeriod: float = DEFAULT_QUIET_PERIOD,
    where: str = "the server",
) -> Deferred[str]:
    """
    Send C{name} to the server at C{endpoint} and return its name.

    @param clock: the reactor (or a L{twisted.internet.task.Clock} in tests).
    @param timeout: seconds for the whole exchange, connecting included.
    @param where: the server as people know it, for error messages.
    @return: fires with the server's name, or fails with an L{ExchangeError}
        subclass whose message is written for a person.
    """
    try:
        checked = checkName(name, maxLength)
    except InvalidName as e:
        return defer.fail(UsageProblem(f"cannot send the name: {e}"))

    async def exchange() -> str:
        protocol = NameClientProtocol(clock, maxLength, quietPeriod)
        await connectProtocol(endpoint, protocol)
        try:
            return await protocol.ask(checked)
        finally:
            protocol.transport.loseConnection()

    result: Deferred[str] = Deferred.fromCoroutine(exchange())
    if timeout:
        result.addTimeout(timeout, clock, onTimeoutCancel=timedOut(where))
    return result.addErrback(_raiseExplained, where, timeout)


def timedOut(where: str) -> Callable[[object, float], object]:
    """
    For L{Deferred.addTimeout}: whatever the cancelled operation failed with
    (L{CancelledError}, or L{error.ConnectingCancelledError} while
    connecting), report it as L{TimedOut}.
    """

    def onTimeoutCancel(result: object, timeout: float) -> object:
        if isinstance(result, Failure):
            return Failure(TimedOut(f"no answer from {where} within {timeout:g} s"))
        return result

    return onTimeoutCancel


def _raiseExplained(failure: Failure, where: str, timeout: float | None) -> Any:
    raise explain(failure, where, timeout) from failure.value


def explain(failure: Failure, where: str, timeout: float | None = None) -> BaseException:
    """
    Turn what Twisted raised into the L{ExchangeError} a person can act on.

    Cancellation that is not a timeout is passed through unchanged.
    """
    value = failure.value
    if isinstance(value, ExchangeError):
        return value
    if isinstance(value, defer.TimeoutError):
        return TimedOut(f"no answer from {where} within {timeout:g} s")
    if isinstance(value, (CancelledError, error.ConnectingCancelledError)):
        return value
    if isinstance(value, error.ConnectionRefusedError):
        return CannotConnect(
            f"cannot connect to {where}: connection refused (is the server running, on that port?)"
        )
    if isinstance(value, error.DNSLookupError):
        return CannotConnect(f"cannot connect to {where}: unknown host")
    if _isCertificateProblem(value):
        return NotTrusted(f"cannot trust {where}: {_sslReason(value)}")
    if isinstance(value, error.ConnectError):
        return CannotConnect(f"cannot connect to {where}: {_oneLine(value)}")
    if isinstance(value, (error.ConnectionLost, error.ConnectionDone)):
        return NoAnswer(f"{where} closed the connection without answering")
    return ExchangeError(f"{where}: {_oneLine(value)}")


def _oneLine(value: BaseException | None) -> str:
    text = str(value).strip() or type(value).__name__
    return " ".join(text.split())


def _isCertificateProblem(value: BaseException | None) -> bool:
    try:
        from OpenSSL.SSL import Error as SSLError
    except ImportError:  # pragma: no cover - TLS extra not installed
        return False
    if isinstance(value, error.ConnectionLost) and value.args:
        value = value.args[0] if isinstance(value.args[0], BaseException) else value
    if isinstance(value, SSLError):
        return True
    return "certificate verify failed" in str(value)


def _sslReason(value: BaseException | None) -> str:
    text = str(value)
    if "certificate verify failed" in text:
        return "its certificate is not signed by a trusted authority (certificate verify failed)"
    return _oneLine(value)


if __name__ == "__main__":
    from twisted_names.cli import run

    run()
