#include <segearth/output_safety.hpp>

#include <segearth/error.hpp>

#include <filesystem>

namespace segearth {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    std::error_code ec;
    if (fs::equivalent(a, b, ec)) return true;
    // weakly_canonical resolves the symlinks and ".." of the part that exists, so an output not yet
    // written is compared by where it would be.
    const auto ca = fs::weakly_canonical(fs::absolute(a), ec);
    if (ec) return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
    const auto cb = fs::weakly_canonical(fs::absolute(b), ec);
    if (ec) return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
    return ca == cb;
}

void refuse_outputs_onto_inputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
    for (size_t i = 0; i < outputs.size(); ++i) {
        const auto& out = outputs[i];
        if (out.path.empty()) continue;
        for (const auto& in : inputs)
            if (same_file(out.path, in.path))
                throw UsageError(out.what + " " + out.path + " is the run's input (" + in.what + " " + in.path +
                                 "): choose another output name");
        for (size_t j = 0; j < i; ++j)
            if (same_file(out.path, outputs[j].path))
                throw UsageError(out.path + " is given as two different outputs");
    }
}

}  // namespace segearth
