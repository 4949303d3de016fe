// vectorize benchmark: a class raster of many small buildings (one per 32 x 32 px cell, random size
// and offset, a fifth of them L-shaped), polygonized by `segearth vectorize`, by GDALPolygonize on the
// building mask held in memory (the bound the CPU-speed issue sets: this very binary, re-run as
// `--polygonize-in-memory FILE`), and by GDAL's own gdal_polygonize.py; wall time, polygons per second
// and peak RSS of each (child processes, wait4).
//
//   build/bench/bench_vectorize [--size 20000] [--work DIR] [--skip-script]
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

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

// The reference: the whole building mask read into a MEM raster, then one GDALPolygonize call with
// the mask as its own mask band into an in-memory layer. Prints the seconds of each part.
int polygonize_in_memory(const char* path) {
    GDALAllRegister();
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<GDALDataset> in(GDALDataset::Open(path, GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!in) return 1;
    const int w = in->GetRasterXSize(), h = in->GetRasterYSize();
    std::unique_ptr<GDALDataset> mask(GetGDALDriverManager()->GetDriverByName("MEM")->Create("", w, h, 1, GDT_Byte, nullptr));
    std::vector<uint8_t> row(static_cast<size_t>(w) * 256);
    for (int y = 0; y < h; y += 256) {
        const int rows = std::min(256, h - y);
        if (in->GetRasterBand(1)->RasterIO(GF_Read, 0, y, w, rows, row.data(), w, rows, GDT_Byte, 0, 0) != CE_None) return 1;
        for (auto& v : row) v = v == 1;
        if (mask->GetRasterBand(1)->RasterIO(GF_Write, 0, y, w, rows, row.data(), w, rows, GDT_Byte, 0, 0) != CE_None) return 1;
    }
    const auto read = std::chrono::steady_clock::now();
    std::unique_ptr<GDALDataset> vectors(GetGDALDriverManager()->GetDriverByName("Memory")->Create("", 0, 0, 0, GDT_Unknown, nullptr));
    OGRLayer* layer = vectors->CreateLayer("buildings", nullptr, wkbPolygon, nullptr);
    OGRFieldDefn field("value", OFTInteger);
    layer->CreateField(&field);
    GDALRasterBand* band = mask->GetRasterBand(1);
    if (GDALPolygonize(band, band, layer, 0, nullptr, nullptr, nullptr) != CE_None) return 1;
    const auto done = std::chrono::steady_clock::now();
    std::printf("read %.2f s, GDALPolygonize %.2f s, %lld polygons\n", std::chrono::duration<double>(read - start).count(),
                std::chrono::duration<double>(done - read).count(), static_cast<long long>(layer->GetFeatureCount()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--polygonize-in-memory") return polygonize_in_memory(argv[2]);
    int size = 20000;
    bool skip_script = false;
    fs::path work = fs::temp_directory_path() / "segearth-bench-vectorize";
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--skip-script") skip_script = true;
        if (flag == "--size" && i + 1 < argc) size = std::stoi(argv[++i]);
        if (flag == "--work" && i + 1 < argc) work = argv[++i];
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
    std::printf("  %s\n", ours.last_line.c_str());
    const auto in_memory = run_child({argv[0], "--polygonize-in-memory", raster.string()}, work / "in_memory.log");
    double polygonize_seconds = 0;
    std::sscanf(in_memory.last_line.c_str(), "read %*f s, GDALPolygonize %lf", &polygonize_seconds);
    std::printf("GDALPolygonize of the mask in memory:   exit %d, %.1f s in all (%s), peak RSS %.0f MB\n",
                in_memory.exit_code, in_memory.wall_seconds, in_memory.last_line.c_str(), in_memory.peak_rss_mb);
    std::printf("ratio segearth vectorize wall / GDALPolygonize alone: %.2f (/ that process's wall: %.2f)\n",
                ours.wall_seconds / polygonize_seconds, ours.wall_seconds / in_memory.wall_seconds);
    // The same output without the GeoPackage's spatial index, which GDALPolygonize's in-memory layer
    // does not build either.
    const auto plain = run_child({SEGEARTH_BINARY, "vectorize", raster.string(), (work / "plain.gpkg").string(),
                                  "--overwrite", "-lco", "SPATIAL_INDEX=NO"},
                                 work / "plain.log");
    std::printf("segearth vectorize -lco SPATIAL_INDEX=NO: exit %d, %.1f s, peak RSS %.0f MB; / GDALPolygonize alone: %.2f\n",
                plain.exit_code, plain.wall_seconds, plain.peak_rss_mb, plain.wall_seconds / polygonize_seconds);
    if (!skip_script) {
        fs::remove(work / "gdal.gpkg");
        const auto gdal = run_child({"gdal_polygonize.py", "-q", raster.string(), "-f", "GPKG", (work / "gdal.gpkg").string()},
                                    work / "gdal.log");
        std::printf("gdal_polygonize.py (all values):       exit %d, %.1f s, %.0f polygons/s, peak RSS %.0f MB\n",
                    gdal.exit_code, gdal.wall_seconds, (buildings + 1) / gdal.wall_seconds, gdal.peak_rss_mb);
        std::printf("wall time ratio segearth / gdal_polygonize.py: %.2f\n", ours.wall_seconds / gdal.wall_seconds);
    }
    const auto cleaned = run_child({SEGEARTH_BINARY, "vectorize", raster.string(), (work / "clean.gpkg").string(), "--overwrite",
                              "--min-area", "10", "--simplify", "0.5", "--regularize"},
                             work / "clean.log");
    std::printf("segearth vectorize --min-area 10 --simplify 0.5 --regularize: exit %d, %.1f s, peak RSS %.0f MB\n",
                cleaned.exit_code, cleaned.wall_seconds, cleaned.peak_rss_mb);
    return 0;
}
