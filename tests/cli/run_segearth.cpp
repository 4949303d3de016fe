#include "run_segearth.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace segearth::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

Process start_segearth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    return start_program(SEGEARTH_BINARY, args, env);
}

Process start_program(const std::string& binary, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env) {
    // Output goes to files rather than pipes so a chatty child can never block on a full pipe.
    char out_template[] = "/tmp/segearth-cli-out-XXXXXX";
    char err_template[] = "/tmp/segearth-cli-err-XXXXXX";
    const int out_fd = mkstemp(out_template);
    const int err_fd = mkstemp(err_template);
    if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

    std::vector<std::string> argv_strings{binary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        if (!env.count(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    Process p;
    const int rc = posix_spawn(&p.pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_fd);
    close(err_fd);
    if (rc != 0) p.pid = -1;
    p.out_path = out_template;
    p.err_path = err_template;
    return p;
}

RunResult wait_for(const Process& p) {
    RunResult result;
    if (p.pid > 0) {
        int status = 0;
        waitpid(p.pid, &status, 0);
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    result.out = slurp(p.out_path);
    result.err = slurp(p.err_path);
    unlink(p.out_path.c_str());
    unlink(p.err_path.c_str());
    return result;
}

RunResult run_segearth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    return wait_for(start_segearth(args, env));
}

}  // namespace segearth::test
