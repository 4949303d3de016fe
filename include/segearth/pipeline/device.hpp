// Where a command runs (--device auto|cpu|cuda[:N]) and on how many CPU threads, as typed values.
#pragma once

#include <string>

namespace segearth::pipeline {

struct DeviceChoice {
    enum class Kind { automatic, cpu, cuda };
    Kind kind = Kind::automatic;  ///< automatic: the first CUDA device when there is one, else the CPU
    int index = 0;                ///< cuda: which device

    /// "auto", "cpu", "cuda" or "cuda:N"; throws UsageError "FLAG TEXT: use auto, cpu, cuda or cuda:N".
    static DeviceChoice parse(const std::string& text, const std::string& flag = "--device");
    std::string name() const;  ///< as parse() reads it
};

}  // namespace segearth::pipeline
