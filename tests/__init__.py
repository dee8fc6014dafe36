"""
The tests (C{python -m twisted.trial -j2 tests}).

Whole exchanges run in memory (L{tests.harness}); the real programs run as
processes (L{tests.processes}) only where a process is the point.

Hypothesis' per-example deadline (200 ms unless a test says otherwise) is a
wall-clock assertion that a loaded machine fails: property tests are
bounded by their number of examples instead.
"""

from hypothesis import settings

settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")
