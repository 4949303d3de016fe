#include <segearth/pipeline/merge.hpp>

#include "with_project_errors.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/vectorize.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/pipeline/shard.hpp>
#include <segearth/stopwatch.hpp>

#include <gdal_priv.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <set>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;
using Dataset = std::unique_ptr<GDALDataset>;

Dataset open_shard(const std::string& path) {
    geo::ensure_gdal();
    Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds) throw FileError(path + ": " + geo::last_gdal_error("cannot open the shard") + " (rerun that shard)");
    return ds;
}

// The shard counts whose manifests lie beside OUT.
std::set<int64_t> shard_counts(const std::string& output) {
    const fs::path out(output);
    const auto folder = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    const std::regex name(std::regex_replace(out.stem().string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                          R"(\.shard-(\d+)-of-(\d+)\.manifest)");
    std::set<int64_t> counts;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(folder, error)) {
        std::smatch m;
        const auto file = entry.path().filename().string();
        if (std::regex_match(file, m, name)) counts.insert(std::stoll(m[2].str()));
    }
    return counts;
}

// The final raster's spec from the manifest (grid, format) and from a shard's own file (bands, type,
// names, colours, nodata, scaling, metadata), so that it is what the single run writes.
geo::OutputRasterSpec spec_of(const std::string& role, const std::string& final_path, GDALDataset& shard,
                              const ShardManifest& m, bool overwrite) {
    geo::OutputRasterSpec spec;
    spec.path = final_path;
    spec.format = m.format;
    spec.creation_options = m.creation_options;
    spec.width = static_cast<int>(m.width), spec.height = static_cast<int>(m.height);
    spec.geotransform = m.geotransform;
    if (const auto* srs = shard.GetSpatialRef()) {
        char* wkt = nullptr;
        srs->exportToWkt(&wkt);
        spec.crs_wkt = wkt ? wkt : "";
        CPLFree(wkt);
    }
    spec.band_count = shard.GetRasterCount();
    auto* first = shard.GetRasterBand(1);
    spec.type = first->GetRasterDataType() == GDT_Float32 ? geo::PixelType::float32 : geo::PixelType::byte;
    int has_nodata = 0;
    const double nodata = first->GetNoDataValue(&has_nodata);
    if (has_nodata) spec.nodata = nodata;
    for (int b = 1; b <= spec.band_count; ++b) spec.band_descriptions.push_back(shard.GetRasterBand(b)->GetDescription());
    int has_scale = 0, has_offset = 0;
    const double scale = first->GetScale(&has_scale), offset = first->GetOffset(&has_offset);
    if ((has_scale && scale != 1.0) || (has_offset && offset != 0.0)) spec.scale_offset = std::pair{scale, offset};
    if (char** names = first->GetCategoryNames())
        for (int i = 0; names[i]; ++i) spec.category_names.emplace_back(names[i]);
    if (const auto* table = first->GetColorTable())
        for (size_t i = 0; i < spec.category_names.size() && static_cast<int>(i) < table->GetColorEntryCount(); ++i) {
            const auto* c = table->GetColorEntry(static_cast<int>(i));
            spec.colours.push_back({static_cast<uint8_t>(c->c1), static_cast<uint8_t>(c->c2), static_cast<uint8_t>(c->c3)});
        }
    if (char** items = shard.GetMetadata())
        for (int i = 0; items[i]; ++i) {
            const std::string item = items[i];
            const auto eq = item.find('=');
            if (eq != std::string::npos) spec.metadata[item.substr(0, eq)] = item.substr(eq + 1);
        }
    spec.overview_resampling = role == "classes" ? "NEAREST" : "AVERAGE";
    spec.overwrite = overwrite;
    return spec;
}

MergeReport run_merge(const MergeOptions& o, const Progress& progress) {
    const Stopwatch started;
    validate(o);
    const auto counts = shard_counts(o.output);
    if (counts.empty())
        throw UsageError("no shards of " + o.output + " found (" + manifest_path(o.output, 0, 4) +
                         " and the like): run segment ... " + o.output + " --shard I/N first");
    if (counts.size() > 1)
        throw UsageError(o.output + " has shards of " + std::to_string(*counts.begin()) + " and of " +
                         std::to_string(*counts.rbegin()) + " parts beside it: remove the ones of the older run");
    const int64_t n = *counts.begin();

    // Every shard present, complete, made alike, and the bands tiling the grid.
    std::vector<ShardManifest> shards;
    for (int64_t i = 0; i < n; ++i) {
        const auto path = manifest_path(o.output, i, n);
        if (!fs::exists(path))
            throw UsageError("shard " + std::to_string(i) + " of " + std::to_string(n) + " is missing or incomplete (no " +
                             path + "): rerun segment with --shard " + std::to_string(i) + "/" + std::to_string(n));
        shards.push_back(read_manifest(path));
        const auto& m = shards.back();
        const auto& first = shards.front();
        if (m.index != i || m.count != n) throw FileError(path + ": it says shard " + std::to_string(m.index) + " of " +
                                                          std::to_string(m.count) + " (rerun that shard)");
        if (m.settings != first.settings || m.width != first.width || m.height != first.height)
            throw UsageError("shard " + std::to_string(i) + " of " + std::to_string(n) +
                             " was made with other settings or another input than shard 0 (" + path +
                             "): rerun every shard with the same command");
        const int64_t expected_begin = i == 0 ? 0 : shards[static_cast<size_t>(i - 1)].band_end;
        if (m.band_begin != expected_begin || m.band_end < m.band_begin || (i == n - 1 && m.band_end != m.height))
            throw UsageError("shard " + std::to_string(i) + " of " + std::to_string(n) + " covers rows " +
                             std::to_string(m.band_begin) + ".." + std::to_string(m.band_end) +
                             ", which do not continue the other shards' (" + path + "): rerun every shard");
    }
    const auto& first = shards.front();
    std::vector<NamedPath> outputs_named, inputs_named;
    for (const auto& [role, files] : first.rasters) outputs_named.push_back({role, files.first});
    if (!first.vector.empty()) outputs_named.push_back({"--vector", first.vector});
    for (const auto& m : shards)
        for (const auto& [role, files] : m.rasters)
            if (!files.second.empty()) inputs_named.push_back({"a shard", files.second});
    refuse_outputs_onto_inputs(outputs_named, inputs_named);
    for (const auto& [role, files] : first.rasters) geo::check_output_path(files.first, o.overwrite, "output");
    if (!first.vector.empty()) geo::check_vector_output(first.vector, geo::VectorFormat::automatic, o.overwrite, false);

    // The bands copied into the final rasters, strip by strip.
    MergeReport report;
    report.shards = n;
    for (const auto& m : shards) report.windows += m.windows;
    OutputSet outputs;
    std::map<std::string, geo::OutputRaster*> rasters;
    const int64_t total_rows = static_cast<int64_t>(first.rasters.size()) * first.height;
    int64_t rows_done = 0;
    for (const auto& [role, files] : first.rasters) {
        const ShardManifest* with_rows = nullptr;
        for (const auto& m : shards)
            if (m.band_end > m.band_begin) with_rows = with_rows ? with_rows : &m;
        auto template_shard = open_shard(with_rows->rasters.at(role).second);
        auto merged_spec = spec_of(role, files.first, *template_shard, first, o.overwrite);
        merged_spec.metadata["SEGEARTH_SHARDS"] = std::to_string(n);
        merged_spec.qgis_style = role == "classes";
        auto& out = outputs.add(std::make_unique<geo::OutputRaster>(std::move(merged_spec)));
        rasters[role] = &out;
        const auto& spec = out.spec();
        const size_t pixel = spec.type == geo::PixelType::float32 ? 4 : 1;
        for (const auto& m : shards) {
            if (m.band_end == m.band_begin) continue;
            auto shard = open_shard(m.rasters.at(role).second);
            if (shard->GetRasterXSize() != spec.width || shard->GetRasterYSize() != m.band_end - m.band_begin ||
                shard->GetRasterCount() != spec.band_count)
                throw FileError(m.rasters.at(role).second + ": not the band the manifest describes (rerun that shard)");
            const int strip = 256, w = spec.width;
            std::vector<unsigned char> buffer(static_cast<size_t>(w) * strip * pixel);
            for (int y = 0; y < shard->GetRasterYSize(); y += strip) {
                segearth::report(progress, 0.9 * static_cast<double>(rows_done + y) / static_cast<double>(total_rows));
                const int h = std::min(strip, shard->GetRasterYSize() - y);
                for (int b = 1; b <= spec.band_count; ++b) {
                    if (shard->GetRasterBand(b)->RasterIO(GF_Read, 0, y, w, h, buffer.data(), w, h,
                                                          pixel == 4 ? GDT_Float32 : GDT_Byte, 0, 0) != CE_None)
                        throw FileError(m.rasters.at(role).second + ": " + geo::last_gdal_error("cannot read it"));
                    out.write_block(b, 0, static_cast<int>(m.band_begin) + y, w, h, buffer.data(), progress);
                }
            }
            rows_done += m.band_end - m.band_begin;
        }
    }
    const Progress at_end = [&](double, const std::string&) { return !progress || progress(0.95, ""); };
    for (auto& [role, raster] : rasters) raster->finish(at_end);
    if (!first.vector.empty()) {
        geo::VectorizeOptions v;
        v.input = rasters.at("classes")->finished_path();
        v.output = first.vector;
        v.overwrite = o.overwrite;
        if (rasters.count("probabilities")) v.probabilities = rasters.at("probabilities")->finished_path();
        report.polygons_per_layer = geo::vectorize_into(v, outputs, at_end).polygons_per_layer;
    }
    outputs.publish();
    segearth::report(progress, 1.0);

    if (!o.keep_shards) {
        std::error_code error;
        for (const auto& m : shards) {
            for (const auto& [role, files] : m.rasters)
                if (!files.second.empty()) fs::remove(files.second, error), fs::remove(files.second + ".aux.xml", error);
            fs::remove(manifest_path(o.output, m.index, m.count), error);
        }
    }
    report.seconds = started.seconds();
    return report;
}

}  // namespace

MergeReport merge(const MergeOptions& options, const Progress& progress) {
    return with_project_errors([&] {
        if (options.batch.active()) throw UsageError("merge() takes one OUTPUT: run merge_batch() for --inputs");
        return run_merge(options, progress);
    });
}

std::vector<MergeSceneReport> merge_batch(const MergeOptions& options,
                                          const std::function<void(const MergeSceneReport&)>& each,
                                          std::string& notes, const Progress& progress) {
    return with_project_errors([&] {
        validate(options);
        std::vector<MergeSceneReport> reports;
        for (const auto& scene : list_batch_scenes(options.batch, {}, notes)) {
            MergeSceneReport r;
            r.input = scene.input, r.output = scene.outputs[0];
            auto o = options;
            o.batch = {};
            o.output = r.output;
            if (shard_counts(o.output).empty() && fs::exists(o.output)) {
                r.status = "skipped";
                r.message = "no shards beside it: merged before";
            } else {
                try {
                    r.merged = run_merge(o, progress);
                    r.status = "merged";
                } catch (const Cancelled&) {
                    throw;
                } catch (const Error& e) {
                    r.status = "failed";
                    r.message = e.what();
                }
            }
            reports.push_back(r);
            if (each) each(r);
            if (r.status == "failed" && options.batch.fail_fast) throw Error(r.message + " (--fail-fast: the batch stops)");
        }
        return reports;
    });
}

}  // namespace segearth::pipeline
