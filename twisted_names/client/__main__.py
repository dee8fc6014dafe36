"""C{python -m twisted_names.client}: the same program as C{names-client}."""

from twisted_names.app.cli import run

run()
