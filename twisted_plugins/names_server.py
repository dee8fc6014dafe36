"""The C{twistd names-server} plugin: see L{twisted_names.app.tap}."""

from twisted.application.service import ServiceMaker

namesServer = ServiceMaker(
    "twisted-names server",
    "twisted_names.app.tap",
    "A TCP name exchange: clients send their name, you (or --name) answer with yours.",
    "names-server",
)
