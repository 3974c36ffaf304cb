# testlib.sh - assertions of the tools' shell tests (sourced, not run).
# Each check prints "ok   NAME" or "FAIL NAME" with what it got and wanted;
# finish prints the totals and fails when any check failed.
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; echo "     got:  $2"; echo "     want: $3"; }
expect() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "$2" "$3"; fi
}
contains() { # NAME GOT PART
    case $2 in *"$3"*) ok "$1" ;; *) bad "$1" "$2" "...$3..." ;; esac
}
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
