// GDAL's process-wide set-up, done once, by whichever geo function needs GDAL first.
#pragma once

#include <string>

namespace segearth::geo {

/// Registers GDAL's drivers (once) and keeps GDAL from printing errors itself: segearth reports them.
void ensure_gdal();

/// Sets a GDAL configuration option for this process (the --config KEY VALUE of GDAL's tools).
void set_gdal_config(const std::string& key, const std::string& value);

/// Caps GDAL's block cache at `bytes` unless the user chose GDAL_CACHEMAX (--config or environment);
/// GDAL's default, 5 % of physical memory, would otherwise sit outside segearth's --ram budget.
void limit_gdal_cache(long long bytes);

/// GDAL's last error message, or `fallback` when GDAL recorded none.
std::string last_gdal_error(const std::string& fallback);

}  // namespace segearth::geo
