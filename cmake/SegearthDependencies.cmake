# Every dependency comes from Debian 12's packages (see scripts/install-dependencies.sh).
find_package(Torch REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
# libtorch's at::parallel_for runs on OpenMP; its loop is inline code compiled into our kernels.
find_package(OpenMP REQUIRED COMPONENTS CXX)

# Debian's TorchConfig puts its flags in TORCH_CXX_FLAGS and its imported target is "torch".
separate_arguments(SEGEARTH_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")

# CUDA: libtorch built with CUDA (PyTorch's wheel on a GPU machine) defines torch_cuda; Debian's does not.
set(SEGEARTH_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures of the window kernels")
set(SEGEARTH_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA)
  set(SEGEARTH_TORCH_HAS_CUDA ON)
  find_package(CUDAToolkit REQUIRED)
endif()
include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER)
  enable_language(CUDA)
elseif(SEGEARTH_TORCH_HAS_CUDA)
  message(FATAL_ERROR "libtorch has CUDA but no CUDA compiler was found: set CMAKE_CUDA_COMPILER to nvcc")
endif()

# The C++ behind `#ifdef SEGEARTH_WITH_CUDA` compiled (not linked) where libtorch has no CUDA, against
# the c10/ATen CUDA headers that Debian's libtorch ships and the CUDA toolkit's: a GPU machine's build
# then meets no error a CPU machine's could have shown. Those headers lack one file CMake generates for
# a CUDA build of PyTorch (C10_CUDA_BUILD_SHARED_LIBS, as for the shared libraries); it is written here.
#   segearth_cuda_cxx_check(NAME SOURCE... LINK TARGET...)
set(SEGEARTH_CUDA_CXX_CHECK OFF)
if(NOT SEGEARTH_TORCH_HAS_CUDA AND CMAKE_CUDA_COMPILER)
  find_package(CUDAToolkit QUIET)
  find_file(SEGEARTH_C10_CUDA_GUARD c10/cuda/CUDAGuard.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  if(CUDAToolkit_FOUND AND SEGEARTH_C10_CUDA_GUARD)
    set(SEGEARTH_CUDA_CXX_CHECK ON)
    set(SEGEARTH_CUDA_HEADER_STUB ${CMAKE_BINARY_DIR}/cuda_header_stub)
    file(WRITE ${SEGEARTH_CUDA_HEADER_STUB}/c10/cuda/impl/cuda_cmake_macros.h
         "#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n")
  endif()
endif()
function(segearth_cuda_cxx_check name)
  if(NOT SEGEARTH_CUDA_CXX_CHECK)
    return()
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 check "" "" "LINK")
  add_library(${name} OBJECT ${check_UNPARSED_ARGUMENTS})
  target_compile_definitions(${name} PRIVATE SEGEARTH_WITH_CUDA)
  target_include_directories(${name} SYSTEM PRIVATE ${SEGEARTH_CUDA_HEADER_STUB} ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(${name} PRIVATE ${check_LINK})
endfunction()

# gperftools' tcmalloc as a binary's malloc: glibc returns every freed block above its mmap threshold
# (32 MB at most) to the kernel, and libtorch's 100 MB+ activations are then faulted in afresh each
# time; in training that was a third of the CPU time spent in the kernel (BENCHMARKS.md, "Memory
# without churn"). tcmalloc keeps and reuses them at about the same peak RSS. Not with sanitizers,
# which bring their own allocator. REQUIRED: a configure error where it is missing (the product's
# binaries); otherwise skipped there (benchmarks on a GPU machine, which lacks it).
function(segearth_link_tcmalloc target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "REQUIRED" "" "")
  if(NOT SEGEARTH_TCMALLOC OR SEGEARTH_SANITIZE)
    return()
  endif()
  find_library(SEGEARTH_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(NOT SEGEARTH_TCMALLOC_LIBRARY)
    if(arg_REQUIRED)
      message(FATAL_ERROR "tcmalloc_minimal not found: install Debian's libtcmalloc-minimal4 "
                          "(scripts/install-dependencies.sh), or configure with -DSEGEARTH_TCMALLOC=OFF")
    endif()
    return()
  endif()
  # Linked first and kept though no symbol is referenced by name: its malloc replaces glibc's.
  target_link_options(${target} PRIVATE -Wl,--no-as-needed)
  target_link_libraries(${target} PRIVATE ${SEGEARTH_TCMALLOC_LIBRARY})
endfunction()

set(SEGEARTH_HAVE_GEO OFF)
if(NOT SEGEARTH_GEO STREQUAL "OFF")
  if(SEGEARTH_GEO STREQUAL "ON")
    set(_segearth_geo_required REQUIRED)
  endif()
  find_package(GDAL CONFIG ${_segearth_geo_required})
  find_package(PROJ CONFIG ${_segearth_geo_required})
  find_package(GEOS CONFIG ${_segearth_geo_required})
  find_package(TBB CONFIG ${_segearth_geo_required})
  find_package(Boost ${_segearth_geo_required} COMPONENTS program_options)
  # GDAL's own SQLite: vectorize fills a GeoPackage's R-tree in one pass (GDAL 3.6 cannot).
  find_package(SQLite3 ${_segearth_geo_required})
  # Cairo draws eval's labelled confusion-matrix picture (text, cells, PNG).
  find_package(PkgConfig ${_segearth_geo_required})
  if(PkgConfig_FOUND)
    pkg_check_modules(CAIRO ${_segearth_geo_required} IMPORTED_TARGET GLOBAL cairo)
  endif()
  if(GDAL_FOUND AND PROJ_FOUND AND GEOS_FOUND AND TBB_FOUND AND Boost_FOUND AND SQLite3_FOUND AND CAIRO_FOUND)
    set(SEGEARTH_HAVE_GEO ON)
  else()
    message(STATUS "segearth: GDAL/PROJ/GEOS/TBB/Boost/SQLite/cairo not all found: building the core library only")
  endif()
endif()

# The scene scheduler needs only TBB beside libtorch: it builds where GDAL is absent too.
if(NOT TBB_FOUND)
  find_package(TBB CONFIG QUIET)
endif()
set(SEGEARTH_HAVE_SCHEDULER ${TBB_FOUND})
if(NOT SEGEARTH_HAVE_SCHEDULER)
  message(STATUS "segearth: TBB not found: building without the scene scheduler (segearth_scheduler)")
endif()

if(SEGEARTH_BUILD_TESTS)
  find_package(doctest CONFIG REQUIRED)
  # The fixture generator needs Debian's python3-torch, which only the system interpreter sees (a
  # pyenv or venv python3 earlier on PATH would not have it).
  if(NOT Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()
