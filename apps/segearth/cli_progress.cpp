#include "cli_progress.hpp"

#include <segearth/temporary_output.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace segearth::cli {
namespace {

std::atomic<int> signals_received{0};
bool progress_lines = false;

// The shared part of both callbacks in --progress-lines mode: a line when the fraction has grown.
void print_progress_line(double fraction, double& last) {
    fraction = std::min(std::max(fraction, 0.0), 1.0);
    if (last >= 0 && fraction < last + 0.005 && !(fraction == 1.0 && last < 1.0)) return;
    last = fraction;
    std::fprintf(stderr, "segearth progress %.3f\n", fraction);
    std::fflush(stderr);
}

extern "C" void on_interrupt(int) {
    if (signals_received.fetch_add(1) == 0) return;  // the run stops at its next progress report
    // The user insists: end now, but leave no temporary file behind (async-signal-safe calls only).
    segearth::remove_temporaries_now();
    static const char message[] = "segearth: cancelled at once (second interrupt); temporary files removed\n";
    [[maybe_unused]] const auto written = write(2, message, sizeof message - 1);
    _exit(130);
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return signals_received.load() > 0; }

void set_progress_lines(bool on) { progress_lines = on; }

Progress terminal_progress(bool quiet) {
    if (progress_lines) {
        auto last = std::make_shared<double>(-1.0);
        return [last](double fraction, const std::string&) {
            if (interrupted()) return false;
            print_progress_line(fraction, *last);
            return true;
        };
    }
    // Ticks every 2.5 %: a number at each 10 %, dots between, as GDALTermProgress prints them.
    auto printed = std::make_shared<int>(-1);
    return [quiet, printed](double fraction, const std::string&) {
        if (interrupted()) return false;
        if (quiet) return true;
        const int tick = static_cast<int>(std::min(std::max(fraction, 0.0), 1.0) * 40.0 + 1e-9);
        while (*printed < tick) {
            ++*printed;
            if (*printed % 4 == 0)
                std::fprintf(stderr, "%d", *printed / 4 * 10);
            else
                std::fputc('.', stderr);
        }
        if (tick == 40 && *printed == 40) {
            std::fputs(" - done.\n", stderr);
            *printed = 41;
        }
        std::fflush(stderr);
        return true;
    };
}

Progress message_progress(bool quiet) {
    auto last = std::make_shared<double>(-1.0);
    return [quiet, last](double fraction, const std::string& message) {
        if (!quiet && !message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
        if (progress_lines) print_progress_line(fraction, *last);
        return !interrupted();
    };
}

}  // namespace segearth::cli
