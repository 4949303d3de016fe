#!/usr/bin/env python3
"""Checks each command's --json-usage against its --help and the documentation.

  check_usage.py SEGEARTH README.md docs/OPTIONS.md

- --json-usage is valid JSON, and lists exactly the options --help lists, with the same defaults;
- every "`--flag` (VALUE)" or "`--flag` (..., default VALUE)" in README.md gives the declared default;
- docs/OPTIONS.md is what tools/make_options_doc.py writes from --json-usage today.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import make_options_doc  # noqa: E402


def run(binary, *args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout


def help_entries(text):
    """flag -> default shown by --help (None when none), from the option lines and their continuations."""
    entries, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (?:-[\w], )?(--?[\w-]+)", line)
        if m:
            current = m.group(1)
            entries[current] = line
        elif current and line.startswith(" " * 8):
            entries[current] += " " + line.strip()
        else:
            current = None
    defaults = {}
    for flag, entry in entries.items():
        d = re.search(r"\[default: (.*?)\]$", " ".join(entry.split()))
        defaults[flag] = d.group(1) if d else None
    return defaults


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except ValueError:
        return str(a) == str(b)


def shown(option):
    d = option["default"]
    if d is None or option["type"] == "boolean":
        return None
    if isinstance(d, list):
        return " ".join(str(v) for v in d)
    return d


def main():
    binary, readme, options_doc = sys.argv[1:4]
    failures = []
    usages = {}
    listed = make_options_doc.commands(binary)
    for command in listed:
        usage = json.loads(run(binary, command, "--json-usage"))
        usages[command] = usage
        if usage["name"] != command:
            failures.append(f"{command}: --json-usage names itself {usage['name']}")
        from_help = help_entries(run(binary, command, "--help"))
        from_json = {o["flag"]: shown(o) for o in usage["options"]}
        if set(from_help) != set(from_json):
            failures.append(f"{command}: --help lists {sorted(set(from_help) - set(from_json))} that --json-usage "
                            f"lacks, --json-usage {sorted(set(from_json) - set(from_help))} that --help lacks")
        for flag, default in from_json.items():
            if flag in from_help and not same(from_help[flag], default):
                failures.append(f"{command} {flag}: --help says default {from_help[flag]}, --json-usage {default}")
    declared = {}
    for usage in usages.values():
        for o in usage["options"]:
            declared.setdefault(o["flag"], set()).add(json.dumps(o["default"]))
    text = open(readme, encoding="utf-8").read()
    checked = 0
    for m in re.finditer(r"`(--?[\w-]+)`\s*\((?:[^()`]*?default )?(-?[0-9][0-9.e-]*)\)", text):
        flag, value = m.group(1), m.group(2)
        checked += 1
        if flag not in declared:
            failures.append(f"README: {flag} ({value}) is no option of any command")
        elif not any(same(json.loads(d), value) for d in declared[flag]):
            failures.append(f"README: {flag} ({value}), but the declared default is {sorted(declared[flag])}")
    if checked == 0:
        failures.append("README: no '`--flag` (default)' found: the pattern or the README changed")
    expected = make_options_doc.render(usages[c] for c in listed)
    if open(options_doc, encoding="utf-8").read() != expected:
        failures.append(f"{options_doc} is out of date: run tools/make_options_doc.py {binary} > {options_doc}")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(listed)} commands, {sum(len(u['options']) for u in usages.values())} options, "
          f"{checked} README defaults checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
