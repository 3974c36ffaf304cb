#!/bin/sh
# test_bench_hello.sh BENCH - rpb-bench-hello at its smallest (ctest
# rpb-bench-hello.no-failed-trip): every Hello round trip negotiates,
# those of the forked throughput clients included, each of which must send
# its own pid as peer_pid (HELLO-015).  Asserts no figure.
BENCH=${1:?usage: test_bench_hello.sh BENCH}
. "$(dirname "$0")/../../impl/bin/common/testlib.sh"

out=$("$BENCH" --count 100 --duration 100)
rc=$?
contains "rpb-bench-hello: no failed round trip" "$out" "failed round trips: 0"
expect "rpb-bench-hello: exit 0 without --check" "$rc" 0
finish
