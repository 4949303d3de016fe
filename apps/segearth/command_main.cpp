#include "command_main.hpp"

#include "cli_progress.hpp"

#include <segearth/abandonable_work.hpp>
#include <segearth/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace segearth::cli {
namespace {

void print_usage(std::ostream& out, const std::vector<const Command*>& commands) {
    out << "Usage: segearth <command> [options] <inputs> <output>\n\nCommands:\n";
    for (const auto* c : commands)
        out << "  " << c->name << std::string(14 - std::string(c->name).size(), ' ') << c->summary << "\n";
    out << "\nRun 'segearth <command> --help' for a command's options.\n";
}

int run(int argc, char** argv, const std::vector<const Command*>& commands, int (*elsewhere)(int, char**)) {
    const std::string name = argc < 2 ? std::string() : argv[1];
    for (const auto* c : commands)
        if (name == c->name) {
            // Before the command's own work (its models may take seconds to load); not before an exec
            // to another binary, which would lose the handlers and let a signal kill it silently.
            install_interrupt_handler();
            return c->run(std::vector<std::string>(argv + 2, argv + argc));
        }
    if (name == "--version") {
        std::cout << "segearth " << SEGEARTH_VERSION << "\n";
        return 0;
    }
    if (elsewhere) return elsewhere(argc, argv);
    if (argc < 2) {
        print_usage(std::cerr, commands);
        return 2;
    }
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(std::cout, commands);
        return 0;
    }
    throw UsageError("unknown command '" + name + "' (run 'segearth --help' for the list)");
}

int run_and_report(int argc, char** argv, const std::vector<const Command*>& commands,
                   int (*elsewhere)(int, char**)) {
    try {
        return run(argc, argv, commands, elsewhere);
    } catch (const UsageError& e) {
        std::cerr << "segearth: " << e.what() << "\n";
        return 2;
    } catch (const Cancelled& e) {
        if (!e.note().empty()) std::cerr << "segearth: " << e.note() << "\n";
        std::cerr << "segearth: cancelled\n";
        return 130;
    } catch (const Error& e) {
        std::cerr << "segearth: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "segearth: internal error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int command_main(int argc, char** argv, const std::vector<const Command*>& commands, int (*elsewhere)(int, char**)) {
    const int code = run_and_report(argc, argv, commands, elsewhere);
    // A cancelled training step may still be running: end without the static destructors, which
    // would take libtorch's thread pools from under it (every output is published or removed already).
    if (work_was_abandoned()) {
        std::fflush(nullptr);
        std::_Exit(code);
    }
    return code;
}

}  // namespace segearth::cli
