"""
End-to-end checks between the Windows programs (the Windows CPython under
Wine, started through tests/windows/relay.py so that their standard streams
are pipes made on the Windows side) and the Linux ones: run by
tests/windows/stage.sh with the Linux Python.

Each check prints one line, C{PASS name}, C{FAIL name: why} (with what the
programs printed) or C{SKIP name: why}; the last line is
C{endtoend: N passed, N failed, N skipped}.  Every wait is bounded
(L{TIMEOUT}) and none decides anything by how fast a program is.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

#: The longest any one wait may take: a guard against hangs, not a measure.
TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parents[2]
RELAY = ROOT / "tests" / "windows" / "relay.py"
LISTENING = r"(?:listening on|escutando em) 127\.0\.0\.1:(\d+)"


class CheckFailed(Exception):
    pass


class Program:
    """
    A process whose stdout and stderr are collected by threads, so that a
    check can wait for a regular expression (L{waitFor}) and the exit status.
    With C{terminal}, stdin, stdout and stderr are one new pseudo-terminal.
    """

    def __init__(
        self, label: str, argv: list[str], env: dict[str, str], cwd: str, terminal: bool = False
    ) -> None:
        self.label = label
        self.out = b""
        self.err = b""
        self._lock = threading.Condition()
        self._master: int | None = None
        if terminal:
            master, slave = pty.openpty()
            self._master = master
            self.process = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            os.close(slave)
            self._threads = [threading.Thread(target=self._readPty, daemon=True)]
        else:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            self._threads = [
                threading.Thread(
                    target=self._read, args=(self.process.stdout, "out"), daemon=True
                ),
                threading.Thread(
                    target=self._read, args=(self.process.stderr, "err"), daemon=True
                ),
            ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream: object, which: str) -> None:
        while True:
            data = stream.read1(65536)  # type: ignore[attr-defined]
            if not data:
                return
            with self._lock:
                setattr(self, which, getattr(self, which) + data)
                self._lock.notify_all()

    def _readPty(self) -> None:
        assert self._master is not None
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.out += data
                self._lock.notify_all()

    def text(self, which: str = "out") -> str:
        return (self.out if which == "out" else self.err).decode("utf-8", "replace")

    def describe(self) -> str:
        return (
            f"--- {self.label} stdout ---\n{self.text()}\n"
            f"--- {self.label} stderr ---\n{self.text('err')}\n"
            f"--- {self.label} status: {self.process.poll()} ---"
        )

    def waitFor(self, pattern: str, which: str = "out", count: int = 1) -> re.Match[str]:
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + TIMEOUT
        with self._lock:
            while True:
                matches = list(regex.finditer(self.text(which)))
                if len(matches) >= count:
                    return matches[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and self._drained()):
                    raise CheckFailed(f"{pattern!r} not seen on {self.label}'s std{which}")
                self._lock.wait(min(left, 0.5))

    def _drained(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    def write(self, data: bytes) -> None:
        if self._master is not None:
            os.write(self._master, data)
        else:
            assert self.process.stdin is not None
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def closeStdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the program's process group (Wine makes it CTRL_C_EVENT)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def wait(self) -> int:
        try:
            status = self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"{self.label} did not exit") from None
        for thread in self._threads:
            thread.join(TIMEOUT)
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            # The whole group: under Wine the program is the relay's child.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._master is not None:
            os.close(self._master)
            self._master = None


class Checks:
    def __init__(self, windowsPython: str, linuxBin: str) -> None:
        self.windowsPython = windowsPython
        self.scripts = str(Path(windowsPython).parent / "Scripts")
        self.linuxBin = linuxBin
        self.passed = self.failed = self.skipped = 0
        self.programs: list[Program] = []
        self.scratch = tempfile.mkdtemp(prefix="names-windows-", dir=ROOT / ".windows")

    # Starting programs.

    def environment(self, language: str | None = None, lang: str = "C.UTF-8") -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
            and not key.startswith("PIP_")
        }
        env["LANG"] = lang
        env["PYTHONUNBUFFERED"] = "1"
        if language is not None:
            env["LANGUAGE"] = language
        return env

    def start(self, program: Program) -> Program:
        self.programs.append(program)
        return program

    def windows(
        self,
        label: str,
        exe: str,
        *args: str,
        language: str | None = None,
        lang: str = "C.UTF-8",
        terminal: bool = False,
    ) -> Program:
        """A Windows program (Scripts\\EXE), its streams pipes made by the relay or a terminal."""
        program = [str(Path(self.scripts) / exe), *args]
        argv = ["wine", *([] if terminal else [self.windowsPython, str(RELAY)]), *program]
        return self.start(
            Program(label, argv, self.environment(language, lang), self.scratch, terminal)
        )

    def linux(self, label: str, exe: str, *args: str, language: str | None = None) -> Program:
        argv = [str(Path(self.linuxBin) / exe), *args]
        return self.start(Program(label, argv, self.environment(language), self.scratch))

    def linuxServer(self, *args: str) -> tuple[Program, int]:
        server = self.linux(
            "Linux server", "twistd", "-n", "--pidfile=", "names-server", "--port", "0", *args
        )
        return server, int(server.waitFor(LISTENING).group(1))

    def windowsServer(
        self, *args: str, language: str | None = None, terminal: bool = False
    ) -> tuple[Program, int]:
        server = self.windows(
            "Windows server", "twistd.exe", "-n", "names-server", "--port", "0", *args,
            language=language, terminal=terminal,
        )  # fmt: skip
        return server, int(server.waitFor(LISTENING).group(1))

    # Running checks.

    def run(self, name: str, check: Callable[[], str | None]) -> None:
        started = time.monotonic()
        try:
            skipped = check()
        except Exception as e:
            self.failed += 1
            why = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
            print(f"FAIL {name}: {why}")
            for program in self.programs:
                print(program.describe())
        else:
            if skipped:
                self.skipped += 1
                print(f"SKIP {name}: {skipped}")
            else:
                self.passed += 1
                print(f"PASS {name} ({time.monotonic() - started:.1f} s)")
        finally:
            for program in self.programs:
                program.kill()
            self.programs = []
        sys.stdout.flush()


def expect(condition: bool, why: str) -> None:
    if not condition:
        raise CheckFailed(why)


def exitsWith(program: Program, status: int) -> None:
    got = program.wait()
    expect(got == status, f"{program.label} exited with {got}, not {status}")


def noTraceback(*programs: Program) -> None:
    for program in programs:
        for which in ("out", "err"):
            expect("Traceback" not in program.text(which), f"a traceback on {program.label}")


def allChecks(c: Checks) -> None:
    def windowsProxy() -> None:
        server, port = c.linuxServer("--name", "Sérgio")
        proxy = c.windows(
            "Windows proxy", "twistd.exe", "-n", "names-proxy", "--port", "0",
            "--to", f"127.0.0.1:{port}", "--trace-file", "proxy.md",
        )  # fmt: skip
        proxyPort = int(proxy.waitFor(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        client = c.linux("Linux client", "names-client", "--port", str(proxyPort), "-n", "João")
        client.waitFor(r"^Server: Sérgio\r?$")
        exitsWith(client, 0)
        proxy.waitFor(r'client --> server  "João\\n"  6 bytes  4a 6f c3 a3 6f 0a')
        proxy.waitFor(r'client <-- server  "Sérgio\\n"  8 bytes')
        proxy.waitFor(r"relayed 6 bytes from the client to the server and 8 bytes")
        with open(Path(c.scratch) / "proxy.md", encoding="utf-8") as f:
            expect(f.read().count("```mermaid") == 1, "no diagram in the proxy's trace file")
        noTraceback(server, client, proxy)

    def windowsProxyCourseScripts() -> str | None:
        # The course's servidor.py and cliente.py, and names-proxy, all on
        # the Windows Python; the reset case is Wine's to get wrong (below).
        check = c.start(
            Program(
                "check_proxy.py",
                ["wine", c.windowsPython, str(RELAY), c.windowsPython,
                 str(ROOT / "tests" / "course" / "check_proxy.py"), "--no-reset"],
                c.environment(),
                c.scratch,
            )
        )  # fmt: skip
        exitsWith(check, 0)
        return None

    def windowsClientLinuxServer() -> None:
        server, port = c.linuxServer()
        client = c.windows(
            "Windows client", "names-client.exe", "--port", str(port), "--name", "João"
        )
        server.waitFor(r'"João" \(127\.0\.0\.1:\d+\) is asking for your name')
        server.write("Sérgio\n".encode())
        client.waitFor(r"^Server: Sérgio\r?$")
        exitsWith(client, 0)
        noTraceback(server, client)

    def windowsClientReadsPipedName() -> None:
        server, port = c.linuxServer("--name", "Sérgio")
        client = c.windows("Windows client", "names-client.exe", "--port", str(port))
        client.write("Zoë\n".encode())
        client.closeStdin()
        client.waitFor(r"^Server: Sérgio\r?$")
        exitsWith(client, 0)
        server.waitFor(r"'Zoë' answered 'Sérgio'")

    def windowsServerName() -> None:
        server, port = c.windowsServer("--name", "Sérgio")
        client = c.linux("Linux client", "names-client", "--port", str(port), "--name", "João")
        client.waitFor(r"^Server: Sérgio$")
        exitsWith(client, 0)
        server.waitFor(r"João")
        noTraceback(server, client)

    def windowsServerPipedOperator() -> None:
        server, port = c.windowsServer()
        client = c.linux("Linux client", "names-client", "--port", str(port), "--name", "João")
        server.waitFor(r'"João" \(127\.0\.0\.1:\d+\) is asking for your name')
        server.write("Sérgio\r\n".encode())
        client.waitFor(r"^Server: Sérgio$")
        exitsWith(client, 0)
        server.waitFor(r'Sent "Sérgio" to "João"')
        server.closeStdin()
        server.waitFor(r"Input closed|input closed|no more replies")
        server.interrupt()
        server.waitFor(r"names-server: stopped\.")
        exitsWith(server, 0)
        noTraceback(server, client)

    def windowsServerChat() -> None:
        server, port = c.windowsServer("--chat")
        client = c.linux("Linux client", "names-client", "--port", str(port), "--chat")
        client.write("olá\n".encode())
        server.waitFor(r'"olá"')
        server.write(b"tudo bem?\n")
        client.waitFor(r"^Server: tudo bem\?$")
        client.write(b"\n")
        exitsWith(client, 0)
        server.interrupt()
        exitsWith(server, 0)
        noTraceback(server, client)

    def windowsClientChat() -> None:
        server, port = c.linuxServer("--chat")
        client = c.windows("Windows client", "names-client.exe", "--port", str(port), "--chat")
        client.write("olá\n".encode())
        server.waitFor(r'"olá"')
        server.write(b"tudo bem?\n")
        client.waitFor(r"^Server: tudo bem\?\r?$")
        client.write("e você?\n".encode())
        server.waitFor(r'"e você\?"')
        server.write("ótimo\n".encode())
        client.waitFor(r"^Server: ótimo\r?$")
        client.closeStdin()
        exitsWith(client, 0)
        noTraceback(server, client)

    def portugueseFromLanguage() -> None:
        server, port = c.windowsServer(language="pt_BR")
        client = c.windows(
            "Windows client",
            "names-client.exe",
            "--port",
            str(port),
            "--name",
            "João",
            language="pt_BR",
        )
        server.waitFor(r'"João" \(127\.0\.0\.1:\d+\) está pedindo o seu nome')
        server.write("Sérgio\n".encode())
        # To a pipe, the answer line is for programs: the same in any language.
        client.waitFor(r"^Server: Sérgio\r?$")
        exitsWith(client, 0)
        refused = c.windows("Windows client", "names-client.exe", "--port", "1", "--name", "x",
                            language="pt_BR")  # fmt: skip
        refused.waitFor(r"^erro: ", "err")
        exitsWith(refused, 3)

    def portugueseFromDisplayLanguage() -> None:
        # Wine takes the user's display language (GetUserDefaultUILanguage)
        # from the Unix locale.
        client = c.windows(
            "Windows client", "names-client.exe", "--port", "1", "--name", "x", lang="pt_BR.UTF-8"
        )
        client.waitFor(r"^erro: ", "err")
        exitsWith(client, 3)

    def windowsClientInterrupted() -> None:
        server, port = c.linuxServer()
        client = c.windows(
            "Windows client", "names-client.exe", "--port", str(port), "--name", "Ana"
        )
        server.waitFor(r'"Ana"')
        client.interrupt()
        exitsWith(client, 130)
        server.waitFor(r'"Ana" \(127\.0\.0\.1:\d+\) left')
        noTraceback(server, client)

    def windowsServerTrace() -> None:
        traceFile = Path(c.scratch, "aula.md")
        server, port = c.windowsServer("--name", "Sérgio", "--trace", "--trace-file", "aula.md")
        client = c.linux("Linux client", "names-client", "--port", str(port), "--name", "João")
        exitsWith(client, 0)
        server.waitFor(r"^#1 ")
        server.waitFor(r"João")
        server.interrupt()
        exitsWith(server, 0)
        text = traceFile.read_text("utf-8")
        expect(
            "sequenceDiagram" in text and "João" in text and "Sérgio" in text,
            f"the trace file holds no exchange:\n{text}",
        )

    def windowsClientTrace() -> None:
        _server, port = c.linuxServer("--name", "Sérgio")
        client = c.windows(
            "Windows client",
            "names-client.exe",
            "--port",
            str(port),
            "--name",
            "João",
            "--trace",
            "--trace-file",
            "cliente.md",
        )
        exitsWith(client, 0)
        client.waitFor(r"João", "err")
        text = Path(c.scratch, "cliente.md").read_text("utf-8")
        expect("sequenceDiagram" in text and "Sérgio" in text, f"the trace file:\n{text}")

    def windowsServerOperatorAtTerminal() -> None:
        # Wine's console on a Unix terminal: no VT input (the editor gets no
        # arrow keys) nor VT output, but typing and Enter work.  Ctrl-C: the
        # pseudo-terminal is no controlling terminal here, so it is sent as
        # SIGINT, which Wine makes the console's CTRL_C_EVENT.
        server, port = c.windowsServer(terminal=True)
        client = c.linux("Linux client", "names-client", "--port", str(port), "--name", "João")
        server.waitFor(r'"João" \(127\.0\.0\.1:\d+\) is asking for your name')
        server.write("Sérgio\r".encode())
        client.waitFor(r"^Server: Sérgio$")
        exitsWith(client, 0)
        server.interrupt()
        server.waitFor(r"names-server: stopped\.")
        exitsWith(server, 0)

    def windowsServerNameAtTerminal() -> None:
        # Plain lines to the console (stdin is not read with --name): written
        # as text, so the console's code page cannot garble them (bug 3).
        server, port = c.windowsServer("--name", "Sérgio", terminal=True)
        client = c.linux("Linux client", "names-client", "--port", str(port), "--name", "João")
        client.waitFor(r"^Server: Sérgio$")
        exitsWith(client, 0)
        server.waitFor(r"'João' answered 'Sérgio'")
        server.interrupt()
        server.waitFor(r"names-server: stopped\.")
        exitsWith(server, 0)

    c.run("Windows client, Linux server, non-ASCII both ways", windowsClientLinuxServer)
    c.run("Windows server --name at a terminal, non-ASCII shown", windowsServerNameAtTerminal)
    c.run("Windows client reads its name from a pipe", windowsClientReadsPipedName)
    c.run("Windows server --name, Linux client", windowsServerName)
    c.run(
        "Windows server, operator's lines piped, stdin closed, Ctrl-C", windowsServerPipedOperator
    )
    c.run("Windows server --chat, Linux client --chat", windowsServerChat)
    c.run("Windows client --chat, Linux server --chat", windowsClientChat)
    c.run("Portuguese from LANGUAGE=pt_BR", portugueseFromLanguage)
    c.run("Portuguese from the Windows display language", portugueseFromDisplayLanguage)
    c.run("Windows client interrupted with Ctrl-C", windowsClientInterrupted)
    c.run("Windows server --trace and --trace-file", windowsServerTrace)
    c.run("Windows client --trace and --trace-file", windowsClientTrace)
    c.run("Windows server, operator typing at a terminal", windowsServerOperatorAtTerminal)
    c.run("Windows names-proxy between Linux programs, non-ASCII drawn", windowsProxy)
    c.run("Windows course scripts through a Windows names-proxy", windowsProxyCourseScripts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows-python", required=True)
    parser.add_argument("--linux-bin", required=True)
    parser.add_argument("-k", dest="only", default="")
    args = parser.parse_args()
    checks = Checks(args.windows_python, args.linux_bin)
    if args.only:
        run = checks.run
        checks.run = lambda name, check: run(name, check) if args.only in name else None  # type: ignore[method-assign]
    allChecks(checks)
    print(f"endtoend: {checks.passed} passed, {checks.failed} failed, {checks.skipped} skipped")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
