#!/usr/bin/python3
"""check_exports.py - librpb.so exports exactly its public API.

usage: check_exports.py LIBRPB_SO INCLUDE_DIR...
       check_exports.py --help

The public API is every function and object declared with RPB_API in the headers
INCLUDE_DIR/rpb/*.h (the installed headers).  Fails when librpb.so exports
a symbol that is not such a declaration (an internal helper, a name
without the rpb_ prefix) or when a declared function is not exported.
Exit status: 0 consistent, 1 a mismatch (each listed), 2 usage or a tool
failed (nm missing, unreadable header).
"""
import glob
import os
import re
import subprocess
import sys

# A function "RPB_API <type> name(" or an object "RPB_API <type> name;" or
# "name[]": the name is the identifier before the '(', ';' or '['.
DECLARATION = re.compile(r"\bRPB_API\b[^;(\[]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*[(;\[]", re.S)


def declared(include_dirs):
    names = set()
    for d in include_dirs:
        for header in glob.glob(os.path.join(d, "rpb", "*.h")):
            with open(header, encoding="utf-8") as f:
                text = f.read()
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
            text = re.sub(r"#\s*define[^\n]*", " ", text)
            names.update(DECLARATION.findall(text))
    return names


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        name = fields[2].split("@")[0]
        # AddressSanitizer (the RPB_SANITIZE tree) exports an ODR indicator
        # __odr_asan.<global> beside every exported global; not API.
        if name.startswith("__odr_asan."):
            continue
        names.add(name)
    return names


def main(argv):
    if len(argv) >= 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) < 3:
        print("check_exports: usage: check_exports.py LIBRPB_SO INCLUDE_DIR...", file=sys.stderr)
        return 2
    try:
        api = declared(argv[2:])
        syms = exported(argv[1])
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check_exports: {e}", file=sys.stderr)
        return 2
    if not api:
        print("check_exports: no RPB_API declaration found under " + " ".join(argv[2:]), file=sys.stderr)
        return 2
    bad = False
    for name in sorted(syms - api):
        why = "not an rpb_ name" if not name.startswith("rpb_") else "not declared RPB_API in a public header"
        print(f"FAIL: {argv[1]} exports {name}: {why}")
        bad = True
    for name in sorted(api - syms):
        print(f"FAIL: {name} is declared RPB_API but {argv[1]} does not export it")
        bad = True
    if not bad:
        print(f"OK: {len(syms)} exported symbols, all declared RPB_API")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
