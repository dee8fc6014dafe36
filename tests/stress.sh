#!/usr/bin/env bash
# Run the whole test suite N times in a row (default 20) while a CPU hog
# keeps one core busy, to shake out tests that depend on speed.  Stops at the
# first failing run: says which run it was, names the failing tests and keeps
# that run's output.
#
#   bash tests/stress.sh [N]
#
# PYTHON selects the interpreter (default: .venv/bin/python), TESTS what trial
# runs (default: tests, the whole suite), JOBS how many workers it runs them in
# (default: 2, as the README's command; 1: one process, no -j).
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
python=${PYTHON:-.venv/bin/python}
tests=${TESTS:-tests}  # Split into names on purpose.
jobs=${JOBS:-2}
case $runs in '' | *[!0-9]* | 0)
    echo "usage: bash tests/stress.sh [N]   (N > 0 runs, default 20)" >&2
    exit 2
    ;;
esac
case $jobs in '' | *[!0-9]* | 0)
    echo "stress: JOBS must be a number of workers, 1 or more" >&2
    exit 2
    ;;
    1) parallel= ;;
    *) parallel=-j$jobs ;;
esac

# trial runs in a process group of its own (setsid, where there is one), so
# that stopping this script also stops the servers and clients a test had
# started: it kills that group, and the hog.
setsid=$(command -v setsid || true)
trial=
stop() {
    [ -n "$trial" ] && kill -TERM -- "-$trial" 2>/dev/null
    kill "$hog" 2>/dev/null
    wait 2>/dev/null
}

"$python" -c 'while True: pass' &
hog=$!
log=$(mktemp "${TMPDIR:-/tmp}/names-stress.XXXXXX")
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "stress: $runs runs of trial $parallel $tests, a CPU hog (pid $hog) keeping one core busy"
started=$SECONDS
for ((run = 1; run <= runs; run++)); do
    runStarted=$SECONDS
    $setsid "$python" -m twisted.trial $parallel $tests >"$log" 2>&1 </dev/null &
    trial=$!
    wait "$trial" # Returns at once on INT or TERM, for the traps.
    status=$?
    trial=
    summary=$(grep -E '^(PASSED|FAILED) ' "$log" | tail -n 1)
    echo "run $run/$runs: ${summary:-no summary (status $status)} in $((SECONDS - runStarted)) s"
    if [ "$status" -ne 0 ]; then
        echo "stress: run $run of $runs FAILED; failing tests:"
        # trial reports each outcome but success in a block: a ==== line,
        # its kind ([FAIL], [ERROR], [SKIPPED], ...), the traceback or reason,
        # then the names of the tests (a module's, for an import error).
        awk '/^=====+$/ { getline kind; failed = kind ~ /^\[(FAIL|ERROR|SUCCESS)/; next }
            failed && /^tests\.[A-Za-z0-9_.]+$/' "$log" | sort -u | sed 's/^/  /'
        echo "stress: that run's output is in $log"
        exit 1
    fi
done
rm -f "$log"
echo "stress: $runs runs in a row, all green, in $((SECONDS - started)) s"
