"""
What the operator sees and types.

  - L{model}: the console's one model, the reply queue's observer: who is
    asked, the prompt, what Enter and each command do under its discipline
    (the editor's, or the pipe's: every line a reply, in order), and what
    happened, told to its view as notices (pure: a view and a clock).
  - L{plain}: its view as plain lines, for a stdin that is not a terminal:
    the notices in the pipe's words.
  - L{editor}: its view as a line editor on C{twisted.conch.recvline},
    notices above the input line, in the words of L{words}.
  - L{words}: the editor's words for the model's notices (pure).
  - L{lineedit}: the input line, with terminal-cell widths (pure).
  - L{terminal}: stdin and stdout through C{StandardIO}, never blocking.
  - L{rawtty}: a POSIX terminal in raw mode, given back exactly.
  - L{wincon}: the Windows console, read and written as the editor needs.
  - L{winstdio}: stdin and stdout as plain lines on Windows, with threads
    (Twisted's Windows C{StandardIO} cannot serve: see its docstring).
"""
