"""
twisted-names: a TCP name exchange.

The client sends its name as one line; the server's operator (or C{--name})
answers with the server's name and the connection closes.  See
C{docs/protocol.md} for the wire protocol and C{docs/design.md} for the design.

The package map.  Imports run one way: L{twisted_names.app} uses the views
(L{twisted_names.console}, L{twisted_names.trace}, L{twisted_names.logs}),
which use the protocol core at the top; the core imports none of them.

The protocol core, at the top (each module pure, or a thin protocol over pure
logic):
  - L{twisted_names.wire}: messages, decoding and the checks on a name (pure).
  - L{twisted_names.display}: making peers' words safe to show on a terminal (pure).
  - L{twisted_names.framing}: the line-or-quiet-period framing both sides speak.
  - L{twisted_names.replies}: the queue that matches operator lines to waiting clients.
  - L{twisted_names.server}: the server protocol and factory, and their limits.
  - L{twisted_names.client}: the client's logic: L{exchangeNames}, chat, endpoints
    (C{python -m twisted_names.client} runs its command line).
  - L{twisted_names.trust}: whether a TLS server's certificate is for the host named.
  - L{twisted_names.errors}: the named errors, each worded for a person.
  - L{twisted_names.oserrors}: the operating system's reasons, in our words.
  - L{twisted_names.i18n}: gettext: the language, the catalog, numbers.
  - L{twisted_names.ttys}: whether a descriptor is a terminal (on Windows, a console).

L{twisted_names.console}: what the operator sees and types.  The console's
one model (the reply queue's observer), its two views (a line editor on a
terminal, plain lines on a pipe), the input line, and the terminal adapters
(POSIX raw mode, the Windows console, C{StandardIO} that never blocks).

L{twisted_names.trace}: the exchange made visible (C{--trace},
C{--trace-file}).  A protocol wrapper observes every byte and close, and
turns them into events; the ladder and the Mermaid diagram are two views of
those events; the sinks write them to the terminal and to a file.

L{twisted_names.logs}: the server's logs.  Which observer, log events worded
for the console, a log file safe to rotate and to fill, and the bound on
floods.

L{twisted_names.proxy}: C{names-proxy}'s relay (on Twisted's portforward:
half-closes and resets passed on, the server's connect bounded) and what it
tells the trace or the log.

L{twisted_names.app}: the programs.  C{twistd names-server}'s and C{twistd
names-proxy}'s options (thin taps) and the assembly that builds their
services from them, what only the whole process does (signals, limits, exit
status), and C{names-client}'s command line; what the command lines share.
C{python -m twisted_names.client} is the one entry from the core into it
(C{client/__main__.py}, which nothing imports).
"""

__version__ = "0.1.0"
