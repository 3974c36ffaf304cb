#!/usr/bin/env python3
"""mutants.py - source mutants of rpb-broker and rpb-backend, applied to copies at build time.

One mechanism serves the hand-made mutants of conformance/mutants/ (each
breaks one requirement on purpose and names the harness case that must catch
it) and the generated mutants of `tools/run mutation` (issue 12): a mutant is
a list of edits, each replacing an exact block of lines of one source file
(impl/src/..., impl/bin/rpb-broker/... or impl/bin/rpb-backend/...).  A
mutant whose catch cases are all backend cases (backend/...) is a broken
rpb-backend, every other one a broken rpb-broker.  The tree itself is never
touched: the mutated file is written to the build directory and linked with
the reference objects of every other translation unit
(conformance/mutants/CMakeLists.txt), so a mutant costs one compilation.

Mutants file format (one block per mutant; '#' lines between blocks are
comments):

    mutant NAME
    catch CASE-ID... [root]     cases that must fail (hand-made mutants);
                                "root": the cases need root
    edit PATH[:LINE]            the '-' block must occur exactly once in
    -old line                   PATH, or start at LINE when given
    +new line

Commands:
    cmake MUTANTS --out F --catch F [--when W]  CMake calls (rpb_mutant FILE
                                            NAME WHEN PROGRAM PATH...), the catch list
    write MUTANTS NAME SRCDIR OUTDIR        the mutated files of NAME
    diff MUTANTS NAME SRCDIR                its unified diff
    generate [--seed S] [--sample N]        generated mutants (stdout)
    targets                                 the files generate mutates

Exit codes: 0 done, 1 a mutant does not apply, 2 usage or unreadable file.
"""
import argparse
import difflib
import os
import random
import re
import sys


class MutantError(Exception):
    pass


class Edit:
    def __init__(self, path, line, old, new):
        self.path, self.line, self.old, self.new = path, line, old, new


class Mutant:
    def __init__(self, name):
        self.name = name
        self.cases = []
        self.root = False
        self.edits = []

    def paths(self):
        return sorted({e.path for e in self.edits})

    def program(self):
        """The daemon the mutant breaks: its catch cases' role."""
        backend = self.cases and all(c.startswith("backend/") for c in self.cases)
        return "backend" if backend else "broker"


NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def parse(text, origin="<mutants>"):
    """The mutants of a mutants file, in order."""
    mutants, cur, edit = [], None, None
    for no, raw in enumerate(text.splitlines(), 1):
        where = f"{origin}:{no}"
        if edit is not None and raw[:1] in ("-", "+"):
            (edit.old if raw[0] == "-" else edit.new).append(raw[1:])
            continue
        edit = None
        words = raw.split()
        if not words or raw.startswith("#"):
            continue
        if words[0] == "mutant" and len(words) == 2:
            if not NAME_RE.match(words[1]) or any(m.name == words[1] for m in mutants):
                raise MutantError(f"{where}: bad or repeated mutant name {words[1]!r}")
            cur = Mutant(words[1])
            mutants.append(cur)
        elif cur is None:
            raise MutantError(f"{where}: {words[0]!r} before the first 'mutant'")
        elif words[0] == "catch" and len(words) > 1:
            cur.root = words[-1] == "root"
            cur.cases = words[1:-1] if cur.root else words[1:]
        elif words[0] == "edit" and len(words) == 2:
            path, _, line = words[1].partition(":")
            edit = Edit(path, int(line) if line else None, [], [])
            cur.edits.append(edit)
        else:
            raise MutantError(f"{where}: cannot read {raw!r}")
    for m in mutants:
        if not m.edits or any(not e.old for e in m.edits):
            raise MutantError(f"{origin}: mutant {m.name} has an edit without '-' lines")
    return mutants


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read(), path)
    except OSError as e:
        raise MutantError(f"{path}: {e.strerror}")


def find(mutants, name):
    for m in mutants:
        if m.name == name:
            return m
    raise MutantError(f"no mutant {name!r}")


def apply(m, srcdir):
    """{path: (original text, mutated text)} of mutant m over srcdir."""
    out = {}
    for e in m.edits:
        if e.path not in out:
            try:
                with open(os.path.join(srcdir, e.path), encoding="utf-8") as f:
                    text = f.read()
            except OSError as err:
                raise MutantError(f"mutant {m.name}: {e.path}: {err.strerror}")
            out[e.path] = (text, text)
        orig, text = out[e.path]
        lines = text.split("\n")
        n = len(e.old)
        starts = [i for i in range(len(lines) - n + 1) if lines[i:i + n] == e.old]
        if e.line is not None:
            starts = [i for i in starts if i == e.line - 1]
        if len(starts) != 1:
            raise MutantError(f"mutant {m.name}: the '-' block of {e.path}"
                              f"{':' + str(e.line) if e.line else ''} occurs {len(starts)} times"
                              " (the source changed: update the mutant)")
        i = starts[0]
        out[e.path] = (orig, "\n".join(lines[:i] + e.new + lines[i + n:]))
    return out


def cmd_cmake(args):
    mutants = load(args.mutants)
    with open(args.out, "w", encoding="utf-8") as f:
        for m in mutants:
            f.write(f"rpb_mutant({args.mutants} {m.name} {args.when} {m.program()} {' '.join(m.paths())})\n")
    with open(args.catch, "w", encoding="utf-8") as f:
        for m in mutants:
            if m.cases:
                f.write(f"{m.name} {' '.join(m.cases)}{' root' if m.root else ''}\n")
    return 0


def cmd_write(args):
    m = find(load(args.mutants), args.name)
    for path, (_, text) in apply(m, args.srcdir).items():
        dest = os.path.join(args.outdir, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


def unified_diff(m, srcdir):
    chunks = []
    for path, (orig, text) in sorted(apply(m, srcdir).items()):
        chunks.extend(difflib.unified_diff(orig.splitlines(True), text.splitlines(True),
                                           "a/" + path, "b/" + path, n=1))
    return "".join(chunks)


def cmd_diff(args):
    sys.stdout.write(unified_diff(find(load(args.mutants), args.name), args.srcdir))
    return 0


# ---- generated mutants (issue 12) -----------------------------------------

# The protocol decisions of librpb that rpb-broker shows over the socket:
# Hello (shape, policy, reply), version grammar, rate limiter, control step,
# admin, envelope.
TARGETS = [
    "impl/src/hello/handler.c",
    "impl/src/hello/grammar.c",
    "impl/src/hello/ratelimit.c",
    "impl/src/control/control.c",
    "impl/src/admin/admin.c",
    "impl/src/core/envelope.c",
]

RELATIONAL = {"<": ["<=", ">"], "<=": ["<", ">"], ">": [">=", "<"], ">=": [">", "<"],
              "==": ["!="], "!=": ["=="]}
LOGICAL = {"&&": ["||"], "||": ["&&"]}
ARITH = {"+": ["-"], "-": ["+"], "*": ["/"]}
OPERATOR_RE = re.compile(r"<<=|>>=|<<|>>|->|\+\+|--|&&|\|\||[<>=!]=|[-+*/%<>]=?|=")
NUMBER_RE = re.compile(r"(?<![\w.])(\d+)(u|U|ull|ULL|ul|UL)?(?![\w.])")
IF_RE = re.compile(r"^(\s*)(?:\} else )?if \((.*)\)( \{)?$")


def code_part(line):
    """line with string/char literals and comments blanked (same length)."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if line.startswith("//", i):
            out.append(" " * (n - i))
            break
        if line.startswith("/*", i):
            j = line.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + (c if j - i >= 2 else ""))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def candidate_lines(text):
    """(index, line, code) of lines that are function code: not blank,
    not a comment or preprocessor line, not inside a comment block, not at
    file scope (tables and declarations)."""
    in_comment = False
    depth = 0
    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*") and "*/" not in stripped:
            in_comment = True
            continue
        code = code_part(line)
        inside = depth > 0 and line.startswith("    ")
        depth += code.count("{") - code.count("}")
        if not inside or not stripped or stripped.startswith(("#", "*", "//", "/*")):
            continue
        if "static const" in code:
            continue
        yield i, line, code


def line_mutations(line, code):
    """(operator class, mutated line) for one line of code."""
    muts = []
    for mt in OPERATOR_RE.finditer(code):
        op, s, e = mt.group(), mt.start(), mt.end()
        before = code[:s].rstrip()
        unary = not before or before[-1] in "(=,?:!<>&|+-*/%[" or before.endswith("return")
        for table, cls in ((RELATIONAL, "relational"), (LOGICAL, "logical"), (ARITH, "arithmetic")):
            if op in table and not (table is ARITH and unary) and "#include" not in code:
                if op in ("<", ">") and re.search(r"\w\s*$", code[:s]) is None:
                    continue
                for rep in table[op]:
                    muts.append((cls, line[:s] + rep + line[e:]))
    for mt in NUMBER_RE.finditer(code):
        value = int(mt.group(1))
        for delta in (1, -1):
            if value + delta >= 0:
                muts.append(("constant", line[:mt.start(1)] + str(value + delta) + line[mt.end(1):]))
    m = IF_RE.match(code)
    if m:
        s = line.index("(", len(m.group(1))) + 1
        e = line.rindex(")")
        muts.append(("negated-condition", line[:s] + "!(" + line[s:e] + ")" + line[e:]))
    stripped = code.strip()
    if (stripped.endswith(";") and not stripped.startswith(("return", "break", "case", "default"))
            and "(" in stripped and re.match(r"^[\w>.\-\[\]*&() ,]+(\(|=|\+\+|--)", stripped)
            and not re.match(r"^(const\s+)?[\w]+\s+\**\w+\s*(=|;|\[)", stripped)):
        muts.append(("removed-statement", line[:len(line) - len(line.lstrip())] + ";"))
    return muts


def guard_end(lines, j):
    """The end of a guard starting at line j: comment lines, `if (...)`
    (the condition may span lines), a one-line `return ...;` body; or None."""
    k = j
    while k < len(lines) and lines[k].strip().startswith(("/*", "*")):
        k += 1
    if k >= len(lines) or not re.match(r"^\s*if \(", lines[k]):
        return None
    while k < len(lines) and not lines[k].rstrip().endswith(")"):
        k += 1
    if k + 1 >= len(lines) or "{" in lines[k]:
        return None
    body = lines[k + 1].strip()
    return k + 2 if body.startswith("return") and body.endswith(";") else None


def swapped_checks(lines, i):
    """Two adjacent guards starting at line i, swapped (the order of
    checks), or None."""
    if i > 0 and lines[i - 1].strip().startswith(("/*", "*")):
        return None  # i is inside a guard's comment
    mid = guard_end(lines, i)
    end = guard_end(lines, mid) if mid else None
    if end is None:
        return None
    return lines[mid:end] + lines[i:mid], end - i


def generate(srcdir, rng, sample, targets=TARGETS):
    """Every candidate mutant of the target files (or a random sample)."""
    out = []
    for path in targets:
        with open(os.path.join(srcdir, path), encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        stem = os.path.splitext(os.path.basename(path))[0]
        for i, line, code in candidate_lines(text):
            for k, (cls, new) in enumerate(line_mutations(line, code)):
                if new != line:
                    out.append((f"{stem}-{i + 1}-{cls}-{k}", Edit(path, i + 1, [line], [new])))
        for i in range(len(lines)):
            swapped = swapped_checks(lines, i)
            if swapped:
                new, n = swapped
                out.append((f"{stem}-{i + 1}-swapped-checks-0",
                            Edit(path, i + 1, lines[i:i + n], new)))
    if sample is not None and sample < len(out):
        out = rng.sample(out, sample)
        out.sort(key=lambda t: (TARGETS.index(t[1].path), t[1].line, t[0]))
    return out


def format_generated(items):
    chunks = []
    for name, e in items:
        chunks.append(f"mutant {name}\nedit {e.path}:{e.line}\n")
        chunks.extend(f"-{line}\n" for line in e.old)
        chunks.extend(f"+{line}\n" for line in e.new)
    return "".join(chunks)


def cmd_generate(args):
    items = generate(args.srcdir, random.Random(args.seed), args.sample)
    sys.stdout.write(format_generated(items))
    return 0


def cmd_targets(args):
    for t in TARGETS:
        print(os.path.abspath(os.path.join(args.srcdir, t)))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="mutants.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Exit codes: 0 done, 1 a mutant does not apply, "
                                        "2 usage or unreadable file.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("cmake", help="CMake rpb_mutant() calls and the catch list")
    p.add_argument("mutants")
    p.add_argument("--out", required=True)
    p.add_argument("--catch", required=True)
    p.add_argument("--when", choices=("ALL", "OPTIONAL"), default="ALL",
                   help="built by default, or only when asked for")
    p.set_defaults(fn=cmd_cmake)
    p = sub.add_parser("write", help="write the mutated files of one mutant")
    for a in ("mutants", "name", "srcdir", "outdir"):
        p.add_argument(a)
    p.set_defaults(fn=cmd_write)
    p = sub.add_parser("diff", help="unified diff of one mutant")
    for a in ("mutants", "name", "srcdir"):
        p.add_argument(a)
    p.set_defaults(fn=cmd_diff)
    p = sub.add_parser("generate", help="generated mutants of librpb's protocol decisions")
    p.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sample", type=int, default=None, help="a random sample of N mutants")
    p.set_defaults(fn=cmd_generate)
    p = sub.add_parser("targets", help="the absolute paths of the files generate mutates")
    p.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.set_defaults(fn=cmd_targets)
    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except MutantError as e:
        print(f"mutants.py: {e}", file=sys.stderr)
        return 2 if "No such file" in str(e) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
