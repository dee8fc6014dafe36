"""
Which load generator a run uses, and building the C one.

C{loadgen.c} is compiled at run time with the system's compiler (C{$CC},
else C{cc}, C{gcc} or C{clang} on PATH) into a cache directory
(C{benchmarks/results/build/}, git-ignored), under a name derived from the
source, the compiler and the flags, so an edit rebuilds it and nothing
compiled is ever committed.  Without a compiler the Python generator
(C{loadgen.py}) is used instead, and the run says so loudly: that one
saturates its core before the servers do, so its figures are limited by
the generator.

    python benchmarks/cgen.py [--build-dir DIR]   # build, print the binary's path
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from suite import HERE, PYTHON, BenchmarkError, log

SOURCE = HERE / "loadgen.c"
BUILD_DIR = HERE / "results" / "build"
CFLAGS = ("-O2", "-std=c11", "-Wall", "-Wextra")
LIBS = ("-lm",)
COMPILERS = ("cc", "gcc", "clang")
#: Bound on one compilation.
BUILD_TIMEOUT = 120.0

#: Said wherever a run used the Python generator: the console, the JSON,
#: the generated section of docs/performance.md.
FALLBACK_WARNING = (
    "the Python load generator (loadgen.py) was used, not the C one: it needs about a core"
    " against bare Twisted at 50 clients, so exchanges/s and latency may be limited by the"
    " generator and the ratios flatter the slower server"
)


def find_compiler() -> list[str] | None:
    """C{$CC} (which may hold options), else the first of cc, gcc, clang found."""
    from_env = os.environ.get("CC", "").strip()
    if from_env:
        argv = shlex.split(from_env)
        found = shutil.which(argv[0])
        return [found, *argv[1:]] if found else None
    for name in COMPILERS:
        found = shutil.which(name)
        if found:
            return [found]
    return None


def build(compiler: list[str], build_dir: Path = BUILD_DIR) -> Path:
    """
    The compiled generator, built now unless an identical build is cached.

    The binary is written under a temporary name and renamed into place, so
    two runs building at once never see half a file.
    """
    source = SOURCE.read_bytes()
    key = hashlib.sha256(b"\0".join([source, *(a.encode() for a in (*compiler, *CFLAGS))]))
    binary = build_dir / f"loadgen-{key.hexdigest()[:16]}"
    if binary.exists():
        return binary
    build_dir.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=".loadgen-", dir=build_dir)
    os.close(fd)
    argv = [*compiler, *CFLAGS, "-o", partial, str(SOURCE), *LIBS]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise BenchmarkError(
                f"{shlex.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}"
            )
        os.replace(partial, binary)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchmarkError(f"{shlex.join(argv)}: {e}") from e
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return binary


@dataclass(frozen=True)
class Generator:
    """The load generator of a run: its kind ("c" or "python") and command."""

    kind: str
    command: tuple[str, ...]
    #: Why the Python generator is used ("" for the C one).
    fallback_reason: str = ""

    def argv(self, port: int, concurrency: int, duration: float, warmup: float) -> list[str]:
        """One run: C{concurrency} exchanges in flight for C{warmup + duration} s."""
        return [
            *self.command,
            str(port),
            "-c",
            str(concurrency),
            "-d",
            str(duration),
            "--warmup",
            str(warmup),
        ]

    def describe(self) -> dict[str, str]:
        """For the JSON results and the report."""
        return {
            "kind": self.kind,
            "command": shlex.join(self.command),
            "fallback_reason": self.fallback_reason,
        }


def python_generator(reason: str, workers: int = 1) -> Generator:
    """loadgen.py, with why it is used."""
    return Generator(
        "python",
        (PYTHON, str(HERE / "loadgen.py"), "--workers", str(workers)),
        reason,
    )


def choose(requested: str, workers: int = 1, build_dir: Path = BUILD_DIR) -> Generator:
    """
    The generator for C{--generator auto|c|python}.

    auto: the C one if it builds, else the Python one with a loud warning;
    c: the C one or a L{BenchmarkError}; python: the Python one (to compare).
    """
    if requested == "python":
        return python_generator("asked for with --generator python", workers)
    compiler = find_compiler()
    if compiler is None:
        why = "no C compiler found ($CC, cc, gcc or clang)"
    else:
        try:
            return Generator("c", (str(build(compiler, build_dir)),))
        except BenchmarkError as e:
            why = f"compiling loadgen.c failed: {e}"
    if requested == "c":
        raise BenchmarkError(f"--generator c: {why}")
    for line in (
        "WARNING " + "=" * 70,
        f"WARNING {why}.",
        f"WARNING {FALLBACK_WARNING}.",
        "WARNING " + "=" * 70,
    ):
        log(line)
    return python_generator(why, workers)


def main(argv: list[str] | None = None) -> int:
    """Build the C generator and print the binary's path (exit 2 if impossible)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    try:
        generator = choose("c", build_dir=args.build_dir)
    except BenchmarkError as e:
        sys.stderr.write(f"cgen: {e}\n")
        return 2
    sys.stdout.write(generator.command[0] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
