// Batch mode's scenes and output names (batch_naming.hpp).
#include <segearth/pipeline/batch_naming.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/image_sources.hpp>
#include <segearth/geo/raster_info.hpp>

#include <gdal_priv.h>

#include <filesystem>
#include <memory>
#include <map>
#include <regex>
#include <set>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

options::OptionTable<BatchNaming> make_table() {
    options::OptionTable<BatchNaming> t;
    t.group("Batch (many scenes, the model loaded once)");
    t.texts("inputs", &BatchNaming::inputs)
        .value_name("LIST|DIR|GLOB")
        .input_path(options::FileKind::raster)
        .help("the scenes, instead of INPUT OUTPUT: raster files, folders of them (searched recursively), list "
              "files (.txt, one path per line, relative to the list) or quoted patterns (\"scenes/*.tif\"); "
              "repeatable");
    t.text("output-dir", &BatchNaming::output_dir)
        .value_name("DIR")
        .output_path(options::FileKind::folder)
        .help("where the scenes' outputs go (made when missing)");
    t.text("output-name", &BatchNaming::output_name)
        .value_name("TEMPLATE")
        .help("each scene's class raster, in --output-dir: {stem}, {name} and {parent} are the scene's file name "
              "without and with its extension and its folder's name (other outputs, e.g. --vector {stem}.gpkg, "
              "are templates too)");
    t.flag("fail-fast", &BatchNaming::fail_fast)
        .help("stop at the first scene that fails (default: report it, go on, and exit with status 1 at the end)");
    return t;
}

// segearth's rasters (SEGEARTH_* metadata), shard files and temporaries, and vector files (a
// GeoPackage of polygons is "identified" as a possible raster).
bool is_own_output(const std::string& path) {
    static const std::regex shard_or_part(R"(.*(\.shard-\d+-of-\d+\.|\.part-\d+).*)");
    if (std::regex_match(fs::path(path).filename().string(), shard_or_part)) return true;
    try {
        return geo::read_raster_info(path).metadata.count("SEGEARTH_VERSION") > 0;
    } catch (const Error&) {
        std::unique_ptr<GDALDataset> vector(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
        return vector != nullptr;  // else unreadable: the scene's own run reports it
    }
}

std::string comparable(const std::string& path) {
    std::error_code error;
    const auto p = fs::weakly_canonical(path, error);
    return error ? path : p.string();
}

}  // namespace

const options::OptionTable<BatchNaming>& batch_naming_option_table() {
    static const auto table = make_table();
    return table;
}

void validate(const BatchNaming& b) {
    if (!b.active() && (b.fail_fast || b.output_name != BatchNaming{}.output_name))
        throw UsageError(std::string(b.fail_fast ? "--fail-fast" : "--output-name") + " goes with --inputs and --output-dir");
    if (b.inputs.empty() != b.output_dir.empty())
        throw UsageError(b.inputs.empty() ? "--output-dir goes with --inputs LIST|DIR|GLOB (the scenes)"
                                          : "--inputs needs --output-dir DIR (where the scenes' outputs go)");
    if (!b.inputs.empty()) expand_output_name(b, b.output_name, "--output-name", "scene.tif");
}

std::string expand_output_name(const BatchNaming& b, const std::string& pattern, const std::string& flag,
                               const std::string& input) {
    const fs::path in(input);
    const std::map<std::string, std::string> values{{"stem", in.stem().string()},
                                                    {"name", in.filename().string()},
                                                    {"parent", in.parent_path().filename().string()}};
    std::string name;
    bool placed = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '{') {
            name += pattern[i];
            continue;
        }
        const auto close = pattern.find('}', i);
        const auto key = close == std::string::npos ? std::string() : pattern.substr(i + 1, close - i - 1);
        if (!values.count(key))
            throw UsageError(flag + " " + pattern + ": unknown placeholder '" + pattern.substr(i, close == std::string::npos ? std::string::npos : close - i + 1) +
                             "' (use {stem}, {name} or {parent})");
        if (key != "parent") placed = true;
        name += values.at(key);
        i = close;
    }
    if (!placed)
        throw UsageError(flag + " " + pattern + ": with --inputs every scene needs its own " + flag +
                         ": put {stem} or {name} in it (e.g. {stem}_" + fs::path(pattern).filename().string() + ")");
    return (fs::path(b.output_dir) / name).string();
}

std::vector<BatchScene> list_batch_scenes(const BatchNaming& b,
                                          const std::vector<std::pair<std::string, std::string>>& templates,
                                          std::string& notes) {
    std::vector<std::string> own;
    std::vector<BatchScene> scenes;
    for (const auto& input : geo::expand_image_sources(b.inputs, "--inputs")) {
        if (is_own_output(input)) {
            own.push_back(input);
            continue;
        }
        BatchScene s{input, {expand_output_name(b, b.output_name, "--output-name", input)}};
        for (const auto& [flag, pattern] : templates) s.outputs.push_back(expand_output_name(b, pattern, flag, input));
        scenes.push_back(std::move(s));
    }
    // A file this batch writes is no scene of it (a vector or quicklook in the scenes' folder, say).
    std::set<std::string> written;
    for (const auto& s : scenes)
        for (const auto& out : s.outputs) written.insert(comparable(out));
    std::vector<BatchScene> kept;
    for (auto& s : scenes) {
        if (written.count(comparable(s.input))) own.push_back(s.input);
        else kept.push_back(std::move(s));
    }
    std::map<std::string, const BatchScene*> writer;
    for (const auto& s : kept)
        for (const auto& out : s.outputs) {
            const auto [at, fresh] = writer.emplace(comparable(out), &s);
            if (!fresh && at->second != &s)
                throw UsageError("--inputs " + at->second->input + " and " + s.input + " would both write " + out +
                                 ": put {name} or {parent} in the output names");
        }
    if (!own.empty()) {
        notes += "--inputs: left out " + std::to_string(own.size()) + " files that are segearth's outputs or vectors (" + own.front() +
                 (own.size() > 1 ? ", ..." : "") + ")\n";
    }
    if (kept.empty()) throw UsageError("--inputs: no scenes left once segearth's own outputs and vectors are left out");
    return kept;
}

}  // namespace segearth::pipeline
