"""
trial, its report written in UTF-8 with backslash escapes for anything
else (under Wine the report goes to a pipe, which Python would write in the
ANSI code page, and trial stops at the first name it cannot encode).  The
tests' own processes inherit nothing from this.

    python.exe tests/windows/trial.py [trial's options] TESTS
"""

import sys

# As python -m twisted.trial would: the current folder (the checkout) first,
# not this script's.
sys.path[0] = ""
for stream in (sys.stdout, sys.stderr):
    stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # type: ignore[union-attr]
sys.argv[0] = "trial"
from twisted.scripts.trial import run  # noqa: E402

run()
