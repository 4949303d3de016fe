"""The QGIS Processing provider (plugins/qgis/segearth) in a real headless QGIS: the parameters made
from --json-usage and the command lines they give, qgis_process listing and running the algorithms
(the class raster byte-identical to the CLI's, the legend exactly the classes), Cancel, and the
messages for a missing executable or weights file.

  python3 tests/qgis/test_qgis_provider.py SEGEARTH PLUGIN_FOLDER FIXTURES TILE
Exits 77 (skipped) where QGIS is not installed (tests/scripts/install-test-services.sh installs it).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # Debian's /usr/bin/qgis_process adds a flag 3.22 rejects
try:
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsRasterLayer
except ImportError:
    print("SKIPPED: python3-qgis is not installed")
    sys.exit(77)
if not os.access(QGIS_PROCESS, os.X_OK):
    print("SKIPPED: qgis is not installed")
    sys.exit(77)

SEGEARTH, PLUGINS, FIXTURES, TILE = sys.argv[1:5]
del sys.argv[1:5]
WORK = tempfile.mkdtemp(prefix="segearth-qgis.")
# QGIS keeps its settings and the enabled plugins in $HOME: a fresh one for these tests.
ENV = dict(os.environ, HOME=os.path.join(WORK, "home"), QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=PLUGINS,
           SEGEARTH_EXECUTABLE=SEGEARTH)
os.makedirs(ENV["HOME"])
os.environ.update(ENV)
sys.path.insert(0, PLUGINS)

APP = QgsApplication([], False)
APP.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")
from processing.core.Processing import Processing  # noqa: E402 (needs the application)
Processing.initialize()
from segearth import usage  # noqa: E402
from segearth.provider import SegearthProvider  # noqa: E402

PROVIDER = SegearthProvider()
QgsApplication.processingRegistry().addProvider(PROVIDER)

MODEL = ["--clip", os.path.join(FIXTURES, "tiny_clip.safetensors"), "--upsampler",
         os.path.join(FIXTURES, "upsampler.safetensors"), "--window", "64", "--stride", "32", "--text-cache", "-"]
CLASSES = "building,roof;road;tree;water"


class RecordingFeedback(QgsProcessingFeedback):
    """What an algorithm reports: QgsProcessingAlgorithm.run() turns an exception into a reported error."""

    def __init__(self):
        super().__init__()
        self.errors, self.progress = [], []
        self.progressChanged.connect(self.progress.append)

    def reportError(self, error, fatalError=False):  # noqa: N802, N803 (QGIS's names)
        self.errors.append(error)


def crop(name, *window):
    out = os.path.join(WORK, name)
    subprocess.run(["gdal_translate", "-q", "-srcwin", *map(str, window), TILE, out], check=True)
    return out


def qgis_process(*args, env=None):
    return subprocess.run([QGIS_PROCESS, *args], env=env or ENV, capture_output=True, text=True, timeout=600)


def algorithm(command):
    found = QgsApplication.processingRegistry().algorithmById("segearth:" + command)
    assert found is not None, "segearth:" + command
    return found


def command_of(command, parameters):
    """The command line an algorithm builds for these parameters (without running it)."""
    alg = algorithm(command).create()
    context = QgsProcessingContext()
    values = alg.values(parameters, context)
    return usage.command_line(SEGEARTH, command, alg.usage, values)[2:]


class Parameters(unittest.TestCase):
    def test_kinds_from_the_declarations(self):
        params = {p.name: p for p in usage.parameters(usage.read_usage(SEGEARTH, "segment"))}
        expected = {"INPUT": "raster_in", "OUTPUT": "raster_out", "PROBABILITIES": "raster_out",
                    "VECTOR": "vector_out", "QUICKLOOK": "file_out", "CLIP": "file_in", "UPSAMPLER": "text",
                    "CLASSES": "text", "PROB_THRESHOLD": "number", "WINDOW": "integer", "ATTENTION": "enum",
                    "BAND": "integer_list", "SCALE_RANGE": "number_groups", "CO": "text_list", "CLASSES_FILE": "file_in"}
        for name, kind in expected.items():
            self.assertEqual(params[name].kind, kind, name)
        for hidden in ("OVERWRITE", "SHARD", "INPUTS", "OUTPUT_DIR", "FAIL_FAST"):
            self.assertNotIn(hidden, params)
        self.assertFalse(params["CLASSES"].advanced)
        self.assertFalse(params["CLIP"].advanced)  # the first group
        self.assertTrue(params["WINDOW"].advanced)
        train = {p.name: p for p in usage.parameters(usage.read_usage(SEGEARTH, "train"))}
        self.assertEqual(train["IMAGES"].kind, "raster_list_in")
        self.assertEqual(train["PREVIEW_DIR"].kind, "folder_out")
        dataset = {p.name: p for p in usage.parameters(usage.read_usage(SEGEARTH, "eval-dataset"))}
        self.assertEqual(dataset["IMAGES"].kind, "folder_in")
        vectorize = {p.name: p for p in usage.parameters(usage.read_usage(SEGEARTH, "vectorize"))}
        self.assertEqual(vectorize["OUTPUT"].kind, "vector_out")
        self.assertEqual(vectorize["EIGHT"].kind, "boolean")

    def test_each_type_reaches_the_command_line(self):
        tile = crop("small.tif", 0, 0, 100, 80)
        words = command_of("segment", {
            "INPUT": tile, "OUTPUT": "/tmp/o.tif", "CLASSES": "a,b;c",  # raster layer, destination, text
            "PROB_THRESHOLD": 0.25, "WINDOW": 128, "STRIDE": 112,          # numbers (the default is left out)
            "ATTENTION": 2, "OF": 1,                                       # enums: sclip, COG
            "BAND": "3,2,1", "SCALE_RANGE": "0 255;-1 2.5",                # integer list, number groups
            "CO": "BLOCKSIZE=512;PREDICTOR=2",                             # text list
            "VECTOR": "/tmp/v.gpkg", "UPSAMPLER": "bilinear", "TEXT_CACHE": "-"})
        self.assertEqual(words, [tile, "/tmp/o.tif", "--upsampler", "bilinear", "--attention", "sclip", "--classes",
                                 "a,b;c", "--prob-threshold", "0.25", "--band", "3", "--band", "2", "--band", "1",
                                 "--scale-range", "0.0", "255.0", "--scale-range", "-1.0", "2.5", "--window", "128",
                                 "-of", "COG", "-co", "BLOCKSIZE=512", "-co", "PREDICTOR=2", "--vector", "/tmp/v.gpkg",
                                 "--text-cache", "-"])
        words = command_of("vectorize", {"INPUT": tile, "OUTPUT": "/tmp/v.gpkg", "EIGHT": True, "REGULARIZE": False,
                                         "MIN_AREA": 20, "CLASS": "building;low vegetation"})
        self.assertEqual(words, [tile, "/tmp/v.gpkg", "--class", "building", "--class", "low vegetation", "--eight",
                                 "--min-area", "20.0"])
        second = crop("second.tif", 100, 0, 100, 80)
        words = command_of("train", {"IMAGES": [tile, second], "OUT": "/tmp/u.safetensors", "STEPS": 3})
        self.assertEqual(words, ["--images", tile, second, "--steps", "3", "--out", "/tmp/u.safetensors"])
        folder = os.path.dirname(tile)
        words = command_of("eval-dataset", {"IMAGES": folder, "LABELS": folder, "PRESET": "loveda"})
        self.assertEqual(words, ["--images", folder, "--labels", folder, "--preset", "loveda"])


class Running(unittest.TestCase):
    def test_listed_and_byte_identical_to_the_cli(self):
        enabled = qgis_process("plugins", "enable", "segearth")
        self.assertEqual(enabled.returncode, 0, enabled.stdout + enabled.stderr)
        listed = qgis_process("list")
        for command in usage.COMMANDS:
            self.assertIn("segearth:" + command, listed.stdout)
        tile = crop("tile.tif", 200, 300, 180, 150)
        by_qgis, by_cli = os.path.join(WORK, "qgis.tif"), os.path.join(WORK, "cli.tif")
        run = qgis_process("run", "segearth:segment", "--", "INPUT=" + tile, "OUTPUT=" + by_qgis, "CLASSES=" + CLASSES,
                           "CLIP=" + MODEL[1], "UPSAMPLER=" + MODEL[3], "WINDOW=64", "STRIDE=32", "TEXT_CACHE=-",
                           "PROB_THRESHOLD=0.1")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        cli = subprocess.run([SEGEARTH, "segment", tile, by_cli, "--classes", CLASSES, *MODEL, "--prob-threshold",
                              "0.1", "-q"], capture_output=True, text=True)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        with open(by_qgis, "rb") as a, open(by_cli, "rb") as b:
            self.assertTrue(a.read() == b.read(), "the class rasters differ")
        # The legend: exactly the classes, named and coloured (the .qml beside the raster).
        for path in (by_qgis, by_cli):
            self.assertTrue(os.path.exists(path[:-4] + ".qml"))
            layer = QgsRasterLayer(path, "classes")
            self.assertTrue(layer.isValid())
            self.assertEqual(layer.renderer().type(), "paletted")
            self.assertEqual([c.label for c in layer.renderer().classes()], ["building", "road", "tree", "water"])
        # Without the style, QGIS 3.22 lists every colour-table entry (what the .qml is for).
        bare = os.path.join(WORK, "bare.tif")
        shutil.copy(by_cli, bare)
        shutil.copy(by_cli + ".aux.xml", bare + ".aux.xml")
        bare_layer = QgsRasterLayer(bare, "bare")  # held: the renderer is the layer's
        self.assertGreater(len(bare_layer.renderer().classes()), 4)

    def test_vector_layers_loaded(self):
        tile = crop("vtile.tif", 0, 0, 120, 120)
        alg = algorithm("segment")
        context, feedback = QgsProcessingContext(), RecordingFeedback()
        out = os.path.join(WORK, "v.gpkg")
        results, ok = alg.run({"INPUT": tile, "OUTPUT": os.path.join(WORK, "v.tif"), "CLASSES": CLASSES,
                               "CLIP": MODEL[1], "UPSAMPLER": MODEL[3], "WINDOW": 64, "STRIDE": 32,
                               "TEXT_CACHE": "-", "VECTOR": out}, context, feedback)
        self.assertTrue(ok, feedback.errors)
        self.assertEqual(results["VECTOR"], out)
        loading = context.layersToLoadOnCompletion()
        names = sorted(details.name for details in loading.values())
        self.assertEqual(names, ["road", "tree", "water"])  # every class but the background (building, 0)

    def test_cancel_leaves_no_output(self):
        big = os.path.join(WORK, "big.vrt")
        subprocess.run(["gdal_translate", "-q", "-of", "VRT", "-outsize", "4000", "4000", TILE, big], check=True)
        out = os.path.join(WORK, "cancelled.tif")
        feedback = RecordingFeedback()

        def cancel_when_running():  # once segearth reports progress: it is into the windows
            for _ in range(600):
                if any(v > 0 for v in feedback.progress):
                    break
                time.sleep(0.1)
            feedback.cancel()

        threading.Thread(target=cancel_when_running, daemon=True).start()
        started = time.time()
        _, ok = algorithm("segment").run({"INPUT": big, "OUTPUT": out, "CLASSES": CLASSES, "CLIP": MODEL[1],
                                          "UPSAMPLER": MODEL[3], "WINDOW": 64, "STRIDE": 32, "TEXT_CACHE": "-"},
                                         QgsProcessingContext(), feedback)
        self.assertFalse(ok)
        self.assertTrue(any("cancelled" in e for e in feedback.errors), feedback.errors)
        self.assertLess(time.time() - started, 120)
        self.assertTrue(feedback.progress, "no progress reached the feedback")
        left = [f for f in os.listdir(WORK) if f.startswith("cancelled")]
        self.assertEqual(left, [])

    def test_missing_executable_and_weights_are_clear(self):
        env = dict(ENV, HOME=os.path.join(WORK, "home2"), SEGEARTH_EXECUTABLE="/nowhere/segearth",
                   PATH="/usr/bin:/bin")
        os.makedirs(env["HOME"])
        qgis_process("plugins", "enable", "segearth", env=env)
        tile = crop("m.tif", 0, 0, 64, 64)
        run = qgis_process("run", "segearth:segment", "--", "INPUT=" + tile, "OUTPUT=" + os.path.join(WORK, "m_out.tif"),
                           "CLASSES=" + CLASSES, env=env)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("the segearth executable was not found ('/nowhere/segearth' is not an executable file)",
                      run.stdout + run.stderr)
        self.assertNotIn("Traceback", run.stdout + run.stderr)
        run = qgis_process("run", "segearth:segment", "--", "INPUT=" + tile, "OUTPUT=" + os.path.join(WORK, "m_out.tif"),
                           "CLASSES=" + CLASSES, "CLIP=/nowhere/ViT-B-16.pt")
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("the clip file /nowhere/ViT-B-16.pt does not exist", run.stdout + run.stderr)
        self.assertNotIn("Traceback", run.stdout + run.stderr)
        self.assertFalse(os.path.exists(os.path.join(WORK, "m_out.tif")))


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
