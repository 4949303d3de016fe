# Install rule and an exported package: find_package(segearth CONFIG) gives segearth::segearth_core etc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_segearth_targets segearth_base segearth_core)
if(SEGEARTH_HAVE_SCHEDULER)
  list(APPEND _segearth_targets segearth_scheduler)
endif()
if(SEGEARTH_HAVE_GEO)
  list(APPEND _segearth_targets segearth_geo segearth_pipeline)
endif()
install(TARGETS ${_segearth_targets} segearth_warnings EXPORT segearthTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/segearth DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES data/imagenet_templates.txt data/bpe_simple_vocab_16e6.txt.gz
  DESTINATION ${CMAKE_INSTALL_DATADIR}/segearth)
# The class presets (data folders hold data/presets/NAME.txt: <prefix>/share/segearth/presets).
install(DIRECTORY data/presets DESTINATION ${CMAKE_INSTALL_DATADIR}/segearth)
install(EXPORT segearthTargets NAMESPACE segearth:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/segearth)
configure_package_config_file(cmake/segearthConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/segearthConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/segearth)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/segearthConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/segearthConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/segearthConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/segearth)
