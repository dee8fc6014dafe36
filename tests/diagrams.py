"""
Every Mermaid diagram the tests produce, kept for the real Mermaid parser
(issue 16, item 13): when C{NAMES_MERMAID_DIR} names a folder, each diagram
made in a test process (L{Diagram.markdown}) and each trace file a test
checks (L{tests.test_trace.checkStructure}, which also sees the files the
programs under test wrote) is saved there, one C{.mmd} file per distinct
diagram.  C{.ci/run} then parses them all with C{tests/mermaid/parse.mjs}.
Without the variable, nothing is done.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile

#: The variable naming the folder.
VARIABLE = "NAMES_MERMAID_DIR"

_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.M | re.S)


def folder() -> str | None:
    """The folder diagrams are kept in, or L{None} when they are not kept."""
    return os.environ.get(VARIABLE) or None


def keep(markdown: str) -> None:
    """Keep each C{```mermaid} block of C{markdown} (atomically: tests may run in parallel)."""
    where = folder()
    if where is None:
        return
    os.makedirs(where, exist_ok=True)
    for diagram in _BLOCK.findall(markdown):
        name = hashlib.sha1(diagram.encode("utf-8")).hexdigest() + ".mmd"
        target = os.path.join(where, name)
        if os.path.exists(target):
            continue
        fd, temporary = tempfile.mkstemp(dir=where, suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(diagram)
        os.replace(temporary, target)


def keepEveryDiagram() -> None:
    """
    Keep every diagram L{Diagram.markdown} makes in this process, whatever
    the test does with it.
    """
    from twisted_names.trace.mermaid import Diagram

    made = Diagram.markdown

    def markdown(self: Diagram) -> str:
        text = made(self)
        keep(text)
        return text

    Diagram.markdown = markdown  # type: ignore[method-assign]
