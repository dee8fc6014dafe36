"""
What the operator sees and types.

  - L{model}: the console's one model, the reply queue's observer: who is
    asked, the prompt, what Enter and each command do, every notice's words
    (pure: a view and a clock).
  - L{plain}: its view as plain lines, for a stdin that is not a terminal,
    with the pipe's discipline (every line a reply, in order) and words.
  - L{editor}: its view as a line editor on C{twisted.conch.recvline},
    notices above the input line.
  - L{lineedit}: the input line, with terminal-cell widths (pure).
  - L{terminal}: stdin and stdout through C{StandardIO}, never blocking.
  - L{rawtty}: a POSIX terminal in raw mode, given back exactly.
  - L{wincon}: the Windows console, read and written as the editor needs.
  - L{winstdio}: stdin and stdout as plain lines on Windows, with threads
    (Twisted's Windows C{StandardIO} cannot serve: see its docstring).
"""
