#include <segearth/geo/vectorize.hpp>

#include "gdal_dataset.hpp"
#include "gdal_string_list.hpp"
#include "class_raster.hpp"
#include "grid_warp.hpp"
#include "vectorize/pixel_geometry.hpp"
#include "vectorize/polygon_cleanup.hpp"
#include "vectorize/strip_polygonizer.hpp"
#include "vectorize/vector_output.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/stopwatch.hpp>

#include <gdal_alg.h>
#include <gdal_priv.h>
#include <gdal_utils.h>

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <map>
#include <set>

namespace segearth::geo {
namespace {

// Marks pre-event pixels that are unknown (outside the pre-event raster or nodata there).
constexpr int32_t outside_pre_event = -2147483647;

std::string layer_name_for(const std::string& name) {
    std::string out;
    for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
    return out;
}

// Mean and maximum of one probability band over a region's pixels.
std::pair<double, double> probability_stats(GDALRasterBand& probabilities, const OGRGeometry& pixel_geometry) {
    OGREnvelope e;
    pixel_geometry.getEnvelope(&e);
    const int x0 = static_cast<int>(e.MinX), y0 = static_cast<int>(e.MinY);
    const int w = static_cast<int>(e.MaxX) - x0, h = static_cast<int>(e.MaxY) - y0;
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    DatasetPtr mask(mem->Create("", w, h, 1, GDT_Byte, nullptr));
    double gt[6] = {static_cast<double>(x0), 1, 0, static_cast<double>(y0), 0, 1};
    mask->SetGeoTransform(gt);
    int band = 1;
    double burn = 1;
    OGRGeometryH geometry = OGRGeometry::ToHandle(const_cast<OGRGeometry*>(&pixel_geometry));
    GDALRasterizeGeometries(GDALDataset::ToHandle(mask.get()), 1, &band, 1, &geometry, nullptr, nullptr, &burn, nullptr,
                            nullptr, nullptr);
    std::vector<uint8_t> inside(static_cast<size_t>(w) * static_cast<size_t>(h));
    std::vector<float> p(inside.size());
    if (mask->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w, h, inside.data(), w, h, GDT_Byte, 0, 0) != CE_None ||
        probabilities.RasterIO(GF_Read, x0, y0, w, h, p.data(), w, h, GDT_Float32, 0, 0) != CE_None)
        throw FileError("cannot read the probabilities: " + last_gdal_error("?"));
    const double scale = probabilities.GetScale();
    double sum = 0, maximum = 0;
    size_t n = 0;
    for (size_t i = 0; i < inside.size(); ++i)
        if (inside[i]) sum += p[i] * scale, maximum = std::max(maximum, p[i] * scale), ++n;
    return {n ? sum / static_cast<double>(n) : 0.0, maximum};
}

}  // namespace

VectorizeReport vectorize(const VectorizeOptions& o, const Progress& progress) {
    OutputSet outputs;
    auto report = vectorize_into(o, outputs, progress);
    outputs.publish();
    return report;
}

VectorizeReport vectorize(const std::string& class_raster, const std::string& output, VectorizeOptions o,
                          const Progress& progress) {
    o.input = class_raster;
    o.output = output;
    return vectorize(o, progress);
}

VectorizeReport vectorize_into(const VectorizeOptions& o, OutputSet& outputs, const Progress& progress) {
    const Stopwatch started;
    validate(o);
    const std::string& class_raster = o.input;
    const std::string& output = o.output;
    std::vector<NamedPath> written{{"OUT.gpkg", output}};
    for (const auto& companion : vector_companions(output, o.format)) written.push_back({"OUT's companion", companion});
    refuse_outputs_onto_inputs(written, {{"CLASSES.tif", class_raster}, {"--probabilities", o.probabilities},
                                         {"--pre-event", o.pre_event}});
    check_vector_output(output, o.format, o.overwrite, o.append);
    // Strips are read once, top to bottom: a large block cache would only hold rows already done.
    limit_gdal_cache(64LL * 1024 * 1024);
    ClassRaster classes(class_raster, o.background_index, progress);
    GDALDataset& ds = *classes.dataset;
    const int width = ds.GetRasterXSize(), height = ds.GetRasterYSize();
    std::array<double, 6> gt{};
    const OGRSpatialReference* srs = ds.GetSpatialRef();
    if (ds.GetGeoTransform(gt.data()) != CE_None || !srs)
        throw UsageError(class_raster + " has no CRS or geotransform, so polygons cannot be placed or measured: "
                         "assign them first (e.g. gdal_edit.py -a_srs EPSG:XXXX -a_ullr ...)");
    const PixelGeometry measure(gt, *srs, width, height);

    // Which values become which layer.
    std::map<int, std::string> layers;  // class value -> class name
    std::unique_ptr<ClassRaster> pre;
    DatasetPtr pre_on_grid;
    int post_water = -1, pre_water = -1;
    if (!o.pre_event.empty()) {
        post_water = classes.resolve(o.water_class);
        pre = std::make_unique<ClassRaster>(o.pre_event, -1, progress);
        pre_water = pre->resolve(o.water_class);
        // The pre-event classes on the post-event grid (nearest neighbour: classes are not averaged);
        // pixels it does not cover, or covers with nodata, get a sentinel and are never "new" water.
        if (gt[2] != 0 || gt[4] != 0)
            throw UsageError(class_raster + " has a rotated geotransform: warp it to a north-up grid first "
                             "(gdalwarp) to compare it with the pre-event raster");
        pre_on_grid = warp_onto_grid(*pre->dataset, ds, outside_pre_event, o.pre_event + ": cannot bring it onto " +
                                                                                class_raster + "'s grid");
        layers[post_water] = "new_water";
    } else if (o.classes.empty()) {
        for (const auto& [value, name] : classes.names)
            if (value != classes.background) layers[value] = name;
        if (layers.empty()) throw UsageError(class_raster + " has no classes besides the background: nothing to vectorize");
    } else {
        for (const auto& spec : o.classes) {
            const int value = classes.resolve(spec);
            layers[value] = classes.names.at(value);
        }
    }

    DatasetPtr probabilities;
    if (!o.probabilities.empty()) {
        probabilities = open_raster(o.probabilities, "the probabilities");
        if (probabilities->GetRasterXSize() != width || probabilities->GetRasterYSize() != height)
            throw UsageError(o.probabilities + " is " + std::to_string(probabilities->GetRasterXSize()) + " x " +
                             std::to_string(probabilities->GetRasterYSize()) + ", the class raster " +
                             std::to_string(width) + " x " + std::to_string(height) + ": give the probabilities "
                             "written by the same segment run");
        if (probabilities->GetRasterCount() <= layers.rbegin()->first)
            throw UsageError(o.probabilities + " has " + std::to_string(probabilities->GetRasterCount()) +
                             " bands, too few for class " + std::to_string(layers.rbegin()->first));
    }
    std::unique_ptr<OGRSpatialReference> target;
    std::unique_ptr<OGRCoordinateTransformation> to_target;
    if (!o.target_srs.empty()) {
        target = std::make_unique<OGRSpatialReference>();
        target->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (target->SetFromUserInput(o.target_srs.c_str()) != OGRERR_NONE)
            throw UsageError("-t_srs " + o.target_srs + ": PROJ does not know this CRS (try EPSG:4326)");
        to_target.reset(OGRCreateCoordinateTransformation(srs, target.get()));
        if (!to_target) throw UsageError("-t_srs " + o.target_srs + ": no transformation from the raster's CRS");
    }

    const auto format = resolve_vector_format(output, o.format);
    check_layer_count(output, format, layers.size());
    auto& out = outputs.add(std::make_unique<VectorOutput>(output, vector_formats().name(format),
                                                           vector_companions(output, format), o.overwrite, o.append,
                                                           o.layer_creation_options));
    // A layer's count under the name it was given (a Shapefile's layer is named after its file).
    std::map<int, std::pair<OGRLayer*, long long*>> layer_of;
    VectorizeReport report;
    for (const auto& [value, name] : layers) {
        const auto layer_name = o.layer_prefix + layer_name_for(name);
        layer_of[value] = {out.create_layer(layer_name, target ? target.get() : srs, probabilities != nullptr),
                           &report.polygons_per_layer[layer_name]};
    }
    const CleanupRules rules{o.min_area_m2, o.fill_holes_m2, o.simplify_m, o.regularize, o.regularize_max_area_change,
                             o.smooth};

    // Progress is asked from every stage, at the share of strips joined so far.
    SerialProgress serial_progress(progress);
    std::atomic<double> done_fraction{0};
    const auto keep_going = [&]() -> bool { return serial_progress.keep_going(done_fraction.load()); };

    // Cleaning and writing the polygons of one strip can take long too: ask every 256 polygons.
    long long emitted = 0;
    const auto write_polygon = [&](RegionPolygon&& region) {
        if (++emitted % 256 == 0 && !keep_going()) throw Cancelled();
        auto it = layer_of.find(region.value);
        if (it == layer_of.end()) return;
        std::unique_ptr<OGRGeometry> pixel_geometry(probabilities ? region.geometry->clone() : nullptr);
        measure.to_map(*region.geometry);
        auto geometry = clean_polygon(std::move(region.geometry), rules, measure);
        if (!geometry) return;
        auto [layer, count] = it->second;
        OGRFeature feature(layer->GetLayerDefn());
        feature.SetField(PolygonField::class_id, region.value);
        feature.SetField(PolygonField::class_name, layers.at(region.value).c_str());
        feature.SetField(PolygonField::area_m2, measure.area_m2(*geometry));
        feature.SetField(PolygonField::perimeter_m, measure.perimeter_m(*geometry));
        if (probabilities) {
            const auto [mean, maximum] = probability_stats(*probabilities->GetRasterBand(region.value + 1), *pixel_geometry);
            feature.SetField(PolygonField::mean_prob, mean);
            feature.SetField(PolygonField::max_prob, maximum);
        }
        if (to_target) {
            if (geometry->transform(to_target.get()) != OGRERR_NONE)
                throw FileError("cannot transform a polygon to " + o.target_srs);
            geometry = valid_polygons(std::move(geometry));
            if (!geometry) return;
        }
        feature.SetGeometryDirectly(OGRGeometryFactory::forceToMultiPolygon(geometry.release()));
        out.write(layer, feature);
        ++*count;
    };

    // Strips are read, then polygonized on every CPU (GDALPolygonize on separate in-memory strips),
    // then joined and written in order. Jobs live in slots owned here rather than by TBB, which drops
    // the items in flight when a stage throws; at most `slots.size()` are in flight, and job k's
    // slot k % size is free again when job k enters, since the last stage finishes jobs in order.
    struct StripJob {
        int y = 0, rows = 0;
        std::vector<int32_t> values, pre_values;
        std::vector<uint8_t> selected;
        StripPieces pieces;
    };
    StripPolygonizer polygonizer(o.eight_connected, write_polygon);
    int block_w = 0, block_h = 0;
    classes.band->GetBlockSize(&block_w, &block_h);
    // Whole blocks per strip, but never a whole single-strip file (memory must not grow with height).
    const int strip_rows = o.strip_rows > 0 ? o.strip_rows : (block_h <= 1024 ? std::max(256, block_h) : 256);
    // One strip per CPU and one being read, within 512 MB of strip buffers (9 bytes a pixel at most).
    const long long strip_bytes = 9LL * width * std::min(strip_rows, height);
    const long long in_flight = std::max(2LL, std::min<long long>(tbb::this_task_arena::max_concurrency() + 1,
                                                                  (512LL << 20) / strip_bytes));
    std::vector<StripJob> slots(static_cast<size_t>(in_flight));
    // Which values are polygonized: a table over their range (a map lookup per pixel cost 5 % of the
    // time), or the map for ranges too wide for one.
    const int lowest = layer_of.begin()->first, highest = layer_of.rbegin()->first;
    const bool table = static_cast<long long>(highest) - lowest < (1LL << 20);
    std::vector<uint8_t> wanted(table ? static_cast<size_t>(highest - lowest) + 1 : 0, 0);
    if (table)
        for (const auto& [value, layer] : layer_of) wanted[static_cast<size_t>(value - lowest)] = 1;
    const auto is_wanted = [&](int32_t v) {
        return table ? v >= lowest && v <= highest && wanted[static_cast<size_t>(v - lowest)] : layer_of.count(v) > 0;
    };
    size_t next_job = 0;
    int next_y = 0;
    out.begin_writing();
    const auto read_stage = [&](tbb::flow_control& flow) -> StripJob* {
        if (next_y >= height) {
            flow.stop();
            return nullptr;
        }
        if (!keep_going()) throw Cancelled();
        StripJob& job = slots[next_job++ % slots.size()];
        job.y = next_y, job.rows = std::min(strip_rows, height - next_y);
        next_y += job.rows;
        const int y = job.y, rows = job.rows;
        const size_t n = static_cast<size_t>(width) * static_cast<size_t>(rows);
        job.values.resize(n);
        job.selected.resize(n);
        if (classes.band->RasterIO(GF_Read, 0, y, width, rows, job.values.data(), width, rows, GDT_Int32, 0, 0) !=
            CE_None)
            throw FileError(class_raster + ": cannot read rows " + std::to_string(y) + "..: " + last_gdal_error("?"));
        const auto& values = job.values;
        if (pre_on_grid) {
            auto& pre_values = job.pre_values;
            pre_values.resize(n);
            if (pre_on_grid->GetRasterBand(1)->RasterIO(GF_Read, 0, y, width, rows, pre_values.data(), width, rows,
                                                        GDT_Int32, 0, 0) != CE_None)
                throw FileError(o.pre_event + ": cannot read: " + last_gdal_error("?"));
            for (size_t i = 0; i < n; ++i)
                job.selected[i] = values[i] == post_water && pre_values[i] != pre_water &&
                                  pre_values[i] != outside_pre_event && !(pre->nodata && pre_values[i] == *pre->nodata);
        } else {
            for (size_t i = 0; i < n; ++i) job.selected[i] = is_wanted(values[i]);
        }
        return &job;
    };
    const auto polygonize_stage = [&](StripJob* job) -> StripJob* {
        job->pieces = polygonize_strip(width, o.eight_connected, job->y, job->rows, job->values.data(),
                                       job->selected.data(), keep_going);
        return job;
    };
    const auto join_stage = [&](StripJob* job) {
        polygonizer.add(std::move(job->pieces), job->y + job->rows >= height, keep_going);
        job->pieces = {};
        done_fraction = static_cast<double>(job->y + job->rows) / height;
        if (!keep_going()) throw Cancelled();
    };
    tbb::parallel_pipeline(slots.size(),
                           tbb::make_filter<void, StripJob*>(tbb::filter_mode::serial_in_order, read_stage) &
                               tbb::make_filter<StripJob*, StripJob*>(tbb::filter_mode::parallel, polygonize_stage) &
                               tbb::make_filter<StripJob*, void>(tbb::filter_mode::serial_in_order, join_stage));
    out.finish();
    report.pieces_merged = polygonizer.pieces_merged();
    report.seconds = started.seconds();
    return report;
}

}  // namespace segearth::geo
