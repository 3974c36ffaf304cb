#!/usr/bin/env python3
"""Requirement traceability for rpb.

Reads the requirement headers of spec/*.md (lines of the exact form
``**FRAME-001** · MUST · core``), collects every place in the repository
that cites a requirement ID, and writes spec/traceability.md: one row per
requirement with where it is implemented and what checks it, then the gaps.

What counts as what (paths relative to the repository root):

  implemented in  impl/src/** and impl/bin/** (.c, .h); fault-injection
                  sources (file name containing "fault") are test scaffolding
                  and are not counted
  vectors         vectors/*.json: every object with a "requirements" array
                  (the vector's "id" is listed)
  tests           C, Python and shell sources under impl/tests/, tests/,
                  fuzz/ and conformance/ (except conformance/harness/): any
                  occurrence of an ID is a check, attributed to the enclosing
                  test function where one can be found
  harness cases   conformance/harness/** (.c, .h): any occurrence, attributed
                  to the case table entry (its case id string) or function
  case rows       the case table rows of conformance/harness/ (a row macro
                  whose arguments start with the case id string, the tier and
                  the requirement list): how many boundary and equivalence-
                  class cases list each ID

Citations may name one ID (WIRE-005), a range (FRAME-001..FRAME-009,
WIRE-002..004, ENV-001 to ENV-006) or a list sharing a prefix
(WIRE-010/011/021).  Every other text file is scanned too, so that a cited
ID that does not exist in spec/ is reported wherever it appears.

--check exits 1 when a core MUST requirement has no check (vector, test or
harness case), when spec/traceability.md differs from what this script would
write, when an ID is cited that spec/ does not define, or when spec/ has a
malformed or duplicate requirement header.  Plain python3, no third-party
modules.
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict

OUTPUT = "spec/traceability.md"
# Documents in reading order; others follow alphabetically.
DOC_ORDER = ["wire.md", "envelope.md", "hello.md", "probe.md", "handoff.md",
             "security.md", "conformance.md"]
# Prefixes reserved by spec/README.md, recognised even before their document
# exists, so that a citation of a not-yet-written series is reported.
KNOWN_PREFIXES = ["FRAME", "WIRE", "ENV", "HELLO", "ADMIN", "SEC", "PROBE",
                  "HANDOFF", "CONF"]

HEADER_RE = re.compile(
    r"^\*\*(?P<id>[A-Z][A-Z0-9]*-\d{3})\*\* · (?P<level>MUST|SHOULD|MAY) · "
    r"(?P<tier>core|strict)$")
# A line that starts like a header; if HEADER_RE does not match it, it is
# malformed.
HEADERISH_RE = re.compile(r"^\*\*[A-Z][A-Z0-9]*-\d+\*\*")

TEXT_EXTS = {".c", ".h", ".py", ".sh", ".md", ".json", ".txt", ".cmake",
             ".proto", ".yml", ".yaml", ".in", ".dict", ".options", ".toml"}
TEST_EXTS = {".c", ".h", ".py", ".sh"}
C_EXTS = {".c", ".h"}
MAX_FILE_BYTES = 4 * 1024 * 1024
C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do",
              "else", "case", "defined", "_Static_assert", "static_assert"}
SHOW_IMPL = 4
SHOW_VECTORS = 3
SHOW_TESTS = 4


class Requirement:
    def __init__(self, rid, level, tier, doc, line):
        self.id = rid
        self.level = level
        self.tier = tier
        self.doc = doc
        self.line = line
        self.impl = OrderedDict()     # path -> None (ordered set)
        self.vectors = []             # vector ids
        self.tests = OrderedDict()    # path -> OrderedDict(label -> None)
        self.harness = OrderedDict()  # path -> OrderedDict(label -> None)
        self.case_rows = set()        # harness case ids whose row lists it

    def checked(self):
        return bool(self.vectors or self.tests or self.harness)


class Problems:
    def __init__(self):
        self.unknown = OrderedDict()  # id -> [path:line, ...]
        self.spec = []                # malformed / duplicate headers

    def cite_unknown(self, rid, where):
        self.unknown.setdefault(rid, []).append(where)


# ---------------------------------------------------------------- spec ----

def doc_key(name):
    if name in DOC_ORDER:
        return (0, DOC_ORDER.index(name), name)
    return (1, 0, name)


def read_spec(root, problems):
    """Returns an OrderedDict id -> Requirement in document order."""
    spec_dir = os.path.join(root, "spec")
    found = []
    names = sorted((n for n in os.listdir(spec_dir)
                    if n.endswith(".md") and "spec/" + n != OUTPUT), key=doc_key)
    seen = {}
    for name in names:
        with open(os.path.join(spec_dir, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        prefix_order = []
        for i, line in enumerate(lines, 1):
            m = HEADER_RE.match(line)
            if m:
                rid = m.group("id")
                if rid in seen:
                    problems.spec.append(
                        "spec/%s:%d: %s is already defined at %s"
                        % (name, i, rid, seen[rid]))
                    continue
                seen[rid] = "spec/%s:%d" % (name, i)
                prefix = rid.split("-")[0]
                if prefix not in prefix_order:
                    prefix_order.append(prefix)
                found.append(((doc_key(name), prefix_order.index(prefix),
                               int(rid.split("-")[1])),
                              Requirement(rid, m.group("level"), m.group("tier"),
                                          name, i)))
            elif HEADERISH_RE.match(line):
                problems.spec.append(
                    "spec/%s:%d: malformed requirement header (want "
                    "'**ID-NNN** · MUST|SHOULD|MAY · core|strict'): %s"
                    % (name, i, line.strip()))
    found.sort(key=lambda kv: kv[0])
    return OrderedDict((r.id, r) for _, r in found)


# ----------------------------------------------------------- citations ----

def citation_re(prefixes):
    alt = "|".join(sorted(set(prefixes), key=lambda p: (-len(p), p)))
    return re.compile(
        r"(?<![A-Za-z0-9_])(?P<p>%s)-(?P<n>\d+)"
        r"(?:(?P<range>\s*(?:\.\.\.?|–|—|\bto\b)\s*(?:(?P=p)-)?(?P<end>\d+))"
        r"|(?P<list>(?:/\d+)+))?(?![A-Za-z0-9_])" % alt)


def expand(m, known):
    """IDs named by one citation match.  Endpoints and list members are
    returned as written (so a typo is reported); IDs strictly inside a range
    are returned only when spec/ defines them."""
    p, n = m.group("p"), m.group("n")
    ids = [(p + "-" + n, True)]
    if m.group("range"):
        end = m.group("end")
        a, b = int(n), int(end)
        if a < b <= a + 200:
            for k in range(a + 1, b):
                rid = "%s-%0*d" % (p, len(n), k)
                if rid in known:
                    ids.append((rid, False))
        ids.append((p + "-" + end, True))
    elif m.group("list"):
        for num in m.group("list").split("/")[1:]:
            ids.append((p + "-" + num, True))
    return ids


def find_citations(text, regex, known):
    """Yields (offset, id, must_exist) for every ID cited in text."""
    for m in regex.finditer(text):
        for rid, must_exist in expand(m, known):
            yield m.start(), rid, must_exist


# ------------------------------------------------------- C source model ----

def mask_c(text):
    """text with comments and string/char literal contents blanked (same
    length, newlines kept), so braces and identifiers can be found safely."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


FUNC_TAIL_RE = re.compile(r"([A-Za-z_]\w*)\s*\((?:[^()]|\([^()]*\))*\)\s*$")
CASE_ID_RE = re.compile(r'"([a-z0-9][A-Za-z0-9_.+-]*(?:[/.][A-Za-z0-9_.+-]+)+)"')
TEST_IDENT_RE = re.compile(r"\b((?:test|case|check)_\w+)\b")


class CModel:
    """Function bodies and top-level initializers of one C file."""

    def __init__(self, text):
        self.text = text
        self.masked = mask_c(text)
        self.functions = []   # (decl_start, body_end, name)
        self.blocks = []      # top-level brace spans that are not functions
        self._scan()

    def _scan(self):
        s = self.masked
        depth = 0
        stmt_start = 0
        open_at = None
        for i, c in enumerate(s):
            if c == "{":
                if depth == 0:
                    open_at = i
                    head = s[stmt_start:i]
                    m = FUNC_TAIL_RE.search(head)
                    self._head = (m.group(1) if m and m.group(1) not in C_KEYWORDS
                                  and "=" not in head else None, stmt_start)
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0 and open_at is not None:
                    name, start = self._head
                    if name:
                        self.functions.append((start, i, name))
                    else:
                        self.blocks.append((open_at, i))
                    stmt_start = i + 1
                    open_at = None
                depth = max(depth, 0)
            elif c in ";" and depth == 0:
                stmt_start = i + 1
            elif c == "#" and depth == 0 and (i == 0 or s[i - 1] == "\n"):
                stmt_start = s.find("\n", i) + 1 or len(s)

    def _entry_span(self, off, lo, hi):
        """Innermost brace span inside (lo, hi) containing off, or None."""
        s = self.masked
        depth = 0
        i = off
        while i > lo:
            i -= 1
            if s[i] == "}":
                depth += 1
            elif s[i] == "{":
                if depth == 0:
                    break
                depth -= 1
        if i <= lo:
            return None
        start = i
        depth = 0
        for j in range(start, hi):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    return start, j + 1
        return None

    def _line_of(self, off):
        a = self.text.rfind("\n", 0, off) + 1
        b = self.text.find("\n", off)
        return a, (len(self.text) if b < 0 else b)

    def label(self, off):
        if not self.masked[:off].strip():
            return "file header"
        a, b = self._line_of(off)
        ident = TEST_IDENT_RE.search(self.masked[a:b])
        for start, end, name in self.functions:
            if start <= off <= end:
                # In a test function, the function; in main() or a
                # registration function, the test named on the line.
                if ident and not TEST_IDENT_RE.fullmatch(name):
                    return ident.group(1)
                return name
        for lo, hi in self.blocks:
            if lo < off < hi:
                span = self._entry_span(off, lo, hi) or (a, b)
                entry = self.text[span[0]:span[1]]
                cid = CASE_ID_RE.search(entry)
                if cid:
                    return cid.group(1)
                ident = TEST_IDENT_RE.search(self.masked[span[0]:span[1]])
                if ident:
                    return ident.group(1)
                return None
        # A comment above a declaration names what it declares.
        rest = self.masked[b:]
        start = b + (len(rest) - len(rest.lstrip()))
        stmt = re.split(r"[;{=]", self.masked[start:start + 2000], maxsplit=1)[0]
        for m in re.finditer(r"([A-Za-z_]\w*)\s*\(", stmt):
            if m.group(1) not in C_KEYWORDS:
                return m.group(1)
        m = re.search(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)", stmt)
        if m:
            return m.group(1)
        return None


def py_label(text, off):
    defs = list(re.finditer(r"^\s*def\s+(\w+)", text[:off], re.M))
    return defs[-1].group(1) if defs else "module"



# ------------------------------------------------------------ the walk ----

def classify(rel):
    ext = os.path.splitext(rel)[1]
    parts = rel.split("/")
    if rel == OUTPUT:
        return None
    if parts[0] == "vectors" and ext == ".json":
        return "vector"
    if parts[0] == "conformance" and len(parts) > 2 and parts[1] == "harness" \
            and ext in C_EXTS:
        return "harness"
    if parts[0] in ("impl", "tests", "fuzz", "conformance") and ext in TEST_EXTS:
        if parts[0] == "impl" and parts[1] in ("src", "bin"):
            if "fault" in parts[-1] or ext not in C_EXTS:
                return "other"
            return "impl"
        if parts[0] == "impl" and parts[1] != "tests":
            return "other"
        return "test"
    return "other"


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and d != "__pycache__"
            and not (rel_dir == "." and d.startswith("build")))
        for name in sorted(filenames):
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            ext = os.path.splitext(name)[1]
            if ext not in TEXT_EXTS and name not in ("CMakeLists.txt",) \
                    and not rel.startswith("tools/"):
                continue
            path = os.path.join(dirpath, name)
            if os.path.getsize(path) > MAX_FILE_BYTES:
                continue
            with open(path, "rb") as f:
                data = f.read()
            if b"\0" in data:
                continue
            try:
                yield rel, data.decode("utf-8")
            except UnicodeDecodeError:
                continue


# A case table row: MACRO("case/id", TIER, "ID ID ...", ...
CASE_ROW_RE = re.compile(
    r'^\s*[A-Z][A-Z0-9_]*\(\s*"([a-z0-9][^"\s]*/[^"\s]*)"\s*,\s*[A-Za-z_]\w*\s*,\s*"([^"]*)"',
    re.M)


def case_rows(text):
    """(case id, [requirement IDs]) of every case table row in text."""
    for m in CASE_ROW_RE.finditer(text):
        yield m.group(1), m.group(2).split()


def line_no(text, off):
    return text.count("\n", 0, off) + 1


def vector_entries(node):
    """(vector id, [requirement ids]) for every object with "requirements"."""
    if isinstance(node, dict):
        reqs = node.get("requirements")
        if isinstance(reqs, list):
            vid = node.get("id", node.get("tcId", "?"))
            yield str(vid), [r for r in reqs if isinstance(r, str)]
        for v in node.values():
            yield from vector_entries(v)
    elif isinstance(node, list):
        for v in node:
            yield from vector_entries(v)


def collect(root, reqs, problems):
    known = set(reqs)
    prefixes = set(KNOWN_PREFIXES) | {r.split("-")[0] for r in reqs}
    regex = citation_re(prefixes)
    for rel, text in walk(root):
        kind = classify(rel)
        if kind is None:
            continue
        model = None
        for off, rid, must_exist in find_citations(text, regex, known):
            if rid not in known:
                if must_exist:
                    problems.cite_unknown(rid, "%s:%d" % (rel, line_no(text, off)))
                continue
            req = reqs[rid]
            if kind == "impl":
                req.impl[rel] = None
            elif kind in ("test", "harness"):
                if rel.endswith(".py"):
                    label = py_label(text, off)
                elif rel.endswith((".c", ".h")):
                    model = model or CModel(text)
                    label = model.label(off)
                else:
                    label = None
                label = label or "line %d" % line_no(text, off)
                table = req.tests if kind == "test" else req.harness
                table.setdefault(rel, OrderedDict())[label] = None
        if kind == "harness":
            for cid, ids in case_rows(text):
                for rid in ids:
                    if rid in known:
                        reqs[rid].case_rows.add(cid)
        if kind == "vector":
            try:
                doc = json.loads(text)
            except ValueError as e:
                problems.spec.append("%s: not valid JSON (%s)" % (rel, e))
                continue
            for vid, ids in vector_entries(doc):
                for rid in ids:
                    if rid in known:
                        if vid not in reqs[rid].vectors:
                            reqs[rid].vectors.append(vid)
                    elif not regex.fullmatch(rid):
                        # Not shaped like an ID, so the text scan missed it.
                        problems.cite_unknown(rid, "%s (%s)" % (rel, vid))


# -------------------------------------------------------------- output ----

def cell_impl(req):
    files = list(req.impl)
    if not files:
        return "—"
    shown = ["`%s`" % f for f in files[:SHOW_IMPL]]
    if len(files) > SHOW_IMPL:
        shown.append("+%d more" % (len(files) - SHOW_IMPL))
    return "<br>".join(shown)


def cell_vectors(req):
    if not req.vectors:
        return "—"
    text = "%d: %s" % (len(req.vectors),
                       ", ".join("`%s`" % v for v in req.vectors[:SHOW_VECTORS]))
    if len(req.vectors) > SHOW_VECTORS:
        text += ", …"
    return text


def cell_checks(table):
    if not table:
        return "—"
    out = []
    for path, labels in table.items():
        names = list(labels)
        shown = ", ".join("`%s`" % l for l in names[:SHOW_TESTS])
        if len(names) > SHOW_TESTS:
            shown += " +%d more" % (len(names) - SHOW_TESTS)
        out.append("`%s`: %s" % (path, shown))
    return "<br>".join(out)


def render(reqs, problems):
    total = len(reqs)
    checked = sum(1 for r in reqs.values() if r.checked())
    implemented = sum(1 for r in reqs.values() if r.impl)
    core_must = [r for r in reqs.values() if r.tier == "core" and r.level == "MUST"]
    gaps_fatal = [r for r in core_must if not r.checked()]
    gaps_other = [r for r in reqs.values()
                  if not r.checked() and r not in gaps_fatal]

    o = []
    o.append("# Requirement traceability")
    o.append("")
    o.append("Generated by `tools/trace/trace.py` from the requirement headers in")
    o.append("`spec/*.md` and the citations in the repository. Do not edit: run")
    o.append("`python3 tools/trace/trace.py` to regenerate, `--check` to verify")
    o.append("(see `tools/trace/README.md` for what counts as a citation).")
    o.append("")
    o.append("## Summary")
    o.append("")
    o.append("| | Requirements | Checked | Implemented (cited in code) |")
    o.append("|---|---|---|---|")
    for doc in sorted({r.doc for r in reqs.values()}, key=doc_key):
        rs = [r for r in reqs.values() if r.doc == doc]
        o.append("| [%s](%s) | %d | %d | %d |" % (
            doc, doc, len(rs), sum(1 for r in rs if r.checked()),
            sum(1 for r in rs if r.impl)))
    o.append("| **all** | %d | %d | %d |" % (total, checked, implemented))
    o.append("")
    o.append("Core MUST requirements: %d, of which without any check: %d." % (
        len(core_must), len(gaps_fatal)))
    o.append("")
    o.append("\"Case rows\" counts the harness case table rows (conformance/harness/")
    o.append("cases_*.c) whose requirement list names the ID: its boundary and")
    o.append("equivalence-class cases, as designed beside each table.")
    o.append("")
    o.append("## Requirements")
    o.append("")
    o.append("| ID | Level | Tier | Document | Implemented in | Vectors | Tests | Harness cases "
             "| Case rows |")
    o.append("|---|---|---|---|---|---|---|---|---|")
    for r in reqs.values():
        o.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
            r.id, r.level, r.tier, r.doc, cell_impl(r), cell_vectors(r),
            cell_checks(r.tests), cell_checks(r.harness), len(r.case_rows)))
    o.append("")
    o.append("## Gaps")
    o.append("")
    o.append("Requirements with no check (no vector, test or harness case).")
    o.append("")
    if not gaps_fatal and not gaps_other:
        o.append("None.")
    if gaps_fatal:
        o.append("Core MUST (these fail `trace.py --check`):")
        o.append("")
        for r in gaps_fatal:
            o.append("- %s (%s%s)" % (r.id, r.doc,
                                      "" if r.impl else ", not cited in code either"))
        o.append("")
    if gaps_other:
        o.append("Other levels and tiers:")
        o.append("")
        for r in gaps_other:
            o.append("- %s · %s · %s (%s%s)" % (
                r.id, r.level, r.tier, r.doc,
                "" if r.impl else ", not cited in code either"))
        o.append("")
    if problems.unknown:
        o.append("## Citations of IDs that spec/ does not define")
        o.append("")
        for rid, wheres in problems.unknown.items():
            o.append("- %s: %s" % (rid, ", ".join("`%s`" % w for w in wheres)))
        o.append("")
    return "\n".join(o).rstrip("\n") + "\n"


# ---------------------------------------------------------------- main ----

def default_root():
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", ".."))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Write spec/traceability.md from the requirement headers in "
                    "spec/*.md and the ID citations in code, tests, vectors and "
                    "harness cases.",
        epilog="Exit status: 0 ok; 1 --check found a problem; 2 usage or I/O error.")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a core MUST has no check, "
                         "spec/traceability.md is out of date, an unknown ID is "
                         "cited, or a requirement header is malformed/duplicated")
    ap.add_argument("--root", default=default_root(),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="print nothing but problems")
    args = ap.parse_args(argv)

    root = os.path.abspath(args.root)
    if not os.path.isdir(os.path.join(root, "spec")):
        print("trace: %s has no spec/ directory" % root, file=sys.stderr)
        return 2
    problems = Problems()
    reqs = read_spec(root, problems)
    collect(root, reqs, problems)
    text = render(reqs, problems)
    out_path = os.path.join(root, OUTPUT)

    gaps = [r for r in reqs.values()
            if r.tier == "core" and r.level == "MUST" and not r.checked()]
    if not args.quiet:
        print("trace: %d requirements in spec/, %d checked, %d cited in code" % (
            len(reqs), sum(1 for r in reqs.values() if r.checked()),
            sum(1 for r in reqs.values() if r.impl)))

    if not args.check:
        with open(out_path, "w", encoding="utf-8") as f:
            f.write(text)
        if not args.quiet:
            print("trace: wrote %s (%d core MUST without a check)" % (OUTPUT, len(gaps)))
        return 0

    failed = False
    for p in problems.spec:
        print("trace: spec: %s" % p)
        failed = True
    for rid, wheres in problems.unknown.items():
        print("trace: unknown ID %s cited at %s" % (rid, ", ".join(wheres)))
        failed = True
    for r in gaps:
        print("trace: gap: %s (%s, core MUST) has no vector, test or harness case"
              % (r.id, r.doc))
        failed = True
    try:
        with open(out_path, encoding="utf-8") as f:
            current = f.read()
    except OSError:
        current = None
    if current != text:
        print("trace: %s is %s; run python3 tools/trace/trace.py" % (
            OUTPUT, "missing" if current is None else "out of date"))
        failed = True
    if not failed and not args.quiet:
        print("trace: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
