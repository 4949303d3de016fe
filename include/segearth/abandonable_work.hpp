// Work that a cancellation may leave behind instead of waiting for it. A training step on a real
// model runs for minutes inside libtorch, which cannot be interrupted; run on a worker thread, the
// caller keeps asking whether to go on and, told to stop, returns at once (within `poll`) while
// the step finishes unseen in the background. The work must own what it uses (shared pointers, values).
// One worker thread serves every call, so libtorch's OpenMP team is the same from step to step.
// A process that abandoned work ends with std::_Exit (work_was_abandoned()): its static
// destructors would pull libtorch's thread pools from under the running step.
//
//   AbandonableWorker worker;
//   auto result = worker.run<StepResult>([trainer, batch] { return trainer->step(batch); }, keep_going);
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

/// True once an AbandonableWorker has left work running.
inline bool work_was_abandoned() { return detail::abandoned_work.load(); }

class AbandonableWorker {
public:
    AbandonableWorker() : shared_(std::make_shared<Shared>()) {
        thread_ = std::thread([shared = shared_] {
            std::unique_lock<std::mutex> lock(shared->mutex);
            for (;;) {
                shared->posted.wait(lock, [&] { return shared->task || shared->stop; });
                if (!shared->task) return;
                auto task = std::move(shared->task);
                shared->task = nullptr;
                lock.unlock();
                task();
                lock.lock();
            }
        });
    }
    /// Joins the worker, or leaves it running when work was abandoned.
    ~AbandonableWorker() {
        if (abandoned_) {
            thread_.detach();
            return;
        }
        {
            const std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->stop = true;
        }
        shared_->posted.notify_all();
        thread_.join();
    }
    AbandonableWorker(const AbandonableWorker&) = delete;
    AbandonableWorker& operator=(const AbandonableWorker&) = delete;

    /// Runs `work` on the worker and waits for it, calling `keep_going` every `poll`; returns its
    /// result, rethrows what it throws, or returns nullopt as soon as `keep_going` says false (the
    /// worker then takes no more work).
    template <class Result>
    std::optional<Result> run(std::function<Result()> work, const std::function<bool()>& keep_going,
                              std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
        if (abandoned_) return std::nullopt;
        struct Call {
            std::mutex mutex;
            std::condition_variable finished;
            bool done = false;
            std::optional<Result> result;
            std::exception_ptr error;
        };
        auto call = std::make_shared<Call>();
        {
            const std::lock_guard<std::mutex> posting(shared_->mutex);
            shared_->task = [call, work = std::move(work)] {
                std::optional<Result> result;
                std::exception_ptr error;
                try {
                    result.emplace(work());
                } catch (...) {
                    error = std::current_exception();
                }
                const std::lock_guard<std::mutex> guard(call->mutex);
                call->result = std::move(result);
                call->error = error;
                call->done = true;
                call->finished.notify_all();
            };
        }
        shared_->posted.notify_all();
        std::unique_lock<std::mutex> lock(call->mutex);
        while (!call->finished.wait_for(lock, poll, [&] { return call->done; })) {
            lock.unlock();
            const bool go_on = keep_going();
            lock.lock();
            if (!go_on && !call->done) {
                abandoned_ = true;
                detail::abandoned_work = true;
                return std::nullopt;
            }
        }
        if (call->error) std::rethrow_exception(call->error);
        return std::move(call->result);
    }

private:
    struct Shared {
        std::mutex mutex;
        std::condition_variable posted;
        std::function<void()> task;
        bool stop = false;
    };
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
    bool abandoned_ = false;
};

}  // namespace segearth
