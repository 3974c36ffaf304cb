#!/usr/bin/env python3
"""Self-test of tools/trace/trace.py on a small synthetic repository.

IDs that must not exist in the real spec/ are assembled at run time, so that
trace.py scanning this file in the real repository finds no unknown ID.
"""

import contextlib
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import unittest

# Loaded by path: the stdlib has a module called trace too.
_spec = importlib.util.spec_from_file_location(
    "rpb_trace", os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace.py"))
tr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tr)

BOGUS = "WIRE-" + "0" + "99"

SPEC = """# Test spec

**FRAME-001** · MUST · core

Framing byte.

**FRAME-002** · SHOULD · strict

Something optional.

**WIRE-001** · MUST · core

Body.

**WIRE-002** · MUST · core

Keys.
"""

IMPL = """/* FRAME-001: checked here */
int rpb_x(void) { return 1; }
"""

TEST_C = """/*
 * test_a.c - fixture (FRAME-001..002).
 */
#include <stdio.h>

static void test_one(void) /* FRAME-001 */
{
    printf("{\\"braces\\": \\"} in a string\\"}\\n");
}

/* WIRE-001: comment above the function */
static void test_two(void)
{
}

int main(void)
{
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"one (FRAME-001)", test_one},
        {"two (WIRE-001/002)", test_two},
    };
    (void)tests;
    return 0;
}
"""

HARNESS = """struct kase { const char *id; const char *reqs; void (*fn)(void); };
static void case_a(void) {}
static const struct kase cases[] = {
    {"wire/frame/byte", "FRAME-001", case_a},
    {
        .id = "wire/body/empty",
        .reqs = "WIRE-001",
        .fn = case_a,
    },
};
"""

VECTORS = """{"groups": [{"id": "g", "tests": [
  {"id": "frame/byte/02", "requirements": ["FRAME-001"], "input": "02"},
  {"id": "body/empty", "requirements": ["WIRE-001", "WIRE-002"], "input": ""}
]}]}
"""


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def run(root, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = tr.main(["--root", root] + list(args))
    return rc, out.getvalue()


class TraceTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="trace-test-")
        write(self.root, "spec/wire.md", SPEC)
        write(self.root, "impl/src/core/x.c", IMPL)
        write(self.root, "impl/tests/test_a.c", TEST_C)
        write(self.root, "conformance/harness/cases.c", HARNESS)
        write(self.root, "vectors/v.json", VECTORS)

    def tearDown(self):
        shutil.rmtree(self.root)

    def table_row(self, rid):
        with open(os.path.join(self.root, tr.OUTPUT), encoding="utf-8") as f:
            for line in f:
                if line.startswith("| %s |" % rid):
                    return line
        self.fail("no row for %s" % rid)

    def test_header_format_and_order(self):
        problems = tr.Problems()
        reqs = tr.read_spec(self.root, problems)
        self.assertEqual(list(reqs), ["FRAME-001", "FRAME-002", "WIRE-001", "WIRE-002"])
        self.assertEqual((reqs["FRAME-002"].level, reqs["FRAME-002"].tier), ("SHOULD", "strict"))
        self.assertEqual(problems.spec, [])

    def test_malformed_and_duplicate_headers_fail_check(self):
        write(self.root, "spec/envelope.md",
              "**ENV-001** - MUST - core\n\nbad separators\n\n"
              "**WIRE-001** · MUST · core\n\nduplicate\n")
        run(self.root)
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 1)
        self.assertIn("malformed requirement header", out)
        self.assertIn("WIRE-001 is already defined", out)

    def test_attribution(self):
        rc, _ = run(self.root)
        self.assertEqual(rc, 0)
        row = self.table_row("FRAME-001")
        self.assertIn("`impl/src/core/x.c`", row)
        self.assertIn("1: `frame/byte/02`", row)
        self.assertIn("`test_one`", row)
        self.assertIn("`file header`", row)
        self.assertIn("`wire/frame/byte`", row)
        row = self.table_row("WIRE-001")
        self.assertIn("`test_two`", row)            # comment above the function
        self.assertIn("`wire/body/empty`", row)     # multi-line case entry
        self.assertIn("1: `body/empty`", row)
        # WIRE-001/002 on the registration line names the test, not main().
        self.assertIn("`test_two`", self.table_row("WIRE-002"))
        self.assertNotIn("`main`", self.table_row("WIRE-002"))
        # FRAME-001..002 in the file header expands to FRAME-002.
        self.assertIn("`file header`", self.table_row("FRAME-002"))

    def test_case_rows_counted_from_table_rows(self):
        write(self.root, "conformance/harness/cases_rows.c",
              'static const hcase rows[] = {\n'
              '    /* FRAME-001 design: a comment is no row */\n'
              '    MUTATE("broker/x/a", CORE, "FRAME-001 WIRE-002", NULL, NEGOTIATES),\n'
              '    ROW_WORD("broker/x/b", STRICT, "FRAME-001", "t", fn, "w"),\n'
              '    ROW("broker/x/b", STRICT, "FRAME-001", "the same id again", fn),\n'
              '};\n')
        run(self.root)
        self.assertTrue(self.table_row("FRAME-001").rstrip().endswith("| 2 |"))
        self.assertTrue(self.table_row("WIRE-002").rstrip().endswith("| 1 |"))
        self.assertTrue(self.table_row("FRAME-002").rstrip().endswith("| 0 |"))

    def test_check_passes_when_up_to_date(self):
        run(self.root)
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 0, out)
        self.assertIn("trace: ok", out)

    def test_check_fails_when_out_of_date(self):
        run(self.root)
        write(self.root, "impl/src/core/y.c", "/* WIRE-002 */\n")
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 1)
        self.assertIn("out of date", out)

    def test_check_fails_on_core_must_gap_only(self):
        write(self.root, "spec/wire.md", SPEC + "\n**WIRE-003** · MUST · core\n\nx\n"
              "\n**WIRE-004** · SHOULD · core\n\ny\n")
        run(self.root)
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 1)
        self.assertIn("gap: WIRE-003", out)
        self.assertNotIn("gap: WIRE-004", out)
        with open(os.path.join(self.root, tr.OUTPUT), encoding="utf-8") as f:
            text = f.read()
        self.assertIn("- WIRE-003 (wire.md, not cited in code either)", text)
        self.assertIn("- WIRE-004 · SHOULD · core", text)

    def test_unknown_id_is_reported_anywhere(self):
        write(self.root, "tools/gen.py", "# emits %s\n" % BOGUS)
        write(self.root, "vectors/w.json",
              '{"tests": [{"id": "t", "requirements": ["wire-1"]}]}\n')
        run(self.root)
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 1)
        self.assertIn("unknown ID %s cited at tools/gen.py:1" % BOGUS, out)
        self.assertIn("unknown ID wire-1 cited at vectors/w.json (t)", out)

    def test_range_interior_only_counts_defined_ids(self):
        # WIRE-003 inside WIRE-001..WIRE-004 is undefined: not a typo, and
        # not counted; the defined interior WIRE-002 is counted.
        write(self.root, "spec/wire.md", SPEC + "\n**WIRE-004** · MAY · strict\n\nz\n")
        write(self.root, "impl/src/core/z.c", "/* WIRE-001..WIRE-004 */\n")
        run(self.root)
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 0, out)
        self.assertIn("`impl/src/core/z.c`", self.table_row("WIRE-002"))
        self.assertIn("`impl/src/core/z.c`", self.table_row("WIRE-004"))
        # An undefined endpoint is reported.
        write(self.root, "impl/src/core/z.c", "/* WIRE-001..WIRE-003 */\n")
        rc, out = run(self.root, "--check")
        self.assertEqual(rc, 1)
        self.assertIn("unknown ID WIRE-003 cited at impl/src/core/z.c:1", out)

    def test_output_is_deterministic(self):
        run(self.root)
        with open(os.path.join(self.root, tr.OUTPUT), encoding="utf-8") as f:
            first = f.read()
        run(self.root)
        with open(os.path.join(self.root, tr.OUTPUT), encoding="utf-8") as f:
            self.assertEqual(first, f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
