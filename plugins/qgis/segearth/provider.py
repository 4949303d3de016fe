"""The segearth Processing provider: one algorithm per segearth command, made at load time from the
installed executable's --json-usage (or, without one, from the usage the plugin was installed with,
so that the dialogs still show and running one says what is missing)."""

import os

from qgis.core import Qgis, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import settings, usage
from .algorithm import SegearthAlgorithm


class SegearthProvider(QgsProcessingProvider):
    def load(self):
        settings.register()
        self.refreshAlgorithms()
        return True

    def unload(self):
        settings.unregister()

    def id(self):
        return "segearth"

    def name(self):
        return "segearth"

    def longName(self):  # noqa: N802 (QGIS's name)
        return "segearth: open-vocabulary segmentation of georeferenced imagery"

    def icon(self):
        return QIcon(os.path.join(os.path.dirname(__file__), "icon.svg"))

    def loadAlgorithms(self):  # noqa: N802 (QGIS's name)
        executable = settings.executable()
        if not executable:
            QgsMessageLog.logMessage(settings.missing_executable_message(), "segearth", Qgis.Warning)
        for command in usage.COMMANDS:
            described = None
            if executable:
                try:
                    described = usage.read_usage(executable, command)
                except usage.UsageError as e:
                    QgsMessageLog.logMessage(str(e), "segearth", Qgis.Warning)
            if described is None:
                described = usage.read_snapshot(command)
            if described is not None:
                self.addAlgorithm(SegearthAlgorithm(command, described))
