"""
The operator's console as a pure model: who the line being typed answers,
what each line or command does, and what happened, as notices.

It is the one console model, with two views that word its notices: the line
editor (L{twisted_names.console.editor}, in the words of
L{twisted_names.console.words}) when stdin and stdout are a terminal, plain
lines (L{twisted_names.console.plain}) on a pipe.  Which rules a line follows
is the model's L{Discipline}, chosen when it is built.  The editor's rules
come from real use (issue 8):

  - A line goes only to the client the prompt named when typing began, unless
    the operator saw the change: if the head of the queue changes while text
    is typed, a notice says so, the prompt changes, and the first Enter after
    the change only asks for confirmation.
  - A line entered while nobody waits is refused with a hint; replies for
    clients not yet arrived are kept only by a command (C{/keep}), shown in
    the prompt and dropped by another (C{/drop}).
  - Each event is said once, in plain words.

On a pipe every line answers the next client in order (one read while nobody
waits is kept for the next), with no commands and no confirmation.

No I/O and no words for events: it tells an L{OperatorView} what happened (a
L{Notice}), so it is tested with a list of notices and a
L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, Union

from twisted.internet.interfaces import IReactorTime

from twisted_names.console.lineedit import clip, clipStart, displayWidth
from twisted_names.display import quoted
from twisted_names.i18n import _, ngettext
from twisted_names.replies import Departure, ReplyQueue, SilentObserver, Waiter
from twisted_names.wire import InvalidName, checkName

#: How many cells of a name the prompt shows.
PROMPT_NAME = 24
#: The name's widths the prompt tries, on a narrow row, before leaving out more.
PROMPT_CLIPS = (PROMPT_NAME, 16, 10, 6, 3)
#: How many waiting clients C{/who} lists.
LIST_MAX = 20


class Discipline(Enum):
    """What a line the operator enters does: the console's rules."""

    #: A line editor: a line answers the client the prompt named when typing
    #: began (a change is confirmed), C{/commands}, replies kept only by C{/keep}.
    EDITOR = "editor"
    #: A pipe: every line answers the next client in order, one read while
    #: nobody waits is kept (typed ahead); no commands, no confirmation.
    PIPE = "pipe"


# What happened: the notices the model gives its view to word.


@dataclass(frozen=True)
class Now:
    """
    The console after an event: who the next line answers.

    @ivar head: the client at the head of the line, or C{None}.
    @ivar waiting: how many clients wait.
    @ivar retargeted: the line being typed (editor) now answers C{head}, not
        the client it was begun for: the operator is told once.
    """

    head: Waiter | None
    waiting: int
    retargeted: bool = False


@dataclass(frozen=True)
class Greeting:
    """The server listens at C{where}: how to use the console."""

    where: str


@dataclass(frozen=True)
class Arrived:
    """C{waiter} came, at C{position} in line (1: it is the head)."""

    waiter: Waiter
    position: int
    now: Now


@dataclass(frozen=True)
class Answered:
    """C{waiter} was answered C{reply}; C{typedAhead}: a kept reply, C{keptLeft} more kept."""

    waiter: Waiter
    reply: str
    typedAhead: bool
    keptLeft: int
    now: Now


@dataclass(frozen=True)
class Kept:
    """C{reply} is kept for the next client; C{count} are kept."""

    reply: str
    count: int
    now: Now


@dataclass(frozen=True)
class Left:
    """C{waiter} left the line unanswered, for C{reason}."""

    waiter: Waiter
    reason: Departure
    now: Now


@dataclass(frozen=True)
class InputClosed:
    """No more replies: C{dropped} waiting clients were closed, C{kept} kept replies stay."""

    dropped: int
    kept: int
    now: Now


@dataclass(frozen=True)
class RefusedClosed:
    """C{waiter} came after the input closed and was closed."""

    waiter: Waiter
    now: Now


@dataclass(frozen=True)
class Ended:
    """Chat: C{peer}, between turns, is gone for C{reason}."""

    peer: str
    reason: Departure
    now: Now


@dataclass(frozen=True)
class Stopping:
    """The server is stopping; C{closed} connections were closed."""

    closed: int


@dataclass(frozen=True)
class ReplyRefused:
    """
    A reply was not valid, for C{reason} (already worded by L{InvalidName}).

    @ivar kept: it came with C{/keep} (the line was cleared).
    """

    reason: str
    kept: bool
    now: Now


@dataclass(frozen=True)
class NobodyToAnswer:
    """Editor: C{reply} was entered while nobody waits: not sent."""

    reply: str


@dataclass(frozen=True)
class Confirm:
    """
    Editor: the line was begun for C{target} (C{None}: while nobody waited)
    and would go to C{head}: not sent yet, Enter again sends it.
    """

    target: Waiter | None
    head: Waiter


@dataclass(frozen=True)
class UnknownCommand:
    """Editor: C{word} is no command."""

    word: str


@dataclass(frozen=True)
class KeepWhileWaiting:
    """Editor: C{/keep} while C{head} waits: not kept."""

    head: Waiter


@dataclass(frozen=True)
class WaitingList:
    """Editor: C{/who}: the clients waiting, in order, at time C{at}."""

    waiters: tuple[Waiter, ...]
    at: float


@dataclass(frozen=True)
class KeptList:
    """Editor: C{/kept}: the kept replies, in order."""

    replies: tuple[str, ...]


@dataclass(frozen=True)
class Dropped:
    """Editor: C{/drop} forgot C{count} kept replies."""

    count: int


class Said(Enum):
    """Editor: the notices that carry nothing but what they are."""

    #: A reply entered after the input closed.
    INPUT_CLOSED = "input closed"
    #: C{/who} or C{/close} with nobody waiting.
    NOBODY_WAITING = "nobody waiting"
    #: C{/close} with nobody waiting.
    NOBODY_TO_CLOSE = "nobody to close"
    #: C{/kept} or C{/drop} with nothing kept.
    NOTHING_KEPT = "nothing kept"
    #: C{/keep} with no reply.
    KEEP_NEEDS_REPLY = "keep needs a reply"
    #: C{/keep} after the input closed.
    KEEP_INPUT_CLOSED = "keep, input closed"
    #: C{/help}.
    HELP = "help"


#: Everything the model tells its view.
Notice = Union[
    Greeting,
    Arrived,
    Answered,
    Kept,
    Left,
    InputClosed,
    RefusedClosed,
    Ended,
    Stopping,
    ReplyRefused,
    NobodyToAnswer,
    Confirm,
    UnknownCommand,
    KeepWhileWaiting,
    WaitingList,
    KeptList,
    Dropped,
    Said,
]


class OperatorView(Protocol):
    """The screen, as the model sees it: it words each notice its own way."""

    def tell(self, notice: Notice) -> None:
        """Say what C{notice} says happened."""

    def promptChanged(self) -> None:
        """L{Operator.prompt} has changed: draw it again."""


class Entered(Enum):
    """What the editor does with a line after Enter."""

    #: The line is done with (sent, run or refused): clear it.
    DONE = "done"
    #: Leave it on the input line: a confirmation is asked, or it needs fixing.
    KEEP = "keep"


def stoppingText(closed: int) -> str:
    """
    What the operator reads when the server stops with C{closed} clients
    still connected: said once, not each client as if it had left.  Both
    views say it.
    """
    if not closed:
        return _("Stopping.")
    return ngettext(
        "Stopping: closed {count} connection.", "Stopping: closed {count} connections.", closed
    ).format(count=closed)


def departureText(reason: Departure) -> str:
    """Why a client left the line, with a C{{who}} placeholder for it.  Both views say it."""
    if reason is Departure.TIMED_OUT:
        return _("{who} waited too long for a reply and was closed.")
    if reason is Departure.DISMISSED:
        return _("Closed {who} without a reply.")
    return _("{who} left before your reply.")


def _noCommands() -> None:
    """A pipe's lines are replies, never commands: nothing stops the server from there."""


class Operator:
    """
    The model of the operator's console: the L{ReplyQueue}'s observer, what
    a view asks for its prompt and tells of each line, and what happened,
    told to the view as notices.

    @ivar discipline: what a line does (the editor's rules, or the pipe's).
    @ivar typing: whether the input line holds text.
    @ivar target: the client the line being typed was begun for (C{None}:
        begun while nobody waited).
    """

    def __init__(
        self,
        queue: ReplyQueue,
        view: OperatorView,
        clock: IReactorTime,
        maxLength: int,
        stop: Callable[[], object] = _noCommands,
        chat: bool = False,
        discipline: Discipline = Discipline.EDITOR,
    ) -> None:
        self.queue = queue
        self.view = view
        self.clock = clock
        self.maxLength = maxLength
        self.stop = stop
        self.chat = chat
        self.discipline = discipline
        self.typing = False
        self.target: Waiter | None = None
        # The head the operator was last told of while typing.
        self._warnedOf: Waiter | None = None
        # The head the prompt named when it was last drawn: what the
        # operator saw.  Keys that arrive together (a paste) are drawn once,
        # after the last, so a line begun among them answers this one.
        self._shown: Waiter | None = None
        queue.observer = self

    def prompt(self, width: int | None = None) -> str:
        """
        The input line's prompt: whom the line answers, and how many wait.

        @param width: the cells the prompt may take.  To fit, the name is
            shortened first, then the address left out (in chat mode, the
            client's line): the count and whom the line answers stay.
        """
        kept = len(self.queue.typedAhead)
        if self.queue.closed:
            if kept:
                return ngettext(
                    "input closed · {kept} kept · Ctrl-C stops > ",
                    "input closed · {kept} kept · Ctrl-C stops > ",
                    kept,
                ).format(kept=kept)
            return _("input closed · Ctrl-C stops > ")
        head = self.queue.head
        if head is None:
            if kept:
                return ngettext(
                    "nobody waiting · {kept} kept > ", "nobody waiting · {kept} kept > ", kept
                ).format(kept=kept)
            return _("nobody waiting > ")
        count = len(self.queue)
        if self._mustConfirm():
            text = ngettext(
                "→ {whom} · {count} waiting · Enter confirms > ",
                "→ {whom} · {count} waiting · Enter confirms > ",
                count,
            )
        else:
            text = ngettext(
                "→ {whom} · {count} waiting > ", "→ {whom} · {count} waiting > ", count
            )
        prompt = ""
        for whom in self._whom(head):
            prompt = text.format(whom=whom, count=count)
            if width is None or displayWidth(prompt) <= width:
                break
        return prompt

    def _whom(self, head: Waiter) -> Iterator[str]:
        """
        Whom the prompt names, longest first: the name clipped ever shorter,
        then the address left out (chat: the line left out, then the address
        cut from its start: the port tells apart the clients of one machine).
        """
        for cells in PROMPT_CLIPS:
            name = quoted(clip(head.name, cells))
            yield f"{head.peer} {name}" if self.chat else f"{name} {head.peer}"
        if self.chat:
            yield head.peer
            for cells in PROMPT_CLIPS:
                yield clipStart(head.peer, cells)
        else:
            for cells in PROMPT_CLIPS:
                yield quoted(clip(head.name, cells))

    def promptShown(self, width: int | None = None) -> str:
        """L{prompt}, being drawn now: a line begun later answers whom it names."""
        self._shown = self.queue.head
        return self.prompt(width)

    def _mustConfirm(self) -> bool:
        return self.typing and self.target is not self.queue.head

    # The operator's side.

    def typingChanged(self, typing: bool) -> None:
        """
        The input line became empty, or not: a line begun now answers the
        head the prompt showed (L{promptShown}).
        """
        if typing == self.typing:
            return
        self.typing = typing
        self.target = self._warnedOf = self._shown if typing else None

    def greet(self, where: str) -> None:
        """Say where the server listens and how to use the console."""
        self.view.tell(Greeting(where))

    def lineTyped(self, line: str) -> None:
        """A line read whole (a pipe's): entered, as L{lineEntered}."""
        self.lineEntered(line)

    def lineEntered(self, line: str) -> Entered:
        """
        The operator pressed Enter on C{line}.  While it is sent or run, it
        is no longer being typed: what it sets off (the next head) needs no
        confirmation.
        """
        if self.discipline is Discipline.PIPE:
            return self._piped(line)
        typing, target = self.typing, self.target
        self.typing, self.target = False, None
        outcome = self._entered(line, target)
        if outcome is Entered.KEEP and not self.typing:
            self.typing = typing
            if self.target is None:
                self.target = target
        return outcome

    def _piped(self, line: str) -> Entered:
        """The pipe's discipline: every line, once checked, is the next reply."""
        if not line.strip():
            return Entered.DONE
        try:
            reply = checkName(line, self.maxLength)
        except InvalidName as e:
            self.view.tell(ReplyRefused(e.forReply, kept=False, now=self._now()))
            return Entered.DONE
        self.queue.answer(reply)
        return Entered.DONE

    def _entered(self, line: str, target: Waiter | None) -> Entered:
        if not line.strip():
            return Entered.DONE
        if line.startswith("/") and not line.startswith("//"):
            return self._command(line)
        reply = line[1:] if line.startswith("//") else line
        if self.queue.closed:
            self.view.tell(Said.INPUT_CLOSED)
            return Entered.DONE
        head = self.queue.head
        if head is None:
            self.view.tell(NobodyToAnswer(reply))
            return Entered.DONE
        if head is not target:
            self.view.tell(Confirm(target, head))
            self.target = self._warnedOf = head
            self.view.promptChanged()
            return Entered.KEEP
        return self._answer(reply)

    def _answer(self, reply: str) -> Entered:
        """Send C{reply} (to the head, or kept) once it passes L{_check}."""
        checked = self._check(reply)
        if checked is None:
            return Entered.KEEP
        self.queue.answer(checked)
        return Entered.DONE

    def _check(self, reply: str, kept: bool = False) -> str | None:
        """
        C{reply} as it would be sent, or C{None} (and the operator told why).

        @param kept: the reply came with C{/keep}: the line is cleared (a
            command is never left on the line, where typing would join it),
            and the notice says so.
        """
        try:
            return checkName(reply, self.maxLength)
        except InvalidName as e:
            self.view.tell(ReplyRefused(e.forReply, kept=kept, now=self._now()))
            return None

    def inputEnded(self) -> None:
        """Ctrl-D on an empty line (on a pipe: its end): no more replies."""
        self.queue.close()
        self.view.promptChanged()

    def stopping(self, closed: int) -> None:
        """
        The server is stopping and closed C{closed} clients: said once,
        instead of each client as if it had left.
        """
        self.queue.observer = SilentObserver()
        self.view.tell(Stopping(closed))

    # Commands (the editor's).

    def _command(self, line: str) -> Entered:
        word, _sep, rest = line.partition(" ")
        command = {
            "/help": self._help,
            "/who": self._who,
            "/list": self._who,
            "/close": self._close,
            "/keep": self._keep,
            "/kept": self._kept,
            "/drop": self._drop,
            "/stop": self._stop,
        }.get(word.lower())
        if command is None:
            self.view.tell(UnknownCommand(word))
            return Entered.DONE
        return command(rest.strip())

    def _help(self, rest: str) -> Entered:
        self.view.tell(Said.HELP)
        return Entered.DONE

    def _who(self, rest: str) -> Entered:
        waiters = self.queue.waiters()
        if not waiters:
            self.view.tell(Said.NOBODY_WAITING)
        else:
            self.view.tell(WaitingList(tuple(waiters), self.clock.seconds()))
        return Entered.DONE

    def _close(self, rest: str) -> Entered:
        if self.queue.dismiss() is None:
            self.view.tell(Said.NOBODY_TO_CLOSE)
        return Entered.DONE

    def _keep(self, rest: str) -> Entered:
        if not rest:
            self.view.tell(Said.KEEP_NEEDS_REPLY)
            return Entered.DONE
        if self.queue.closed:
            self.view.tell(Said.KEEP_INPUT_CLOSED)
            return Entered.DONE
        head = self.queue.head
        if head is not None:
            self.view.tell(KeepWhileWaiting(head))
            return Entered.DONE
        checked = self._check(rest, kept=True)
        if checked is not None:
            self.queue.answer(checked)
        return Entered.DONE

    def _kept(self, rest: str) -> Entered:
        kept = tuple(self.queue.typedAhead)
        self.view.tell(KeptList(kept) if kept else Said.NOTHING_KEPT)
        return Entered.DONE

    def _drop(self, rest: str) -> Entered:
        dropped = self.queue.dropTypedAhead()
        if dropped:
            self.view.tell(Dropped(len(dropped)))
            self.view.promptChanged()
        else:
            self.view.tell(Said.NOTHING_KEPT)
        return Entered.DONE

    def _stop(self, rest: str) -> Entered:
        self.stop()
        return Entered.DONE

    # The queue's side (ReplyObserver): each event told once.

    def _now(self, event: bool = False) -> Now:
        """
        Who the next line answers; and, after a queue C{event}, once per
        change, whether the line being typed (editor) now answers someone
        other than it was begun for.
        """
        head = self.queue.head
        retargeted = False
        if (
            event
            and self.discipline is Discipline.EDITOR
            and self.typing
            and head is not self.target
            and head is not self._warnedOf
        ):
            self._warnedOf = head
            retargeted = True
        return Now(head, len(self.queue), retargeted)

    def _told(self, notice: Notice) -> None:
        """Tell C{notice}, and draw the prompt again."""
        self.view.tell(notice)
        self.view.promptChanged()

    def waiting(self, waiter: Waiter) -> None:
        self._told(Arrived(waiter, len(self.queue), self._now(event=True)))

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        self._told(
            Answered(waiter, reply, typedAhead, len(self.queue.typedAhead), self._now(event=True))
        )

    def kept(self, reply: str) -> None:
        self._told(Kept(reply, len(self.queue.typedAhead), self._now(event=True)))

    def left(self, waiter: Waiter, reason: Departure) -> None:
        self._told(Left(waiter, reason, self._now(event=True)))

    def closed(self, dropped: list[Waiter]) -> None:
        self._told(InputClosed(len(dropped), len(self.queue.typedAhead), self._now(event=True)))

    def refused(self, waiter: Waiter) -> None:
        self._told(RefusedClosed(waiter, self._now(event=True)))

    def ended(self, peer: str, reason: Departure) -> None:
        """Chat: a client between turns is gone, told as a waiting one's leaving is."""
        self._told(Ended(peer, reason, self._now(event=True)))
