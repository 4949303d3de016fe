#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth eval-dataset: the paper's protocol over a labelled dataset (one mIoU beside the paper's).
extern const Command eval_dataset_command;

}  // namespace segearth::cli
