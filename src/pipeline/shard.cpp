#include <segearth/pipeline/shard.hpp>

#include <segearth/error.hpp>
#include <segearth/options/option_info.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/text_file.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

const std::string manifest_header = "segearth shard manifest 1";

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

int64_t whole_number(const std::string& text, const std::string& what) {
    size_t used = 0;
    long long v = -1;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || v < 0) throw UsageError(what + " is '" + text + "', not a whole number");
    return v;
}

ShardChoice checked(int64_t index, int64_t count, std::string source) {
    if (count < 1 || index >= count)
        throw UsageError(source + ": shard " + std::to_string(index) + " of " + std::to_string(count) +
                         " (shards count from 0: give I/N with 0 <= I < N)");
    return {index, count, std::move(source)};
}

}  // namespace

ShardChoice resolve_shard(const std::string& spec, int64_t shards) {
    if (spec.empty()) {
        if (shards > 0) throw UsageError("--shards N goes with --shard auto (Kubernetes Indexed Jobs)");
        return {};
    }
    if (spec != "auto") {
        const auto slash = spec.find('/');
        if (slash == std::string::npos)
            throw UsageError("--shard " + spec + ": give I/N (e.g. 0/4, counted from 0) or auto");
        return checked(whole_number(spec.substr(0, slash), "--shard's I"),
                       whole_number(spec.substr(slash + 1), "--shard's N"), "--shard " + spec);
    }
    if (const auto id = env("SLURM_ARRAY_TASK_ID")) {
        const auto count = env("SLURM_ARRAY_TASK_COUNT");
        if (!count) throw UsageError("--shard auto: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT");
        const int64_t min = whole_number(env("SLURM_ARRAY_TASK_MIN").value_or("0"), "SLURM_ARRAY_TASK_MIN");
        const int64_t task = whole_number(*id, "SLURM_ARRAY_TASK_ID");
        if (task < min) throw UsageError("--shard auto: SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN");
        return checked(task - min, whole_number(*count, "SLURM_ARRAY_TASK_COUNT"), "SLURM array");
    }
    if (const auto index = env("JOB_COMPLETION_INDEX")) {
        if (shards < 1)
            throw UsageError("--shard auto in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX is set) needs --shards N, "
                             "the Job's completions");
        return checked(whole_number(*index, "JOB_COMPLETION_INDEX"), shards, "Kubernetes Indexed Job");
    }
    if (const auto index = env("AWS_BATCH_JOB_ARRAY_INDEX")) {
        const auto size = env("AWS_BATCH_JOB_ARRAY_SIZE");
        if (!size) throw UsageError("--shard auto: AWS_BATCH_JOB_ARRAY_INDEX is set but not AWS_BATCH_JOB_ARRAY_SIZE");
        return checked(whole_number(*index, "AWS_BATCH_JOB_ARRAY_INDEX"),
                       whole_number(*size, "AWS_BATCH_JOB_ARRAY_SIZE"), "AWS Batch array job");
    }
    throw UsageError("--shard auto: no array job variables found (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or "
                     "AWS_BATCH_JOB_ARRAY_INDEX): give --shard I/N");
}

std::string shard_path(const std::string& path, int64_t index, int64_t count) {
    const fs::path p(path);
    const auto name = p.stem().string() + ".shard-" + std::to_string(index) + "-of-" + std::to_string(count) +
                      p.extension().string();
    return (p.parent_path() / name).string();
}

std::string manifest_path(const std::string& output, int64_t index, int64_t count) {
    return fs::path(shard_path(output, index, count)).replace_extension(".manifest").string();
}

void write_manifest(const std::string& path, const ShardManifest& m) {
    std::ostringstream s;
    s << manifest_header << "\n"
      << "shard " << m.index << " " << m.count << "\n"
      << "band " << m.band_begin << " " << m.band_end << "\n"
      << "grid " << m.width << " " << m.height << "\n";
    if (m.geotransform) {
        s << "geotransform";
        for (const double v : *m.geotransform) s << " " << options::format_number(v);
        s << "\n";
    }
    s << "windows " << m.windows << "\n"
      << "format " << m.format << "\n";
    for (const auto& co : m.creation_options) s << "co " << co << "\n";
    for (const auto& [role, files] : m.rasters) s << "raster " << role << " " << files.first << "\t" << files.second << "\n";
    if (!m.vector.empty()) s << "vector " << m.vector << "\n";
    s << "settings " << m.settings << "\n"
      << "complete\n";
    write_text_output(path, s.str(), true, ".manifest");
}

ShardManifest read_manifest(const std::string& path) {
    const auto lines = read_text_lines(path, "the shard manifest");
    const auto bad = [&](const std::string& what) {
        return FileError(path + ": " + what + " (rerun that shard: its files are replaced)");
    };
    if (lines.empty() || lines[0].second != manifest_header) throw bad("not a segearth shard manifest");
    if (lines.back().second != "complete") throw bad("incomplete");
    ShardManifest m;
    for (size_t i = 1; i + 1 < lines.size(); ++i) {
        const auto& line = lines[i].second;
        const auto space = line.find(' ');
        const auto key = line.substr(0, space);
        const auto rest = space == std::string::npos ? std::string() : line.substr(space + 1);
        std::istringstream in(rest);
        if (key == "shard") {
            in >> m.index >> m.count;
        } else if (key == "band") {
            in >> m.band_begin >> m.band_end;
        } else if (key == "grid") {
            in >> m.width >> m.height;
        } else if (key == "geotransform") {
            std::array<double, 6> gt{};
            for (auto& v : gt) in >> v;
            m.geotransform = gt;
        } else if (key == "windows") {
            in >> m.windows;
        } else if (key == "format") {
            m.format = rest;
        } else if (key == "co") {
            m.creation_options.push_back(rest);
        } else if (key == "raster") {
            const auto role_end = rest.find(' '), tab = rest.find('\t');
            if (role_end == std::string::npos || tab == std::string::npos || tab < role_end)
                throw bad("line " + std::to_string(lines[i].first) + " is not 'raster ROLE OUTPUT<tab>SHARD'");
            m.rasters[rest.substr(0, role_end)] = {rest.substr(role_end + 1, tab - role_end - 1), rest.substr(tab + 1)};
            continue;
        } else if (key == "vector") {
            m.vector = rest;
            continue;
        } else if (key == "settings") {
            m.settings = rest;
            continue;
        } else {
            throw bad("unknown line " + std::to_string(lines[i].first) + " '" + key + "'");
        }
        if (!in && !(key == "format" || key == "co")) throw bad("line " + std::to_string(lines[i].first) + " is damaged");
    }
    if (m.count < 1 || m.width < 1 || m.height < 1 || m.format.empty()) throw bad("missing its shard, grid or format");
    return m;
}

}  // namespace segearth::pipeline
