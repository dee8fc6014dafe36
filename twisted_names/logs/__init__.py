"""
The server's logs.

  - L{observers}: which observer, log lines on the terminal, batched into a
    file; JSON logs (C{--logger twisted_names.logs.jsonFile}).
  - L{words}: log events worded for the operator's console.
  - L{file}: the log file, safe to rotate and to fill.
  - L{limit}: the bound on floods.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """C{twisted_names.logs.jsonFile}, the name C{--logger} takes, loaded when asked for."""
    if name == "jsonFile":
        from twisted_names.logs.observers import jsonFile

        return jsonFile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
