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

/// GDAL_NUM_THREADS=ALL_CPUS unless the user chose a value: GDAL 3.6 then decodes the blocks of one
/// read in parallel (DEFLATE 1.4x on 2 cores, bench_read). For runs whose model is on a GPU, where the
/// CPU's only work is reading and writing; on the CPU the model has the cores.
void decode_on_all_cpus();

/// GDAL's last error message, or `fallback` when GDAL recorded none.
std::string last_gdal_error(const std::string& fallback);

}  // namespace segearth::geo
