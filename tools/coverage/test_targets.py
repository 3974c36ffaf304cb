#!/usr/bin/env python3
"""Self-test of tools/coverage/targets.py on a synthetic llvm-cov export
summary and text view (no build, no llvm needed)."""

import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest

_spec = importlib.util.spec_from_file_location(
    "rpb_cov_targets",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.py"))
tg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tg)

ROOT = "/src/rpb"


def summary(covered, count):
    return {"lines": {"covered": covered, "count": count},
            "branches": {"covered": 1, "count": 2}}


class TargetsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.files = {}
        for _, paths in tg.MODULES:
            for path in paths:
                self.set_file(path, 100, 100, "    1|      5|int x;\n")

    def tearDown(self):
        self.tmp.cleanup()

    def set_file(self, path, covered, count, text):
        self.files[path] = summary(covered, count)
        out = os.path.join(self.dir, "text", "coverage", ROOT.lstrip("/"),
                           "impl", "src", path + ".txt")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)

    def run_targets(self, *extra):
        export = {"data": [{"files": [
            {"filename": f"{ROOT}/impl/src/{p}", "summary": s}
            for p, s in self.files.items()]}]}
        path = os.path.join(self.dir, "summary.json")
        with open(path, "w") as f:
            json.dump(export, f)
        argv = ["targets.py", "--root", ROOT, *extra, path, os.path.join(self.dir, "text")]
        out = io.StringIO()
        old = sys.argv
        sys.argv = argv
        try:
            with contextlib.redirect_stdout(out):
                rc = tg.main()
        finally:
            sys.argv = old
        return rc, out.getvalue()

    def test_all_met(self):
        rc, out = self.run_targets("--check")
        self.assertEqual(rc, 0)
        self.assertIn("targets: all met", out)
        self.assertNotIn("uncovered lines", out)

    def test_missed_target_and_uncovered_lines(self):
        self.set_file("core/frame.c", 94, 100,
                      "    1|      0|a\n    2|      0|b\n    3|       |c\n"
                      "    4|  1.50k|d\n    7|      0|e\n")
        rc, out = self.run_targets()
        self.assertEqual(rc, 0)  # without --check only reported
        self.assertRegex(out, r"framing +core/frame.c +lines +94.00% \(94/100\).*NOT MET")
        self.assertIn("uncovered lines: 1-2, 7", out)
        self.assertIn("targets: 1 NOT MET", out)
        rc, _ = self.run_targets("--check")
        self.assertEqual(rc, 1)

    def test_exactly_at_target_is_met(self):
        self.set_file("admin/admin.c", 95, 100, "    1|      0|x\n")
        rc, out = self.run_targets("--check")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"admin +admin/admin.c +lines +95.00% .* met")

    def test_missing_file_is_not_met(self):
        del self.files["core/envelope.c"]
        rc, out = self.run_targets("--check")
        self.assertEqual(rc, 1)
        self.assertIn("core/envelope.c", out)
        self.assertIn("no coverage data  NOT MET", out)


if __name__ == "__main__":
    unittest.main()
