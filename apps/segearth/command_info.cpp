#include "command_info.hpp"

#include "cli_options.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/error.hpp>
#include <segearth/pipeline/info.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace segearth::cli {
namespace {

int run_info(const std::vector<std::string>& arguments) {
    auto args = arguments;
    take_common_options(args);
    po::options_description options("Options");
    options.add_options()
        ("help,h", "show this help")
        ("system", "report the BLAS in use, its kernel type, threads, CPU features and a measured matmul "
                   "speed, libtorch, GDAL and CUDA")
        ("tokenize", po::value<std::string>()->value_name("TEXT"), "print the 77 CLIP token ids of TEXT")
        ("vocab", po::value<std::string>()->value_name("PATH"),
         "CLIP BPE vocabulary (default: $SEGEARTH_VOCAB, then bpe_simple_vocab_16e6.txt.gz in the data folders)")
        ("file", po::value<std::string>()->value_name("FILE"), "a CLIP weights file or a GDAL raster");
    const auto vm = parse_command_line("info", args, options, {"file"});
    if (vm.count("help")) {
        print_command_help("info", "[--system | --tokenize TEXT | FILE]",
                           "Describes a CLIP weights file (format, architecture, parameters, dtype) or a raster "
                           "(size, bands, georeferencing), prints CLIP token ids, or reports this machine.",
                           options);
        return 0;
    }
    const int chosen = static_cast<int>(vm.count("system") + vm.count("tokenize") + vm.count("file"));
    if (chosen != 1)
        throw UsageError("info: give exactly one of FILE, --system or --tokenize TEXT (see segearth info --help)");
    if (vm.count("system")) {
        std::cout << pipeline::describe_system();
    } else if (vm.count("tokenize")) {
        const auto bpe = core::find_asset(core::bpe_vocabulary_asset(),
                                          vm.count("vocab") ? vm["vocab"].as<std::string>() : std::string());
        std::cout << pipeline::describe_tokens(vm["tokenize"].as<std::string>(), bpe);
    } else {
        std::cout << pipeline::describe_file(vm["file"].as<std::string>());
    }
    return 0;
}

}  // namespace

const Command info_command{"info", "describe a model file or raster, tokenize text, or report this machine",
                           run_info};

}  // namespace segearth::cli
