#include <segearth/pipeline/streaming_segmentation.hpp>

#include <segearth/core/segmenter/window_grid.hpp>
#include <segearth/error.hpp>
#include <segearth/stopwatch.hpp>

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>

namespace segearth::pipeline {
namespace {

using core::Span;

// Bilinear resampling along one axis exactly as torch's interpolate (align_corners false) computes it:
// output index d reads input rows lo[d] and hi[d] with weights 1 - w[d] and w[d].
struct LinearMap {
    std::vector<int64_t> lo, hi;
    std::vector<float> w;
    bool identity = false;
};

LinearMap linear_map(int64_t in, int64_t out) {
    LinearMap m;
    m.identity = in == out;
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    for (int64_t d = 0; d < out; ++d) {
        const float source = std::max(scale * (static_cast<float>(d) + 0.5f) - 0.5f, 0.0f);
        const auto lo = static_cast<int64_t>(source);
        const float w = std::min(std::max(source - static_cast<float>(lo), 0.0f), 1.0f);
        m.lo.push_back(lo);
        // A zero weight on the second row makes the output wait for nothing it does not use.
        m.hi.push_back(w > 0.0f && lo < in - 1 ? lo + 1 : lo);
        m.w.push_back(w);
    }
    return m;
}

// Outputs [begin, end) along `dim` of `x`, whose index 0 is input index `base`.
torch::Tensor resample(const torch::Tensor& x, int64_t dim, const LinearMap& m, int64_t begin, int64_t end,
                       int64_t base) {
    if (m.identity) return x.narrow(dim, begin - base, end - begin);
    const auto indices = [&](const std::vector<int64_t>& v) {
        std::vector<int64_t> shifted(v.begin() + begin, v.begin() + end);
        for (auto& i : shifted) i -= base;
        return torch::tensor(shifted, torch::kInt64).to(x.device());
    };
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[static_cast<size_t>(dim)] = end - begin;
    const auto w = torch::tensor(std::vector<float>(m.w.begin() + begin, m.w.begin() + end)).to(x.device()).view(shape);
    return x.index_select(dim, indices(m.lo)) * (1 - w) + x.index_select(dim, indices(m.hi)) * w;
}

// A column panel: the output columns it finishes, the working columns it accumulates, the windows
// (column spans) that touch them and the columns read to cut those windows.
struct Panel {
    int64_t out_begin = 0, out_end = 0;
    int64_t begin = 0, end = 0;
    std::vector<Span> columns;
    int64_t read_begin = 0, read_end = 0;
};

std::vector<Panel> plan_panels(const LinearMap& cols, const std::vector<Span>& spans, int64_t out_width,
                               int64_t max_columns) {
    std::vector<Panel> panels;
    for (int64_t o = 0; o < out_width;) {
        Panel p;
        p.out_begin = o;
        p.begin = cols.lo[static_cast<size_t>(o)];
        int64_t e = o + 1;
        while (e < out_width && cols.hi[static_cast<size_t>(e)] + 1 - p.begin <= max_columns) ++e;
        p.out_end = e;
        p.end = cols.hi[static_cast<size_t>(e - 1)] + 1;
        for (const auto& s : spans)
            if (s.overlaps(p.begin, p.end)) p.columns.push_back(s);
        p.read_begin = p.columns.front().begin;
        p.read_end = p.columns.back().end;
        panels.push_back(std::move(p));
        o = e;
    }
    return panels;
}

struct RowJob {
    size_t panel = 0, row = 0;
    torch::Tensor rgb, valid;  // the window row's pixels over the panel's read columns
};

// Finished working rows of one panel, averaged, and the output rows [out_begin, out_end) they decide.
struct EmitJob {
    size_t panel = 0;
    int64_t out_begin = 0, out_end = 0;
    int64_t first_row = 0;  // the working row of mean_logits' row 0
    torch::Tensor mean_logits;  // (Q, rows, panel width) at working resolution
    torch::Tensor covered;      // (1, rows, panel width): 1 where at least one window was computed
};

// The jobs between two stages, owned by segment_stream's scope rather than by TBB: a pipeline
// stopped by an exception (a Ctrl-C, a read error) does not destroy the items it holds between
// filters, and LeakSanitizer found a cancelled run's strips left behind. The stages pass pointers.
template <class Job>
class InFlight {
public:
    Job* add(std::shared_ptr<Job> job) {
        const std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(std::move(job));
        return jobs_.back().get();
    }
    /// Takes `job` back (nullptr stays nullptr).
    std::shared_ptr<Job> take(Job* job) {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = jobs_.begin(); it != jobs_.end(); ++it)
            if (it->get() == job) {
                auto taken = std::move(*it);
                jobs_.erase(it);
                return taken;
            }
        return nullptr;
    }

private:
    std::mutex mutex_;
    std::list<std::shared_ptr<Job>> jobs_;  // at most the pipeline's three tokens
};

// A batch of windows cut from one strip, ready for `device`: on CUDA stacked straight into pinned
// memory, whose copy to the card then runs beside the host's work (WindowSegmenter::logits_on_device).
torch::Tensor batch_for(const std::vector<torch::Tensor>& windows, const torch::Device& device) {
    if (!device.is_cuda()) return torch::stack(windows);
    auto shape = windows.front().sizes().vec();
    shape.insert(shape.begin(), static_cast<int64_t>(windows.size()));
    auto pinned = torch::empty(shape, windows.front().options().pinned_memory(true));
    return torch::stack_out(pinned, windows);
}

// A decided block's copy to the host, of what the sink reads: through pinned memory from a GPU.
torch::Tensor to_host(const torch::Tensor& t) {
    if (!t.defined() || t.is_cpu()) return t;
    auto host = torch::empty(t.sizes(), t.options().device(torch::kCPU).pinned_memory(true));
    host.copy_(t);
    return host;
}

// Logit sums and window counts for working rows [top, top + rows) over one panel's columns, on the
// model's device: logits never leave a GPU, only decided rows do.
class Accumulator {
public:
    void reset(int64_t queries, int64_t width, int64_t top, const torch::Device& device) {
        queries_ = queries, width_ = width, top_ = top;
        sum_ = torch::zeros({queries, 0, width}, torch::TensorOptions().device(device));
        count_ = torch::zeros({1, 0, width}, torch::TensorOptions().device(device));
    }
    int64_t top() const { return top_; }
    void extend_to(int64_t row_end) {
        const int64_t extra = row_end - (top_ + sum_.size(1));
        if (extra <= 0) return;
        sum_ = torch::cat({sum_, torch::zeros({queries_, extra, width_}, sum_.options())}, 1);
        count_ = torch::cat({count_, torch::zeros({1, extra, width_}, count_.options())}, 1);
    }
    void add(const torch::Tensor& logits, int64_t y, int64_t x) {
        sum_.narrow(1, y - top_, logits.size(1)).narrow(2, x, logits.size(2)).add_(logits);
        count_.narrow(1, y - top_, logits.size(1)).narrow(2, x, logits.size(2)).add_(1);
    }
    /// Averaged logits of rows [begin, end); 0 where no window was computed (all nodata).
    torch::Tensor mean(int64_t begin, int64_t end) const {
        return sum_.narrow(1, begin - top_, end - begin) / count_.narrow(1, begin - top_, end - begin).clamp_min(1);
    }
    /// 1 where rows [begin, end) had at least one window, else 0 (all-nodata windows were skipped).
    torch::Tensor covered(int64_t begin, int64_t end) const {
        return (count_.narrow(1, begin - top_, end - begin) > 0).to(torch::kFloat32);
    }
    void drop_before(int64_t row) {
        const int64_t drop = std::min(row - top_, sum_.size(1));
        if (drop <= 0) return;
        sum_ = sum_.narrow(1, drop, sum_.size(1) - drop).clone();
        count_ = count_.narrow(1, drop, count_.size(1) - drop).clone();
        top_ += drop;
    }

private:
    int64_t queries_ = 0, width_ = 0, top_ = 0;
    torch::Tensor sum_, count_;
};

// e[r]: how many output rows are final once window row r is summed (its successor's first row and
// below are not): the rows every window row emits.
std::vector<int64_t> emitted_after(const std::vector<Span>& row_spans, const LinearMap& rows, int64_t height) {
    std::vector<int64_t> e(row_spans.size());
    int64_t out = 0;
    const auto out_height = static_cast<int64_t>(rows.hi.size());
    for (size_t r = 0; r < row_spans.size(); ++r) {
        const int64_t finished = r + 1 < row_spans.size() ? row_spans[r + 1].begin : height;
        while (out < out_height && rows.hi[static_cast<size_t>(out)] < finished) ++out;
        e[r] = out;
    }
    return e;
}

}  // namespace

OutputBand shard_band(int64_t height, int64_t output_height, const StreamingOptions& options, int64_t index,
                      int64_t count) {
    if (count < 1 || index < 0 || index >= count)
        throw UsageError("shard " + std::to_string(index) + " of " + std::to_string(count) +
                         ": the index counts from 0 and is smaller than the number of shards");
    const auto row_spans = core::window_spans(height, options.window, options.stride);
    const auto e = emitted_after(row_spans, linear_map(height, output_height), height);
    const auto r = static_cast<int64_t>(row_spans.size());
    const int64_t first = r * index / count, last = r * (index + 1) / count;  // window rows [first, last)
    const auto emitted = [&](int64_t row) { return row < 0 ? int64_t{0} : e[static_cast<size_t>(row)]; };
    return {emitted(first - 1), first == last ? emitted(first - 1) : emitted(last - 1)};
}

void validate(const StreamingOptions& o) {
    if (o.window < 1) throw UsageError("--window must be at least 1 pixel");
    if (o.stride < 1 || o.stride >= o.window)
        throw UsageError("--stride " + std::to_string(o.stride) + " with --window " + std::to_string(o.window) +
                         ": the stride must be at least 1 and smaller than the window, or windows would leave gaps "
                         "(the paper uses --window 224 --stride 112)");
    if (o.batch < 0) throw UsageError("--batch must be auto or at least 1");
    if (o.ram_mb < 64) throw UsageError("--ram " + std::to_string(o.ram_mb) + ": give at least 64 (MB)");
}

StreamingStats segment_stream(core::WindowSegmenter& segmenter, const core::DecisionRule& rule, WindowSource& source,
                              DecisionSink& sink, const StreamingOptions& options, const Progress& progress) {
    validate(options);
    rule.validate();
    const Stopwatch started;
    const int64_t height = source.height(), width = source.width();
    const int64_t out_height = options.output_height > 0 ? options.output_height : height;
    const int64_t out_width = options.output_width > 0 ? options.output_width : width;
    const int64_t queries = segmenter.query_count();
    const auto device = segmenter.device();
    const auto row_spans = core::window_spans(height, options.window, options.stride);
    const auto col_spans = core::window_spans(width, options.window, options.stride);
    const auto rows = linear_map(height, out_height), cols = linear_map(width, out_width);
    // The band of output rows to write, and the window rows that touch the working rows it reads.
    const bool sharded = options.band_end > 0;
    const int64_t band_begin = sharded ? options.band_begin : 0, band_end = sharded ? options.band_end : out_height;
    if (band_begin < 0 || band_end > out_height || band_begin >= band_end)
        throw UsageError("output rows " + std::to_string(band_begin) + ".." + std::to_string(band_end) +
                         " are not a band of the " + std::to_string(out_height) + "-row output grid");
    size_t first_row = 0, last_row = row_spans.size() - 1;
    if (sharded) {
        const int64_t needed_top = rows.lo[static_cast<size_t>(band_begin)];
        while (row_spans[first_row].end <= needed_top) ++first_row;
        const auto e = emitted_after(row_spans, rows, height);
        last_row = first_row;
        while (e[last_row] < band_end) ++last_row;
    }

    // Half the budget for the model and its activations, half for the buffers that grow with the
    // scene's width: the sums (two window rows tall), up to three strips in flight, emitted rows.
    const int64_t bytes_per_column = (options.window + options.stride + 2) * (queries + 1) * 4 +
                                     3 * options.window * (3 * 4 + 1) +
                                     3 * (options.stride + 2) * (rule.class_count * 8 + 8);
    int64_t max_columns = std::max<int64_t>(options.window + 2, options.ram_mb * 1024 * 1024 / 2 / bytes_per_column);
    if (options.max_panel_columns > 0) max_columns = std::min(max_columns, options.max_panel_columns);
    const auto panels = plan_panels(cols, col_spans, out_width, max_columns);

    StreamingStats stats;
    stats.panels = static_cast<int64_t>(panels.size());
    for (const auto& p : panels) stats.windows_total += static_cast<int64_t>(p.columns.size() * (last_row - first_row + 1));

    size_t next_panel = 0, next_row = first_row;
    Accumulator accumulator;
    int64_t next_out_row = 0;
    std::atomic<int64_t> windows_done{0};
    // Every stage asks whether to go on (reading a wide strip and writing a fine output grid take long
    // too), at the share of windows done.
    SerialProgress serial_progress(progress);
    const auto keep_going = [&] {
        serial_progress.check(static_cast<double>(windows_done.load()) / static_cast<double>(stats.windows_total));
    };

    InFlight<RowJob> strips;
    InFlight<EmitJob> emits;
    const auto read_stage = [&](tbb::flow_control& flow) -> RowJob* {
        if (next_panel == panels.size()) {
            flow.stop();
            return nullptr;
        }
        keep_going();
        Stopwatch t;
        auto job = std::make_shared<RowJob>();
        job->panel = next_panel, job->row = next_row;
        const auto& p = panels[next_panel];
        const auto& r = row_spans[next_row];
        source.read(p.read_begin, r.begin, p.read_end - p.read_begin, r.size(), job->rgb, job->valid);
        if (++next_row == last_row + 1) next_row = first_row, ++next_panel;
        stats.read_seconds += t.seconds();
        return strips.add(std::move(job));
    };

    const auto compute_stage = [&](RowJob* strip) -> EmitJob* {
        auto job = strips.take(strip);
        const size_t row = job->row, job_panel = job->panel;
        const auto& p = panels[job_panel];
        const auto& r = row_spans[row];
        if (row == first_row)
            accumulator.reset(queries, p.end - p.begin, row_spans[first_row].begin, device), next_out_row = band_begin;
        accumulator.extend_to(r.end);
        std::vector<torch::Tensor> batch;
        std::vector<Span> batch_spans;
        const auto flush = [&] {
            if (batch.empty()) return;
            Stopwatch t;
            const auto logits = segmenter.logits_on_device(batch_for(batch, device));
            stats.model_seconds += t.seconds();
            t.restart();
            for (size_t k = 0; k < batch_spans.size(); ++k) {
                const auto& s = batch_spans[k];
                const int64_t a = std::max(s.begin, p.begin), b = std::min(s.end, p.end);
                accumulator.add(logits[static_cast<int64_t>(k)].narrow(2, a - s.begin, b - a), r.begin, a - p.begin);
            }
            stats.stitch_seconds += t.seconds();
            windows_done += static_cast<int64_t>(batch.size());
            batch.clear(), batch_spans.clear();
            keep_going();
        };
        for (const auto& s : p.columns) {
            const int64_t offset = s.begin - p.read_begin;
            if (!job->valid.narrow(1, offset, s.size()).any().item<bool>()) {
                ++stats.windows_skipped_nodata, ++windows_done;
                continue;
            }
            batch.push_back(job->rgb.narrow(2, offset, s.size()));
            batch_spans.push_back(s);
            ++stats.windows_computed;
            if (static_cast<int64_t>(batch.size()) >= options.batch) flush();
        }
        flush();
        job.reset();  // the strip's pixels are no longer needed

        // Working rows before the next window row's first are final: emit every output row they decide.
        Stopwatch t;
        const int64_t finished = row + 1 < row_spans.size() ? row_spans[row + 1].begin : height;
        int64_t out_end = next_out_row;
        while (out_end < band_end && rows.hi[static_cast<size_t>(out_end)] < finished) ++out_end;
        if (out_end == next_out_row) return nullptr;
        auto emit = std::make_shared<EmitJob>();
        emit->panel = job_panel;
        emit->out_begin = next_out_row, emit->out_end = out_end;
        emit->first_row = rows.lo[static_cast<size_t>(next_out_row)];
        emit->mean_logits = accumulator.mean(emit->first_row, rows.hi[static_cast<size_t>(out_end - 1)] + 1);
        emit->covered = accumulator.covered(emit->first_row, rows.hi[static_cast<size_t>(out_end - 1)] + 1);
        next_out_row = out_end;
        // Keep the rows later output rows read and the rows later windows add to (when the working grid
        // is finer than the output grid, the next output row may start below the next window row).
        if (next_out_row < band_end)
            accumulator.drop_before(std::min(rows.lo[static_cast<size_t>(next_out_row)], finished));
        stats.stitch_seconds += t.seconds();
        return emits.add(std::move(emit));
    };

    const Progress asking = [&](double, const std::string&) {
        keep_going();
        return true;
    };

    // Output rows are resized, decided and written in chunks small enough for the budget: when the
    // output grid is much finer than the working grid one window row decides many output rows.
    const int64_t bytes_per_output_pixel = (3 * queries + 3 * rule.class_count + 4) * 4;
    const auto write_stage = [&](EmitJob* pending) {
        const auto emit = emits.take(pending);
        if (!emit) return;
        const auto& p = panels[emit->panel];
        // About a million output pixels a chunk at most, too: a chunk is also how long a Ctrl-C waits.
        const int64_t panel_width = p.out_end - p.out_begin;
        const int64_t chunk_rows = std::max<int64_t>(
            1, std::min(options.ram_mb * 1024 * 1024 / 8 / (bytes_per_output_pixel * panel_width),
                        (int64_t{1} << 20) / panel_width));
        for (int64_t y = emit->out_begin; y < emit->out_end; y += chunk_rows) {
            keep_going();
            const int64_t y_end = std::min(y + chunk_rows, emit->out_end);
            Stopwatch t;
            const auto resize = [&](const torch::Tensor& x) {
                return resample(resample(x, 1, rows, y, y_end, emit->first_row), 2, cols, p.out_begin, p.out_end,
                                p.begin);
            };
            const auto decided = core::decide(resize(emit->mean_logits).contiguous(), rule);
            // An output pixel is covered when every working pixel its interpolation reads was.
            const auto covered = to_host(resize(emit->covered)[0] > 0.999f);
            core::Decision decision;
            decision.labels = to_host(decided.labels);
            if (sink.wants_probabilities()) decision.probabilities = to_host(decided.probabilities);
            if (sink.wants_confidence()) decision.confidence = to_host(decided.confidence);
            stats.decide_seconds += t.seconds();
            t.restart();
            sink.write(p.out_begin, y, decision, covered, asking);
            stats.write_seconds += t.seconds();
        }
    };

    // On CUDA the stages overlap, so that reading and writing keep the card fed. On the CPU they run
    // one after another on this thread: the model's OpenMP threads take every core, and a compute stage
    // that TBB moved between threads ran each window on another OpenMP team, 1.45x slower for CLIP in
    // bf16 (BENCHMARKS.md, "One thread for the pipeline on the CPU"); the overlap gained less than that.
    tbb::task_arena arena(device.is_cpu() ? 1 : tbb::task_arena::automatic);
    arena.execute([&] {
        tbb::parallel_pipeline(
            3, tbb::make_filter<void, RowJob*>(tbb::filter_mode::serial_in_order, read_stage) &
                   tbb::make_filter<RowJob*, EmitJob*>(tbb::filter_mode::serial_in_order, compute_stage) &
                   tbb::make_filter<EmitJob*, void>(tbb::filter_mode::serial_in_order, write_stage));
    });
    stats.total_seconds = started.seconds();
    return stats;
}

}  // namespace segearth::pipeline
