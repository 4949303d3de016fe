"""The plugin object QGIS loads: it registers the Processing provider (QGIS's initProcessing convention,
so that qgis_process, which starts no GUI, gets the provider too)."""

from qgis.core import QgsApplication

from .provider import SegearthProvider


class SegearthPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        self.provider = SegearthProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
