"""
A check of names-proxy with the course's scripts, for any platform (the
Windows stage): no POSIX signals, no pseudo-terminals, ports chosen by the
system.  Run from a checkout with the package installed:

    python tests/course/check_proxy.py [--no-reset]

It starts servidor.py, then twistd -n names-proxy in front of it (with
--trace-file), then cliente.py through the proxy, for two cases: a name in
two send() calls (the proxy draws two chunks; the server answers "Olá, Ana"),
and a server that closes with unread bytes (a reset, passed on: the client's
recv raises ConnectionResetError).  It prints what each program printed and
exits 0 if all is as expected, 1 if not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
#: How long any one program may take (a guard, not a figure).
TIMEOUT = 60
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"


def start(argv: list[str]) -> subprocess.Popen[str]:
    # English whatever the machine's language (the patterns below are).
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1", "LANGUAGE": "en"}
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        env=env,
    )


def firstLine(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    """Read C{process}'s output until a line matches C{pattern}; the lines read are kept."""
    assert process.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        process.seen = getattr(process, "seen", "") + line  # type: ignore[attr-defined]
        match = re.search(pattern, line)
        if match:
            return match
    raise SystemExit(f"not seen: {pattern!r}; output so far:\n{getattr(process, 'seen', '')}")


def case(serverMode: str, clientMode: str, expected: str, ladder: list[str]) -> bool:
    server = start([sys.executable, os.path.join(HERE, "servidor.py"), "0", serverMode])
    serverPort = int(firstLine(server, r"^escutando (\d+)").group(1))
    traceFile = os.path.join(tempfile.mkdtemp(prefix="check-proxy-"), f"{serverMode}.md")
    argv = [sys.executable, "-c", TWISTD, "-n"]
    if sys.platform != "win32":
        argv.append("--pidfile=")  # Windows' twistd writes none and refuses the option.
    argv += ["names-proxy", "--port", "0", "--to", f"127.0.0.1:{serverPort}"]
    proxy = start([*argv, "--trace-file", traceFile])
    port = int(firstLine(proxy, r"listening on 127\.0\.0\.1:(\d+)").group(1))
    client = subprocess.run(
        [sys.executable, os.path.join(HERE, "cliente.py"), str(port), clientMode],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    firstLine(proxy, r"relayed \d+ bytes? from the client")
    proxy.terminate()
    rest, _ = proxy.communicate(timeout=TIMEOUT)
    drawn = getattr(proxy, "seen", "") + rest
    server.wait(TIMEOUT)
    print(f"== servidor.py {serverMode}, cliente.py {clientMode}")
    print(drawn)
    print("-- cliente.py:", client.stdout, client.stderr)
    ok = client.stdout.startswith(expected) and all(re.search(p, drawn, re.M) for p in ladder)
    with open(traceFile, encoding="utf-8") as f:
        ok = ok and f.read().count("```mermaid") == 1
    shutil.rmtree(os.path.dirname(traceFile), ignore_errors=True)
    print("OK" if ok else "NOT AS EXPECTED")
    return ok


def main(argv: list[str]) -> int:
    results = [
        case(
            "junta",
            "partido",
            "Servidor: 'Olá, Ana'",
            [r'client --> server  "An"  2 bytes', r'client --> server  "a"  1 byte'],
        )
    ]
    if "--no-reset" in argv:
        # Under Wine 8 a socket closed with unread bytes sends a FIN, and a
        # reset only later: the client reads a clean end.  Not Windows' doing.
        print("== the reset case left out (--no-reset)")
    else:
        results.append(
            case(
                "resto",
                "longo",
                "ConnectionResetError",
                [r"the server reset its connection \(RST\)", r"the proxy resets the client's"],
            )
        )
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
