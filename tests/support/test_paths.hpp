// Where the tests find their inputs (paths come from the build, see tests/CMakeLists.txt).
#pragma once

#include <filesystem>
#include <string>

namespace segearth::test {

inline std::filesystem::path fixture(const std::string& name) {
    return std::filesystem::path(SEGEARTH_FIXTURES_DIR) / name;
}

inline std::filesystem::path data_file(const std::string& name) {
    return std::filesystem::path(SEGEARTH_DATA_DIR) / name;
}

inline std::filesystem::path shared_data_file(const std::string& name) {
    return std::filesystem::path(SEGEARTH_SHARED_DATA_DIR) / name;
}

/// A fresh, empty folder for one test's files.
inline std::filesystem::path scratch_dir(const std::string& test_name) {
    const auto dir = std::filesystem::path(SEGEARTH_TEST_TMP_DIR) / test_name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace segearth::test
