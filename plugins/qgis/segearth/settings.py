"""The provider's settings (Processing > Options > Providers > segearth): the executable, and the
defaults used where a dialog leaves CLIP, upsampler, threads or device empty."""

import os
import shutil

from processing.core.ProcessingConfig import ProcessingConfig, Setting

GROUP = "segearth"
EXECUTABLE = "SEGEARTH_EXECUTABLE"
# Setting name -> the segearth option it fills when the dialog leaves it empty.
DEFAULTS = {"SEGEARTH_CLIP": "clip", "SEGEARTH_UPSAMPLER": "upsampler", "SEGEARTH_THREADS": "threads",
            "SEGEARTH_DEVICE": "device"}


def installed_executable():
    """Where cmake --install put segearth when it installed this plugin ("" for a plugin from a zip)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), "installed_executable.txt"), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def register():
    # The executable's default: $SEGEARTH_EXECUTABLE, else segearth on PATH, else where it was installed.
    found = os.environ.get(EXECUTABLE) or shutil.which("segearth") or installed_executable()
    ProcessingConfig.addSetting(Setting(GROUP, EXECUTABLE, "segearth executable", found, valuetype=Setting.FILE))
    ProcessingConfig.addSetting(Setting(GROUP, "SEGEARTH_CLIP", "CLIP weights (ViT-B-16.pt or a state dict)",
                                        os.environ.get("SEGEARTH_CLIP", ""), valuetype=Setting.FILE))
    ProcessingConfig.addSetting(Setting(GROUP, "SEGEARTH_UPSAMPLER", "Upsampler weights (SimFeatUp .ckpt)",
                                        os.environ.get("SEGEARTH_UPSAMPLER", ""), valuetype=Setting.FILE))
    ProcessingConfig.addSetting(Setting(GROUP, "SEGEARTH_THREADS", "CPU threads (0: all cores)", 0))
    ProcessingConfig.addSetting(Setting(GROUP, "SEGEARTH_DEVICE", "Device (auto, cpu, cuda, cuda:N)", "auto"))
    ProcessingConfig.readSettings()


def unregister():
    for name in [EXECUTABLE] + list(DEFAULTS):
        ProcessingConfig.removeSetting(name)


def executable():
    """The configured executable if it can be run, else None."""
    path = ProcessingConfig.getSetting(EXECUTABLE) or ""
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(path) if path and os.sep not in path else None


def missing_executable_message():
    path = ProcessingConfig.getSetting(EXECUTABLE) or ""
    where = "'{}' is not an executable file".format(path) if path else "segearth is not on PATH"
    return ("the segearth executable was not found ({}): install segearth (see its README), or set its path in "
            "Processing > Options > Providers > segearth > segearth executable".format(where))


def defaults():
    """segearth option -> the setting's value, for the options a dialog leaves empty (0 and auto are
    segearth's own defaults: not passed)."""
    out = {}
    for name, option in DEFAULTS.items():
        value = ProcessingConfig.getSetting(name)
        if value not in (None, "", 0, "0", "auto"):
            out[option] = str(value)
    return out
