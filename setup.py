"""
What pyproject.toml cannot say: the build compiles the translations.

Each C{twisted_names/locale/<lang>/LC_MESSAGES/twisted_names.po} becomes the
C{.mo} that gettext reads, compiled by Babel before the package's files are
collected, so the wheel and an editable install ship it (issue 9).

Also here: twisted_plugins/ is installed as twisted/plugins/ so that twistd
finds the names-server plugin.  It must not hold an __init__.py: Twisted's own
would be overwritten.
"""

from pathlib import Path

from babel.messages.setuptools_frontend import compile_catalog
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path("twisted_names", "locale")


class BuildWithCatalogs(build_py):
    """build_py that compiles the message catalogs first."""

    def run(self) -> None:
        self.run_command("compile_catalog")
        super().run()


# The package and its subpackages (each folder holding an __init__.py).
PACKAGES = [".".join(p.parent.parts) for p in sorted(Path("twisted_names").rglob("__init__.py"))]

# Each catalog directory is a data-only package, so setuptools ships its .mo.
catalogs = [".".join(d.parts) for d in sorted(LOCALE.glob("*/LC_MESSAGES"))]

setup(
    packages=[*PACKAGES, "twisted.plugins", *catalogs],
    package_dir={"twisted.plugins": "twisted_plugins"},
    package_data={name: ["*.mo"] for name in catalogs},
    cmdclass={"build_py": BuildWithCatalogs, "compile_catalog": compile_catalog},
    options={
        "compile_catalog": {
            "domain": "twisted_names",
            "directory": str(LOCALE),
            "statistics": True,
        }
    },
)
