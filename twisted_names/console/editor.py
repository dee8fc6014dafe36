"""
The operator's input line on a terminal: L{twisted.conch.recvline}'s line
editor, with notices printed above it.

Twisted's terminal stack does the terminal work: C{insults.ServerProtocol}
turns the bytes a terminal sends into keys (arrows, Home/End, Delete) and
L{HistoricRecvLine} dispatches them to C{handle_*} methods.  What changes
here is the drawing: C{recvline} moves the cursor one cell per byte, which is
wrong for accents (two bytes, one cell) and CJK or emoji (two cells), so every
edit goes to the pure L{twisted_names.console.lineedit.LineBuffer} and the whole row
is drawn again from it, the cursor placed by display width.  A notice is
written the way C{manhole}'s C{addOutput} does: the input row is erased, the
notice written, and the prompt and the line drawn again below it.

The editor sets no terminal mode (no insert mode, no keypad mode, no screen
reset): what it writes is text, CR, LF, "erase to end of line" and "cursor
forward", so nothing is left to undo at exit but the termios attributes
(L{twisted_names.console.rawtty}).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from twisted.conch.insults.insults import ServerProtocol
from twisted.conch.recvline import HistoricRecvLine
from twisted.python.failure import Failure

from twisted_names.console.lineedit import LineBuffer, fitLine, promptRoom, wrap
from twisted_names.console.model import Entered, Notice, Operator
from twisted_names.console.terminal import OutputFlow
from twisted_names.console.words import editorText
from twisted_names.i18n import ngettext

CTRL_A = b"\x01"
CTRL_C = b"\x03"
CTRL_D = b"\x04"
CTRL_E = b"\x05"
CTRL_H = b"\x08"
CTRL_L = b"\x0c"
CTRL_U = b"\x15"
CTRL_W = b"\x17"
CTRL_Z = b"\x1a"

#: Notices held while the terminal is not connected yet, or not taking output.
MAX_PENDING = 200

_ERASE_ROW = b"\r\x1b[K"

#: Where an escape string (OSC, DCS, SOS, PM, APC) starts: ESC and this byte.
_STRING_STARTS = frozenset(b"]PX^_")
#: Its terminators: BEL, or ST (ESC backslash); CAN and SUB cancel it.
_BEL, _ESC, _CAN, _SUB = 0x07, 0x1B, 0x18, 0x1A


class EscapeStrings:
    """
    Drops escape strings from what a terminal sends: an OSC (C{ESC ] 0;TITLE
    BEL}), DCS, SOS, PM or APC, from its start through its terminator,
    whole, even when a read cuts it in two.  C{insults.ServerProtocol}
    knows only CSI and SS3: it took C{ESC ]} for Alt-] and typed the rest
    (C{0;TITLE}) into the reply.  A terminal sends these only when
    something was pasted (or echoed back at it); a person never types one.

    A string ends at its terminator, or at any other control character
    (ECMA-48 allows none inside one; Enter is one): that character is kept,
    so a stray Alt-] swallows at most the text typed after it on that line,
    never the Enter.  Pure: bytes in, bytes out.
    """

    def __init__(self) -> None:
        #: Inside a string; C{_escape}: its last byte was ESC (ST may follow).
        self._inside = False
        self._escape = False
        #: An ESC ended the last read: what follows decides.
        self._pendingEscape = False

    def feed(self, data: bytes) -> bytes:
        """C{data} without the escape strings in it (or begun in earlier reads)."""
        if not data or (not self._inside and not self._pendingEscape and b"\x1b" not in data):
            return data
        out = bytearray()
        i, n = 0, len(data)
        if self._pendingEscape:
            self._pendingEscape = False
            if data[0] in _STRING_STARTS:
                self._inside, i = True, 1
            else:
                out.append(_ESC)
        while i < n:
            byte = data[i]
            i += 1
            if self._inside:
                if self._escape:
                    self._escape = False
                    if byte == 0x5C:  # ST: the string is over.
                        self._inside = False
                        continue
                    self._inside = False  # Another ESC sequence begins.
                    i -= 1
                    out.append(_ESC)
                    continue
                if byte == _ESC:
                    self._escape = True
                elif byte in (_BEL, _CAN, _SUB):
                    self._inside = False
                elif byte < 0x20 or byte == 0x7F:
                    self._inside = False
                    out.append(byte)  # Enter, Ctrl-C...: a key, acted on.
                continue
            if byte == _ESC:
                if i == n:
                    self._pendingEscape = True
                elif data[i] in _STRING_STARTS:
                    self._inside, i = True, i + 1
                else:
                    out.append(byte)
                continue
            out.append(byte)
        return bytes(out)


def _isText(keyID: Any, modifier: Any) -> bool:
    """
    Whether a key is a byte of typed text.  C{insults} names the keys it
    knows and we do not handle (F1-F12, PgUp, PgDn, Insert) by bytes such
    as C{b"[F5]"}: those are not text; typed text comes one byte at a time.
    """
    return (
        isinstance(keyID, bytes)
        and len(keyID) == 1
        and modifier is None
        and keyID >= b" "
        and keyID != b"\x7f"
    )


class KeepScreenServerProtocol(ServerProtocol):
    """
    C{insults.ServerProtocol} that leaves the screen as it is when closed:
    its own C{loseConnection} resets the terminal (ESC c), which would wipe
    what the operator has read.
    """

    def loseConnection(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    _strings: EscapeStrings | None = None

    def _handleShortControlSequence(self, ch: bytes) -> None:
        """
        ESC and C{ch}: Alt-C{ch}, as C{insults} has it; but ESC ESC is Esc
        pressed just before a key whose own sequence starts with ESC (an
        arrow: C{ESC ESC [ A}, also what PuTTY sends for Alt-↑): that key
        is read next.  C{insults} took it for Alt-Esc, and typed the
        arrow's C{[A} into the reply.
        """
        if ch == b"\x1b":
            self.state = b"escaped"
            return
        super()._handleShortControlSequence(ch)

    def dataReceived(self, data: bytes) -> None:
        """
        Keys that arrive together (a paste, a held key) are drawn once, after
        the last: drawing the line after each one wrote about a row of output
        a key, enough for a pasted paragraph to fill the terminal's output
        buffer and have notices dropped meanwhile.  Escape strings (a pasted
        OSC) are dropped whole first (L{EscapeStrings}).
        """
        if self._strings is None:
            self._strings = EscapeStrings()
        data = self._strings.feed(data)
        if not data:
            return
        editor = self.terminalProtocol
        if not isinstance(editor, OperatorEditor):
            super().dataReceived(data)
            return
        with editor.drawnOnce():
            super().dataReceived(data)


class OperatorEditor(HistoricRecvLine):
    """
    The operator's line editor, and the L{twisted_names.console.model.OperatorView}
    that L{Operator} draws through.

    @ivar operator: the model: set it before the terminal connects.
    @ivar ended: Ctrl-D was pressed on an empty line (or the terminal went
        away): keys other than Ctrl-C, Ctrl-L and Ctrl-Z are ignored.
    @ivar dropped: notices not shown because the terminal took no output.
    """

    operator: Operator
    terminal: Any
    ended = False
    outputPaused = False
    #: Inside L{drawnOnce}: the input line is drawn when it ends.
    _batched = False
    _stale = False
    #: In this batch a confirmation was asked: the operator has not seen it,
    #: so a later Enter in the same batch cannot be the answer.
    _held = False
    #: Text arriving after a held Enter starts with a space: the lines join.
    _joinNext = False
    #: Characters of this batch the full line could not take.
    _refused = 0
    #: The cursor's column when the input row was last drawn.
    _column = 0
    #: Ctrl-C was pressed: the server stops; keys after it are not acted on.
    stopping = False
    #: Called once the terminal's connection is closed (output flushed).
    onClosed: Callable[[], object] | None = None

    def __init__(
        self,
        onInterrupt: Callable[[], object],
        onSuspend: Callable[[], object] | None = None,
        maxChars: int = 4096,
    ) -> None:
        self.onInterrupt = onInterrupt
        self.onSuspend = onSuspend
        self.line = LineBuffer(maxChars)
        self.dropped = 0
        self._pending: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    # Connection.

    def connectionMade(self) -> None:
        super().connectionMade()
        t = self.terminal
        self.keyHandlers.update(
            {
                CTRL_A: self.handle_HOME,
                CTRL_E: self.handle_END,
                CTRL_H: self.handle_BACKSPACE,
                CTRL_C: self.handle_INTERRUPT,
                CTRL_D: self.handle_EOF,
                CTRL_L: self.handle_REDRAW,
                CTRL_U: self.handle_KILL_LINE,
                CTRL_W: self.handle_KILL_WORD,
                CTRL_Z: self.handle_SUSPEND,
                t.TAB: lambda: None,
            }
        )
        transport = getattr(t, "transport", None)
        if transport is not None and hasattr(transport, "registerProducer"):
            transport.registerProducer(OutputFlow(self), True)

    def initializeScreen(self) -> None:
        """Start drawing where the cursor is: no reset, no mode set."""
        pending, self._pending = self._pending, []
        for text in pending:
            self._write(text)
        self.drawInputLine()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """The terminal went away: no more input (as Ctrl-D would say)."""
        self.outputPaused = True
        self._end()
        if self.onClosed is not None:
            self.onClosed()

    # What the model calls (OperatorView).

    def tell(self, notice: Notice) -> None:
        """Show C{notice} in the editor's words (L{editorText}) above the input line."""
        self.notice(editorText(notice, self.operator.chat))

    def notice(self, text: str) -> None:
        """Write C{text} above the input line; what is typed stays as it was."""
        if getattr(self, "terminal", None) is None:
            if len(self._pending) < MAX_PENDING:
                self._pending.append(text)
            return
        if self.outputPaused:
            self.dropped += 1
            return
        self._write(text)
        self.drawInputLine()

    def promptChanged(self) -> None:
        if getattr(self, "terminal", None) is not None and not self.outputPaused:
            self.drawInputLine()

    def _write(self, text: str) -> None:
        rows = [row for line in text.split("\n") for row in wrap(line, self.width - 1)]
        self.terminal.write(_ERASE_ROW + "\r\n".join(rows).encode("utf-8") + b"\r\n")

    def outputStopped(self) -> None:
        self.outputPaused = True

    def outputResumed(self) -> None:
        self.outputPaused = False
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            self.notice(
                ngettext(
                    "({count} notice not shown: the terminal was not taking output)",
                    "({count} notices not shown: the terminal was not taking output)",
                    dropped,
                ).format(count=dropped)
            )
        else:
            self.drawInputLine()

    def close(self, farewell: str | None = None) -> None:
        """
        Leave the terminal with the cursor on a clean row (after C{farewell},
        if given), and close it.
        """
        self.ended = True  # Closed by us: the input did not end.
        if getattr(self, "terminal", None) is None:
            return
        if not self.outputPaused:
            self.terminal.write(_ERASE_ROW)
            if farewell:
                self._write(farewell)
        self.terminal.loseConnection()

    # Drawing.

    @contextmanager
    def drawnOnce(self) -> Iterator[None]:
        """Within this, the input line is drawn once, at the end, if it changed."""
        self._batched, self._stale, self._held, self._refused = True, False, False, 0
        try:
            yield
        finally:
            self._batched = self._held = self._joinNext = False
            if self._refused and getattr(self, "terminal", None) is not None:
                refused, self._refused = self._refused, 0
                self.notice(
                    ngettext(
                        "{count} character not typed: the line holds at most {limit}.",
                        "{count} characters not typed: the line holds at most {limit}.",
                        refused,
                    ).format(count=refused, limit=self.line.maxChars)
                )
            elif self._stale and getattr(self, "terminal", None) is not None:
                self.drawInputLine()

    def drawInputLine(self) -> None:
        """Draw the prompt and the line, and put the cursor where it is in the line."""
        if self._batched:
            self._stale = True
            return
        prompt = self.operator.promptShown(promptRoom(self.width))
        row, column = fitLine(prompt, self.line.text, self.line.before(), self.width)
        out = _ERASE_ROW + row.encode("utf-8") + b"\x1b[K\r"
        if column:
            out += b"\x1b[%dC" % column
        self.terminal.write(out)
        self._column = column

    def terminalSize(self, width: int, height: int) -> None:
        """
        The terminal was resized: erase the input row as the terminal now
        shows it, and draw it again for the new width.

        Narrowed, most terminals (tmux, VTE, Windows Terminal and the
        Windows 10 console) wrap the row drawn for the old width onto
        several rows, the cursor on the one its column fell in: the cursor
        goes up to the first of them, and everything from there down is
        erased (the input row is the last on the screen).  A terminal that
        cuts rows instead of wrapping them (xterm) loses as many rows of
        notices above the line (see docs/design.md).
        """
        self.width, self.height = width, height
        if getattr(self, "terminal", None) is None:
            return
        up = self._column // max(width, 1)
        self._column = 0
        if not self.outputPaused:
            self.terminal.write(b"\r" + (b"\x1b[%dA" % up if up else b"") + b"\x1b[J")
        self.drawInputLine()

    def _edited(self) -> None:
        self.operator.typingChanged(bool(self.line.text))
        self.drawInputLine()

    # Keys.

    def keystrokeReceived(self, keyID: Any, modifier: Any) -> None:
        if self.stopping:
            return
        if self.ended and keyID not in (CTRL_C, CTRL_L, CTRL_Z):
            return
        handler = self.keyHandlers.get(keyID)
        if handler is not None:
            self._decoder.reset()
            handler()
        elif _isText(keyID, modifier):
            self.characterReceived(keyID, False)

    def characterReceived(self, ch: bytes, moreCharactersComing: bool) -> None:
        """A byte of typed text: inserted once it completes a UTF-8 character."""
        text = self._decoder.decode(ch)
        if text and self._joinNext:
            self._joinNext = False
            if self.line.text and not self.line.text.endswith(" "):
                text = " " + text
        if text and self.line.insert(text):
            self._edited()
        elif text and self.line.room() < len(text):
            self._refused += len(text)

    def unhandledControlSequence(self, seq: bytes) -> None:
        """Keys this editor does not use (F-keys, Alt-letters) are ignored."""

    def handle_LEFT(self) -> None:
        self.line.left()
        self.drawInputLine()

    def handle_RIGHT(self) -> None:
        self.line.right()
        self.drawInputLine()

    def handle_HOME(self) -> None:
        self.line.home()
        self.drawInputLine()

    def handle_END(self) -> None:
        self.line.end()
        self.drawInputLine()

    def handle_BACKSPACE(self) -> None:
        self.line.backspace()
        self._edited()

    def handle_DELETE(self) -> None:
        self.line.delete()
        self._edited()

    def handle_INSERT(self) -> None:
        """Insert mode only: typeover is a trap for a reply."""

    def handle_UP(self) -> None:
        self.line.up()
        self._edited()

    def handle_DOWN(self) -> None:
        self.line.down()
        self._edited()

    def handle_KILL_LINE(self) -> None:
        self.line.killToStart()
        self._edited()

    def handle_KILL_WORD(self) -> None:
        self.line.killWord()
        self._edited()

    def handle_REDRAW(self) -> None:
        """Ctrl-L: clear the screen and draw the input line at the top."""
        self.terminal.write(b"\x1b[H\x1b[2J")
        self.drawInputLine()

    def handle_RETURN(self) -> None:
        line = self.line.text
        if self._held:
            # A confirmation asked in this batch was not seen yet: this Enter
            # (pasted, or typed ahead while the server was busy) joins the
            # lines instead of answering it.
            self._joinNext = True
            return
        if self.operator.lineEntered(line) is Entered.DONE:
            self.line.remember(line)
            self.line.clear()
            self.operator.typingChanged(False)
        elif self._batched:
            self._held = self._joinNext = True
        self.drawInputLine()

    def handle_EOF(self) -> None:
        """Ctrl-D: on an empty line, no more replies; on a line being typed, nothing."""
        if not self.line.text:
            self._end()

    def handle_INTERRUPT(self) -> None:
        """Ctrl-C: stop; keys that came with it or after are not acted on."""
        self.stopping = True
        self.onInterrupt()

    def handle_SUSPEND(self) -> None:
        """Ctrl-Z: give the terminal back and stop; drawn again on resume."""
        if self.onSuspend is None:
            return
        self.terminal.write(_ERASE_ROW)
        self.onSuspend()
        self.drawInputLine()

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.line.clear()
        self.operator.typingChanged(False)
        self.operator.inputEnded()
