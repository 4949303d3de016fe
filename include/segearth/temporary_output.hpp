// One output file written the way users can trust: under a temporary name in its destination folder
// (OUT.part-PID plus a suffix that keeps the driver's extension), renamed into place only when
// complete, removed when abandoned. A crash or Ctrl-C never leaves a file that looks finished.
//
//   TemporaryOutput out("classes.tif", ".gtiff");  // out.temporary(): classes.tif.part-1234.gtiff
//   write(out.temporary());
//   out.publish(overwrite);                        // rename; without it the destructor removes it
#pragma once

#include <memory>
#include <string>

namespace segearth {

class TemporaryOutput {
public:
    explicit TemporaryOutput(std::string path, const std::string& suffix = {});
    /// A file a driver writes beside another output's temporary file under a name of its own
    /// choosing (a Shapefile's OUT.shp.part-PID.dbf, published as OUT.dbf).
    static std::unique_ptr<TemporaryOutput> named(std::string path, std::string temporary);
    ~TemporaryOutput();  ///< removes the temporary file (and its .aux.xml) unless published
    TemporaryOutput(const TemporaryOutput&) = delete;
    TemporaryOutput& operator=(const TemporaryOutput&) = delete;

    const std::string& path() const { return path_; }
    const std::string& temporary() const { return temporary_; }

    /// Renames the temporary file into place. Without `replace`, a file that appeared at `path`
    /// since the run started is not replaced: UsageError. Throws FileError when the rename fails.
    void publish(bool replace);
    /// What publish(replace) would refuse, checked without renaming: UsageError or FileError.
    void check_publishable(bool replace) const;
    /// Removes the temporary file now.
    void discard();
    bool published() const { return published_; }

private:
    struct Named {};
    TemporaryOutput(std::string path, std::string temporary, Named);
    std::string path_, temporary_;
    bool published_ = false;
    int slot_ = -1;  // in the registry remove_temporaries_now() empties
};

/// Writes `text` to `path` through a TemporaryOutput (suffix as there) and publishes it: a report,
/// a CSV, a JSON file never appears half-written. Throws write_error's FileError when the write
/// fails (a full disk named as such), UsageError as publish(replace).
void write_text_output(const std::string& path, const std::string& text, bool replace, const std::string& suffix = {});

/// Unlinks every temporary file that is neither published nor discarded yet (and the sidecars GDAL
/// and SQLite write beside them), for a process that must end now: async-signal-safe, so the
/// handler of a second Ctrl-C can call it before _exit.
void remove_temporaries_now() noexcept;

}  // namespace segearth
