#!/usr/bin/env bash
# fuzz/run.sh - build the fuzz targets and run them for a fixed time each.
#
# libFuzzer (default): builds build-fuzz/ with clang and
# -fsanitize=fuzzer,address,undefined, runs every target (or the --target
# ones) for --seconds each on a scratch copy of its corpus, and prints a
# table of executions, exec/s, coverage (cov = edges, ft = features) and
# corpus size parsed from libFuzzer's final statistics.
#
# AFL++ (--afl TARGET): builds build-afl/ with afl-clang-fast
# (-fsanitize=fuzzer links AFL++'s libFuzzer driver, ASan+UBSan on) and runs
# afl-fuzz on TARGET for --seconds, printing execs_done and friends.
#
# Exit status: 0 when every run ended without a crash, 1 when one crashed
# (the reproducer path is printed), 2 on usage or build errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The dictionary each target uses (fuzz/dict/).
dict_for() {
    case "$1" in
    fuzz_message|fuzz_envelope) echo "$ROOT/fuzz/dict/message.dict" ;;
    fuzz_control) echo "$ROOT/fuzz/dict/control.dict" ;;
    fuzz_json) echo "$ROOT/fuzz/dict/json.dict" ;;
    fuzz_probe_*) echo "$ROOT/fuzz/dict/probe.dict" ;;
    fuzz_sidecar) echo "$ROOT/fuzz/dict/sidecar.dict" ;;
    *) echo "$ROOT/fuzz/dict/framing.dict" ;;
    esac
}

# Every fuzz/fuzz_<name>.c is a target (fuzz/CMakeLists.txt finds them the same way).
TARGETS_ALL=()
for f in "$ROOT"/fuzz/fuzz_*.c; do
    f="${f##*/}"
    TARGETS_ALL+=("${f%.c}")
done
SECONDS_PER_TARGET=60
JOBS="${RPB_JOBS:-2}"
AFL_TARGET=""
TARGETS=()

usage() {
    cat <<EOF
usage: fuzz/run.sh [--seconds N] [--target NAME]... [--afl NAME]
       fuzz/run.sh --list | --dict NAME

  --seconds N    run each target for N seconds, N >= 1 (default 60)
  --target NAME  run only NAME (repeatable); default: every target
  --afl NAME     run NAME under AFL++ (afl-fuzz) instead of libFuzzer
  --list         print the target names and exit
  --dict NAME    print the path of NAME's dictionary and exit

Targets: ${TARGETS_ALL[*]}
Work files (scratch corpora, crash reproducers, logs) go to build-fuzz/work/
or build-afl/work/; the committed seeds in fuzz/corpus/ are only read.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds|--target|--afl|--dict)
        if [ -z "${2:-}" ]; then
            echo "fuzz/run.sh: $1 needs a value" >&2
            exit 2
        fi ;;
    esac
    case "$1" in
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --target) TARGETS+=("$2"); shift 2 ;;
    --afl) AFL_TARGET="$2"; shift 2 ;;
    --list) printf '%s\n' "${TARGETS_ALL[@]}"; exit 0 ;;
    --dict) dict_for "$2"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz/run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
# At least 1: libFuzzer's -max_total_time=0 and afl-fuzz -V 0 mean no limit.
case "$SECONDS_PER_TARGET" in
''|*[!0-9]*|0*) echo "fuzz/run.sh: --seconds wants a whole number from 1" >&2; exit 2 ;;
esac
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${TARGETS_ALL[@]}")
for t in "${TARGETS[@]}" ${AFL_TARGET:+"$AFL_TARGET"}; do
    case " ${TARGETS_ALL[*]} " in
    *" $t "*) ;;
    *) echo "fuzz/run.sh: unknown target: $t" >&2; exit 2 ;;
    esac
done

say() { printf '==> %s\n' "$*"; }

# build DIR CC CFLAGS ENGINE TARGET...
build() {
    local dir="$1" cc="$2" cflags="$3" engine="$4"
    shift 4
    say "configuring $dir (CC=$cc)"
    mkdir -p "$dir"
    CC="$cc" cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRPB_FUZZ=ON \
        -DCMAKE_C_FLAGS="$cflags" -DRPB_FUZZ_ENGINE="$engine" >"$dir/configure.log" 2>&1 ||
        { cat "$dir/configure.log" >&2; exit 2; }
    say "building $*"
    cmake --build "$dir" -j "$JOBS" --target "$@" >"$dir/build.log" 2>&1 ||
        { tail -40 "$dir/build.log" >&2; exit 2; }
}

# Last value of libFuzzer's "stat::NAME: value" line in LOG.
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

run_libfuzzer() {
    local dir="$ROOT/build-fuzz"
    mkdir -p "$dir"
    build "$dir" clang \
        "-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
        "-fsanitize=fuzzer,address,undefined" "${TARGETS[@]}"

    local work="$dir/work" crashed=0 t
    local -a rows=()
    for t in "${TARGETS[@]}"; do
        local corpus="$work/corpus/$t" artifacts="$work/artifacts/$t" log="$work/logs/$t.log"
        mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
        say "fuzzing $t for ${SECONDS_PER_TARGET}s (log: ${log#"$ROOT"/})"
        local rc=0 seeds=()
        [ -d "$ROOT/fuzz/corpus/$t" ] && seeds=("$ROOT/fuzz/corpus/$t")
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "$dir/bin/$t" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
            -timeout=10 -rss_limit_mb=2048 -dict="$(dict_for "$t")" \
            -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?

        local execs eps cov=- ft=- corp=- status line
        execs="$(stat_of "$log" number_of_executed_units)"
        eps="$(stat_of "$log" average_exec_per_sec)"
        # The last status line, e.g. "#123456 DONE cov: 312 ft: 845 corp: 97/2140b ...".
        line="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
        if [[ "$line" =~ cov:\ ([0-9]+)\ ft:\ ([0-9]+)\ corp:\ ([0-9]+) ]]; then
            cov="${BASH_REMATCH[1]}" ft="${BASH_REMATCH[2]}" corp="${BASH_REMATCH[3]}"
        fi
        status=ok
        if [ "$rc" -ne 0 ]; then
            crashed=1
            local repro
            repro="$(ls -1t "$artifacts" 2>/dev/null | head -1)"
            if [ -n "$repro" ]; then
                status="CRASH ${artifacts#"$ROOT"/}/$repro"
                grep -m3 -E 'ERROR|oracle failed|runtime error' "$log" >&2 || true
            else
                status="FAILED (exit $rc, see the log)"
                tail -3 "$log" >&2
            fi
        fi
        rows+=("$(printf '%-18s %12s %9s %6s %7s %7s  %s' "$t" "${execs:--}" "${eps:--}" \
            "$cov" "$ft" "$corp" "$status")")
    done

    echo
    echo "libFuzzer, ${SECONDS_PER_TARGET}s per target, -fsanitize=fuzzer,address,undefined:"
    printf '%-18s %12s %9s %6s %7s %7s  %s\n' target execs exec/s cov ft corpus result
    printf '%s\n' "${rows[@]}"
    return "$crashed"
}

run_afl() {
    local t="$AFL_TARGET" dir="$ROOT/build-afl"
    command -v afl-fuzz >/dev/null && command -v afl-clang-fast >/dev/null ||
        { echo "fuzz/run.sh: afl++ is not installed (tools/install-deps --fuzz)" >&2; exit 2; }
    mkdir -p "$dir"
    AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 \
        build "$dir" afl-clang-fast "-g -O1 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
        "-fsanitize=fuzzer" "$t"

    local out="$dir/work/$t" log="$dir/work/$t.log"
    rm -rf "$out"
    mkdir -p "$out"
    say "afl-fuzz on $t for ${SECONDS_PER_TARGET}s (log: ${log#"$ROOT"/})"
    local rc=0
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
        AFL_SKIP_CRASHES=1 \
        afl-fuzz -V "$SECONDS_PER_TARGET" -m none -t 5000 -x "$(dict_for "$t")" \
        -i "$ROOT/fuzz/corpus/$t" -o "$out" -- "$dir/bin/$t" >"$log" 2>&1 || rc=$?

    local stats="$out/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        tail -20 "$log" >&2
        echo "fuzz/run.sh: afl-fuzz did not run (exit $rc)" >&2
        exit 2
    fi
    field() { sed -n "s/^$1 *: *//p" "$stats"; }
    local crashes
    crashes="$(field saved_crashes)"
    [ -n "$crashes" ] || crashes="$(field unique_crashes)"
    echo
    echo "AFL++ on $t, ${SECONDS_PER_TARGET}s:"
    echo "  execs_done      $(field execs_done)"
    echo "  execs_per_sec   $(field execs_per_sec)"
    echo "  corpus_count    $(field corpus_count)"
    echo "  edges_found     $(field edges_found) of $(field total_edges)"
    echo "  stability       $(field stability)"
    echo "  saved_crashes   $crashes"
    if [ "${crashes:-0}" != 0 ]; then
        echo "  reproducers in  ${out#"$ROOT"/}/default/crashes/"
        return 1
    fi
}

if [ -n "$AFL_TARGET" ]; then
    run_afl
else
    run_libfuzzer
fi
