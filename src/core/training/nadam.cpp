#include <segearth/core/training/nadam.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

#include <cmath>

namespace segearth::core {

NAdam::NAdam(std::vector<std::pair<std::string, torch::Tensor>> parameters, NAdamOptions options)
    : options_(options) {
    for (auto& [name, p] : parameters)
        slots_.push_back({name, p, torch::zeros_like(p, torch::MemoryFormat::Preserve),
                          torch::zeros_like(p, torch::MemoryFormat::Preserve)});
}

void NAdam::step() {
    torch::NoGradGuard no_grad;
    ++step_;
    const auto& o = options_;
    const double t = static_cast<double>(step_);
    const double bias_correction2 = 1 - std::pow(o.beta2, t);
    // The momentum schedule: mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)).
    const double mu = o.beta1 * (1 - 0.5 * std::pow(0.96, t * o.momentum_decay));
    const double mu_next = o.beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
    mu_product_ *= mu;
    const double mu_product_next = mu_product_ * mu_next;
    for (auto& s : slots_) {
        if (!s.parameter.grad().defined()) continue;
        auto grad = s.parameter.grad();
        if (o.weight_decay != 0) grad = grad.add(s.parameter, o.weight_decay);
        s.exp_avg.mul_(o.beta1).add_(grad, 1 - o.beta1);
        s.exp_avg_sq.mul_(o.beta2).addcmul_(grad, grad, 1 - o.beta2);
        const auto denom = s.exp_avg_sq.div(bias_correction2).sqrt().add_(o.eps);
        s.parameter.addcdiv_(grad, denom, -o.lr * (1 - mu) / (1 - mu_product_));
        s.parameter.addcdiv_(s.exp_avg, denom, -o.lr * mu_next / (1 - mu_product_next));
    }
}

void NAdam::zero_grad() {
    for (auto& s : slots_)
        if (s.parameter.grad().defined()) s.parameter.mutable_grad() = torch::Tensor();
}

TensorMap NAdam::state() const {
    TensorMap state;
    state["step"] = torch::tensor(step_, torch::kInt64);
    state["mu_product"] = torch::tensor(mu_product_, torch::kFloat64);
    for (const auto& s : slots_) {
        state[s.name + ".exp_avg"] = s.exp_avg.detach().cpu();
        state[s.name + ".exp_avg_sq"] = s.exp_avg_sq.detach().cpu();
    }
    return state;
}

void NAdam::load_state(const TensorMap& state) {
    const auto get = [&](const std::string& name) -> const torch::Tensor& {
        const auto it = state.find(name);
        if (it == state.end()) throw Error("optimizer state: no '" + name + "'");
        return it->second;
    };
    torch::NoGradGuard no_grad;
    for (auto& s : slots_) {
        using Entry = std::pair<std::string, torch::Tensor*>;
        for (const auto& [key, target] : {Entry{".exp_avg", &s.exp_avg}, Entry{".exp_avg_sq", &s.exp_avg_sq}}) {
            const auto& value = get(s.name + key);
            if (value.sizes() != target->sizes())
                throw Error("optimizer state: " + s.name + key + " is " + c10::str(value.sizes()) +
                            ", the parameter " + c10::str(target->sizes()));
            target->copy_(value);
        }
    }
    step_ = get("step").item<int64_t>();
    mu_product_ = get("mu_product").item<double>();
}

}  // namespace segearth::core
