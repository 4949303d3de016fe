// The NAdam optimizer (Adam with Nesterov momentum, Dozat 2016) as torch.optim.NAdam computes it:
// SimFeatUp's optimizer (METHOD.md 7), which libtorch's C++ API does not offer. Its state can be
// saved and restored, so training resumes exactly where it stopped.
#pragma once

#include <segearth/core/training/trainer_options.hpp>
#include <segearth/core/weights.hpp>

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace segearth::core {

class NAdam {
public:
    /// Named parameters (names key the saved state).
    NAdam(std::vector<std::pair<std::string, torch::Tensor>> parameters, NAdamOptions options = {});

    /// One update from the parameters' current .grad() (parameters without a gradient are skipped).
    void step();
    void zero_grad();
    int64_t steps() const { return step_; }

    /// The state as tensors: "step", "mu_product", "<name>.exp_avg", "<name>.exp_avg_sq" (suffixes, so
    /// that no state tensor's name ends like a parameter's).
    TensorMap state() const;
    /// Restores state(); throws Error naming what is missing or mis-shaped.
    void load_state(const TensorMap& state);

private:
    struct Slot {
        std::string name;
        torch::Tensor parameter, exp_avg, exp_avg_sq;
    };
    std::vector<Slot> slots_;
    NAdamOptions options_;
    int64_t step_ = 0;
    double mu_product_ = 1.0;
};

}  // namespace segearth::core
