# User-facing switches. A GPU machine has libtorch but no GDAL: core (and its tests) still build there.
option(SEGEARTH_BUILD_TESTS "Build the doctest suites and register them with ctest" ON)
option(SEGEARTH_BUILD_APPS "Build the segearth command-line tool" ON)
option(SEGEARTH_BUILD_BENCHMARKS "Build the benchmarks in bench/" ON)
option(SEGEARTH_BUILD_QGIS_PLUGIN "Build and install the QGIS Processing provider in plugins/qgis (needs no QGIS to build)" ON)
set(SEGEARTH_QGIS_PLUGIN_DIR "$ENV{HOME}/.local/share/QGIS/QGIS3/profiles/default/python/plugins" CACHE PATH
    "where cmake --install puts the QGIS plugin (QGIS's folder of a user's plugins, default profile)")
option(SEGEARTH_TCMALLOC "Link the segearth binary with tcmalloc (no page-fault churn on libtorch's large buffers)" ON)
option(SEGEARTH_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
set(SEGEARTH_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
set(SEGEARTH_GEO "AUTO" CACHE STRING "Build the GDAL side (geo, pipeline, apps): ON, OFF or AUTO")
set_property(CACHE SEGEARTH_GEO PROPERTY STRINGS AUTO ON OFF)
