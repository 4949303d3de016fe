#include <segearth/geo/gdal_setup.hpp>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

#include <mutex>

namespace segearth::geo {

void ensure_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        // Errors are collected with CPLGetLastErrorMsg and raised as segearth::FileError instead.
        CPLSetErrorHandler(CPLQuietErrorHandler);
    });
}

void set_gdal_config(const std::string& key, const std::string& value) {
    CPLSetConfigOption(key.c_str(), value.c_str());
}

void limit_gdal_cache(long long bytes) {
    ensure_gdal();
    if (CPLGetConfigOption("GDAL_CACHEMAX", nullptr)) return;
    if (GDALGetCacheMax64() > bytes) GDALSetCacheMax64(bytes);
}

void decode_on_all_cpus() {
    if (!CPLGetConfigOption("GDAL_NUM_THREADS", nullptr)) CPLSetConfigOption("GDAL_NUM_THREADS", "ALL_CPUS");
}

std::string last_gdal_error(const std::string& fallback) {
    const char* message = CPLGetLastErrorMsg();
    return message && *message ? std::string(message) : fallback;
}

}  // namespace segearth::geo
