"""segearth's QGIS plugin: a Processing provider whose algorithms are segearth's commands."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import SegearthPlugin
    return SegearthPlugin(iface)
