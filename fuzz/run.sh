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
# Campaign (--campaign MINUTES): every target (or the --target ones) gets
# MINUTES of CPU time under libFuzzer, two at a time under nice -n 19 (and
# --afl NAME the same under AFL++); the run's new coverage is merged,
# minimised, into fuzz/corpus/<target>/ as campaign-<sha1> files, and
# fuzz/CAMPAIGN.md is rewritten with the figures.
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
    fuzz_handoff) echo "$ROOT/fuzz/dict/handoff.dict" ;;
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
CAMPAIGN_MINUTES=""
JOBS="${RPB_JOBS:-2}"
AFL_TARGET=""
TARGETS=()

usage() {
    cat <<EOF
usage: fuzz/run.sh [--seconds N] [--target NAME]... [--afl NAME]
       fuzz/run.sh --campaign MINUTES [--target NAME]... [--afl NAME]
       fuzz/run.sh --list | --dict NAME

  --seconds N    run each target for N seconds, N >= 1 (default 60)
  --target NAME  run only NAME (repeatable); default: every target
  --afl NAME     run NAME under AFL++ (afl-fuzz) instead of libFuzzer;
                 with --campaign: in addition to the libFuzzer runs
  --campaign M   the recorded campaign: each target gets M minutes of CPU
                 time (measured in /proc, so a busy machine stretches the
                 wall time, not the campaign), two at a time under
                 nice -n 19; new coverage is merged (-merge=1, minimised)
                 into fuzz/corpus/<target>/ as campaign-<sha1> files (the
                 generated seeds stay), and fuzz/CAMPAIGN.md is rewritten
                 (rows of targets not run this time are kept); creating
                 build-fuzz/work/campaign/stop ends the running targets
                 early (their rows give the CPU time they had) and starts
                 no more
  --list         print the target names and exit
  --dict NAME    print the path of NAME's dictionary and exit

Targets: ${TARGETS_ALL[*]}
Work files (scratch corpora, crash reproducers, logs) go to build-fuzz/work/
or build-afl/work/; outside --campaign the committed seeds in fuzz/corpus/
are only read.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds|--target|--afl|--dict|--campaign)
        if [ -z "${2:-}" ]; then
            echo "fuzz/run.sh: $1 needs a value" >&2
            exit 2
        fi ;;
    esac
    case "$1" in
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --target) TARGETS+=("$2"); shift 2 ;;
    --afl) AFL_TARGET="$2"; shift 2 ;;
    --campaign) CAMPAIGN_MINUTES="$2"; shift 2 ;;
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
case "$CAMPAIGN_MINUTES" in
''|[1-9]|[1-9][0-9]|[1-9][0-9][0-9]) ;;
*) echo "fuzz/run.sh: --campaign wants a whole number of minutes from 1 to 999" >&2; exit 2 ;;
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

LF_DIR="$ROOT/build-fuzz"
AFL_DIR="$ROOT/build-afl"

# build_libfuzzer TARGET...: the libFuzzer binaries in build-fuzz/bin/.
build_libfuzzer() {
    build "$LF_DIR" clang \
        "-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
        "-fsanitize=fuzzer,address,undefined" "$@"
}

# build_afl TARGET: the AFL++ binary in build-afl/bin/.
build_afl() {
    command -v afl-fuzz >/dev/null && command -v afl-clang-fast >/dev/null ||
        { echo "fuzz/run.sh: afl++ is not installed (tools/install-deps --fuzz)" >&2; exit 2; }
    AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 \
        build "$AFL_DIR" afl-clang-fast "-g -O1 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
        "-fsanitize=fuzzer" "$1"
}

# libfuzzer_cmd TARGET CORPUS ARTIFACTS [OPTION...]: the command line that
# fuzzes TARGET into CORPUS, reading the committed seeds as well.
libfuzzer_cmd() {
    local t="$1" corpus="$2" artifacts="$3"
    shift 3
    local seeds=()
    [ -d "$ROOT/fuzz/corpus/$t" ] && seeds=("$ROOT/fuzz/corpus/$t")
    LF_CMD=(env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        "$LF_DIR/bin/$t" -print_final_stats=1 -rss_limit_mb=2048 -dict="$(dict_for "$t")"
        -artifact_prefix="$artifacts/" "$@" "$corpus" "${seeds[@]}")
}

# afl_cmd TARGET OUT [OPTION...]: the afl-fuzz command line for TARGET
# seeded from the committed corpus, findings in OUT.
afl_cmd() {
    local t="$1" out="$2"
    shift 2
    # afl-fuzz refuses an ASAN_OPTIONS without abort_on_error=1, and
    # tools/run exports one for the tests
    AFL_CMD=(env AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
        AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=1:symbolize=0"
        afl-fuzz "$@" -m none -t 5000 -x "$(dict_for "$t")"
        -i "$ROOT/fuzz/corpus/$t" -o "$out" -- "$AFL_DIR/bin/$t")
}

# Last value of libFuzzer's "stat::NAME: value" line in LOG.
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

# status_line LOG [WHICH]: libFuzzer's last status line ("#123 NEW cov: ...")
# or, with WHICH=INITED, the one it prints after loading the corpus.
status_line() {
    if [ "${2:-}" = INITED ]; then
        grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$1" || true
    else
        grep -E '^#[0-9]+' "$1" | tail -1 || true
    fi
}

# parse_status LINE: sets COV, FT and CORP from a libFuzzer status line ("-" if absent).
parse_status() {
    COV=- FT=- CORP=-
    if [[ "$1" =~ cov:\ ([0-9]+)\ ft:\ ([0-9]+)\ corp:\ ([0-9]+) ]]; then
        COV="${BASH_REMATCH[1]}" FT="${BASH_REMATCH[2]}" CORP="${BASH_REMATCH[3]}"
    fi
}

# AFL++'s fuzzer_stats field NAME.
afl_field() { sed -n "s/^$2 *: *//p" "$1"; }

# crash_status RC ARTIFACTS LOG: "ok" for a clean exit (0, or libFuzzer's
# 72 after SIGINT), else "CRASH <reproducer>" or "FAILED (exit N)".
crash_status() {
    local rc="$1" artifacts="$2" log="$3" repro
    case "$rc" in
    0|72) echo ok; return ;;
    esac
    repro="$(ls -1t "$artifacts" 2>/dev/null | head -1)"
    grep -m3 -E 'ERROR|oracle failed|runtime error' "$log" >&2 || true
    if [ -n "$repro" ]; then
        echo "CRASH ${artifacts#"$ROOT"/}/$repro"
    else
        echo "FAILED (exit $rc, see ${log#"$ROOT"/})"
    fi
}

run_libfuzzer() {
    build_libfuzzer "${TARGETS[@]}"
    local work="$LF_DIR/work" crashed=0 t
    local -a rows=()
    for t in "${TARGETS[@]}"; do
        local corpus="$work/corpus/$t" artifacts="$work/artifacts/$t" log="$work/logs/$t.log"
        mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
        say "fuzzing $t for ${SECONDS_PER_TARGET}s (log: ${log#"$ROOT"/})"
        local rc=0 status
        libfuzzer_cmd "$t" "$corpus" "$artifacts" -max_total_time="$SECONDS_PER_TARGET" -timeout=10
        "${LF_CMD[@]}" >"$log" 2>&1 || rc=$?
        parse_status "$(status_line "$log")"
        status="$(crash_status "$rc" "$artifacts" "$log")"
        [ "$status" = ok ] || crashed=1
        rows+=("$(printf '%-18s %12s %9s %6s %7s %7s  %s' "$t" \
            "$(stat_of "$log" number_of_executed_units)" "$(stat_of "$log" average_exec_per_sec)" \
            "$COV" "$FT" "$CORP" "$status")")
    done

    echo
    echo "libFuzzer, ${SECONDS_PER_TARGET}s per target, -fsanitize=fuzzer,address,undefined:"
    printf '%-18s %12s %9s %6s %7s %7s  %s\n' target execs exec/s cov ft corpus result
    printf '%s\n' "${rows[@]}"
    return "$crashed"
}

run_afl() {
    local t="$AFL_TARGET"
    build_afl "$t"
    local out="$AFL_DIR/work/$t" log="$AFL_DIR/work/$t.log"
    rm -rf "$out"
    mkdir -p "$out"
    say "afl-fuzz on $t for ${SECONDS_PER_TARGET}s (log: ${log#"$ROOT"/})"
    local rc=0
    afl_cmd "$t" "$out" -V "$SECONDS_PER_TARGET"
    "${AFL_CMD[@]}" >"$log" 2>&1 || rc=$?

    local stats="$out/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        tail -20 "$log" >&2
        echo "fuzz/run.sh: afl-fuzz did not run (exit $rc)" >&2
        exit 2
    fi
    local crashes
    crashes="$(afl_field "$stats" saved_crashes)"
    echo
    echo "AFL++ on $t, ${SECONDS_PER_TARGET}s:"
    echo "  execs_done      $(afl_field "$stats" execs_done)"
    echo "  execs_per_sec   $(afl_field "$stats" execs_per_sec)"
    echo "  corpus_count    $(afl_field "$stats" corpus_count)"
    echo "  edges_found     $(afl_field "$stats" edges_found) of $(afl_field "$stats" total_edges)"
    echo "  stability       $(afl_field "$stats" stability)"
    echo "  saved_crashes   $crashes"
    if [ "${crashes:-0}" != 0 ]; then
        echo "  reproducers in  ${out#"$ROOT"/}/default/crashes/"
        return 1
    fi
}

# ---- the recorded campaign (--campaign MINUTES) ---------------------------

CW="$LF_DIR/work/campaign"   # scratch corpora, logs, per-target result rows
CLK_TCK="$(getconf CLK_TCK)"
REPORT="$ROOT/fuzz/CAMPAIGN.md"
REPORT_OLD="$CW/CAMPAIGN.md.old" # the report as it was: rows and notes to keep

# cpu_ticks PID: CPU clock ticks (user + system) used so far by PID and its
# live descendants, each with the children it has reaped (cutime, cstime),
# so afl-fuzz's fork server and its finished children are counted too.
cpu_ticks() {
    local root="$1" p pp total=0 line changed=1
    local -A parent=() tree=(["$root"]=1)
    while read -r p pp; do parent[$p]=$pp; done < <(ps -e -o pid=,ppid=)
    while [ "$changed" -eq 1 ]; do
        changed=0
        for p in "${!parent[@]}"; do
            if [ -z "${tree[$p]:-}" ] && [ -n "${tree[${parent[$p]}]:-}" ]; then
                tree[$p]=1
                changed=1
            fi
        done
    done
    for p in "${!tree[@]}"; do
        read -r line 2>/dev/null <"/proc/$p/stat" || continue
        # fields after "pid (comm) ": state ppid ...; utime is field 14
        local -a f
        read -ra f <<<"${line##*) }"
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done
    echo "$total"
}

# run_for_cpu LABEL SECONDS LOG PROGRESS CMD...: runs CMD under nice -n 19
# with output to LOG until it has used SECONDS of CPU time, then stops it
# with SIGINT (it may also end by itself, e.g. on a crash).  Every minute
# prints a progress line ending with the output of the function PROGRESS.
# The file $CW/stop ends it early the same way.
# Sets RUN_RC, RUN_CPU (seconds, as measured at the last look, marked
# "(ended early)" below SECONDS) and RUN_WALL.
run_for_cpu() {
    local label="$1" budget=$(($2 * CLK_TCK)) log="$3" progress="$4"
    shift 4
    local start=$SECONDS ticks=0 next=60 now
    nice -n 19 "$@" >"$log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        now="$(cpu_ticks "$pid")"
        [ "$now" -gt 0 ] && ticks=$now # 0: it has just exited
        if [ "$ticks" -ge "$budget" ] || [ -e "$CW/stop" ]; then
            kill -INT "$pid" 2>/dev/null || true
            break
        fi
        if [ $((SECONDS - start)) -ge "$next" ]; then
            say "$label: CPU $((ticks / CLK_TCK))/$(($budget / CLK_TCK)) s, wall $((SECONDS - start)) s, $("$progress" "$log")"
            next=$((next + 60))
        fi
        sleep 2
    done
    RUN_RC=0
    wait "$pid" || RUN_RC=$?
    RUN_CPU="$(awk -v t="$ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t / hz }')"
    [ "$ticks" -ge "$budget" ] || RUN_CPU="$RUN_CPU (ended early)"
    RUN_WALL=$((SECONDS - start))
}

lf_progress() {
    parse_status "$(status_line "$1")"
    echo "$(status_line "$1" | cut -d' ' -f1) cov $COV ft $FT corpus $CORP"
}

afl_progress() {
    local stats="${1%.log}/default/fuzzer_stats"
    [ -f "$stats" ] || { echo "starting"; return; }
    echo "execs $(afl_field "$stats" execs_done) edges $(afl_field "$stats" edges_found) corpus $(afl_field "$stats" corpus_count)"
}

# merge_campaign TARGET DIR...: merges the inputs of DIR... into the
# committed corpus fuzz/corpus/TARGET with libFuzzer's -merge=1: the
# generated seeds (seed_corpus.py's files) stay as they are, and the
# campaign-<sha1> files become the minimal set of inputs from earlier
# campaigns and DIR... that adds coverage to them.  Serialised per target.
merge_campaign() {
    local t="$1" dir="$ROOT/fuzz/corpus/$1" tmp="$CW/merge/$1" f
    shift
    (
        flock 9
        rm -rf "$tmp"
        mkdir -p "$tmp/out" "$tmp/old"
        for f in "$dir"/*; do
            case "${f##*/}" in
            campaign-*) cp "$f" "$tmp/old/" ;;
            *) cp "$f" "$tmp/out/" ;;
            esac
        done
        nice -n 19 env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$LF_DIR/bin/$t" \
            -merge=1 -timeout=60 -rss_limit_mb=2048 "$tmp/out" "$tmp/old" "$@" \
            >"$CW/logs/$t.merge.log" 2>&1 ||
            { echo "fuzz/run.sh: merging into fuzz/corpus/$t failed (see ${CW#"$ROOT"/}/logs/$t.merge.log)" >&2; exit 1; }
        rm -f "$dir"/campaign-*
        for f in "$tmp/out"/*; do
            [ -e "$dir/${f##*/}" ] || cp "$f" "$dir/campaign-${f##*/}"
        done
        rm -rf "$tmp"
    ) 9>"$CW/locks/$t"
}

corpus_size() { find "$ROOT/fuzz/corpus/$1" -type f | wc -l; }

campaign_libfuzzer() {
    local t="$1" corpus="$CW/corpus/$1" artifacts="$CW/artifacts/$1" log="$CW/logs/$1.log"
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    say "$t: libFuzzer for $CAMPAIGN_MINUTES CPU-minutes (log ${log#"$ROOT"/})"
    libfuzzer_cmd "$t" "$corpus" "$artifacts" -timeout=60
    run_for_cpu "$t" $((CAMPAIGN_MINUTES * 60)) "$log" lf_progress "${LF_CMD[@]}"
    local status execs cov0 ft0 before after
    status="$(crash_status "$RUN_RC" "$artifacts" "$log")"
    execs="$(stat_of "$log" number_of_executed_units)"
    parse_status "$(status_line "$log" INITED)"
    cov0=$COV ft0=$FT
    parse_status "$(status_line "$log")"
    before="$(cat "$CW/before/$t")"
    merge_campaign "$t" "$corpus"
    after="$(corpus_size "$t")"
    [ "$status" = ok ] && status=none
    record_row libfuzzer "$t" "| $t | $COMMIT | $(date -u +%F) | $RUN_CPU | $RUN_WALL | ${execs:--} | $(per_cpu_s "$execs" "$RUN_CPU") | $cov0 → $COV | $ft0 → $FT | $before → $after | $status |"
    say "$t: done, CPU $RUN_CPU s, wall $RUN_WALL s, ${execs:-?} execs, cov $COV, ft $FT, corpus $before → $after, crashes: $status"
    [ "$status" = none ]
}

campaign_afl() {
    local t="$1" out="$CW/afl/$1" log="$CW/afl/$1.log"
    rm -rf "$out"
    mkdir -p "$out"
    say "$t: AFL++ for $CAMPAIGN_MINUTES CPU-minutes (log ${log#"$ROOT"/})"
    afl_cmd "$t" "$out"
    run_for_cpu "afl $t" $((CAMPAIGN_MINUTES * 60)) "$log" afl_progress "${AFL_CMD[@]}"
    local stats="$out/default/fuzzer_stats" execs edges crashes status before after
    if [ ! -f "$stats" ]; then
        tail -20 "$log" >&2
        record_row afl "$t" "| $t | $COMMIT | $(date -u +%F) | $RUN_CPU | $RUN_WALL | - | - | - | - | - | afl-fuzz did not run (exit $RUN_RC) |"
        return 1
    fi
    execs="$(afl_field "$stats" execs_done)"
    edges="$(afl_field "$stats" edges_found) of $(afl_field "$stats" total_edges)"
    crashes="$(afl_field "$stats" saved_crashes)"
    status=none
    [ "${crashes:-0}" = 0 ] || status="$crashes in ${out#"$ROOT"/}/default/crashes/"
    before="$(corpus_size "$t")"
    merge_campaign "$t" "$out/default/queue"
    after="$(corpus_size "$t")"
    record_row afl "$t" "| $t | $COMMIT | $(date -u +%F) | $RUN_CPU | $RUN_WALL | $execs | $(per_cpu_s "$execs" "$RUN_CPU") | $edges | $(afl_field "$stats" corpus_count) | $(afl_field "$stats" stability) | $before → $after | $status |"
    say "afl $t: done, CPU $RUN_CPU s, wall $RUN_WALL s, $execs execs, edges $edges, crashes: $status"
    [ "$status" = none ]
}

per_cpu_s() {
    awk -v n="${1:-0}" -v s="$2" 'BEGIN { if (s > 0 && n > 0) printf "%.0f", n / s; else printf "-" }'
}

# record_row ENGINE TARGET ROW: stores the result row and rewrites the report.
record_row() {
    mkdir -p "$CW/rows/$1"
    printf '%s\n' "$3" >"$CW/rows/$1/$2"
    (
        flock 9
        write_report
    ) 9>"$CW/locks/report"
}

# rows_of ENGINE SECTION: this campaign's rows of ENGINE, then the rows of
# the report's SECTION for targets this campaign did not run.
rows_of() {
    local engine="$1" section="$2" row t
    local -A have=()
    for row in "$CW/rows/$engine"/*; do
        [ -f "$row" ] || continue
        have[${row##*/}]=1
        cat "$row"
    done
    [ -f "$REPORT_OLD" ] || return 0
    sed -n "/^## $section/,/^## /p" "$REPORT_OLD" | { grep -E '^\| fuzz_' || true; } |
        while read -r row; do
            t="$(cut -d'|' -f2 <<<"$row" | tr -d ' ')"
            [ -n "${have[$t]:-}" ] || printf '%s\n' "$row"
        done
}

write_report() {
    {
        cat <<EOT
# Fuzz campaign

Written by \`tools/run fuzz --campaign MINUTES [--afl TARGET]\` (fuzz/run.sh);
rows of targets a later campaign did not run are kept, each with the commit
and date it was run at.  Every target ran with ASan + UBSan for the CPU
time given (user + system time of the fuzzer's processes, read from /proc,
stopped with SIGINT once used), under \`nice -n 19\`, two at a time on a
machine shared with other builds, so the wall time is longer.  exec/CPU-s is
executions per CPU second.  New coverage was merged with libFuzzer's
\`-merge=1\` into \`fuzz/corpus/<target>/\`: the \`campaign-<sha1>\` files there
are the minimal set of campaign inputs that add coverage to the seeds
generated by \`fuzz/seed_corpus.py\`.

Last campaign: $(date -u '+%F %H:%M') UTC, $CAMPAIGN_MINUTES CPU-minutes per target, code as of commit $COMMIT (the last to change impl/src, impl/include or the targets), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)).

## libFuzzer

cov = edges, ft = features, from libFuzzer's status line after loading the
corpus (start) and its last one (end).

| target | commit | date | CPU s | wall s | execs | exec/CPU-s | cov start → end | ft start → end | corpus files before → after | crashes |
|---|---|---|---|---|---|---|---|---|---|---|
EOT
        rows_of libfuzzer libFuzzer
        cat <<EOT

## AFL++

afl-fuzz with AFL++'s libFuzzer driver (persistent mode), ASan + UBSan;
its queue was merged into the corpus the same way.

| target | commit | date | CPU s | wall s | execs | exec/CPU-s | edges | queue | stability | corpus files before → after | crashes |
|---|---|---|---|---|---|---|---|---|---|---|---|
EOT
        rows_of afl AFL
        echo
        # hand-written notes (crashes fixed, remarks) are kept
        if [ -f "$REPORT_OLD" ]; then
            sed -n '/^## Notes/,$p' "$REPORT_OLD"
        fi
    } >"$REPORT.tmp"
    mv "$REPORT.tmp" "$REPORT"
}

run_campaign() {
    # the last commit that changed the fuzzed code (it stays valid when
    # commits of other files are rebased), marked when the tree differs
    local code=(impl/src impl/include fuzz/*.c fuzz/*.h)
    COMMIT="$(cd "$ROOT" && git log -1 --format=%h -- "${code[@]}" 2>/dev/null || true)"
    [ -n "$COMMIT" ] || COMMIT=unknown
    (cd "$ROOT" && git diff --quiet HEAD -- "${code[@]}" 2>/dev/null) || COMMIT="$COMMIT+changes"
    build_libfuzzer "${TARGETS[@]}" ${AFL_TARGET:+"$AFL_TARGET"}
    [ -z "$AFL_TARGET" ] || build_afl "$AFL_TARGET"

    local t
    rm -rf "$CW/rows" # this campaign's rows; the others come from the report
    mkdir -p "$CW/logs" "$CW/locks" "$CW/before"
    rm -f "$REPORT_OLD"
    if [ -f "$REPORT" ]; then
        cp "$REPORT" "$REPORT_OLD"
    fi
    for t in "${TARGETS[@]}"; do
        corpus_size "$t" >"$CW/before/$t"
    done

    # two at a time; the AFL++ run goes second, beside the first libFuzzer one
    local -a jobs=()
    for t in "${TARGETS[@]}"; do
        jobs+=("campaign_libfuzzer $t")
        [ ${#jobs[@]} -eq 1 ] && [ -n "$AFL_TARGET" ] && jobs+=("campaign_afl $AFL_TARGET")
    done
    local job running=0 failed=0
    say "campaign: ${#jobs[@]} runs of $CAMPAIGN_MINUTES CPU-minutes, 2 at a time, report fuzz/CAMPAIGN.md"
    rm -f "$CW/stop"
    for job in "${jobs[@]}"; do
        if [ "$running" -ge 2 ]; then
            wait -n || failed=1
            running=$((running - 1))
        fi
        [ ! -e "$CW/stop" ] || { say "campaign: stopped ($CW/stop), not starting: $job"; continue; }
        $job &
        running=$((running + 1))
    done
    while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
    done
    echo
    sed -n '/^## libFuzzer/,$p' "$REPORT"
    return "$failed"
}

if [ -n "$CAMPAIGN_MINUTES" ]; then
    run_campaign
elif [ -n "$AFL_TARGET" ]; then
    run_afl
else
    run_libfuzzer
fi
