"""
What the operator sees and types.

  - L{model}: the console's model: who is asked, the prompt, what Enter and
    each command do, every notice's words (pure: a view and a clock).
  - L{plain}: the console as plain lines, for a stdin that is not a terminal.
  - L{editor}: the line editor on C{twisted.conch.recvline}, notices above it.
  - L{lineedit}: the input line, with terminal-cell widths (pure).
  - L{terminal}: stdin and stdout through C{StandardIO}, never blocking.
  - L{rawtty}: a POSIX terminal in raw mode, given back exactly.
  - L{wincon}: the Windows console, read and written as the editor needs.
"""
