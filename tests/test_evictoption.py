"""Issue 16, item 2: C{--no-evict} reaches the server's settings."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.pipes import reactor
from tests.test_tap import child, parsed
from twisted_names.app.tap import makeService


class EvictOptionTests(SynchronousTestCase):
    def settings(self, *args: str) -> object:
        server = makeService(parsed("--name", "Bob", *args), reactor)
        return child(server, "listening").factory.settings

    def test_defaultEvicts(self) -> None:
        """By default a full server closes a silent connection for another address."""
        self.assertTrue(self.settings().evictSilent)  # type: ignore[attr-defined]

    def test_noEvict(self) -> None:
        self.assertFalse(self.settings("--no-evict").evictSilent)  # type: ignore[attr-defined]
