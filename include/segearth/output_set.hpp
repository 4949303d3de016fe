// Every output of one run, published together: each is completed under its temporary name, and
// none is renamed into place until all are complete. On an error or Ctrl-C the set is destroyed
// unpublished and removes them all, so a run leaves either all its outputs or none.
//
//   OutputSet outputs;
//   auto& classes = outputs.add(std::make_unique<OutputRaster>(spec));   // writes OUT.part-PID
//   ... write, finish ...
//   outputs.publish();                                                   // renames them all
#pragma once

#include <segearth/temporary_output.hpp>

#include <memory>
#include <string>
#include <vector>

namespace segearth {

/// A finished output under its temporary name, waiting to be renamed into place.
class PendingOutput {
public:
    virtual ~PendingOutput() = default;  ///< an unpublished output removes its temporary files
    virtual const std::string& path() const = 0;
    /// Throws when publish() would refuse (a file appeared at the path without --overwrite, the path
    /// is a folder): OutputSet asks every output before it renames any.
    virtual void check_publishable() const = 0;
    /// Renames it into place; throws when it is not complete or the rename fails.
    virtual void publish() = 0;
};

/// A plain file of the set (a picture, a report): the caller writes temporary(), the set publishes it
/// with the others.
class PendingFile : public PendingOutput {
public:
    PendingFile(std::string path, const std::string& suffix, bool overwrite)
        : file_(std::move(path), suffix), overwrite_(overwrite) {}
    const std::string& path() const override { return file_.path(); }
    const std::string& temporary() const { return file_.temporary(); }
    void check_publishable() const override { file_.check_publishable(overwrite_); }
    void publish() override { file_.publish(overwrite_); }

private:
    TemporaryOutput file_;
    bool overwrite_;
};

class OutputSet {
public:
    template <class Output>
    Output& add(std::unique_ptr<Output> output) {
        Output& ref = *output;
        outputs_.push_back(std::move(output));
        return ref;
    }
    /// Publishes every output, in the order they were added, once every one of them can be.
    void publish() {
        for (const auto& o : outputs_) o->check_publishable();
        for (auto& o : outputs_) o->publish();
    }

private:
    std::vector<std::unique_ptr<PendingOutput>> outputs_;
};

}  // namespace segearth
