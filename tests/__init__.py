"""
The tests (C{python -m twisted.trial -j2 tests}).

Whole exchanges run in memory (L{tests.harness}); the real programs run as
processes (L{tests.processes}) only where a process is the point.

Hypothesis' per-example deadline (200 ms unless a test says otherwise) is a
wall-clock assertion that a loaded machine fails: property tests are
bounded by their number of examples instead.

With C{NAMES_MERMAID_DIR} set (C{.ci/run} sets it), every Mermaid diagram
the tests make is kept there for the real Mermaid parser (L{tests.diagrams}).
"""

from hypothesis import settings

from tests import diagrams

settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

if diagrams.folder() is not None:
    diagrams.keepEveryDiagram()
