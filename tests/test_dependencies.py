"""The dependencies pyproject.toml declares, as pip reads them for each platform."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from twisted.trial.unittest import SkipTest, SynchronousTestCase

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def dependencies() -> list[Requirement]:
    if sys.version_info < (3, 11):
        raise SkipTest("tomllib is Python 3.11 or newer")
    import tomllib

    with PYPROJECT.open("rb") as f:
        return [Requirement(line) for line in tomllib.load(f)["project"]["dependencies"]]


def allowedTwisted(platform: str, python: str, version: str) -> bool:
    """Whether pip may install Twisted C{version} on C{platform} with CPython C{python}."""
    environment = {"sys_platform": platform, "python_version": python}
    twisted = [
        r
        for r in dependencies()
        if r.name.lower() == "twisted" and (r.marker is None or r.marker.evaluate(environment))
    ]
    return bool(twisted) and all(r.specifier.contains(version) for r in twisted)


class TwistedOnWindowsTests(SynchronousTestCase):
    def test_twisted2610NotOnWindowsPython312(self) -> None:
        """
        Bug 2 of issue 14: Twisted 26.10.0's twistd dies on CPython 3.12 for
        Windows (C{NameError: PureWindowsPath}): pip must not pick it there.
        """
        self.assertFalse(allowedTwisted("win32", "3.12", "26.10.0"))
        self.assertTrue(allowedTwisted("win32", "3.12", "25.5.0"))

    def test_twistedElsewhere(self) -> None:
        for platform, python in [("win32", "3.13"), ("win32", "3.11"), ("linux", "3.12")]:
            self.assertTrue(allowedTwisted(platform, python, "26.10.0"), (platform, python))
        self.assertFalse(allowedTwisted("linux", "3.12", "24.3.0"))
