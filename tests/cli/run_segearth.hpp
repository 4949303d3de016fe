// Runs the built segearth binary and captures what it prints.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace segearth::test {

struct RunResult {
    int exit_code = -1;
    std::string out, err;
};

/// A segearth process started in the background (for tests that signal it).
struct Process {
    int pid = -1;
    std::string out_path, err_path;
};
Process start_segearth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
/// The same for another binary (a copy of segearth elsewhere).
Process start_program(const std::string& binary, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {});
/// Waits for the process and collects its exit code and output.
RunResult wait_for(const Process& process);

/// Runs segearth with `args` (no shell), optional extra environment variables; waits for it.
RunResult run_segearth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

}  // namespace segearth::test
