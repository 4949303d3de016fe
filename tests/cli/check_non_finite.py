#!/usr/bin/env python3
"""Every number option of every command refuses nan, inf and -inf with a usage error naming it.

  check_non_finite.py SEGEARTH

The options are read from --json-usage, so an option added later is checked too.
"""
import concurrent.futures
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import make_options_doc  # noqa: E402

# The least each command needs to reach its option checks (nothing is read: they fail first).
BASE = {
    "segment": ["in.tif", "out.tif", "--classes", "a;b"],
    "vectorize": ["classes.tif", "out.gpkg"],
    "train": ["--images", "tiles", "--out", "up.safetensors"],
    "eval-dataset": ["--images", "images", "--labels", "labels", "--preset", "openearthmap"],
}


def cases(binary):
    """(label, argv) for every number option of every command and every non-finite value."""
    for command in make_options_doc.commands(binary):
        usage = json.loads(subprocess.run([binary, command, "--json-usage"], check=True, capture_output=True,
                                          text=True).stdout)
        for option in usage["options"]:
            if option["type"] not in ("number", "number_list"):
                continue
            if command not in BASE:
                raise SystemExit(f"FAIL: {command} has number options: give it a BASE entry")
            base = BASE[command]
            for value in ("nan", "inf", "-inf"):
                values = [value] * max(1, option["values_per_use"])
                yield (command, option["flag"], value), [binary, command, *base, "-q", option["flag"], *values]


def main():
    binary = sys.argv[1]
    all_cases = list(cases(binary))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: subprocess.run(c[1], capture_output=True, text=True), all_cases))
    failures = []
    for ((command, flag, value), _), r in zip(all_cases, results):
        if r.returncode != 2 or "give a finite number" not in r.stderr or flag not in r.stderr:
            failures.append(f"{command} {flag} {value}: exit {r.returncode}, {r.stderr.strip()!r}")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(all_cases)} non-finite values tried, {len(failures)} failures")
    return 1 if failures or not all_cases else 0


if __name__ == "__main__":
    sys.exit(main())
