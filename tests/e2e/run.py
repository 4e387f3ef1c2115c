#!/usr/bin/env python3
"""Runs Fulcrum's end-to-end tests (tests/e2e/test_*.py) with unittest.

    python3 tests/e2e/run.py                         every test
    python3 tests/e2e/run.py test_inbound_basic      one module
    python3 tests/e2e/run.py test_cancel.CancelTest.test_cancel_during_webhook
    python3 tests/e2e/run.py -k reject               tests whose id contains "reject"

Prints one line per test and ends with the line "N passed, N failed" (plus
", N skipped" when any were skipped). Exit status 0 only when nothing failed.
Logs of every stack: build/e2e-logs/<module>.<Class>/.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TestResult):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.passed = 0
        self.failed = 0
        self.skipped_n = 0
        self._t = {}
        self._reported = set()
        self._sub_failed = set()

    def _line(self, test, word, extra=""):
        self._reported.add(test.id())
        dt = time.monotonic() - self._t.get(test.id(), time.monotonic())
        self.stream.write("%-5s %s (%.1fs)%s\n" % (word, test.id(), dt, extra))
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self._t[test.id()] = time.monotonic()

    def stopTest(self, test):
        # A test whose subtests failed gets neither addSuccess nor addFailure.
        if test.id() in self._sub_failed and test.id() not in self._reported:
            self.failed += 1
            self._line(test, "FAIL", " (subtests)")
        super().stopTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(test, "PASS")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed += 1
        self._line(test, "FAIL")
        self.stream.write(self._indent(self.failures[-1][1]))

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass/tearDownClass errors arrive with a _ErrorHolder "test".
        self.failed += 1
        self._line(test, "ERROR")
        self.stream.write(self._indent(self.errors[-1][1]))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_n += 1
        self._line(test, "SKIP", " — " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line(test, "PASS", " (expected failure)")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1
        self._line(test, "FAIL", " (unexpected success)")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._sub_failed.add(test.id())
            self.stream.write("      subtest %s failed:\n%s" % (subtest._subDescription(),
                                                              self._indent(self._exc_info_to_string(err, test))))

    @staticmethod
    def _indent(text):
        return "".join("      " + l + "\n" for l in text.rstrip().splitlines())


def load(names, pattern):
    loader = unittest.TestLoader()
    if not names:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    else:
        suite = unittest.TestSuite()
        for n in names:
            n = n[:-3] if n.endswith(".py") else n
            n = os.path.basename(n) if "/" in n else n
            suite.addTests(loader.loadTestsFromName(n))
    if pattern:
        def flat(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    yield from flat(t)
                else:
                    yield t
        # Keep class grouping (shared stacks) by rebuilding in order.
        suite = unittest.TestSuite([t for t in flat(suite) if pattern in t.id()])
    return suite


def main():
    ap = argparse.ArgumentParser(description="Fulcrum end-to-end tests")
    ap.add_argument("names", nargs="*", help="test modules, classes or methods (default: all)")
    ap.add_argument("-k", dest="pattern", help="only tests whose id contains this string")
    args = ap.parse_args()

    os.chdir(os.path.dirname(os.path.dirname(HERE)))
    try:
        suite = load(args.names, args.pattern)
    except (ImportError, AttributeError) as e:
        print("cannot load tests: %s" % e)
        print("0 passed, 1 failed")
        return 1
    total = suite.countTestCases()
    print("e2e: %d test(s)" % total, flush=True)
    result = Result(sys.stdout)
    t0 = time.monotonic()
    try:
        suite.run(result)
    except KeyboardInterrupt:
        print("interrupted")
    # Tests that never reported (interrupted run) count as failed.
    missing = total - (result.passed + result.failed + result.skipped_n)
    if missing > 0:
        print("%d test(s) did not run to completion" % missing)
        result.failed += missing
    print("e2e: %.1fs" % (time.monotonic() - t0))
    line = "%d passed, %d failed" % (result.passed, result.failed)
    if result.skipped_n:
        line += ", %d skipped" % result.skipped_n
    print(line, flush=True)
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
