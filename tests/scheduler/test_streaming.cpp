// The streaming scheduler against the whole image processed at once (METHOD.md 6 written out
// directly): same probabilities and classes at every panel width, scene size and output size.
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/pipeline/streaming_segmentation.hpp>

#include <torch/cuda.h>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

using namespace segearth;
using segearth::test::fixture;
using segearth::test::relative_error;
namespace F = torch::nn::functional;

namespace {

class TensorSource : public pipeline::WindowSource {
public:
    TensorSource(torch::Tensor image, torch::Tensor valid) : image_(std::move(image)), valid_(std::move(valid)) {}
    int64_t width() const override { return image_.size(2); }
    int64_t height() const override { return image_.size(1); }
    void read(int64_t x, int64_t y, int64_t w, int64_t h, torch::Tensor& rgb, torch::Tensor& valid) override {
        rgb = image_.narrow(1, y, h).narrow(2, x, w).clone();
        valid = valid_.narrow(0, y, h).narrow(1, x, w).clone();
        ++reads;
    }
    int reads = 0;

private:
    torch::Tensor image_, valid_;
};

class CollectingSink : public pipeline::DecisionSink {
public:
    CollectingSink(int64_t classes, int64_t h, int64_t w, bool with_probabilities = true)
        : labels(torch::full({h, w}, 254, torch::kUInt8)), probabilities(torch::full({classes, h, w}, -5.0f)),
          covered(torch::zeros({h, w}, torch::kBool)), with_probabilities_(with_probabilities) {}
    bool wants_probabilities() const override { return with_probabilities_; }
    bool wants_confidence() const override { return with_probabilities_; }
    void write(int64_t x, int64_t y, const core::Decision& block, const torch::Tensor& block_covered,
               const segearth::Progress&) override {
        const int64_t h = block.labels.size(0), w = block.labels.size(1);
        REQUIRE((labels.narrow(0, y, h).narrow(1, x, w) == 254).all().item<bool>());  // each pixel once
        // Blocks reach the sink on the CPU whatever the model's device, with just what it wants.
        REQUIRE(block.labels.is_cpu());
        REQUIRE(block_covered.is_cpu());
        REQUIRE(block.probabilities.defined() == with_probabilities_);
        REQUIRE(block.confidence.defined() == with_probabilities_);
        labels.narrow(0, y, h).narrow(1, x, w).copy_(block.labels);
        if (with_probabilities_) {
            REQUIRE(block.probabilities.is_cpu());
            probabilities.narrow(1, y, h).narrow(2, x, w).copy_(block.probabilities);
        }
        covered.narrow(0, y, h).narrow(1, x, w).copy_(block_covered);
    }
    torch::Tensor labels, probabilities, covered;

private:
    bool with_probabilities_;
};

struct Model {
    core::ClipModel clip = core::load_clip(fixture("tiny_clip.safetensors")).model;
    core::JbuUpsampler up = core::load_upsampler(fixture("upsampler.safetensors"), 32).model;
    torch::Tensor text = F::normalize(torch::randn({4, 32}, torch::Generator(at::detail::createCPUGenerator(11))),
                                      F::NormalizeFuncOptions().dim(1));
    core::WindowSegmenter segmenter{clip, text, core::UpsamplerKind::simfeatup, up};
    core::DecisionRule rule{{0, 1, 1, 2}, 3, 50.0, 0.2, 0};
};

Model& model() {
    static Model m;
    return m;
}

// METHOD.md 6 over the whole image: every window, summed, divided by coverage, resized, decided.
core::Decision whole_image(const torch::Tensor& image, const torch::Tensor& valid, int64_t window, int64_t stride,
                           int64_t out_h, int64_t out_w, int64_t* computed = nullptr) {
    const int64_t h = image.size(1), w = image.size(2);
    const auto starts = [&](int64_t size) {
        std::vector<std::pair<int64_t, int64_t>> s;
        const int64_t n = std::max<int64_t>(size - window + stride - 1, 0) / stride + 1;
        for (int64_t i = 0; i < n; ++i) {
            const int64_t y2 = std::min(i * stride + window, size);
            s.emplace_back(std::max<int64_t>(y2 - window, 0), y2);
        }
        return s;
    };
    auto sum = torch::zeros({model().segmenter.query_count(), h, w});
    auto count = torch::zeros({1, h, w});
    for (auto [y1, y2] : starts(h))
        for (auto [x1, x2] : starts(w)) {
            if (!valid.narrow(0, y1, y2 - y1).narrow(1, x1, x2 - x1).any().item<bool>()) continue;
            if (computed) ++*computed;
            const auto crop = image.narrow(1, y1, y2 - y1).narrow(2, x1, x2 - x1).unsqueeze(0);
            sum.narrow(1, y1, y2 - y1).narrow(2, x1, x2 - x1) += model().segmenter.logits(crop)[0];
            count.narrow(1, y1, y2 - y1).narrow(2, x1, x2 - x1) += 1;
        }
    auto logits = (sum / count.clamp_min(1)).unsqueeze(0);
    logits = F::interpolate(logits, F::InterpolateFuncOptions().size(std::vector<int64_t>{out_h, out_w})
                                        .mode(torch::kBilinear).align_corners(false))[0];
    return core::decide(logits, model().rule);
}

void check_streaming_equals_whole(int64_t h, int64_t w, int64_t out_h, int64_t out_w, int64_t window, int64_t stride,
                                  int64_t panel_columns, int64_t batch = 2) {
    CAPTURE(h);
    CAPTURE(w);
    CAPTURE(out_h);
    CAPTURE(out_w);
    CAPTURE(panel_columns);
    torch::manual_seed(h * 1000 + w);
    // A smooth image with structure, so that windows disagree and the stitching matters.
    const auto image = F::interpolate(torch::rand({1, 3, h / 8 + 2, w / 8 + 2}),
                                      F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                                          .mode(torch::kBilinear).align_corners(false))[0];
    const auto valid = torch::ones({h, w}, torch::kBool);
    TensorSource source(image, valid);
    CollectingSink sink(3, out_h, out_w);
    pipeline::StreamingOptions options;
    options.window = window, options.stride = stride, options.batch = batch;
    options.output_height = out_h, options.output_width = out_w;
    options.max_panel_columns = panel_columns;
    const auto stats = pipeline::segment_stream(model().segmenter, model().rule, source, sink, options);
    const auto expected = whole_image(image, valid, window, stride, out_h, out_w);
    CHECK((sink.labels != 254).all().item<bool>());
    CHECK(relative_error(sink.probabilities, expected.probabilities) < 1e-5);
    CHECK(sink.labels.equal(expected.labels));
    if (panel_columns == 0) {
        const auto n = [&](int64_t s) { return std::max<int64_t>(s - window + stride - 1, 0) / stride + 1; };
        CHECK(stats.windows_computed == n(h) * n(w));  // every window once
        CHECK(stats.panels == 1);
    }
}

}  // namespace

TEST_CASE("streaming equals whole-image processing at several panel widths (224 windows)") {
    for (int64_t panel : {0, 260, 300}) check_streaming_equals_whole(300, 470, 300, 470, 224, 112, panel);
    // The paper's protocol on a small chip: a working grid finer than the output grid.
    check_streaming_equals_whole(448, 448, 100, 100, 224, 112, 0);
}

TEST_CASE("streaming equals whole-image processing: odd sizes, small scenes, strips, resized outputs") {
    // Small windows keep this quick; the scheduler does not care about the size.
    struct Case {
        int64_t h, w, out_h, out_w, panel;
    };
    for (const auto& c : std::vector<Case>{{97, 131, 97, 131, 0},     // not divisible by the stride
                                           {97, 131, 97, 131, 70},    // narrow panels
                                           {40, 30, 40, 30, 0},       // smaller than one window
                                           {1, 150, 1, 150, 0},       // a one-pixel-high strip
                                           {150, 1, 150, 1, 0},       // a one-pixel-wide strip
                                           {90, 120, 181, 239, 0},    // output on a finer grid
                                           {90, 120, 181, 239, 80},
                                           {120, 90, 47, 33, 0},      // output on a coarser grid
                                           {300, 200, 100, 67, 0},    // three working rows per output row
                                           {300, 200, 100, 67, 90}})
        check_streaming_equals_whole(c.h, c.w, c.out_h, c.out_w, 48, 32, c.panel);
}

TEST_CASE("windows that are entirely nodata are skipped - nodata never changes valid pixels' windows") {
    const int64_t h = 100, w = 130;
    torch::manual_seed(2);
    const auto image = torch::rand({3, h, w});
    auto valid = torch::ones({h, w}, torch::kBool);
    valid.narrow(1, 0, 60).fill_(false);  // the left 60 columns are nodata
    TensorSource source(image, valid);
    CollectingSink sink(3, h, w);
    pipeline::StreamingOptions options;
    options.window = 48, options.stride = 32;
    const auto stats = pipeline::segment_stream(model().segmenter, model().rule, source, sink, options);
    int64_t computed = 0;
    const auto expected = whole_image(image, valid, 48, 32, h, w, &computed);
    CHECK(stats.windows_skipped_nodata > 0);
    CHECK(stats.windows_computed == computed);
    CHECK(stats.windows_computed + stats.windows_skipped_nodata == stats.windows_total);
    CHECK(relative_error(sink.probabilities, expected.probabilities) < 1e-5);
    // Columns [0, 48) are reached only by the skipped windows: no decision there.
    CHECK_FALSE(sink.covered.narrow(1, 0, 32).any().item<bool>());
    CHECK(sink.covered.narrow(1, 48, w - 48).all().item<bool>());
}

TEST_CASE("progress returning false cancels the run") {
    const auto image = torch::rand({3, 100, 100});
    TensorSource source(image, torch::ones({100, 100}, torch::kBool));
    CollectingSink sink(3, 100, 100);
    pipeline::StreamingOptions options;
    options.window = 48, options.stride = 32;
    int calls = 0;
    CHECK_THROWS_AS(pipeline::segment_stream(model().segmenter, model().rule, source, sink, options,
                                             [&](double, const std::string&) { return ++calls < 3; }),
                    segearth::Cancelled);
    CHECK(calls == 3);
}

TEST_CASE("window and stride that leave gaps are usage errors") {
    pipeline::StreamingOptions options;
    options.window = 112, options.stride = 112;
    CHECK_THROWS_WITH_AS(pipeline::validate(options),
                         "--stride 112 with --window 112: the stride must be at least 1 and smaller than the window, "
                         "or windows would leave gaps (the paper uses --window 224 --stride 112)",
                         segearth::UsageError);
}

TEST_CASE("a sink that wants only the labels gets them alone, the same as with the probabilities") {
    torch::manual_seed(5);
    const auto image = torch::rand({3, 90, 120});
    TensorSource source(image, torch::ones({90, 120}, torch::kBool));
    pipeline::StreamingOptions options;
    options.window = 48, options.stride = 32, options.output_height = 181, options.output_width = 239;
    CollectingSink full(3, 181, 239), labels_only(3, 181, 239, false);
    pipeline::segment_stream(model().segmenter, model().rule, source, full, options);
    pipeline::segment_stream(model().segmenter, model().rule, source, labels_only, options);
    CHECK((labels_only.labels != 254).all().item<bool>());
    CHECK(labels_only.labels.equal(full.labels));
    CHECK(labels_only.covered.equal(full.covered));
}

// The CUDA twin of the tests above (run by tools/gpu_check.sh): the same scheduler code with the
// model, the sums, the resizing and the decision on the card.
TEST_CASE("on CUDA the scheduler gives the CPU's probabilities within 1e-4" *
          doctest::skip(!torch::cuda::is_available())) {
    const torch::Device cuda(torch::kCUDA);
    auto clip = core::load_clip(fixture("tiny_clip.safetensors")).model;
    clip->to(cuda);
    auto up = core::load_upsampler(fixture("upsampler.safetensors"), 32).model;
    up->to(cuda);
    core::WindowSegmenter on_cuda{clip, model().text.to(cuda), core::UpsamplerKind::simfeatup, up};
    REQUIRE(on_cuda.device().is_cuda());
    torch::manual_seed(9);
    const auto image = F::interpolate(torch::rand({1, 3, 14, 19}), F::InterpolateFuncOptions()
                                                                      .size(std::vector<int64_t>{97, 131})
                                                                      .mode(torch::kBilinear)
                                                                      .align_corners(false))[0];
    auto valid = torch::ones({97, 131}, torch::kBool);
    valid.narrow(1, 0, 40).fill_(false);  // skipped windows and uncovered pixels as well
    TensorSource source(image, valid);
    pipeline::StreamingOptions options;
    options.window = 48, options.stride = 32, options.batch = 3, options.max_panel_columns = 70;
    options.output_height = 181, options.output_width = 239;
    CollectingSink cpu(3, 181, 239), gpu(3, 181, 239);
    pipeline::segment_stream(model().segmenter, model().rule, source, cpu, options);
    pipeline::segment_stream(on_cuda, model().rule, source, gpu, options);
    CHECK(gpu.covered.equal(cpu.covered));
    const auto covered = cpu.covered.unsqueeze(0).expand_as(cpu.probabilities);
    CHECK((gpu.probabilities - cpu.probabilities).abs().masked_select(covered).max().item<double>() < 1e-4);
    // Labels wherever the CPU's two best classes are more than 1e-3 apart.
    const auto top2 = std::get<0>(cpu.probabilities.topk(2, 0));
    const auto clear = cpu.covered.logical_and(top2[0] - top2[1] > 1e-3);
    CHECK(clear.sum().item<int64_t>() > 1000);
    CHECK(gpu.labels.masked_select(clear).equal(cpu.labels.masked_select(clear)));
}
