"""
The tests (C{python -m twisted.trial tests}).

Hypothesis' per-example deadline (200 ms unless a test says otherwise) is a
wall-clock assertion that a loaded machine fails: property tests are
bounded by their number of examples instead.
"""

from hypothesis import settings

settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")
