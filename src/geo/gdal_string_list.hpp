// A NULL-terminated char* list (GDAL's CSL, or an argv for its utilities' *OptionsNew) over strings it
// owns: one helper for creation options, layer options and gdal_translate/gdalwarp arguments.
#pragma once

#include <string>
#include <vector>

namespace segearth::geo {

class GdalStringList {
public:
    explicit GdalStringList(std::vector<std::string> items) : strings_(std::move(items)) {
        for (auto& s : strings_) pointers_.push_back(s.data());
        pointers_.push_back(nullptr);
    }
    GdalStringList(const GdalStringList&) = delete;
    GdalStringList& operator=(const GdalStringList&) = delete;
    char** get() { return pointers_.data(); }

private:
    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

}  // namespace segearth::geo
