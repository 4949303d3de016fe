#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth eval: a class raster scored against ground truth (IoU, precision, recall, F1, mIoU).
extern const Command eval_command;

}  // namespace segearth::cli
