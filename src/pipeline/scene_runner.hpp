// The work of segment for one scene or many (private): the classes, device and model files settled
// once; the models loaded once, at the first scene that needs them; then each scene, or a shard of
// one, planned, run and published in turn. segment(), segment_scenes() (eval-dataset) and the batch
// are this class.
#pragma once

#include <segearth/pipeline/segment.hpp>
#include <segearth/pipeline/shard.hpp>

#include <memory>
#include <string>

namespace segearth::pipeline {

class SceneRunner {
public:
    /// Checks what holds for every scene (validate_settings, the classes, the device); throws
    /// UsageError or FileError. Nothing is loaded or written.
    SceneRunner(const SegmentOptions& base, Progress progress);
    ~SceneRunner();
    SceneRunner(const SceneRunner&) = delete;
    SceneRunner& operator=(const SceneRunner&) = delete;

    /// What the user should know once (no upsampler weights found, ...).
    const std::string& notes() const;
    /// Finds the model files (flags, environment, data folders) unless done: the first scene does it
    /// after its own checks; a batch calls it first, as an error here concerns every scene.
    void locate();
    /// Loads the models and encodes the class texts unless done; an error here concerns every scene.
    void load();

    /// One scene: `o` is the base with its own INPUT and outputs (validate() holds for it).
    SegmentReport segment(const SegmentOptions& o);
    /// Shard `shard` of the scene `o`: its band under the outputs' shard names, then its manifest.
    SegmentReport segment_shard(const SegmentOptions& o, const ShardChoice& shard);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace segearth::pipeline
