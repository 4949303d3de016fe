#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth train: learn a SimFeatUp upsampler for a CLIP model from unlabelled imagery.
extern const Command train_command;

}  // namespace segearth::cli
