"""The C{twistd names-proxy} plugin: see L{twisted_names.app.proxytap}."""

from twisted.application.service import ServiceMaker

namesProxy = ServiceMaker(
    "twisted-names proxy",
    "twisted_names.app.proxytap",
    "A relay that draws the exchange of any two TCP programs as a ladder.",
    "names-proxy",
)
