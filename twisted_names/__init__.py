"""
twisted-names: a TCP name exchange.

The client sends its name as one line; the server's operator (or C{--name})
answers with the server's name and the connection closes.  See
C{docs/protocol.md} for the wire protocol.

Modules, one job each:
  - L{twisted_names.wire}: messages, decoding and encoding (pure).
  - L{twisted_names.display}: making peers' words safe to show on a terminal (pure).
  - L{twisted_names.framing}: the line-or-quiet-period framing both sides speak.
  - L{twisted_names.replies}: the queue that matches operator lines to waiting clients.
  - L{twisted_names.terminal}: the operator's (or user's) terminal over stdio.
  - L{twisted_names.console}: the operator's console as plain lines (pipes, files).
  - L{twisted_names.operator}: the operator's console on a terminal: its model (pure).
  - L{twisted_names.lineedit}: the input line, with terminal-cell widths (pure).
  - L{twisted_names.editor}: the line editor on C{twisted.conch.recvline}.
  - L{twisted_names.rawtty}: a POSIX terminal in raw mode, given back exactly.
  - L{twisted_names.server}: the server protocol and factory.
  - L{twisted_names.service}: the server's services (listening, terminal, operator).
  - L{twisted_names.process}: signals, limits and exit status of the server's process.
  - L{twisted_names.logs}, L{twisted_names.logfile}, L{twisted_names.loglimit}: its logs.
  - L{twisted_names.tap}: the C{twistd names-server} options, wired to the services.
  - L{twisted_names.client}: the client's logic: L{exchangeNames}, chat, endpoints.
  - L{twisted_names.trust}: whether a TLS server's certificate is for the host named.
  - L{twisted_names.cli}: the client's command line.
"""

__version__ = "0.1.0"
