// End-to-end benchmark of `segearth segment` (the real binary, as users run it): ViT-B/16 + jbu_one
// with random weights (speed does not depend on them) written in the formats users have.
//   1. windows per second and megapixels per second on a real 1000 x 1000 aerial tile, native grid;
//   2. peak RSS and wall time on Byte scenes of 5000, 10000 and 20000 pixels a side (VRT mosaics of
//      that tile) at --scale 0.05, to show memory does not grow with the scene;
//   3. the time split reported by segment (CLIP, upsampler, reading, writing);
//   4. with --widths: peak RSS on scenes 2000 px tall and 5000, 20000 and 50000 px wide at --scale 0.05
//      (the same working grid spacing), to show memory does not grow with the scene's width. They are
//      tiled DEFLATE GeoTIFFs (gdal_translate of the mosaics), so that GDAL's block cache sees as many
//      distinct blocks as a real scene's.
//
//   build/bench/bench_segment [--image TILE.tif] [--threads 2] [--work DIR] [--skip-native] [--skip-scenes]
//                             [--widths]
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/core/weights.hpp>

#include <torch/torch.h>

#include "child_process.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace segearth::core;
using segearth::bench::run_child;

namespace {

// A width x height Byte scene made of copies of the tile, georeferenced like the tile.
fs::path mosaic(const fs::path& tile, int tile_size, int width, int height, const fs::path& out) {
    std::ofstream vrt(out);
    vrt << "<VRTDataset rasterXSize=\"" << width << "\" rasterYSize=\"" << height << "\">\n"
        << "  <GeoTransform>346000, 0.5, 0, 5648000, 0, -0.5</GeoTransform>\n";
    for (int band = 1; band <= 3; ++band) {
        vrt << "  <VRTRasterBand dataType=\"Byte\" band=\"" << band << "\">\n";
        for (int y = 0; y < height; y += tile_size)
            for (int x = 0; x < width; x += tile_size)
                vrt << "    <SimpleSource><SourceFilename relativeToVRT=\"0\">" << tile.string()
                    << "</SourceFilename><SourceBand>" << band << "</SourceBand><SrcRect xOff=\"0\" yOff=\"0\" xSize=\""
                    << tile_size << "\" ySize=\"" << tile_size << "\"/><DstRect xOff=\"" << x << "\" yOff=\"" << y
                    << "\" xSize=\"" << tile_size << "\" ySize=\"" << tile_size << "\"/></SimpleSource>\n";
        vrt << "  </VRTRasterBand>\n";
    }
    vrt << "</VRTDataset>\n";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    select_blas_core_type(argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    fs::path image = SEGEARTH_BENCH_IMAGE, work = fs::temp_directory_path() / "segearth-bench-segment";
    std::string threads = "2";
    bool native = true, scenes = true, widths = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--image" && i + 1 < argc) image = argv[++i];
        else if (flag == "--threads" && i + 1 < argc) threads = argv[++i];
        else if (flag == "--work" && i + 1 < argc) work = argv[++i];
        else if (flag == "--skip-native") native = false;
        else if (flag == "--skip-scenes") scenes = false;
        else if (flag == "--widths") widths = true;
    }
    fs::create_directories(work);

    // Random ViT-B/16 and jbu_one, saved as users' files would be.
    torch::manual_seed(0);
    const auto clip_file = work / "vit_b16_random.safetensors", up_file = work / "jbu_one_random.safetensors";
    {
        ClipModel clip(ClipConfig::named("ViT-B/16"));
        TensorMap tensors;
        for (const auto& p : clip->named_parameters()) tensors[p.key()] = p.value().detach().to(torch::kFloat16);
        write_safetensors(clip_file, tensors);
        JbuUpsampler up(512);
        save_upsampler(up_file, up);
    }
    const std::vector<std::string> common{SEGEARTH_BINARY, "segment", "--clip", clip_file.string(), "--upsampler",
                                          up_file.string(), "--classes", "background;building,roof;road;tree;water",
                                          "--threads", threads, "--overwrite", "--text-cache", work.string()};
    std::printf("segearth segment, ViT-B/16 + jbu_one (random weights), %s threads\n", threads.c_str());
    // Warm the text cache so that the runs below measure the scene, not the 80-template text encoding.
    run_child([&] { auto a = common; a.insert(a.begin() + 2, {image.string(), (work / "warm.tif").string(), "--long-side", "32"}); return a; }(),
        work / "warm.log");

    if (native) {
        auto args = common;
        args.insert(args.begin() + 2, {image.string(), (work / "native.tif").string()});
        const auto r = run_child(args, work / "native.log");
        std::printf("native grid, %s: exit %d, %.1f s wall, peak RSS %.0f MB\n  %s\n", image.filename().c_str(),
                    r.exit_code, r.wall_seconds, r.peak_rss_mb, r.last_line.c_str());
        // 1000 x 1000 at window 224 / stride 112: 8 x 8 windows.
        std::printf("  -> %.2f windows/s, %.3f megapixels/s end to end\n", 64.0 / r.wall_seconds, 1.0 / r.wall_seconds);
    }
    if (scenes) {
        for (int size : {5000, 10000, 20000}) {
            const auto scene =
                mosaic(fs::absolute(image), 1000, size, size, work / ("scene_" + std::to_string(size) + ".vrt"));
            auto args = common;
            args.insert(args.begin() + 2, {scene.string(), (work / "scene.tif").string(), "--scale", "0.05"});
            const auto r = run_child(args, work / "scene.log");
            std::printf("%d x %d Byte scene at --scale 0.05: exit %d, %.1f s wall, peak RSS %.0f MB\n  %s\n", size, size,
                        r.exit_code, r.wall_seconds, r.peak_rss_mb, r.last_line.c_str());
        }
    }
    if (widths) {
        double narrowest = 0;
        for (int width : {5000, 20000, 50000}) {
            const auto name = "wide_" + std::to_string(width);
            const auto vrt = mosaic(fs::absolute(image), 1000, width, 2000, work / (name + ".vrt"));
            const auto scene = work / (name + ".tif");
            if (run_child({"gdal_translate", "-q", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "BIGTIFF=YES",
                           vrt.string(), scene.string()},
                          work / "translate.log")
                    .exit_code != 0)
                return 1;
            auto args = common;
            args.insert(args.begin() + 2, {scene.string(), (work / "wide.tif").string(), "--scale", "0.05"});
            const auto r = run_child(args, work / "wide.log");
            if (narrowest == 0) narrowest = r.peak_rss_mb;
            std::printf("%d x 2000 Byte GeoTIFF at --scale 0.05: exit %d, %.1f s wall, peak RSS %.0f MB (%.3fx the "
                        "5000 px one)\n  %s\n",
                        width, r.exit_code, r.wall_seconds, r.peak_rss_mb, r.peak_rss_mb / narrowest, r.last_line.c_str());
        }
    }
    return 0;
}
