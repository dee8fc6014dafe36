"""
C{names-proxy}: a relay between any two TCP programs, drawn as the ladder.

  - L{relay}: the relay itself, built on L{twisted.protocols.portforward}:
    each chunk passed on as one write, half-closes and resets passed on,
    flow control both ways, an upstream that cannot be reached said once.
  - L{watch}: what the relay tells the person: the trace's events (the same
    ladder and Mermaid file as C{--trace}) or, without the trace, log lines.

The program's options and services are in L{twisted_names.app.proxytap}.
"""
