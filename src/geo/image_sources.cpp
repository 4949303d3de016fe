#include <segearth/geo/image_sources.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/text_file.hpp>

#include <gdal.h>
#include <glob.h>

#include <algorithm>
#include <filesystem>

namespace segearth::geo {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_sidecar(const fs::path& p) {
    const auto name = lower(p.filename().string());
    for (const std::string suffix : {".aux.xml", ".ovr", ".msk", ".xml", ".prj", ".tfw", ".wld", ".md5"})
        if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return true;
    return false;
}

bool is_list_file(const fs::path& p) {
    const auto ext = lower(p.extension().string());
    return ext == ".txt" || ext == ".lst" || ext == ".list";
}

// As a raster: a folder's vector files (a GeoPackage of polygons beside the scenes) are no images.
bool gdal_identifies(const fs::path& p) { return GDALIdentifyDriverEx(p.c_str(), GDAL_OF_RASTER, nullptr, nullptr) != nullptr; }

void add_folder(const fs::path& folder, const std::string& flag, std::vector<std::string>& out) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied))
        if (entry.is_regular_file() && !is_sidecar(entry.path()) && gdal_identifies(entry.path()))
            found.push_back(entry.path().string());
    if (found.empty())
        throw UsageError(flag + " " + folder.string() + ": the folder holds no raster GDAL can read");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
}

void add_list(const fs::path& list, const std::string& flag, std::vector<std::string>& out) {
    const size_t before = out.size();
    for (auto [number, line] : read_text_lines(list.string(), "the list of images")) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        fs::path p(line);
        if (p.is_relative() && line.rfind("/vsi", 0) != 0) p = list.parent_path() / p;
        if (line.rfind("/vsi", 0) != 0 && !fs::exists(p))
            throw UsageError(flag + " " + list.string() + " line " + std::to_string(number) + ": " + p.string() +
                             " does not exist");
        out.push_back(p.string());
    }
    if (out.size() == before) throw UsageError(flag + " " + list.string() + ": the list names no image");
}

bool is_pattern(const std::string& source) { return source.find_first_of("*?[") != std::string::npos; }

// A quoted pattern the shell left alone ("scenes/*.tif"): the files it matches, sorted (glob(3)).
void add_matches(const std::string& pattern, const std::string& flag, std::vector<std::string>& out) {
    glob_t found{};
    const int status = glob(pattern.c_str(), 0, nullptr, &found);
    std::vector<std::string> files;
    for (size_t i = 0; status == 0 && i < found.gl_pathc; ++i)
        if (fs::is_regular_file(found.gl_pathv[i]) && !is_sidecar(found.gl_pathv[i])) files.emplace_back(found.gl_pathv[i]);
    globfree(&found);
    if (files.empty()) throw UsageError(flag + " " + pattern + ": the pattern matches no file");
    out.insert(out.end(), files.begin(), files.end());
}

}  // namespace

std::vector<std::string> expand_image_sources(const std::vector<std::string>& sources, const std::string& flag) {
    ensure_gdal();
    std::vector<std::string> paths;
    for (const auto& source : sources) {
        const fs::path p(source);
        if (source.rfind("/vsi", 0) == 0) {
            paths.push_back(source);
        } else if (!fs::exists(p) && is_pattern(source)) {
            add_matches(source, flag, paths);
        } else if (!fs::exists(p)) {
            throw UsageError(flag + " " + source + ": no such file or folder");
        } else if (fs::is_directory(p)) {
            add_folder(p, flag, paths);
        } else if (is_list_file(p) && !gdal_identifies(p)) {
            add_list(p, flag, paths);
        } else {
            paths.push_back(source);
        }
    }
    if (paths.empty()) throw UsageError(flag + ": no images found; name raster files, folders of them, or list files");
    return paths;
}

}  // namespace segearth::geo
