"""
The client side of the name exchange: all of its logic, none of its
printing.

  - L{exchangeNames}: connect, send a name, get the server's name back.
  - L{chat}: one connection, turn after turn (the server runs with C{--chat}).
  - L{clientEndpoint}: an endpoint from a string a person typed, with the
    TLS host check Twisted leaves out (see L{twisted_names.trust}).

Both fail with the L{twisted_names.errors} classes, whose messages are for a
person.  The command line (C{python -m twisted_names.client},
C{names-client}: see L{twisted_names.app.cli}) and other programs call these.
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from twisted.internet import defer, error
from twisted.internet.defer import CancelledError, Deferred, FailureGroup, race
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure

from twisted_names import trust
from twisted_names.errors import (
    BadAnswer,
    CannotConnect,
    ExchangeError,
    NoAnswer,
    NotTrusted,
    ServerDone,
    TimedOut,
    UsageProblem,
)
from twisted_names.framing import MessageReceiver
from twisted_names.i18n import N_, _, ngettext
from twisted_names.wire import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_QUIET_PERIOD,
    InvalidName,
    Message,
    checkName,
    encodeLine,
)

#: Lines the server may send that answer nothing (a stray line, a course
#: server's extra output) before the client takes it for a protocol breach:
#: dropped until then, so that reading, tracing and the person's Ctrl-D are
#: never held up by a server flooding lines nobody asked for.
UNASKED_MAX = 8


class NameClientProtocol(MessageReceiver):
    """
    Sends lines and hands back the server's answers, one L{Deferred} a line,
    in order.  Works with servers that answer with no line ending and never
    close (the course's C{Servidor.py}): see L{MessageReceiver}.

    An empty answer is the server saying it is done (C{docs/protocol.md}):
    every question still open fails with L{ServerDone} and the connection
    is closed.  A line too long, or more than L{UNASKED_MAX} lines nobody
    asked for, break the protocol: L{closeReason} is a L{BadAnswer}, whether
    a question was open or not, and the connection is dropped.
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
        self._unasked = 0

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
        if not message.text.strip():
            self._failAll(
                ServerDone(_("the server sent an empty line (it is done) instead of a name"))
            )
            self.transport.loseConnection()
            return
        if self._answers:
            answer = self._answers.popleft()
            if not answer.called:
                answer.callback(message.text)
            return
        # An answer nobody asked for is not ours to show: dropped, a few.
        self._unasked += 1
        if self._unasked > UNASKED_MAX:
            self._breach(
                BadAnswer(
                    ngettext(
                        "the server sent more than {count} line nobody asked for",
                        "the server sent more than {count} lines nobody asked for",
                        UNASKED_MAX,
                    ).format(count=UNASKED_MAX)
                )
            )

    def messageTooLong(self, size: int) -> None:
        if self._answers:
            tooLong = ngettext(
                "the server's answer is longer than {limit} byte",
                "the server's answer is longer than {limit} bytes",
                self.maxLength,
            )
        else:
            tooLong = ngettext(
                "the server sent a line longer than {limit} byte, unasked",
                "the server sent a line longer than {limit} bytes, unasked",
                self.maxLength,
            )
        self._breach(BadAnswer(tooLong.format(limit=self.maxLength)))

    def _breach(self, problem: BadAnswer) -> None:
        """The server broke the protocol: read nothing more, drop the connection."""
        if self.takingMessages:
            self.stopMessages()
        self._failAll(problem)
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self._failAll(_lostBecause(reason.value))
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


def _lostBecause(value: BaseException | None) -> ExchangeError:
    """Why a question got no answer, when the connection ended with C{value}."""
    if isinstance(value, ExchangeError):  # A refusal from trust.checkingHost.
        return value
    if isinstance(value, error.ConnectionDone):
        return NoAnswer(_("the server closed the connection without answering"))
    if _isCertificateProblem(value):
        return trust.untrusted(_sslReason(value))
    if isinstance(value, error.ConnectionLost):
        return NoAnswer(_("the connection to the server broke (reset or lost) before an answer"))
    return NoAnswer(
        _("the connection was lost before an answer ({reason})").format(reason=_oneLine(value))
    )


def clientEndpoint(reactor: Any, description: str) -> IStreamClientEndpoint:
    """
    C{clientFromString(reactor, description)}; for a C{tls:} endpoint, one
    that also checks that the server's certificate is for the host named
    (L{twisted_names.trust}).

    @raise ValueError: and other exceptions of C{clientFromString}, for a
        string that is not an endpoint.
    """
    endpoint = clientFromString(reactor, description)
    host = trust.tlsHost(description)
    return endpoint if host is None else trust.checkingHost(endpoint, host)


def exchangeNames(
    endpoint: IStreamClientEndpoint,
    name: str,
    clock: IReactorTime,
    *,
    timeout: float | None = None,
    maxLength: int = DEFAULT_MAX_LENGTH,
    quietPeriod: float = DEFAULT_QUIET_PERIOD,
    where: str | None = None,
    onConnected: Callable[[], object] | None = None,
) -> Deferred[str]:
    """
    Send C{name} to the server at C{endpoint} and return its name.

    @param clock: the reactor (or a L{twisted.internet.task.Clock} in tests).
    @param timeout: seconds for the whole exchange, connecting included.
    @param where: the server as people know it, for error messages
        (L{None}: "the server", in the chosen language).
    @param onConnected: called once connected, the name about to be sent
        (the command line then says it waits for the operator: not before,
        when the server may not even be there).
    @return: fires with the server's name, or fails with an L{ExchangeError}
        subclass whose message is written for a person.
    """
    try:
        checked = checkName(name, maxLength)
    except InvalidName as e:
        return defer.fail(UsageProblem(_("cannot send the name: {reason}").format(reason=e)))
    where = _theServer(where)

    async def exchange() -> str:
        protocol = NameClientProtocol(clock, maxLength, quietPeriod)
        await connectProtocol(endpoint, protocol)
        try:
            if onConnected is not None:
                onConnected()
            return await protocol.ask(checked)
        finally:
            protocol.transport.loseConnection()

    result: Deferred[str] = Deferred.fromCoroutine(exchange())
    if timeout:
        result.addTimeout(timeout, clock, onTimeoutCancel=timedOut(where))
    return result.addErrback(_raiseExplained, where, timeout)


class ChatEnd(Enum):
    """How a chat ended, when it ended well."""

    #: An empty line, or the end of the input.
    BY_YOU = "you"
    #: The server closed between turns, or sent an empty line.
    BY_SERVER = "the server"


class ChatView(Protocol):
    """What L{chat} tells the person, through the command line."""

    def connected(self) -> None:
        """The connection is up; lines typed now are sent."""

    def answered(self, answer: str) -> None:
        """The server answered the last line sent (C{answer} is raw: escape it)."""

    def notSent(self, why: str) -> None:
        """A line was not sent: C{why} says so, for a person."""


def chat(
    endpoint: IStreamClientEndpoint,
    nextLine: Callable[[], Deferred[str | None]],
    clock: IReactorTime,
    view: ChatView,
    *,
    first: str | None = None,
    timeout: float | None = None,
    maxLength: int = DEFAULT_MAX_LENGTH,
    quietPeriod: float = DEFAULT_QUIET_PERIOD,
    where: str | None = None,
) -> Deferred[ChatEnd]:
    """
    Connect, then send each line C{nextLine} gives and hand each answer to
    C{view}, turn after turn, until an empty line, the end of the lines
    (C{None}) or the server ends the conversation.

    @param nextLine: called for each turn; fires with the next line typed,
        or C{None} at the end of input.  It is cancelled if the server ends
        the conversation meanwhile.
    @param first: a line to send first, before asking C{nextLine}.
    @param timeout: seconds for connecting, and for each answer.
    @return: fires with how the chat ended, or fails with an
        L{ExchangeError}.  Cancelling it (Ctrl-C) drops the connection and
        fails it with L{CancelledError}.
    """
    return Deferred.fromCoroutine(
        _chat(
            endpoint,
            nextLine,
            clock,
            view,
            first,
            timeout,
            maxLength,
            quietPeriod,
            _theServer(where),
        )
    )


_CLOSED = object()


async def _chat(
    endpoint: IStreamClientEndpoint,
    nextLine: Callable[[], Deferred[str | None]],
    clock: IReactorTime,
    view: ChatView,
    first: str | None,
    timeout: float | None,
    maxLength: int,
    quietPeriod: float,
    where: str,
) -> ChatEnd:
    protocol = NameClientProtocol(clock, maxLength, quietPeriod)
    connecting = connectProtocol(endpoint, protocol)
    if timeout:
        connecting.addTimeout(timeout, clock, onTimeoutCancel=timedOut(where))
    try:
        try:
            await connecting
        except Exception as e:
            problem = explain(Failure(e), where, timeout)
            if problem is e:
                raise
            raise problem from e
        view.connected()
        line = first
        answers = 0
        while True:
            if line is None:
                typed = await _lineOrClose(nextLine(), protocol)
                if typed is _CLOSED:
                    if isinstance(protocol.closeReason, BadAnswer):
                        raise protocol.closeReason  # Unasked, it breaks the protocol still.
                    return ChatEnd.BY_SERVER
                assert typed is None or isinstance(typed, str)
                line = typed
            if line is None or not line.strip():
                return ChatEnd.BY_YOU
            try:
                text = checkName(line, maxLength)
            except InvalidName as e:
                view.notSent(str(e))
                line = None
                continue
            asking = protocol.ask(text)
            if timeout:
                asking.addTimeout(timeout, clock, onTimeoutCancel=timedOut(where))
            try:
                answer = await asking
            except ServerDone:
                return ChatEnd.BY_SERVER
            except NoAnswer as e:
                if not answers:
                    raise
                closed = ngettext(
                    "{where} closed the connection after {count} answer (is the server"
                    " running with --chat?)",
                    "{where} closed the connection after {count} answers (is the server"
                    " running with --chat?)",
                    answers,
                )
                raise NoAnswer(closed.format(where=where, count=answers)) from e
            answers += 1
            view.answered(answer)
            line = None
    finally:
        if protocol.transport is not None:
            protocol.transport.loseConnection()


async def _lineOrClose(typed: Deferred[str | None], protocol: NameClientProtocol) -> object:
    """The next line, or L{_CLOSED} if the server closes first."""
    try:
        contenders: list[Deferred[Any]] = [typed, protocol.whenClosed()]
        index, value = await race(contenders)
    except FailureGroup as e:
        # Both failed: only cancelling the race (Ctrl-C) does that.
        raise CancelledError() from e
    return _CLOSED if index == 1 else value


def timedOut(where: str) -> Callable[[object, float], object]:
    """
    For L{Deferred.addTimeout}: whatever the cancelled operation failed with
    (L{CancelledError}, or L{error.ConnectingCancelledError} while
    connecting), report it as L{TimedOut}.
    """

    def onTimeoutCancel(result: object, timeout: float) -> object:
        if isinstance(result, Failure):
            return Failure(TimedOut(_noAnswerWithin(where, timeout)))
        return result

    return onTimeoutCancel


def _raiseExplained(failure: Failure, where: str, timeout: float | None) -> Any:
    problem = explain(failure, where, timeout)
    if problem is failure.value:
        return failure
    raise problem from failure.value


def explain(failure: Failure, where: str, timeout: float | None = None) -> BaseException:
    """
    Turn what Twisted raised into the L{ExchangeError} a person can act on.

    Cancellation that is not a timeout is passed through unchanged.
    """
    value = failure.value
    if isinstance(value, ExchangeError):
        return value
    if isinstance(value, defer.TimeoutError):
        return TimedOut(_noAnswerWithin(where, timeout))
    if isinstance(value, (CancelledError, error.ConnectingCancelledError)):
        return value
    if isinstance(value, error.ConnectionRefusedError):
        return CannotConnect(
            _(
                "cannot connect to {where}: connection refused (is the server running, and"
                " listening on that address and port? Its console says where: 127.0.0.1 unless"
                " started with --interface 0.0.0.0, which lets other machines in)"
            ).format(where=where)
        )
    if isinstance(value, error.DNSLookupError):
        return CannotConnect(_("cannot connect to {where}: unknown host").format(where=where))
    if _isCertificateProblem(value):
        return NotTrusted(
            _("cannot trust {where}: {reason}").format(where=where, reason=_sslReason(value))
        )
    if isinstance(value, error.ConnectError):
        return CannotConnect(_cannotConnect(value, where))
    if isinstance(value, (error.ConnectionLost, error.ConnectionDone)):
        return NoAnswer(_("{where} closed the connection without answering").format(where=where))
    return ExchangeError(f"{where}: {_oneLine(value)}")


#: Why a connection could not be made, by the system's error number: what
#: people meet, in words of our own (the system's are in English).
_CONNECT_ERRORS = {
    errno.EHOSTUNREACH: N_("cannot connect to {where}: no route to host"),
    errno.ENETUNREACH: N_("cannot connect to {where}: the network is unreachable"),
    errno.ETIMEDOUT: N_("cannot connect to {where}: connecting timed out"),
    errno.ENOENT: N_("cannot connect to {where}: no such socket file"),
    errno.EACCES: N_("cannot connect to {where}: permission denied"),
}


def _cannotConnect(value: error.ConnectError, where: str) -> str:
    """Why connecting failed (a L{error.ConnectError}), for a person."""
    number = value.osError
    if not isinstance(number, int):
        if isinstance(value, error.NoRouteError):
            number = errno.ENETUNREACH
        elif isinstance(value, error.TCPTimedOutError):
            number = errno.ETIMEDOUT
    message = _CONNECT_ERRORS.get(number) if isinstance(number, int) else None
    if message is not None:
        return _(message).format(where=where)
    return _("cannot connect to {where}: {reason}").format(where=where, reason=_oneLine(value))


def _theServer(where: str | None) -> str:
    """The server as people know it, or "the server" in the chosen language."""
    return _("the server") if where is None else where


def _noAnswerWithin(where: str, timeout: float | None) -> str:
    if timeout is None:
        return _("no answer from {where} in time").format(where=where)
    return _("no answer from {where} within {timeout} s").format(
        where=where, timeout=f"{timeout:g}"
    )


def _oneLine(value: BaseException | None) -> str:
    text = str(value).strip() or type(value).__name__
    return " ".join(text.split())


def _isCertificateProblem(value: BaseException | None) -> bool:
    try:
        from OpenSSL.SSL import Error as SSLError
        from service_identity import CertificateError, VerificationError
    except ImportError:  # pragma: no cover - TLS extra not installed
        return False
    if isinstance(value, error.ConnectionLost) and value.args:
        value = value.args[0] if isinstance(value.args[0], BaseException) else value
    if isinstance(value, (SSLError, VerificationError, CertificateError)):
        return True
    return "certificate verify failed" in str(value)


def _sslReason(value: BaseException | None) -> str:
    text = str(value)
    if "certificate verify failed" in text:
        return _(
            "its certificate is not signed by a trusted authority (certificate verify failed)"
        )
    try:
        from service_identity import VerificationError
    except ImportError:  # pragma: no cover - TLS extra not installed
        pass
    else:
        if isinstance(value, VerificationError):
            return _("its certificate is not for the host asked for")
    return _oneLine(value)
