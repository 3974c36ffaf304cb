#!/bin/sh
# test_cli.sh BINDIR - what the command-line tools share (ctest: tools-cli):
# --version, a --help and one wording of usage errors in every program of
# BINDIR (the rpb-client subcommands too), the benchmarks' number options,
# decimal-only options of rpb-broker (a zero handoff parameter refused, HANDOFF-017), the verb
# list of a bad rpb-client --admin, rpb-broker's
# refusal of a relative or root-level socket directory (exit 4, nothing
# created), and rpb-conform --connect saying it waits for a missing socket.
BIN=${1:?usage: test_cli.sh BINDIR}
. "$(dirname "$0")/testlib.sh"
# run COMMAND...: sets $err (stderr) and $rc
run() {
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -m 700 "$WORK/services"

for tool in rpb-broker rpb-client rpb-dump rpb-backend; do
    out=$("$BIN/$tool" --version)
    expect "$tool --version" "$out $?" "$tool (rpb) $("$BIN/rpb-dump" --version | sed 's/.* //') 0"
    run "$BIN/$tool" --bogus
    expect "$tool: unknown option worded once" "$err $rc" "$tool: unknown option '--bogus'
Try '$tool --help'. 2"
done
# every program in BINDIR (daemons, tools, benchmarks, the vector runner,
# the fuzz replay drivers): --help is its usage on stdout and exit 0, a bad
# option the one usage error
for exe in "$BIN"/rpb-* "$BIN"/fuzz-replay-*; do
    tool=${exe##*/}
    out=$("$exe" --help)
    expect "$tool --help: usage, exit 0" "$(echo "$out" | head -n 1 | cut -d' ' -f1-2) $?" "usage: $tool 0"
    run "$exe" --bogus
    expect "$tool: unknown option worded once" "$err $rc" "$tool: unknown option '--bogus'
Try '$tool --help'. 2"
done
for bench in rpb-bench-hello rpb-bench-probe rpb-bench-handoff; do
    run "$BIN/$bench" --count 99
    expect "$bench: a count below its floor is a usage error" "$err $rc" "$bench: --count wants a decimal number from 100 to 10000000, not '99'
Try '$bench --help'. 2"
done
run "$BIN/rpb-bench-start" --runs
expect "rpb-bench-start: missing value" "$err $rc" "rpb-bench-start: --runs needs a value
Try 'rpb-bench-start --help'. 2"
run "$BIN/rpb-vectors"
expect "rpb-vectors: no path says so" "$err $rc" "rpb-vectors: no vector file or directory given
Try 'rpb-vectors --help'. 2"

# the subcommands and rpb-backend word a bad option once too (not also
# through getopt's own message)
for cmd in "rpb-backend" "rpb-client probe" "rpb-client names"; do
    run $BIN/$cmd --bogus
    expect "$cmd: unknown option worded once" "$err $rc" "${cmd%% *}: unknown option '--bogus'
Try '${cmd%% *} --help'. 2"
done
run "$BIN/rpb-backend" --socket
expect "rpb-backend: missing value" "$err $rc" "rpb-backend: --socket needs a value
Try 'rpb-backend --help'. 2"
run "$BIN/rpb-client" probe --endpoint "$WORK/none.sock" --timeout 5s
expect "rpb-client probe: a bad number names the option" "$err $rc" "rpb-client: --timeout wants a decimal or 0x hex number in range, not '5s'
Try 'rpb-client --help'. 2"
run "$BIN/rpb-client" --socket
expect "rpb-client: missing value" "$err $rc" "rpb-client: --socket needs a value
Try 'rpb-client --help'. 2"
run "$BIN/rpb-client" --socket "$WORK/none.sock" --admin bogus
contains "rpb-client: a bad --admin lists the verbs" "$err" \
    "unknown admin verb 'bogus': give one of status, dump, list-instances, healthz, readyz, backend-health, config, diagnose, metrics, or a number"
expect "rpb-client: a bad --admin is a usage error" "$rc" 2
run "$BIN/rpb-client" --socket "$WORK/none.sock" --service a --wanted-version 1.0.0 --caps 012x
contains "rpb-client: a bad number names the option" "$err" "--caps wants a decimal or 0x hex number in range, not '012x'"
run "$BIN/rpb-broker" --socket "$WORK/b.sock" --services "$WORK/services" --rate-limit 0x10/1000
expect "rpb-broker: numbers are decimal only" "$rc" 2
for opt in --handoff-token-ttl --handoff-ack-timeout --handoff-max-pending; do
    run "$BIN/rpb-broker" --socket "$WORK/b.sock" --services "$WORK/services" "$opt" 0
    expect "rpb-broker: $opt 0 is refused (HANDOFF-017)" "$rc" 2
done

run "$BIN/rpb-broker" --socket rel/broker.sock --services "$WORK/services"
contains "rpb-broker: relative socket path refused" "$err" "socket path rel/broker.sock is relative"
expect "rpb-broker: relative socket path: exit 4" "$rc" 4
root_dir=/rpb-cli-test-$$
run "$BIN/rpb-broker" --socket "$root_dir/broker.sock" --services "$WORK/services"
contains "rpb-broker: socket directory at / refused" "$err" "socket directory $root_dir is at the filesystem root"
expect "rpb-broker: socket directory at /: exit 4" "$rc" 4
if [ -e "$root_dir" ]; then
    bad "rpb-broker: nothing created at /" "$root_dir exists" "no $root_dir"
else
    ok "rpb-broker: nothing created at /"
fi

if [ -x "$BIN/rpb-broker-faulty" ]; then
    out=$("$BIN/rpb-broker-faulty" --help | head -n 1)
    contains "rpb-broker-faulty --help names itself" "$out" "usage: rpb-broker-faulty "
fi

run "$BIN/rpb-conform" broker --connect "$WORK/none.sock" --attach-timeout 100
contains "rpb-conform --connect says it waits" "$err" "no broker answers on $WORK/none.sock yet"
expect "rpb-conform --connect to nothing: exit 3" "$rc" 3

finish
