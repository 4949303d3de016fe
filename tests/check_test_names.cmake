# ctest runs each doctest case by name, from a CMake list: a ';' in a TEST_CASE name splits it into
# names that match no case, and the case silently never runs. Fails naming such cases.
#   cmake -DSOURCE_DIR=tests -P check_test_names.cmake
file(GLOB_RECURSE sources "${SOURCE_DIR}/*.cpp")
set(bad "")
foreach(source ${sources})
  file(STRINGS "${source}" lines REGEX "TEST_CASE\\(\"[^\"]*\\;")
  foreach(line ${lines})
    string(APPEND bad "\n  ${source}: ${line}")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test names with ';' (ctest would never run them):${bad}")
endif()
