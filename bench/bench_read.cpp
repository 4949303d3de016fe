// The read stage of segment on its own: how many megapixels/s the CPU side can deliver to the model,
// the bound a GPU run meets first (the GPU issue: 2,000 windows/s at stride 112 need 25 MP/s of new
// pixels). A wide scene is made from the real tile (repeated, tiled 256 x 256, in the compression
// given), then read as the scheduler reads it: one full-width strip per window row (224 rows, every
// 112), through SceneReader (scaling to float, validity), with GDAL decoding on one thread and with
// GDAL_NUM_THREADS=ALL_CPUS (GDAL 3.6 decodes the blocks of one request in parallel).
//
//   build/bench/bench_read [--width 16000] [--height 4000] [--compress DEFLATE|LZW|JPEG|NONE] [--work DIR]
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/scene_reader.hpp>

#include <cpl_conv.h>
#include <gdal_priv.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The tile repeated over width x height (mirrored every other time, so that no block is a copy of
// its neighbour that a codec could exploit across tiles).
bool make_scene(const fs::path& tile, const fs::path& out, int width, int height, const std::string& compress) {
    std::unique_ptr<GDALDataset> src(GDALDataset::Open(tile.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!src) return false;
    const int tw = src->GetRasterXSize(), th = src->GetRasterYSize();
    std::vector<uint8_t> rgb(static_cast<size_t>(3) * tw * th);
    int bands[] = {1, 2, 3};
    if (src->RasterIO(GF_Read, 0, 0, tw, th, rgb.data(), tw, th, GDT_Byte, 3, bands, 0, 0, 0, nullptr) != CE_None)
        return false;
    std::vector<std::string> options{"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=" + compress,
                                     "BIGTIFF=IF_SAFER"};
    if (compress == "DEFLATE" || compress == "LZW") options.push_back("PREDICTOR=2");
    if (compress == "JPEG") options.insert(options.end(), {"PHOTOMETRIC=YCBCR", "JPEG_QUALITY=90"});
    std::vector<char*> list;
    for (auto& o : options) list.push_back(o.data());
    list.push_back(nullptr);
    std::unique_ptr<GDALDataset> ds(GetGDALDriverManager()->GetDriverByName("GTiff")->Create(
        out.c_str(), width, height, 3, GDT_Byte, list.data()));
    if (!ds) return false;
    double gt[6];
    src->GetGeoTransform(gt);
    ds->SetGeoTransform(gt);
    ds->SetSpatialRef(src->GetSpatialRef());
    std::vector<uint8_t> row(static_cast<size_t>(3) * width * th);
    for (int y0 = 0; y0 < height; y0 += th) {
        const int rows = std::min(th, height - y0);
        for (int b = 0; b < 3; ++b)
            for (int y = 0; y < rows; ++y)
                for (int x = 0; x < width; ++x) {
                    const int tx = x % (2 * tw) < tw ? x % tw : tw - 1 - x % tw;
                    const int ty = (y0 / th) % 2 == 0 ? y : th - 1 - y;
                    row[(static_cast<size_t>(b) * rows + y) * width + x] = rgb[(static_cast<size_t>(b) * th + ty) * tw + tx];
                }
        if (ds->RasterIO(GF_Write, 0, y0, width, rows, row.data(), width, rows, GDT_Byte, 3, bands, 0, 0, 0, nullptr) !=
            CE_None)
            return false;
    }
    return true;
}

// Seconds to read the scene strip by strip as the scheduler does (window 224, stride 112).
double read_as_scheduler(const fs::path& scene) {
    segearth::geo::SceneReader reader(scene.string(), {});
    const int w = reader.working_grid().width, h = reader.working_grid().height;
    std::vector<float> rgb(static_cast<size_t>(3) * w * 224);
    std::vector<unsigned char> valid(static_cast<size_t>(w) * 224);
    const auto start = std::chrono::steady_clock::now();
    for (int y = 0;; y += 112) {
        const int top = std::min(y, std::max(h - 224, 0)), rows = std::min(224, h);
        reader.read_working(0, top, w, rows, rgb.data(), valid.data());
        if (top + rows >= h) break;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    int width = 16000, height = 4000;
    std::string compress = "DEFLATE";
    fs::path work = fs::temp_directory_path() / "segearth-bench-read";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--width") width = std::stoi(value);
        else if (flag == "--height") height = std::stoi(value);
        else if (flag == "--compress") compress = value;
        else if (flag == "--work") work = value;
        else {
            std::fprintf(stderr, "bench_read: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    segearth::geo::ensure_gdal();
    segearth::geo::limit_gdal_cache(256LL << 20);  // segment's at its default --ram 2048
    fs::create_directories(work);
    const auto scene = work / ("scene_" + compress + ".tif");
    if (!make_scene(SEGEARTH_BENCH_IMAGE, scene, width, height, compress)) {
        std::fprintf(stderr, "bench_read: could not make %s from %s\n", scene.c_str(), SEGEARTH_BENCH_IMAGE);
        return 1;
    }
    const double megapixels = static_cast<double>(width) * height / 1e6;
    std::printf("bench_read: %d x %d RGB Byte scene, tiled 256, %s (%.0f MB on disk), %u CPUs; strips of 224 rows "
                "every 112, full width\n",
                width, height, compress.c_str(), static_cast<double>(fs::file_size(scene)) / 1e6,
                std::thread::hardware_concurrency());
    for (const char* threads : {"1", "ALL_CPUS", "1", "ALL_CPUS"}) {
        CPLSetConfigOption("GDAL_NUM_THREADS", threads);
        const double seconds = read_as_scheduler(scene);
        std::printf("  GDAL_NUM_THREADS=%-8s %6.2f s  %7.1f MP/s of scene  (%.0f windows/s at stride 112)\n", threads,
                    seconds, megapixels / seconds, megapixels * 1e6 / seconds / (112.0 * 112.0));
    }
    fs::remove(scene);
    return 0;
}
