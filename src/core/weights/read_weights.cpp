// read_weights: tells the formats apart by their first bytes, then turns each into one flat map
// of dotted names. TorchScript archives are read as data (their pickled module tree), never
// compiled: torch::jit::load would run the archive's code.
#include <segearth/core/weights.hpp>

#include <segearth/error.hpp>

#include "weights/pickle.hpp"
#include "weights/safetensors.hpp"
#include "weights/zip_archive.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <unordered_map>

namespace segearth::core {

const char* to_string(WeightsFormat format) {
    switch (format) {
        case WeightsFormat::torchscript: return "torchscript";
        case WeightsFormat::torch_save: return "torch_save";
        case WeightsFormat::lightning_checkpoint: return "lightning_checkpoint";
        case WeightsFormat::safetensors: return "safetensors";
    }
    return "unknown";
}

namespace {

using detail::PickleDocument;
using detail::PickleValue;
using Kind = PickleValue::Kind;

constexpr int max_depth = 64;  // a CLIP state dict nests 6 levels; deeper means a crafted file
constexpr std::size_t max_visits = 1000;

bool is_legacy_pickle(const unsigned char* head, std::size_t size) {
    // The legacy format opens with a pickled magic number, 0x1950a86a20f9469cfc6c (torch/serialization.py).
    static const unsigned char magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return size > 0 && head[0] == 0x80 && std::search(head, head + size, magic, magic + sizeof magic) != head + size;
}

bool is_tar(const unsigned char* head, std::size_t size) {
    return size >= 262 && std::memcmp(head + 257, "ustar", 5) == 0;  // torch < 0.4 wrote a tar file
}

std::string legacy_error(const std::filesystem::path& path) {
    return path.string() +
           ": this is PyTorch's legacy (pre-1.6) torch.save format, which segearth does not read; convert it with "
           "Python: torch.save(torch.load(\"old.pt\", map_location=\"cpu\"), \"new.pt\", "
           "_use_new_zipfile_serialization=True)";
}

class TensorCollector {
public:
    TensorCollector(const std::filesystem::path& path, const PickleDocument& doc) : path_(path), doc_(doc) {}

    void add(const std::string& name, const PickleValue& value) {
        if (!tensors_.emplace(name, doc_.tensor(value)).second)
            throw FileError(path_.string() + ": the tensor name '" + name + "' appears twice");
    }
    // Memo references let a small pickle reuse one container at every level, so paths could
    // multiply past any time or memory budget; a real state dict reaches each container once
    // (a tied submodule twice).
    void enter(const PickleValue& container, int depth) {
        if (depth > max_depth) throw FileError(path_.string() + ": data.pkl nests deeper than " + std::to_string(max_depth) + " levels");
        if (++visits_[container.node] > max_visits)
            throw FileError(path_.string() + ": data.pkl refers to one container over " + std::to_string(max_visits) + " times");
    }
    TensorMap take() { return std::move(tensors_); }

    // Quantized, sparse or new-dtype tensors come as torch's other rebuild functions, which the
    // unpickler leaves as placeholders: dropping them would only surface later as "missing".
    void reject_other_tensor_kinds(const std::string& name, const PickleValue& value) const {
        if (!value.is(Kind::object)) return;
        const detail::PickleObject& object = *value.node->object;
        if (object.module.compare(0, 5, "torch") == 0 && object.name.compare(0, 8, "_rebuild") == 0)
            throw FileError(path_.string() + ": tensor '" + name + "' is stored by " + object.module + "." + object.name +
                            ", which segearth does not read (only dense tensors)");
    }

protected:
    const std::filesystem::path& path_;
    const PickleDocument& doc_;
    TensorMap tensors_;
    std::unordered_map<const detail::PickleNode*, std::size_t> visits_;
};

// A torch.save state dict: nested dicts of tensors (ModuleList levels have int-like keys), or a
// whole pickled nn.Module whose tensors sit in _parameters, _buffers and _modules.
class StateDictFlattener : public TensorCollector {
public:
    using TensorCollector::TensorCollector;

    void flatten(const PickleValue& value, const std::string& prefix, int depth) {
        if (value.node) enter(value, depth);
        std::string name = prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1);
        reject_other_tensor_kinds(name, value);
        if (value.is(Kind::tensor)) {
            add(name, value);
        } else if (value.is(Kind::dict)) {
            for (const auto& [key, item] : value.node->entries) {
                if (key.is(Kind::string)) flatten(item, prefix + key.str() + ".", depth + 1);
                else if (key.is(Kind::integer)) flatten(item, prefix + std::to_string(key.integer) + ".", depth + 1);
            }
        } else if (value.is(Kind::object) && value.node->object->state.is(Kind::dict)) {
            const PickleValue& state = value.node->object->state;
            for (const char* part : {"_parameters", "_buffers", "_modules"})
                if (const PickleValue* members = state.find(part); members && members->is(Kind::dict))
                    flatten(*members, prefix, depth + 1);
        }
    }
};

// TorchScript modules are pickled as objects whose state is a dict of attributes. Tensors among
// them are parameters, buffers or plain attributes (a scripted CLIP keeps attn_mask as one); the
// class's printed code declares which are which:
//     class Linear(Module):
//       __parameters__ = ["weight", "bias", ]
//       __buffers__ = []
class TorchScriptWalker : public TensorCollector {
public:
    TorchScriptWalker(const std::filesystem::path& path, const PickleDocument& doc, const detail::ZipArchive& archive)
        : TensorCollector(path, doc), archive_(archive) {}

    void walk(const PickleValue& module, const std::string& prefix, int depth) {
        enter(module, depth);
        const PickleValue& state = module.node->object->state;
        if (!state.is(Kind::dict)) return;
        const std::optional<std::set<std::string>>& declared = declared_tensors(*module.node->object);
        for (const auto& [key, value] : state.node->entries) {
            if (!key.is(Kind::string)) continue;
            reject_other_tensor_kinds(prefix + key.str(), value);
            if (value.is(Kind::tensor) && (!declared || declared->count(key.str()))) add(prefix + key.str(), value);
            else if (value.is(Kind::object)) walk(value, prefix + key.str() + ".", depth + 1);
        }
    }

private:
    // The names a class lists in __parameters__ and __buffers__, or nothing when its code cannot
    // be found (then every tensor attribute counts).
    const std::optional<std::set<std::string>>& declared_tensors(const detail::PickleObject& cls) {
        std::string qualified = cls.module + "." + cls.name;
        auto cached = declared_.find(qualified);
        if (cached != declared_.end()) return cached->second;
        std::string record = "code/" + cls.module + ".py";
        std::replace(record.begin() + 5, record.end() - 3, '.', '/');
        std::optional<std::set<std::string>> names;
        if (archive_.has_record(record)) {
            auto code = code_.find(record);
            if (code == code_.end()) code = code_.emplace(record, archive_.read_text(record)).first;
            names = parse_declarations(code->second, cls.name);
        }
        return declared_.emplace(qualified, std::move(names)).first->second;
    }

    static std::optional<std::set<std::string>> parse_declarations(const std::string& code, const std::string& name) {
        std::string header = "class " + name + "(";
        std::size_t pos = code.compare(0, header.size(), header) == 0 ? 0 : code.find('\n' + header);
        if (pos == std::string::npos) return std::nullopt;
        std::set<std::string> names;
        int lists_found = 0;
        pos = code.find('\n', pos);
        // The class body: the indented lines after its header.
        while (pos != std::string::npos && pos + 1 < code.size() && code[pos + 1] == ' ') {
            std::size_t end = code.find('\n', pos + 1);
            std::string line = code.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
            std::size_t first = line.find_first_not_of(' ');
            for (const char* list : {"__parameters__ = [", "__buffers__ = ["}) {
                if (first == std::string::npos || line.compare(first, std::strlen(list), list) != 0) continue;
                ++lists_found;
                for (std::size_t open = line.find('"'); open != std::string::npos;) {
                    std::size_t close = line.find('"', open + 1);
                    if (close == std::string::npos) break;
                    names.insert(line.substr(open + 1, close - open - 1));
                    open = line.find('"', close + 1);
                }
            }
            pos = end;
        }
        if (lists_found == 0) return std::nullopt;
        return names;
    }

    const detail::ZipArchive& archive_;
    std::map<std::string, std::optional<std::set<std::string>>> declared_;
    std::map<std::string, std::string> code_;  // one file holds several classes
};

// DataParallel and DistributedDataParallel save every name under "module.".
void strip_module_prefix(TensorMap& tensors) {
    static const std::string prefix = "module.";
    auto all_prefixed = [&] {
        return !tensors.empty() && std::all_of(tensors.begin(), tensors.end(), [](const auto& item) {
            return item.first.size() > prefix.size() && item.first.compare(0, prefix.size(), prefix) == 0;
        });
    };
    while (all_prefixed()) {
        TensorMap stripped;
        for (auto& [name, tensor] : tensors) stripped.emplace(name.substr(prefix.size()), std::move(tensor));
        tensors = std::move(stripped);
    }
}

// Keys only PyTorch Lightning writes; "epoch" and "global_step" alone are common to hand-written
// training checkpoints too ({"state_dict": ..., "epoch": 1} is a plain torch.save).
bool has_lightning_keys(const PickleValue& root) {
    for (const char* key : {"pytorch-lightning_version", "optimizer_states", "lr_schedulers", "loops", "callbacks"})
        if (root.find(key)) return true;
    return false;
}

WeightsFile read_zip(const std::filesystem::path& path) {
    detail::ZipArchive archive(path);
    if (archive.has_record("byteorder") && archive.read_text("byteorder") != "little")
        throw FileError(path.string() + ": the archive was written on a big-endian machine, which segearth does not read");
    if (!archive.has_record("data.pkl"))
        throw FileError(path.string() + ": a zip archive without data.pkl, so not a PyTorch file");
    std::vector<std::string> names = archive.record_names();
    bool torchscript = std::any_of(names.begin(), names.end(), [](const std::string& name) {
        return name == "constants.pkl" || name.compare(0, 5, "code/") == 0;
    });

    detail::ZipRecord pickle = archive.read_record("data.pkl");
    auto load_storage = [&archive](const std::string& key) {
        detail::ZipRecord record = archive.read_record("data/" + key);
        return c10::Storage(c10::Storage::use_byte_size_t(), record.size, std::move(record.data), nullptr, false);
    };
    PickleDocument doc = detail::unpickle(static_cast<const char*>(pickle.data.get()), pickle.size,
                                          path.string() + ": data.pkl", load_storage);
    const PickleValue& root = doc.root();

    WeightsFile file;
    file.path = path;
    if (torchscript) {
        if (!root.is(Kind::object))
            throw FileError(path.string() + ": a TorchScript archive whose data.pkl holds " + detail::to_string(root.kind) +
                            ", not a module");
        TorchScriptWalker walker(path, doc, archive);
        walker.walk(root, "", 0);
        file.format = WeightsFormat::torchscript;
        file.tensors = walker.take();
    } else {
        // The state dict may be wrapped: {"state_dict": ...} (Lightning and many trainers) or
        // {"model": ...}; otherwise the root is the state dict.
        const PickleValue* state = &root;
        file.format = WeightsFormat::torch_save;
        if (const PickleValue* inner = root.find("state_dict"); inner && inner->is(Kind::dict)) {
            state = inner;
            if (has_lightning_keys(root)) file.format = WeightsFormat::lightning_checkpoint;
        } else if (const PickleValue* model = root.find("model"); model && (model->is(Kind::dict) || model->is(Kind::object))) {
            state = model;
        }
        if (state->is(Kind::tensor))
            throw FileError(path.string() + ": data.pkl holds a single tensor, not a state dict of named tensors");
        StateDictFlattener flattener(path, doc);
        flattener.flatten(*state, "", 0);
        file.tensors = flattener.take();
        strip_module_prefix(file.tensors);
    }
    if (file.tensors.empty())
        throw FileError(path.string() + ": no tensors found (data.pkl holds " + detail::to_string(root.kind) +
                        " without a state dict)");
    return file;
}

}  // namespace

WeightsFile read_weights(const std::filesystem::path& path) {
    std::error_code error;
    auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) throw FileError(path.string() + ": no such file");
    if (std::filesystem::is_directory(status)) throw FileError(path.string() + ": is a directory, not a weights file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path.string() + ": cannot open the file (check its permissions)");
    std::uintmax_t file_size = std::filesystem::file_size(path, error);
    if (error) throw FileError(path.string() + ": cannot read the file size: " + error.message());
    unsigned char head[512] = {};
    in.read(reinterpret_cast<char*>(head), sizeof head);
    auto head_size = static_cast<std::size_t>(in.gcount());
    in.close();

    if (file_size == 0) throw FileError(path.string() + ": the file is empty");
    if (head_size >= 4 && head[0] == 'P' && head[1] == 'K' &&
        ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        return read_zip(path);
    if (is_legacy_pickle(head, std::min<std::size_t>(head_size, 64)) || is_tar(head, head_size))
        throw FileError(legacy_error(path));
    if (detail::looks_like_safetensors(head, head_size, file_size)) {
        WeightsFile file;
        file.path = path;
        file.format = WeightsFormat::safetensors;
        file.tensors = detail::read_safetensors(path);
        strip_module_prefix(file.tensors);
        return file;
    }
    // Two mistakes users make with downloads get their own hint.
    std::string text(reinterpret_cast<const char*>(head), head_size);
    if (text.rfind("version https://git-lfs", 0) == 0)
        throw FileError(path.string() + ": a Git LFS pointer, not the weights it points to: fetch them with git lfs pull");
    std::string lower = text.substr(0, 64);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("<!doctype html") != std::string::npos || lower.find("<html") != std::string::npos)
        throw FileError(path.string() + ": an HTML page, not weights (did a download fail?)");
    throw FileError(path.string() + ": not a weights file (expected a zip archive or safetensors)");
}

std::vector<std::string> prefixes_of(const TensorMap& tensors, const std::string& name) {
    std::vector<std::string> prefixes;
    for (const auto& entry : tensors) {
        const auto& key = entry.first;
        if (key.size() >= name.size() && key.compare(key.size() - name.size(), name.size(), name) == 0)
            prefixes.push_back(key.substr(0, key.size() - name.size()));
    }
    return prefixes;
}

}  // namespace segearth::core
