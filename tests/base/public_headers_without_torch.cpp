// Compiled by the test "public_headers_compile_without_torch" with only include/ on the include path:
// a caller of the library (a GUI plugin, the eval code) needs no torch headers for the pipeline's
// public API. A header that pulls in torch fails this compile.
#include <segearth/error.hpp>
#include <segearth/geo/evaluate.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/raster_info.hpp>
#include <segearth/geo/scene_reader.hpp>
#include <segearth/geo/vectorize.hpp>
#include <segearth/options/enum_names.hpp>
#include <segearth/options/option_info.hpp>
#include <segearth/options/option_table.hpp>
#include <segearth/output_set.hpp>
#include <segearth/pipeline/class_setup.hpp>
#include <segearth/pipeline/device.hpp>
#include <segearth/pipeline/evaluate_dataset.hpp>
#include <segearth/pipeline/merge.hpp>
#include <segearth/pipeline/info.hpp>
#include <segearth/pipeline/segment.hpp>
#include <segearth/pipeline/segment_options.hpp>
#include <segearth/pipeline/shard.hpp>
#include <segearth/pipeline/streaming_options.hpp>
#include <segearth/pipeline/train.hpp>
#include <segearth/progress.hpp>
#include <segearth/stopwatch.hpp>
#include <segearth/temporary_output.hpp>

int main() {
    segearth::pipeline::SegmentOptions segment;
    segearth::pipeline::TrainOptions train;
    segearth::geo::VectorizeOptions vectorize;
    return static_cast<int>(segment.streaming.window + train.crop + vectorize.smooth) == 0;
}
