// Runs a command as a child process, as users would, and measures it: wall time and peak RSS (from
// wait4's rusage). Its stdout and stderr go to a log file; the log's last line is kept.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace segearth::bench {

struct ChildRun {
    int exit_code = -1;
    double wall_seconds = 0, peak_rss_mb = 0;
    std::string last_line;
};

inline ChildRun run_child(std::vector<std::string> args, const std::filesystem::path& log) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ChildRun r;
    pid_t pid = 0;
    const auto start = std::chrono::steady_clock::now();
    const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return r;
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) r.last_line = line;
    return r;
}

}  // namespace segearth::bench
