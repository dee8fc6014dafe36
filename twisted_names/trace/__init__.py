"""
The exchange made visible: C{--trace} and C{--trace-file}.

  - L{events}: what a trace records (pure data).
  - L{wrapper}: the protocol wrapper that observes every byte and close.
  - L{ladder}: the events as ladder lines for a terminal.
  - L{mermaid}: the events as a Mermaid sequence diagram.
  - L{file}: the trace file and the options' wiring.

Nothing here is imported unless a trace is asked for (start-up time).
"""
