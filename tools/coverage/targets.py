#!/usr/bin/env python3
"""Check librpb's line coverage against the module targets.

Reads the summary that `llvm-cov export -summary-only` wrote and the
per-file text that `llvm-cov show -format=text -output-dir` wrote, and
prints, for each module with a target (>= 95% of lines: the decoder,
framing, envelope, Hello handler and admin modules), its line and branch
coverage, met / NOT MET, and the numbers of its uncovered lines.
fuzz/README.md ("Coverage") says why the lines left uncovered are.

Exit status: 0 printed (with --check: every target met); 1 with --check
when a target is missed; 2 usage or unreadable input.
Standard library only; tools/coverage/coverage.sh runs it.
"""

import argparse
import json
import os
import re
import sys

TARGET_PERCENT = 95.0

# module -> its files under impl/src
MODULES = (
    ("decoder", ("core/decode.c", "core/wire.c")),
    ("framing", ("core/frame.c",)),
    ("envelope", ("core/envelope.c",)),
    ("Hello handler", ("hello/handler.c",)),
    ("admin", ("admin/admin.c",)),
)

# a line of `llvm-cov show -format=text`: "  LINE|  COUNT|source"
SHOW_LINE = re.compile(r"^\s*(\d+)\|\s*([0-9.]+[kMGTPE]?)?\|")


def uncovered_lines(text):
    """Line numbers whose execution count is 0 in llvm-cov's text view."""
    lines = []
    for row in text.splitlines():
        m = SHOW_LINE.match(row)
        if m and m.group(2) == "0":
            lines.append(int(m.group(1)))
    return lines


def ranges(numbers):
    """[3, 4, 5, 9] -> "3-5, 9"."""
    out = []
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def percent(covered, count):
    return 100.0 * covered / count if count else 100.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("summary", help="llvm-cov export -summary-only output (JSON)")
    ap.add_argument("text_dir", help="llvm-cov show -format=text -output-dir directory")
    ap.add_argument("--root", required=True, help="the source tree the paths are in")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    try:
        with open(args.summary) as f:
            export = json.load(f)
        files = {os.path.relpath(e["filename"], os.path.join(args.root, "impl", "src")):
                 e["summary"] for e in export["data"][0]["files"]}
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"targets.py: {args.summary}: {e}", file=sys.stderr)
        return 2

    missed = 0
    print(f"module targets: >= {TARGET_PERCENT:.0f}% of lines")
    for module, paths in MODULES:
        for path in paths:
            s = files.get(path)
            if s is None:
                print(f"  {module:14} {path:18} no coverage data  NOT MET")
                missed += 1
                continue
            lines, branches = s["lines"], s["branches"]
            line_pct = percent(lines["covered"], lines["count"])
            met = line_pct >= TARGET_PERCENT
            missed += not met
            print(f"  {module:14} {path:18} lines {line_pct:6.2f}% "
                  f"({lines['covered']}/{lines['count']})  branches "
                  f"{percent(branches['covered'], branches['count']):6.2f}% "
                  f"({branches['covered']}/{branches['count']})  "
                  f"{'met' if met else 'NOT MET'}")
            text = os.path.join(args.text_dir, "coverage",
                                args.root.lstrip("/"), "impl", "src", path + ".txt")
            try:
                with open(text) as f:
                    zero = uncovered_lines(f.read())
            except OSError as e:
                print(f"targets.py: {e}", file=sys.stderr)
                return 2
            if zero:
                print(f"  {'':14} uncovered lines: {ranges(zero)}")
    print(f"targets: {'all met' if not missed else f'{missed} NOT MET'}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
