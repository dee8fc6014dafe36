"""
The Windows stage's closing line, from trial's summary of the tests run
under the Windows Python and the end-to-end checks' own closing line:
C{windows: N passed, N failed, N skipped}.  Exits 1 if anything failed or
either part printed no summary (it did not run to its end).

    python counts.py TRIAL_LOG ENDTOEND_LOG
"""

import re
import sys
from pathlib import Path

trial = Path(sys.argv[1]).read_text("utf-8", "replace")
endtoend = Path(sys.argv[2]).read_text("utf-8", "replace")
counts = dict.fromkeys(
    ["successes", "failures", "errors", "skips", "expectedFailures", "unexpectedSuccesses"], 0
)
summary = re.findall(r"^(?:PASSED|FAILED) \((.*)\)\s*$", trial, re.M)
for part in summary[-1].split(", ") if summary else []:
    key, _, value = part.partition("=")
    counts[key] = int(value)
passed = counts["successes"] + counts["expectedFailures"]
failed = counts["failures"] + counts["errors"] + counts["unexpectedSuccesses"]
skipped = counts["skips"]
ends = re.findall(r"^endtoend: (\d+) passed, (\d+) failed, (\d+) skipped$", endtoend, re.M)
if ends:
    passed += int(ends[-1][0])
    failed += int(ends[-1][1])
    skipped += int(ends[-1][2])
missing = [name for name, found in (("tests", summary), ("end-to-end checks", ends)) if not found]
for name in missing:
    print(f"windows: the {name} did not run to their end (no summary)")
print(f"windows: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or missing else 0)
