"""
Where Twisted's own words reach the operator: the places docs/design.md
("Twisted's own words") lists, each checked against Twisted's and Python's
real code, so that a change of wording there fails here instead of showing
English (or the wrong message) silently.
"""

from __future__ import annotations

import getopt
import gettext
import json
import os
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.test_i18n import portuguese
from twisted_names import i18n
from twisted_names.app.cli import ClientOptions
from twisted_names.app.options import BadOption, OptionProblem, badOption, unknownOption
from twisted_names.logs.observers import jsonFile
from twisted_names.logs.words import translated
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory, logExchange


def inLanguage(case: SynchronousTestCase, catalog: gettext.NullTranslations) -> None:
    case.addCleanup(i18n.use, None)
    i18n.use(catalog)


class GetoptTests(SynchronousTestCase):
    """A refused option is found from our tables, whatever C{getopt} says."""

    def test_getoptRewordedStillOurs(self) -> None:
        """
        Python's getopt words its errors through gettext; reworded (as a
        catalog of Python's own would), our messages are unchanged.
        """
        inLanguage(self, gettext.NullTranslations())
        self.patch(getopt, "_", lambda text: "kaputt: " + text)
        cases = {
            ("--bogus",): "option --bogus not recognized",
            ("-x",): "option -x not recognized",
            ("--port",): "option --port needs a value",
            ("--chat=yes",): "option --chat takes no value",
            ("--h",): "option --h is the start of more than one option: type more of it",
            ("-p",): "option -p needs a value",
        }
        for argv, expected in cases.items():
            with self.assertRaises(BadOption) as caught:
                ClientOptions().parseOptions(list(argv))
            self.assertEqual(str(caught.exception), expected, argv)
        with self.assertRaises(usage.UsageError) as unknown:
            ClientOptions().parseOptions(["-x"])
        self.assertEqual(unknownOption(unknown.exception), "-x")

    def test_fromTheTables(self) -> None:
        """badOption decides as getopt does, from the same tables."""
        longOpt, shortOpt = ["port=", "ports=", "chat"], "p:c"
        cases = [
            ("bogus", ["--bogus"], OptionProblem.UNKNOWN, "--bogus"),
            ("chat", ["--chat=1"], OptionProblem.TAKES_NO_VALUE, "--chat"),
            ("port", ["--port"], OptionProblem.NEEDS_VALUE, "--port"),
            ("po", ["--po"], OptionProblem.AMBIGUOUS, "--po"),
            ("ch", ["--ch=1"], OptionProblem.TAKES_NO_VALUE, "--ch"),
            ("x", ["-cx"], OptionProblem.UNKNOWN, "-x"),
            ("p", ["-c", "-p"], OptionProblem.NEEDS_VALUE, "-p"),
        ]
        for name, argv, problem, option in cases:
            refused = badOption(getopt.GetoptError("?", name), argv, shortOpt, longOpt)
            self.assertEqual((refused.problem, refused.option), (problem, option), argv)


class LegacyLinesTests(TestCase):
    """
    twistd's lines about ports and factories, as Twisted's own code writes
    them, are shown translated: the legacy ones (finished text) by their
    known forms, the others by their formats.
    """

    def test_portAndFactoryLines(self) -> Deferred[None]:
        inLanguage(self, portuguese())
        events = EventLoggingObserver()
        globalLogPublisher.addObserver(events)
        self.addCleanup(globalLogPublisher.removeObserver, events)
        factory = NameServerFactory(FixedReply("x"), reactor)
        factory.noisy = True  # As Twisted's wrapping factories (TLS) are.
        endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        d = endpoint.listen(factory)

        def stop(port: Any) -> Any:
            return port.stopListening()

        def check(_: object) -> None:
            said = [
                e
                for e in events
                if any(w in formatEvent(e) for w in ("starting on", "factory", "Port"))
            ]
            texts = [formatEvent(e) for e in said]
            self.assertEqual(len(said), 4, texts)  # Starting, starting on, Closed, Stopping.
            for event in said:
                shown = translated(event)
                self.assertNotEqual(shown["log_format"], event["log_format"], formatEvent(event))

        done: Deferred[None] = d.addCallback(stop).addCallback(check)
        return done


class ExchangeEventTests(SynchronousTestCase):
    """The exchange's pre-formatted event: plain for the logs, translated for the console."""

    def test_jsonKeepsTheFieldFormat(self) -> None:
        path = self.mktemp()
        self.patch(os, "environ", {"NAMES_SERVER_JSON_LOG": path})
        observer = jsonFile()
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        logExchange("127.0.0.1:1", "Ana", "Bob", 0.5)
        with open(path, encoding="utf-8") as f:
            [record] = [json.loads(line.strip("\x1e")) for line in f if line.strip()]
        self.assertEqual(record["log_format"], "{exchange}")

    def test_consoleTranslates(self) -> None:
        inLanguage(self, portuguese())
        events = EventLoggingObserver()
        globalLogPublisher.addObserver(events)
        self.addCleanup(globalLogPublisher.removeObserver, events)
        logExchange("127.0.0.1:1", "Ana", "Bob", 0.5)
        [event] = events
        shown = translated(event)
        self.assertEqual(
            shown["log_format"].format(**shown),
            "127.0.0.1:1 'Ana' recebeu a resposta 'Bob' em 0.500 s",
        )
