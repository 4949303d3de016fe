// The streaming scheduler's settings and statistics as plain data (no torch): what segment's
// options and report carry. The scheduler itself is streaming_segmentation.hpp.
#pragma once

#include <segearth/progress.hpp>

#include <cstdint>

namespace segearth::pipeline {

struct StreamingOptions {
    int64_t window = 224, stride = 112;
    /// Windows per forward pass; 0: auto, which the caller sizes for its device (core::auto_batch,
    /// as segment does); the scheduler itself takes 0 as one window.
    int64_t batch = 0;
    int64_t output_width = 0, output_height = 0;  ///< 0: the working grid's
    int64_t ram_mb = 2048;                    ///< budget for the working buffers and the model
    int64_t max_panel_columns = 0;            ///< > 0: cap on a panel's working width (tests, benchmarks)
    /// A shard's band of output rows [band_begin, band_end): only the windows that touch it are
    /// computed and only its rows are written. 0, 0: the whole output grid.
    int64_t band_begin = 0, band_end = 0;
};

/// Output rows [begin, end) of a shard.
struct OutputBand {
    int64_t begin = 0, end = 0;
    int64_t rows() const { return end - begin; }
};

struct StreamingStats {
    int64_t windows_total = 0, windows_computed = 0, windows_skipped_nodata = 0;
    int64_t panels = 0;
    double read_seconds = 0, model_seconds = 0, stitch_seconds = 0, decide_seconds = 0, write_seconds = 0;
    double total_seconds = 0;
};

/// Throws UsageError naming the flag when window/stride/batch/ram are unusable.
void validate(const StreamingOptions& options);

}  // namespace segearth::pipeline
