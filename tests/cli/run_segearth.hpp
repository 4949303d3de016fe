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

/// Runs segearth with `args` (no shell), optional extra environment variables; waits for it.
RunResult run_segearth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

}  // namespace segearth::test
