"""
The stdlib reference point: the same exchange with asyncio streams.

Read one line, write C{b"server\\n"}, drain, close; default event loop
(no uvloop), no logging.  names-server is expected to beat this by a wide
margin (the targets say 1.7x in exchanges/s), since asyncio streams put a
coroutine, a StreamReader and a StreamWriter on every connection.

Usage::

    python benchmarks/baseline_asyncio.py PORT
"""

from __future__ import annotations

import argparse
import asyncio
import signal

#: The same listen queue length as the other servers under test.
BACKLOG = 1024


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One client: its line in, our line out, then close."""
    await reader.readline()
    writer.write(b"server\n")
    await writer.drain()
    writer.close()


async def serve(port: int) -> None:
    """Serve on 127.0.0.1:PORT until SIGTERM or SIGINT, then close cleanly."""
    server = await asyncio.start_server(exchange, "127.0.0.1", port, backlog=BACKLOG)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the port and run the server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
