# segearth_warnings: an interface target every project target links to get the same warning set.
add_library(segearth_warnings INTERFACE)
target_compile_options(segearth_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow=local $<$<BOOL:${SEGEARTH_WARNINGS_AS_ERRORS}>:-Werror>>)
if(SEGEARTH_SANITIZE)
  target_compile_options(segearth_warnings INTERFACE -fsanitize=${SEGEARTH_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(segearth_warnings INTERFACE -fsanitize=${SEGEARTH_SANITIZE})
endif()
