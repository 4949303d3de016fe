// Work that a cancellation may leave behind instead of waiting for it. A training step on a real
// model runs for minutes inside libtorch, which cannot be interrupted; run on a worker thread, the
// caller keeps asking whether to go on and, told to stop, returns at once (within `poll`) while
// the step finishes unseen in the background. The work must own what it uses (shared pointers, values).
// A process that abandoned work ends with std::_Exit (work_was_abandoned()): its static
// destructors would pull libtorch's thread pools from under the running step.
//
//   auto result = run_abandonable<StepResult>([trainer, batch] { return trainer->step(batch); }, keep_going);
//   if (!result) { /* cancelled: write what is already known, then throw Cancelled */ }
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace segearth {

namespace detail {
inline std::atomic<bool> abandoned_work{false};
}

/// True once run_abandonable() has left work running.
inline bool work_was_abandoned() { return detail::abandoned_work.load(); }

/// Runs `work` on its own thread and waits for it, calling `keep_going` every `poll`; returns its
/// result, rethrows what it throws, or returns nullopt as soon as `keep_going` says false.
template <class Result>
std::optional<Result> run_abandonable(std::function<Result()> work, const std::function<bool()>& keep_going,
                                      std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
    struct Shared {
        std::mutex mutex;
        std::condition_variable finished;
        bool done = false;
        std::optional<Result> result;
        std::exception_ptr error;
    };
    auto shared = std::make_shared<Shared>();
    std::thread worker([shared, work = std::move(work)] {
        std::optional<Result> result;
        std::exception_ptr error;
        try {
            result.emplace(work());
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(shared->mutex);
        shared->result = std::move(result);
        shared->error = error;
        shared->done = true;
        shared->finished.notify_all();
    });
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (!shared->finished.wait_for(lock, poll, [&] { return shared->done; })) {
        lock.unlock();
        const bool go_on = keep_going();
        lock.lock();
        if (!go_on && !shared->done) {
            detail::abandoned_work = true;
            worker.detach();
            return std::nullopt;
        }
    }
    lock.unlock();
    worker.join();
    if (shared->error) std::rethrow_exception(shared->error);
    return std::move(shared->result);
}

}  // namespace segearth
