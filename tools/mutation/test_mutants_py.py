#!/usr/bin/env python3
"""Self-test of tools/mutation/mutants.py (ctest mutants_py): the mutants
file format, the exact-block rule that makes a stale mutant fail loudly, the
generator's operator classes and its determinism."""
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutants  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SOURCE = """int f(int a, int b)
{
    if (a < b)
        return 1;
    if (a == 0)
        return 2;
    return a + 3;
}
"""


class Tree:
    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        with open(os.path.join(self.dir.name, "f.c"), "w") as f:
            f.write(SOURCE)
        return self.dir.name

    def __exit__(self, *exc):
        self.dir.cleanup()


class MutantsFile(unittest.TestCase):
    def test_parse_and_apply(self):
        ms = mutants.parse("# c\nmutant m1\ncatch a/b c/d root\nedit f.c\n-    if (a < b)\n"
                           "+    if (a <= b)\n")
        self.assertEqual([m.name for m in ms], ["m1"])
        self.assertEqual(ms[0].cases, ["a/b", "c/d"])
        self.assertTrue(ms[0].root)
        with Tree() as d:
            (orig, text), = mutants.apply(ms[0], d).values()
            self.assertEqual(text, SOURCE.replace("a < b", "a <= b"))
            self.assertIn("-    if (a < b)", mutants.unified_diff(ms[0], d))

    def test_block_must_match_once(self):
        ms = mutants.parse("mutant m\nedit f.c\n-        return 9;\n+        return 1;\n"
                           "mutant n\nedit f.c\n-    return a + 3;\n+    return a;\n")
        with Tree() as d:
            with self.assertRaisesRegex(mutants.MutantError, "occurs 0 times"):
                mutants.apply(ms[0], d)
            mutants.apply(ms[1], d)

    def test_line_pin(self):
        ms = mutants.parse("mutant m\nedit f.c:5\n-    if (a == 0)\n+    if (a != 0)\n"
                           "mutant n\nedit f.c:4\n-    if (a == 0)\n+    if (a != 0)\n")
        with Tree() as d:
            mutants.apply(ms[0], d)
            with self.assertRaises(mutants.MutantError):
                mutants.apply(ms[1], d)

    def test_bad_files(self):
        for text in ("edit f.c\n", "mutant A\n", "mutant m\nmutant m\n", "mutant m\ncatch x\n",
                     "mutant m\nfrobnicate\n"):
            with self.assertRaises(mutants.MutantError, msg=text):
                mutants.parse(text)


class Generator(unittest.TestCase):
    def test_classes_on_a_small_file(self):
        with Tree() as d:
            names = [n for n, _ in mutants.generate(d, None, None, ["f.c"])]
        for cls in ("relational", "arithmetic", "constant", "negated-condition",
                    "swapped-checks"):
            self.assertTrue(any(f"-{cls}-" in n for n in names), cls)

    def test_every_generated_mutant_applies(self):
        items = mutants.generate(ROOT, None, None)
        self.assertGreater(len(items), 100)
        ms = mutants.parse(mutants.format_generated(items))
        self.assertEqual(len(ms), len(items))
        for m in ms:
            (orig, text), = mutants.apply(m, ROOT).values()
            self.assertNotEqual(orig, text, m.name)

    def test_sample_is_deterministic(self):
        a = mutants.generate(ROOT, random.Random(7), 5)
        b = mutants.generate(ROOT, random.Random(7), 5)
        self.assertEqual([n for n, _ in a], [n for n, _ in b])
        self.assertEqual(len(a), 5)


if __name__ == "__main__":
    unittest.main()
