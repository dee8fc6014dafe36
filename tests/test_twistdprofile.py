"""
Tests for C{-p PORT} given to twistd instead of names-server (issue 16,
item 8): twistd's C{-p} is C{--profile}, which silently ran the server on
the default port and wrote a profile into a file named after the port.
"""

from __future__ import annotations

import io
import os
import sys

from twisted.scripts import twistd as twistdScript
from twisted.trial.unittest import SynchronousTestCase

from tests.processes import PIDFILE, TWISTD, ProgramTestCase, spawn
from tests.test_i18n import portuguese
from twisted_names import i18n
from twisted_names.app.tap import Options


class ProfileOptionTests(SynchronousTestCase):
    def underTwistd(self, *twistdArgs: str) -> tuple[int | str | None, list[str]]:
        """Parse C{--name Bob} as twistd would after C{twistdArgs}: exit code, stderr lines."""
        ServerOptions = twistdScript.ServerOptions  # type: ignore[attr-defined]

        twistd = ServerOptions()
        twistd.parseOptions(["-n", *PIDFILE, *twistdArgs])
        options = Options()
        options.parent = twistd
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        try:
            options.parseOptions(["--name", "Bob"])
        except SystemExit as e:
            return e.code, stderr.getvalue().splitlines()
        return None, stderr.getvalue().splitlines()

    def test_portLike(self) -> None:
        for args in (("-p", "5001"), ("--profile", "5001"), ("--profile=5001",), ("-p5001",)):
            self.assertEqual(
                self.underTwistd(*args),
                (
                    2,
                    [
                        "twistd names-server: error: -p 5001 before names-server is twistd's"
                        " --profile (a profile written to a file named 5001), not the port:"
                        " put it after names-server, as in 'twistd -n names-server -p 5001'"
                    ],
                ),
                args,
            )

    def test_realProfileFile(self) -> None:
        """A profile meant for a file is left alone."""
        self.assertEqual(self.underTwistd("--profile", "names.prof"), (None, []))
        self.assertEqual(self.underTwistd("--profile=./5001"), (None, []))

    def test_portuguese(self) -> None:
        i18n.use(portuguese())
        self.addCleanup(i18n.use, None)
        status, lines = self.underTwistd("-p", "5001")
        self.assertEqual(status, 2)
        self.assertEqual(
            lines,
            [
                "twistd names-server: erro: -p 5001 antes de names-server é o --profile do"
                " twistd (um perfil gravado num arquivo chamado 5001), não a porta: coloque"
                " depois de names-server, como em 'twistd -n names-server -p 5001'"
            ],
        )


class ProfileProcessTests(ProgramTestCase):
    async def test_nothingWritten(self) -> None:
        """The real twistd: one line, exit status 2, and no file named 5001."""
        folder = os.path.abspath(self.mktemp())
        os.mkdir(folder)
        server = spawn(
            self,
            "server",
            [*TWISTD, "-n", *PIDFILE, "-p", "5001", "names-server", "--name", "Bob"],
            path=folder,
        )
        self.assertExited(server, await server.waitForEnd(), 2)
        self.assertEqual(
            server.err,
            "twistd names-server: error: -p 5001 before names-server is twistd's --profile"
            " (a profile written to a file named 5001), not the port: put it after"
            " names-server, as in 'twistd -n names-server -p 5001'\n",
        )
        self.assertEqual(os.listdir(folder), [])
