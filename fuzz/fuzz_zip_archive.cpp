// The zip reader (torch.save and TorchScript archives): directory, records, sizes and offsets.
#include "fuzz_input.hpp"

#include "weights/zip_archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = segearth::fuzz::as_file(data, size, ".zip");
    segearth::fuzz::expect_clean([&] {
        segearth::core::detail::ZipArchive zip(path);
        for (const auto& name : zip.record_names())
            segearth::fuzz::expect_clean([&] { zip.read_record(name); });
    });
    return 0;
}
