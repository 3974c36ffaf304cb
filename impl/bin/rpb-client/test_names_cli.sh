#!/bin/sh
# test_names_cli.sh RPB_CLIENT - `rpb-client names` against the naming rules
# of spec/discovery.md computed independently here with b3sum:
# NAME-003 (user hash), NAME-004 (directory, with and without
# XDG_RUNTIME_DIR), NAME-001 (leaves), NAME-002 and NAME-005 (refusals).
# Exit 0 pass, 1 fail, 77 skipped (no b3sum or no machine id).
set -u
client=$1
command -v b3sum >/dev/null 2>&1 || { echo "SKIP: b3sum is not installed"; exit 77; }
mid=""
for f in /etc/machine-id /var/lib/dbus/machine-id; do
    [ -r "$f" ] && mid=$(tr -d ' \t\r\n' < "$f") && [ -n "$mid" ] && break
done
[ -n "$mid" ] || { echo "SKIP: this host has no machine id"; exit 77; }
uid=$(id -u)
h=$(printf '%s:%s' "$uid" "$mid" | b3sum --no-names | cut -c1-16)
fail=0

check() { # label expected actual
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fail=1; fi
}

out=$(env XDG_RUNTIME_DIR=/run/user/4242 "$client" names --service zccache --instance dev-1)
d=/run/user/4242/running-process/broker
check "runtime dir" "user-hash $h
directory $d
shared $d/rpb-v1-$h-shared.sock
service $d/rpb-v1-$h-svc-zccache.sock
instance $d/rpb-v1-$h-inst-dev-1.sock" "$out"

out=$(env -u XDG_RUNTIME_DIR "$client" names)
d=/tmp/running-process-$uid/broker
check "tmp fallback" "user-hash $h
directory $d
shared $d/rpb-v1-$h-shared.sock" "$out"

env XDG_RUNTIME_DIR=/run/user/4242 "$client" names --service Zccache >/dev/null 2>&1
check "uppercase service refused (exit 1)" 1 $?
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   # 37 bytes: 108-byte path
env XDG_RUNTIME_DIR=/run/user/1000 "$client" names --service $long >/dev/null 2>&1
check "108-byte path refused (exit 1)" 1 $?
"$client" names --bogus >/dev/null 2>&1
check "unknown option (exit 2)" 2 $?
exit $fail
