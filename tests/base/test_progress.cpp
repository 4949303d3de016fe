// SerialProgress: one progress callback shared by the stages of a pipeline on several threads.
#include <segearth/error.hpp>
#include <segearth/progress.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

using segearth::Cancelled;
using segearth::SerialProgress;

TEST_CASE("SerialProgress passes fractions within [0, 1] and is never asked again after a no") {
    std::vector<double> asked;
    SerialProgress progress([&](double fraction, const std::string&) {
        asked.push_back(fraction);
        return asked.size() < 4;
    });
    CHECK(progress.keep_going(0.25));
    CHECK(progress.keep_going(1.5));
    CHECK(progress.keep_going(std::nan("")));
    CHECK_FALSE(progress.keep_going(0.5));  // the fourth call says no
    CHECK_FALSE(progress.keep_going(0.75));
    CHECK_THROWS_AS(progress.check(0.75), Cancelled);
    CHECK(asked == std::vector<double>{0.25, 1.0, 0.0, 0.5});
}

TEST_CASE("SerialProgress without a callback always goes on") {
    SerialProgress progress{segearth::Progress()};
    CHECK(progress.keep_going(0.5));
    CHECK_NOTHROW(progress.check(1.0));
}

TEST_CASE("SerialProgress asks one call at a time from many threads") {
    std::atomic<int> inside{0};
    std::atomic<bool> overlapped{false};
    std::atomic<int> calls{0};
    SerialProgress progress([&](double, const std::string&) {
        if (inside.fetch_add(1) != 0) overlapped = true;
        std::this_thread::yield();
        inside.fetch_sub(1);
        return ++calls < 2000;
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) progress.keep_going(0.5);
        });
    for (auto& thread : threads) thread.join();
    CHECK_FALSE(overlapped.load());
    CHECK(calls.load() == 2000);  // 4000 asks, the callback said no at the 2000th and was not asked again
}
