#!/usr/bin/env python3
"""Runs a GoogleTest binary of the chaos suite; the tests that fail run once
more, alone, and decide.

The chaos tests inject faults into a live (mock or real) broker and check
exact outcomes; a rare one turns on timing no test controls (a CI run failed
once in some dozens with no failure line left to read). A test that fails
twice fails the suite. Every first failure is printed again at the end, with
its assertion messages, so that it is never hidden:

    chaos-retry: FAILED ONCE, passed on retry: Suite.Name
    chaos-retry:   <what the assertion said>

    retry_failed.py BINARY [gtest arguments...]
"""
import json
import os
import subprocess
import sys
import tempfile


def run(binary, args, report):
    cmd = [binary, *args, f"--gtest_output=json:{report}"]
    return subprocess.run(cmd).returncode


def failures(report):
    try:
        with open(report) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    out = {}
    for suite in data.get("testsuites", []):
        for test in suite.get("testsuite", []):
            if test.get("failures"):
                name = f"{suite['name']}.{test['name']}"
                out[name] = [f.get("failure", "") for f in test["failures"]]
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary, args = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        first = os.path.join(tmp, "first.json")
        rc = run(binary, args, first)
        if rc == 0:
            return 0
        failed = failures(first)
        if not failed:
            # A crash or an exit without a report: nothing to retry.
            print(f"chaos-retry: {binary} exited {rc} without naming a failed test", flush=True)
            return rc or 1
        print(f"chaos-retry: {len(failed)} failed, running them once more: {', '.join(failed)}", flush=True)
        second = os.path.join(tmp, "second.json")
        rc2 = run(binary, [*args, "--gtest_filter=" + ":".join(failed)], second)
        again = failures(second)
        for name, messages in failed.items():
            verdict = "FAILED TWICE" if again is None or name in again else "FAILED ONCE, passed on retry"
            print(f"chaos-retry: {verdict}: {name}", flush=True)
            for m in messages:
                for line in m.splitlines():
                    print(f"chaos-retry:   {line}", flush=True)
        return rc2


if __name__ == "__main__":
    sys.exit(main())
