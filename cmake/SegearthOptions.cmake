# User-facing switches. A GPU machine has libtorch but no GDAL: core (and its tests) still build there.
option(SEGEARTH_BUILD_TESTS "Build the doctest suites and register them with ctest" ON)
option(SEGEARTH_BUILD_APPS "Build the segearth command-line tool" ON)
option(SEGEARTH_BUILD_BENCHMARKS "Build the benchmarks in bench/" ON)
option(SEGEARTH_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
set(SEGEARTH_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
set(SEGEARTH_GEO "AUTO" CACHE STRING "Build the GDAL side (geo, pipeline, apps): ON, OFF or AUTO")
set_property(CACHE SEGEARTH_GEO PROPERTY STRINGS AUTO ON OFF)
