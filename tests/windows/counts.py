"""
The Windows stage's closing line, from trial's summaries of the tests run
under the Windows Python and the end-to-end checks' own closing line:
C{windows: N passed, N failed, N skipped}.  Exits 1 if anything failed or
any part printed no summary (it did not run to its end).

    python counts.py TRIAL_LOG [TRIAL_LOG ...] ENDTOEND_LOG
"""

import re
import sys
from pathlib import Path

passed = failed = skipped = 0
missing = []
for log in sys.argv[1:-1]:
    trial = Path(log).read_text("utf-8", "replace")
    counts = dict.fromkeys(
        ["successes", "failures", "errors", "skips", "expectedFailures", "unexpectedSuccesses"], 0
    )
    summary = re.findall(r"^(?:PASSED|FAILED) \((.*)\)\s*$", trial, re.M)
    for part in summary[-1].split(", ") if summary else []:
        key, _, value = part.partition("=")
        counts[key] = int(value)
    passed += counts["successes"] + counts["expectedFailures"]
    failed += counts["failures"] + counts["errors"] + counts["unexpectedSuccesses"]
    skipped += counts["skips"]
    if not summary:
        missing.append(f"the tests of {Path(log).name}")
endtoend = Path(sys.argv[-1]).read_text("utf-8", "replace")
ends = re.findall(r"^endtoend: (\d+) passed, (\d+) failed, (\d+) skipped$", endtoend, re.M)
if ends:
    passed += int(ends[-1][0])
    failed += int(ends[-1][1])
    skipped += int(ends[-1][2])
else:
    missing.append("the end-to-end checks")
for name in missing:
    print(f"windows: {name} did not run to their end (no summary)")
print(f"windows: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or missing else 0)
