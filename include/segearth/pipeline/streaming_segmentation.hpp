// The scene-level scheduler: METHOD.md 6 over a working image of any size, in bounded memory.
//
// Windows lie on one global grid. They are computed one window row at a time (batched), their logits
// summed into a band of rows that is only as tall as two window rows, and every working row is
// finished as soon as no later window can cover it; finished rows are averaged, resized to the output
// grid (bilinear, align_corners false), decided, and handed to the sink. Reading the next window row,
// computing this one and writing finished rows overlap (a three-stage TBB pipeline). The result
// equals processing the whole image at once (to float rounding), whatever the memory budget. Output
// rows are resized and decided in chunks bounded by the budget, however fine the output grid. All of
// it runs on the model's device: on a GPU the sums, resizing and decision stay there, and only the
// decided rows the sink wants come back, through pinned buffers.
//
// A scene too wide for the budget is cut into column panels; windows straddling a panel border are
// computed once per panel they touch (the only case where a window is computed twice). A shard runs
// only the window rows that touch its band of output rows (shard_band).
#pragma once

#include <segearth/core/segmenter/class_decision.hpp>
#include <segearth/core/segmenter/window_segmenter.hpp>
#include <segearth/pipeline/streaming_options.hpp>

#include <functional>
#include <string>

namespace segearth::pipeline {

/// Where the working image comes from: a GDAL scene in the tool, a tensor in tests.
class WindowSource {
public:
    virtual ~WindowSource() = default;
    virtual int64_t width() const = 0;
    virtual int64_t height() const = 0;
    /// Columns [x, x+w), rows [y, y+h): `rgb` (3, h, w) float32 in [0, 1] and `valid` (h, w) bool.
    virtual void read(int64_t x, int64_t y, int64_t w, int64_t h, torch::Tensor& rgb, torch::Tensor& valid) = 0;
};

/// Where decided pixels go: a block of the output grid at columns [x, x+w), rows [y, y+h) with
/// (w, h) the decision's size. Blocks arrive top to bottom within each column panel. `covered`
/// (h, w) bool is false where no computed window reached the pixel (only nodata around it): those
/// pixels have no decision and must be written as nodata. Blocks are on the CPU; the probabilities
/// and the confidence only where the sink wants them (else undefined: a GPU copies back less).
class DecisionSink {
public:
    virtual ~DecisionSink() = default;
    virtual bool wants_probabilities() const { return true; }
    virtual bool wants_confidence() const { return true; }
    /// A wide block is slow to write: the sink may report(`keep_going`, 0) between pieces of it, which
    /// throws Cancelled once the run is cancelled (the fraction is the scheduler's own).
    virtual void write(int64_t x, int64_t y, const core::Decision& block, const torch::Tensor& covered,
                       const Progress& keep_going) = 0;
};

/// Shard `index` of `count` of a working image `height` rows tall written on `output_height` rows: the
/// output rows that the single run emits after its window rows [R index / count, R (index + 1) /
/// count) of R, so that the bands tile the output grid and each is computed from whole window rows.
/// A band may be empty (more shards than window rows). Running segment_stream with the band gives
/// exactly the single run's values for those rows (the same windows summed in the same order).
OutputBand shard_band(int64_t height, int64_t output_height, const StreamingOptions& options, int64_t index,
                      int64_t count);

/// Runs the scene. Throws UsageError for inconsistent options (window <= stride, ...), Cancelled when
/// `progress` returns false, and whatever the source or sink throws.
StreamingStats segment_stream(core::WindowSegmenter& segmenter, const core::DecisionRule& rule, WindowSource& source,
                              DecisionSink& sink, const StreamingOptions& options, const Progress& progress = {});

}  // namespace segearth::pipeline
