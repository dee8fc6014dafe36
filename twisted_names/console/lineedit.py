"""
The line the operator is typing, as a pure model: its text, the cursor, the
history of sent lines, and how it fits on one row of the terminal.

The cursor moves by grapheme (what a person sees as one character: C{é}
written as C{e} and a combining accent, an emoji with its modifiers), and
every column is counted in terminal cells: a CJK character or an emoji takes
two.  L{twisted.conch.recvline} counts bytes for both, so its own drawing is
not used (see L{twisted_names.console.editor}).  No I/O here: the editor turns keys
into these calls and draws what L{fitLine} returns.
"""

from __future__ import annotations

from wcwidth import iter_graphemes, wcswidth

from twisted_names.display import isUnsafe


def displayWidth(text: str) -> int:
    """How many terminal cells C{text} takes (printable text only)."""
    return sum(max(wcswidth(g), 0) for g in iter_graphemes(text))


def graphemes(text: str) -> list[str]:
    """C{text} cut where a person would see one character end."""
    return list(iter_graphemes(text))


def clip(text: str, width: int) -> str:
    """C{text}, cut to C{width} cells with an ellipsis if it is wider."""
    if displayWidth(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for g in graphemes(text):
        w = max(wcswidth(g), 0)
        if used + w > width - 1:
            break
        kept.append(g)
        used += w
    return "".join(kept) + "…"


def clipStart(text: str, width: int) -> str:
    """
    C{text}, cut from its start to C{width} cells with an ellipsis if it is
    wider: its end is kept (an address's port).
    """
    if displayWidth(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for g in reversed(graphemes(text)):
        w = max(wcswidth(g), 0)
        if used + w > width - 1:
            break
        kept.append(g)
        used += w
    return "…" + "".join(reversed(kept))


def wrap(text: str, width: int) -> list[str]:
    """
    C{text} in rows of at most C{width} cells, broken between words where a
    word fits on a row (a terminal would break it mid-word).  A text that
    starts with spaces (a help table's rows) keeps them, on every row.
    """
    body = text.lstrip(" ")
    indent = " " * min(len(text) - len(body), max(width, 8) // 2)
    width = max(width, 8) - len(indent)
    rows: list[str] = []
    row = ""
    for word in body.split(" "):
        candidate = f"{row} {word}" if row else word
        if displayWidth(candidate) <= width:
            row = candidate
            continue
        if row:
            rows.append(row)
        row = ""
        for g in graphemes(word):  # A word wider than a row is cut.
            if displayWidth(row + g) > width:
                rows.append(row)
                row = ""
            row += g
    rows.append(row)
    return [indent + r for r in rows] if indent else rows


class LineBuffer:
    """
    The text being typed, its cursor (an index into its graphemes) and the
    history of lines sent.

    @ivar maxChars: the most characters the line holds; more are refused, so
        a paste of a whole file cannot fill memory.
    """

    def __init__(self, maxChars: int = 4096, maxHistory: int = 500) -> None:
        self.maxChars = maxChars
        self.maxHistory = maxHistory
        self._chars: list[str] = []
        # Characters in the line, counted again after anything but insert().
        self._length: int | None = 0
        self.cursor = 0
        self.history: list[str] = []
        # Where up/down is in the history; len(history) is the line being typed.
        self._historyAt = 0
        self._draft = ""

    @property
    def text(self) -> str:
        return "".join(self._chars)

    def before(self) -> str:
        """The text left of the cursor."""
        return "".join(self._chars[: self.cursor])

    def _set(self, text: str, cursor: int | None = None) -> None:
        self._chars = graphemes(text)
        self._length = None
        self.cursor = len(self._chars) if cursor is None else cursor

    def insert(self, typed: str) -> bool:
        """
        Insert C{typed} at the cursor (unsafe characters are dropped).

        @return: whether anything was inserted.
        """
        typed = "".join(c for c in typed if not isUnsafe(c))
        size = self.length()
        if not typed or size + len(typed) > self.maxChars:
            return False
        # Only the graphemes around the cursor can change (a combining mark
        # joins the one before it): split those again, not the whole line,
        # so that a long paste costs in proportion to its length.
        start = max(self.cursor - 1, 0)
        head = "".join(self._chars[start : self.cursor]) + typed
        region = graphemes(head + "".join(self._chars[self.cursor : self.cursor + 1]))
        self._chars[start : self.cursor + 1] = region
        self._length = size + len(typed)
        self.cursor = start + len(graphemes(head))
        return True

    def length(self) -> int:
        """How many characters (code points) the line holds."""
        if self._length is None:
            self._length = sum(map(len, self._chars))
        return self._length

    def room(self) -> int:
        """How many more characters the line can take."""
        return max(self.maxChars - self.length(), 0)

    def left(self) -> None:
        self.cursor = max(0, self.cursor - 1)

    def right(self) -> None:
        self.cursor = min(len(self._chars), self.cursor + 1)

    def home(self) -> None:
        self.cursor = 0

    def end(self) -> None:
        self.cursor = len(self._chars)

    def backspace(self) -> None:
        if self.cursor:
            del self._chars[self.cursor - 1]
            self._length = None
            self.cursor -= 1

    def delete(self) -> None:
        if self.cursor < len(self._chars):
            del self._chars[self.cursor]
            self._length = None

    def killToStart(self) -> None:
        """Ctrl-U: erase what is left of the cursor."""
        del self._chars[: self.cursor]
        self._length = None
        self.cursor = 0

    def killWord(self) -> None:
        """Ctrl-W: erase the word left of the cursor, and the spaces after it."""
        start = self.cursor
        while start and self._chars[start - 1].isspace():
            start -= 1
        while start and not self._chars[start - 1].isspace():
            start -= 1
        del self._chars[start : self.cursor]
        self._length = None
        self.cursor = start

    def clear(self) -> None:
        self._chars = []
        self._length = 0
        self.cursor = 0
        self._historyAt = len(self.history)

    def up(self) -> None:
        """Show the previous line of the history (the line typed is kept as a draft)."""
        if self._historyAt == 0:
            return
        if self._historyAt == len(self.history):
            self._draft = self.text
        self._historyAt -= 1
        self._set(self.history[self._historyAt])

    def down(self) -> None:
        """Show the next line of the history, then the draft again."""
        if self._historyAt >= len(self.history):
            return
        self._historyAt += 1
        if self._historyAt == len(self.history):
            self._set(self._draft)
        else:
            self._set(self.history[self._historyAt])

    def remember(self, line: str) -> None:
        """Add C{line} to the history (not twice in a row), oldest forgotten first."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[: -self.maxHistory]
        self._historyAt = len(self.history)


def promptRoom(width: int) -> int:
    """The cells the prompt may take on a row C{width} wide (see L{fitLine})."""
    room = max(width - 1, 10)
    return room - max(room // 3, 5)


def fitLine(prompt: str, text: str, cursor: str, width: int) -> tuple[str, int]:
    """
    What to draw on the input row, and the column to put the cursor at.

    @param prompt: shown first; clipped to leave a third of the row for text.
    @param text: the whole line being typed.
    @param cursor: the part of C{text} left of the cursor.
    @param width: the terminal's width; the last column stays free, so the
        terminal never wraps the row.
    @return: a row at most C{width - 1} cells wide, and the cursor's column.
        A line too long for the row scrolls sideways to keep the cursor in
        sight, with C{…} where text is hidden.
    """
    room = max(width - 1, 10)
    prompt = clip(prompt, promptRoom(width))
    room -= displayWidth(prompt)
    if displayWidth(text) <= room:
        return prompt + text, displayWidth(prompt) + displayWidth(cursor)
    cells = graphemes(text)
    widths = [max(wcswidth(g), 0) for g in cells]
    n = len(cells)
    at = len(graphemes(cursor))
    start = stop = at
    used = 0

    def fits(extra: int, newStart: int, newStop: int) -> bool:
        # An ellipsis takes a cell on each side where text is hidden.
        marks = (newStart > 0) + (newStop < n)
        return used + extra + marks <= room

    # Some text after the cursor, then as much before it as fits, then the rest after.
    while stop < n and used + widths[stop] <= room // 3 and fits(widths[stop], start, stop + 1):
        used += widths[stop]
        stop += 1
    while start > 0 and fits(widths[start - 1], start - 1, stop):
        start -= 1
        used += widths[start]
    while stop < n and fits(widths[stop], start, stop + 1):
        used += widths[stop]
        stop += 1
    head = "…" if start > 0 else ""
    tail = "…" if stop < n else ""
    left = prompt + head + "".join(cells[start:at])
    return left + "".join(cells[at:stop]) + tail, displayWidth(left)
