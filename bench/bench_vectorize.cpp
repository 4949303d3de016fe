// vectorize benchmark: a class raster of many small buildings (one per 32 x 32 px cell, random size
// and offset, a fifth of them L-shaped), polygonized by `segearth vectorize` and by GDAL's own
// gdal_polygonize.py on the same file; wall time, polygons per second and peak RSS of each (child
// processes, wait4).
//
//   build/bench/bench_vectorize [--size 20000] [--work DIR]
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include "child_process.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using segearth::bench::run_child;

namespace {

long long make_buildings(const fs::path& path, int size) {
    GDALAllRegister();
    const char* options[] = {"TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=YES", nullptr};
    std::unique_ptr<GDALDataset> ds(GetGDALDriverManager()->GetDriverByName("GTiff")->Create(
        path.c_str(), size, size, 1, GDT_Byte, const_cast<char**>(options)));
    double gt[6] = {346000, 0.5, 0, 5648000, 0, -0.5};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(25832);
    ds->SetSpatialRef(&srs);
    const char* names[] = {"background", "building", nullptr};
    ds->GetRasterBand(1)->SetCategoryNames(const_cast<char**>(names));
    ds->GetRasterBand(1)->SetNoDataValue(255);
    constexpr int cell = 32;
    long long buildings = 0;
    std::vector<uint8_t> rows(static_cast<size_t>(size) * cell);
    for (int cy = 0; cy < size / cell; ++cy) {
        std::fill(rows.begin(), rows.end(), 0);
        for (int cx = 0; cx < size / cell; ++cx) {
            std::mt19937 rng(static_cast<unsigned>(cy * 100003 + cx));
            const int w = 6 + static_cast<int>(rng() % 20), h = 6 + static_cast<int>(rng() % 20);
            const int ox = static_cast<int>(rng() % static_cast<unsigned>(cell - w)), oy = static_cast<int>(rng() % static_cast<unsigned>(cell - h));
            const bool l_shape = rng() % 5 == 0;
            for (int y = oy; y < oy + h; ++y)
                for (int x = ox; x < ox + w; ++x)
                    if (!(l_shape && x >= ox + w / 2 && y >= oy + h / 2)) rows[static_cast<size_t>(y * size + cx * cell + x)] = 1;
            ++buildings;
        }
        if (ds->GetRasterBand(1)->RasterIO(GF_Write, 0, cy * cell, size, cell, rows.data(), size, cell, GDT_Byte, 0, 0) !=
            CE_None)
            return -1;
    }
    return buildings;
}

}  // namespace

int main(int argc, char** argv) {
    int size = 20000;
    fs::path work = fs::temp_directory_path() / "segearth-bench-vectorize";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--size") size = std::stoi(argv[i + 1]);
        if (flag == "--work") work = argv[i + 1];
    }
    fs::create_directories(work);
    const auto raster = work / "buildings.tif";
    const auto start = std::chrono::steady_clock::now();
    const long long buildings = make_buildings(raster, size);
    std::printf("%d x %d class raster, %lld buildings, made in %.1f s\n", size, size, buildings,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    fs::remove(work / "segearth.gpkg");
    const auto ours = run_child({SEGEARTH_BINARY, "vectorize", raster.string(), (work / "segearth.gpkg").string(), "--overwrite"},
                          work / "segearth.log");
    std::printf("segearth vectorize (no clean-up):      exit %d, %.1f s, %.0f polygons/s, peak RSS %.0f MB\n",
                ours.exit_code, ours.wall_seconds, buildings / ours.wall_seconds, ours.peak_rss_mb);
    fs::remove(work / "gdal.gpkg");
    const auto gdal = run_child({"gdal_polygonize.py", "-q", raster.string(), "-f", "GPKG", (work / "gdal.gpkg").string()},
                          work / "gdal.log");
    std::printf("gdal_polygonize.py (all values):       exit %d, %.1f s, %.0f polygons/s, peak RSS %.0f MB\n",
                gdal.exit_code, gdal.wall_seconds, (buildings + 1) / gdal.wall_seconds, gdal.peak_rss_mb);
    std::printf("wall time ratio segearth / gdal_polygonize: %.2f\n", ours.wall_seconds / gdal.wall_seconds);
    const auto cleaned = run_child({SEGEARTH_BINARY, "vectorize", raster.string(), (work / "clean.gpkg").string(), "--overwrite",
                              "--min-area", "10", "--simplify", "0.5", "--regularize"},
                             work / "clean.log");
    std::printf("segearth vectorize --min-area 10 --simplify 0.5 --regularize: exit %d, %.1f s, peak RSS %.0f MB\n",
                cleaned.exit_code, cleaned.wall_seconds, cleaned.peak_rss_mb);
    return 0;
}
