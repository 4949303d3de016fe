// segearth: maps from words. A thin main: pick the command, map errors to GDAL-style exit codes
// (0 ok, 1 failure, 2 usage error, 130 cancelled).
#include "cli_progress.hpp"
#include "command_eval.hpp"
#include "command_eval_dataset.hpp"
#include "command_info.hpp"
#include "command_merge.hpp"
#include "command_segment.hpp"
#include "command_train.hpp"
#include "command_vectorize.hpp"

#include <segearth/abandonable_work.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using segearth::cli::Command;

const std::vector<const Command*>& commands() {
    static const std::vector<const Command*> all{&segearth::cli::segment_command, &segearth::cli::merge_command,
                                                 &segearth::cli::vectorize_command,
                                                 &segearth::cli::eval_command, &segearth::cli::eval_dataset_command,
                                                 &segearth::cli::train_command,
                                                 &segearth::cli::info_command};
    return all;
}

void print_usage(std::ostream& out) {
    out << "Usage: segearth <command> [options] <inputs> <output>\n\nCommands:\n";
    for (const auto* c : commands())
        out << "  " << c->name << std::string(14 - std::string(c->name).size(), ' ') << c->summary << "\n";
    out << "\nRun 'segearth <command> --help' for a command's options.\n";
}

int run(int argc, char** argv) {
    if (argc < 2) {
        print_usage(std::cerr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(std::cout);
        return 0;
    }
    if (name == "--version") {
        std::cout << "segearth " << SEGEARTH_VERSION << "\n";
        return 0;
    }
    for (const auto* c : commands())
        if (name == c->name) return c->run(std::vector<std::string>(argv + 2, argv + argc));
    throw segearth::UsageError("unknown command '" + name + "' (run 'segearth --help' for the list)");
}

int run_and_report(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const segearth::UsageError& e) {
        std::cerr << "segearth: " << e.what() << "\n";
        return 2;
    } catch (const segearth::Cancelled& e) {
        if (!e.note().empty()) std::cerr << "segearth: " << e.note() << "\n";
        std::cerr << "segearth: cancelled\n";
        return 130;
    } catch (const segearth::Error& e) {
        std::cerr << "segearth: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "segearth: internal error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    segearth::core::select_blas_core_type(argv);
    // From the start: a Ctrl-C while the models load is seen at the first progress report.
    segearth::cli::install_interrupt_handler();
    const int code = run_and_report(argc, argv);
    // A cancelled training step may still be running: end without the static destructors, which
    // would take libtorch's thread pools from under it (every output is published or removed already).
    if (segearth::work_was_abandoned()) {
        std::fflush(nullptr);
        std::_Exit(code);
    }
    return code;
}
