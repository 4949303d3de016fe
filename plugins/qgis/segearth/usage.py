"""segearth's --json-usage as Processing parameters, and parameter values back into a command line.

The one place that maps segearth's option declarations to QGIS's: every algorithm of the provider is
made from what `segearth COMMAND --json-usage` prints, so no option is declared twice. Plain Python
(no QGIS import), so that the rules are unit-tested on their own.
"""

import json
import os
import re
import subprocess

# segearth's commands offered as algorithms.
COMMANDS = ("segment", "vectorize", "train", "eval", "eval-dataset", "merge")

# Options that QGIS does itself or that make no sense in a dialog: QGIS asks before it replaces a
# file (the provider always passes --overwrite), has its own batch processing, and runs one
# process, not an array job.
HIDDEN = {"overwrite", "shard", "shards", "inputs", "output-dir", "output-name", "fail-fast", "summary",
          "scene-shards"}

# The groups shown outside "Advanced parameters": a command's first group and its classes.
BASIC_GROUPS = {"Classes"}

PROGRESS_LINE = re.compile(r"^segearth progress ([0-9.]+)$")


class UsageError(Exception):
    """segearth could not be asked for its options."""


def parameter_name(option_name):
    """QGIS's convention: the long name upper-cased, dashes as underscores (--prob-threshold: PROB_THRESHOLD)."""
    return option_name.upper().replace("-", "_")


def read_usage(executable, command, timeout=60):
    """`segearth COMMAND --json-usage`, parsed. Raises UsageError with what went wrong."""
    try:
        done = subprocess.run([executable, command, "--json-usage"], capture_output=True, text=True, timeout=timeout)
    except OSError as e:
        raise UsageError("cannot run {}: {}".format(executable, e.strerror or e))
    except subprocess.TimeoutExpired:
        raise UsageError("{} {} --json-usage did not answer within {} s".format(executable, command, timeout))
    if done.returncode != 0:
        raise UsageError("{} {} --json-usage failed: {}".format(executable, command, done.stderr.strip()))
    try:
        return json.loads(done.stdout)
    except ValueError as e:
        raise UsageError("{} {} --json-usage printed no JSON ({})".format(executable, command, e))


def snapshot_path(command):
    """The usage the plugin was installed with (usage/COMMAND.json beside this file), for when the
    executable is not found: the algorithms still show, and running one says what is missing."""
    return os.path.join(os.path.dirname(__file__), "usage", command + ".json")


def read_snapshot(command):
    try:
        with open(snapshot_path(command), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Parameter:
    """One Processing parameter made from one segearth option."""

    def __init__(self, option, kind, positional, advanced):
        self.option = option
        self.name = parameter_name(option["name"])
        self.kind = kind
        self.positional = positional
        self.advanced = advanced
        self.optional = not option.get("required", False)

    @property
    def flag(self):
        return self.option["flag"]

    @property
    def default(self):
        return self.option.get("default")

    @property
    def description(self):
        return self.option.get("description", "")

    @property
    def choices(self):
        return self.option.get("choices", [])

    def file_filter(self):
        """A file dialog filter from the value's name (OUT.gpkg, FILE.png, FILE.csv, ...)."""
        metavar = self.option.get("metavar", "")
        match = re.search(r"\.([A-Za-z0-9]+)$", metavar)
        if self.kind == "vector_out":
            return "GeoPackage (*.gpkg);;GeoJSON (*.geojson);;FlatGeobuf (*.fgb);;ESRI Shapefile (*.shp)"
        if match:
            ext = match.group(1).lower()
            return "{} files (*.{})".format(ext.upper(), ext)
        return "All files (*.*)"


def parameter_kind(option):
    """What widget an option becomes, from its type, its path role and what the path names."""
    t = option["type"]
    if option.get("input") or option.get("output"):
        direction = "in" if option.get("input") else "out"
        kind = option.get("file_kind", "file")
        if "|" in option.get("metavar", "") and direction == "in":
            return "text"  # PATH|bilinear|none: a path or a word
        if t == "string_list":
            return "raster_list_in" if kind == "raster" and direction == "in" else "text_list"
        return kind + "_" + direction
    if t == "boolean":
        return "boolean"
    if t in ("integer", "number"):
        return t
    if t == "string" and option.get("choices"):
        return "enum"
    if t == "integer_list":
        return "integer_list"
    if t == "number_list":
        return "number_groups"
    if t == "string_list":
        return "text_list"
    return "text"


def parameters(usage):
    """The Processing parameters of a command: positionals first, in order, then its options."""
    out = []
    for option in usage.get("input_output_arguments", []):
        out.append(Parameter(option, parameter_kind(option), True, False))
    options = [o for o in usage.get("options", []) if o["name"] not in HIDDEN]
    first_group = options[0]["group"] if options else ""
    for option in options:
        advanced = option["group"] != first_group and option["group"] not in BASIC_GROUPS
        out.append(Parameter(option, parameter_kind(option), False, advanced))
    return out


def number_text(value, kind):
    if kind == "integer":
        return str(int(value))
    return repr(float(value))


def split_list(text, separators):
    return [item.strip() for item in re.split(separators, text or "") if item.strip()]


def option_arguments(p, value):
    """The words an option adds to the command line for `value` (None: not set)."""
    if value is None or value == "" or value == []:
        return []
    k = p.kind
    if k == "boolean":
        return [p.flag] if value else []
    if k in ("integer", "number"):
        if p.default is not None and float(value) == float(p.default):
            return []
        return [p.flag, number_text(value, k)]
    if k == "enum":
        choice = p.choices[int(value)] if not isinstance(value, str) else value
        return [] if choice == p.default else [p.flag, choice]
    if k == "raster_list_in":
        items = list(value)
        if p.option.get("values_per_use", 1) == 0:
            return [p.flag] + items
        return [word for item in items for word in (p.flag, item)]
    if k == "text_list":
        return [word for item in split_list(value, r";") for word in (p.flag, item)]
    if k == "integer_list":
        return [word for item in split_list(value, r"[,;\s]+") for word in (p.flag, str(int(item)))]
    if k == "number_groups":
        n = p.option.get("values_per_use", 1)
        words = []
        for group in split_list(value, r";"):
            numbers = group.replace(",", " ").split()
            if len(numbers) != n:
                raise ValueError("{}: give {} numbers ({}), not '{}'".format(p.name, n, p.option.get("metavar"), group))
            words += [p.flag] + [number_text(float(x), "number") for x in numbers]
        return words
    if isinstance(p.default, str) and str(value) == p.default:
        return []  # the dialog shows the default; segearth uses it unasked
    return [p.flag, str(value)]


def command_line(executable, command, usage, values, extra=()):
    """[executable, command, positionals..., options...] + extra, from `values` (parameter name:
    value as option_arguments takes it). Raises ValueError for a missing positional."""
    words = [executable, command]
    positional = []
    for p in parameters(usage):
        value = values.get(p.name)
        if p.positional:
            if value in (None, ""):
                raise ValueError("{} is required".format(p.name))
            positional.append(str(value))
        else:
            words += option_arguments(p, value)
    return words[:2] + positional + words[2:] + list(extra)


def progress_fraction(line):
    """The fraction in a `--progress-lines` line, or None for another line."""
    match = PROGRESS_LINE.match(line.strip())
    return float(match.group(1)) if match else None
