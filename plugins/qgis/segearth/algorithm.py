"""One segearth command as a Processing algorithm: its parameters made from --json-usage (usage.py),
and a run that is segearth in a child process, its progress in the feedback, Cancel as Ctrl-C."""

import os
import queue
import shlex
import signal
import subprocess
import threading

from qgis.core import (QgsProcessing, QgsProcessingAlgorithm, QgsProcessingContext, QgsProcessingException,
                       QgsProcessingParameterBoolean, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorLayer, QgsProviderRegistry, QgsVectorLayer, QgsMapLayerType)

from . import settings, usage

LIST_HELP = {"text_list": " (several: separate them with ';')",
             "integer_list": " (several: separate them with commas, e.g. 3,2,1)",
             "number_groups": " (MIN MAX; for several bands: MIN MAX;MIN MAX)"}


def make_parameter(p):
    """The QgsProcessingParameter of a usage.Parameter."""
    k, name, text, optional = p.kind, p.name, p.description, p.optional
    text = text[:1].upper() + text[1:] + LIST_HELP.get(k, "")
    if k == "boolean":
        return QgsProcessingParameterBoolean(name, text, False, True)
    if k in ("integer", "number"):
        number_type = QgsProcessingParameterNumber.Integer if k == "integer" else QgsProcessingParameterNumber.Double
        param = QgsProcessingParameterNumber(name, text, number_type, p.default, optional or p.default is not None)
        if "minimum" in p.option or "exclusive_minimum" in p.option:
            param.setMinimum(float(p.option.get("minimum", p.option.get("exclusive_minimum"))))
        if "maximum" in p.option or "exclusive_maximum" in p.option:
            param.setMaximum(float(p.option.get("maximum", p.option.get("exclusive_maximum"))))
        return param
    if k == "enum":
        default = p.choices.index(p.default) if p.default in p.choices else None
        return QgsProcessingParameterEnum(name, text, p.choices, False, default, optional)
    if k == "raster_in":
        return QgsProcessingParameterRasterLayer(name, text, None, optional)
    if k == "vector_in":
        return QgsProcessingParameterVectorLayer(name, text, [QgsProcessing.TypeVectorAnyGeometry], None, optional)
    if k == "folder_in":
        return QgsProcessingParameterFile(name, text, QgsProcessingParameterFile.Folder, "", None, optional)
    if k == "file_in":
        return QgsProcessingParameterFile(name, text, QgsProcessingParameterFile.File, "", None, optional)
    if k == "raster_list_in":
        return QgsProcessingParameterMultipleLayers(name, text, QgsProcessing.TypeRaster, None, optional)
    if k == "raster_out":
        return QgsProcessingParameterRasterDestination(name, text, None, optional, not optional)
    if k in ("vector_out", "file_out"):
        return QgsProcessingParameterFileDestination(name, text, p.file_filter(), None, optional, not optional)
    if k == "folder_out":
        return QgsProcessingParameterFolderDestination(name, text, None, optional, not optional)
    default = p.default if isinstance(p.default, str) else None
    return QgsProcessingParameterString(name, text, default, False, optional)


class SegearthAlgorithm(QgsProcessingAlgorithm):
    def __init__(self, command, usage_json):
        super().__init__()
        self.command = command
        self.usage = usage_json
        self.params = usage.parameters(usage_json)

    def createInstance(self):  # noqa: N802 (QGIS's names from here on)
        return SegearthAlgorithm(self.command, self.usage)

    def name(self):
        return self.command

    def displayName(self):
        return self.command.replace("-", " ").capitalize()

    def shortHelpString(self):
        return "{}\n\n{}\n\nsegearth {} {}".format(self.usage.get("summary", ""), self.usage.get("description", ""),
                                                   self.command, self.usage.get("synopsis", ""))

    def initAlgorithm(self, config=None):
        for p in self.params:
            param = make_parameter(p)
            if p.advanced:
                param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)

    def values(self, parameters, context):
        """Every parameter as usage.option_arguments takes it."""
        out = {}
        for p in self.params:
            n, k = p.name, p.kind
            if n not in parameters or parameters[n] is None:
                continue
            if k == "boolean":
                out[n] = self.parameterAsBoolean(parameters, n, context)
            elif k == "integer":
                out[n] = self.parameterAsInt(parameters, n, context)
            elif k == "number":
                out[n] = self.parameterAsDouble(parameters, n, context)
            elif k == "enum":
                out[n] = self.parameterAsEnum(parameters, n, context)
            elif k in ("raster_in", "vector_in"):
                layer = (self.parameterAsRasterLayer if k == "raster_in" else self.parameterAsVectorLayer)(
                    parameters, n, context)
                out[n] = layer_path(layer) if layer else None
            elif k == "raster_list_in":
                out[n] = [layer_path(layer) for layer in self.parameterAsLayerList(parameters, n, context)]
            elif k in ("raster_out", "vector_out", "file_out"):
                out[n] = (self.parameterAsOutputLayer(parameters, n, context) if k == "raster_out"
                          else self.parameterAsFileOutput(parameters, n, context)) or None
            elif k == "folder_out":
                out[n] = self.parameterAsString(parameters, n, context) or None
            else:
                out[n] = self.parameterAsString(parameters, n, context)
        return out

    def processAlgorithm(self, parameters, context, feedback):
        executable = settings.executable()
        if not executable:
            raise QgsProcessingException(settings.missing_executable_message())
        values = self.values(parameters, context)
        names = {p.option["name"] for p in self.params}
        for option, value in settings.defaults().items():  # the provider's settings, where the dialog is empty
            if option in names and not values.get(usage.parameter_name(option)) and value:
                values[usage.parameter_name(option)] = value
        for option in ("clip", "upsampler"):
            path = values.get(usage.parameter_name(option))
            if path and path not in ("bilinear", "none") and not os.path.isfile(path):
                raise QgsProcessingException("{}: the {} file {} does not exist (set it in the dialog or in Processing "
                                             "> Options > Providers > segearth)".format(self.command, option, path))
        extra = ["--progress-lines"] + (["--overwrite"] if any(o["name"] == "overwrite" for o in
                                                                self.usage.get("options", [])) else [])
        try:
            argv = usage.command_line(executable, self.command, self.usage, values, extra)
        except ValueError as e:
            raise QgsProcessingException(str(e))
        feedback.pushCommandInfo(" ".join(shlex.quote(a) for a in argv))
        code, last_error = run(argv, feedback)
        if feedback.isCanceled():
            raise QgsProcessingException("cancelled: segearth stopped and removed its unfinished outputs")
        if code != 0:
            raise QgsProcessingException(last_error or "segearth {} failed (exit status {})".format(self.command, code))
        results = {}
        for p in self.params:
            if p.kind.endswith("_out") and values.get(p.name):
                results[p.name] = values[p.name]
                if p.kind == "vector_out":
                    load_layers(values[p.name], p.name, context)
        return results


def layer_path(layer):
    """A layer's file, as segearth opens it (GDAL's path, without QGIS's |layername= part)."""
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    return parts.get("path") or layer.source()


def load_layers(path, output_name, context):
    """Every layer of a (multi-layer) GeoPackage, to be added to the project when the run ends."""
    if not os.path.exists(path):
        return
    for details in QgsProviderRegistry.instance().querySublayers(path):
        if details.type() != QgsMapLayerType.VectorLayer:
            continue
        layer = QgsVectorLayer(details.uri(), details.name(), "ogr")
        if layer.isValid():
            context.temporaryLayerStore().addMapLayer(layer)
            context.addLayerToLoadOnCompletion(layer.id(), QgsProcessingContext.LayerDetails(
                details.name(), context.project(), output_name))


def run(argv, feedback):
    """segearth in a child process: progress lines into the feedback, other lines into its log, Cancel
    as SIGINT (Ctrl-C: segearth removes its unfinished files). Returns (exit status, last error)."""
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    except OSError as e:
        raise QgsProcessingException("cannot run {}: {}".format(argv[0], e.strerror or e))
    lines = queue.Queue()

    def read():
        for line in child.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    last_error, interrupted = "", False
    while True:
        if feedback.isCanceled() and not interrupted:
            child.send_signal(signal.SIGINT)
            interrupted = True
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if line is None:
            break
        fraction = usage.progress_fraction(line)
        if fraction is not None:
            feedback.setProgress(100.0 * fraction)
        elif line.startswith("segearth: "):
            last_error = line[len("segearth: "):]
            feedback.reportError(last_error)
        elif line:
            feedback.pushInfo(line)
    child.stdout.close()
    return child.wait(), last_error

