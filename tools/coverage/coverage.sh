#!/usr/bin/env bash
# tools/coverage/coverage.sh - source-based line and branch coverage of
# librpb (impl/src) by the test suite; `tools/run coverage` runs it.
#
# Builds build-coverage/ with clang -fprofile-instr-generate
# -fcoverage-mapping, runs ctest there (the unit and integration tests, the
# vector runner over vectors/ and every fuzz-replay-* program over its
# committed corpus fuzz/corpus/<target>/; not the mutant brokers, see
# below), merges the profiles with llvm-profdata and
# prints llvm-cov's per-file report of impl/src, the module targets
# (tools/coverage/targets.py) with each module's uncovered lines, and the
# path of the HTML report.  See --help for the exit status.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/build-coverage"
JOBS="${RPB_JOBS:-2}"
CHECK=()

usage() {
    cat <<'EOT'
usage: tools/coverage/coverage.sh [--check] [--help]

Builds build-coverage/ (clang source-based coverage), runs its ctest (unit
and integration tests, the vector runner, every fuzz target over its
committed corpus; not the mutant brokers), and prints line and branch
coverage per file of impl/src (llvm-cov report), the module targets
(>= 95% of lines in the decoder, framing, envelope, Hello handler and admin
modules) with the uncovered lines of each, and the path of the HTML report
(build-coverage/html/index.html).

  --check  exit 1 when a module target is missed

Exit status: 0 report written (and with --check every target met);
1 a test failed (the report is still written) or, with --check, a target
was missed; 2 usage, missing tools or a build failure.
EOT
}

while [ $# -gt 0 ]; do
    case "$1" in
    --check) CHECK=(--check) ;;
    -h|--help) usage; exit 0 ;;
    *) echo "coverage.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf '==> %s\n' "$*"; }

# llvm-profdata and llvm-cov of clang's own version (the profile format is
# version-specific); Debian names them llvm-*-N, with unsuffixed links
# from the llvm package.
clang_major="$(clang -dumpversion 2>/dev/null | cut -d. -f1)" ||
    { echo "coverage.sh: clang is not installed (tools/install-deps)" >&2; exit 2; }
llvm_tool() {
    local t
    for t in "$1-$clang_major" "/usr/lib/llvm-$clang_major/bin/$1"; do
        command -v "$t" >/dev/null && { command -v "$t"; return; }
    done
    echo "coverage.sh: $1 for clang $clang_major not found (tools/install-deps installs llvm-$clang_major)" >&2
    exit 2
}
PROFDATA="$(llvm_tool llvm-profdata)"
COV="$(llvm_tool llvm-cov)"

flags="-g -O1 -fprofile-instr-generate -fcoverage-mapping"
say "configuring $DIR (clang $clang_major, $flags)"
mkdir -p "$DIR"
CC=clang cmake -S "$ROOT" -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRPB_SANITIZE=OFF \
    -DCMAKE_C_FLAGS="$flags" >"$DIR/configure.log" 2>&1 ||
    { cat "$DIR/configure.log" >&2; exit 2; }
say "building $DIR (log build-coverage/build.log)"
cmake --build "$DIR" -j "$JOBS" >"$DIR/build.log" 2>&1 ||
    { tail -40 "$DIR/build.log" >&2; exit 2; }

# Every process writes its counters into a pool of 4 files per binary (%4m),
# merged online, so concurrent tests and their children may share them.
# Not run: the mutant brokers (librpb with deliberate bugs) and
# check_exports (the profile runtime exports its own symbols from the
# instrumented librpb.so; build/ and build-asan/ check the exports).
rm -rf "$DIR/profiles"
mkdir -p "$DIR/profiles"
say "running ctest in $DIR (log build-coverage/ctest.log)"
tests_rc=0
LLVM_PROFILE_FILE="$DIR/profiles/%4m.profraw" \
    ctest --test-dir "$DIR" --output-on-failure -j "$JOBS" --timeout 900 \
    -E '^(conform_mutant|mutation_sample|mutants_py|check_exports$)' \
    >"$DIR/ctest.log" 2>&1 || tests_rc=$?
tail -3 "$DIR/ctest.log"

say "merging profiles"
"$PROFDATA" merge -sparse "$DIR"/profiles/*.profraw -o "$DIR/coverage.profdata"

# every instrumented program that ran: llvm-cov wants one binary and the
# others as -object
objects=()
for bin in "$DIR"/bin/*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    objects+=(${objects[@]+-object} "$bin")
done
cov_args=(-instr-profile="$DIR/coverage.profdata" "${objects[@]}")

echo
"$COV" report -show-region-summary=false "${cov_args[@]}" "$ROOT/impl/src" |
    sed "s|$ROOT/||"
"$COV" export -summary-only "${cov_args[@]}" "$ROOT/impl/src" >"$DIR/summary.json"
"$COV" show -format=html -show-branches=count -output-dir="$DIR/html" \
    "${cov_args[@]}" "$ROOT/impl/src" >/dev/null
rm -rf "$DIR/text"
"$COV" show -format=text -output-dir="$DIR/text" "${cov_args[@]}" "$ROOT/impl/src" >/dev/null

echo
targets_rc=0
/usr/bin/python3 "$ROOT/tools/coverage/targets.py" "${CHECK[@]}" --root "$ROOT" \
    "$DIR/summary.json" "$DIR/text" || targets_rc=$?
echo
say "HTML report: $DIR/html/index.html"
if [ "$tests_rc" -ne 0 ]; then
    say "ctest failed (exit $tests_rc), see $DIR/ctest.log"
    exit 1
fi
exit "$targets_rc"
