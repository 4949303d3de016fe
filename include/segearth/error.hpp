// The project's one exception family. Library code throws these; only main() catches.
// Messages name the offending file, flag or value and say how to fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace segearth {

/// Base of every error segearth throws on purpose.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The command line was wrong (exit code 2).
class UsageError : public Error {
public:
    using Error::Error;
};

/// A file could not be read, is corrupt, or does not hold what was expected.
class FileError : public Error {
public:
    using Error::Error;
};

/// The user cancelled the operation (progress callback returned false, SIGINT). `note` says what
/// was kept and how to continue, when there is something to say ("continue with --resume ...").
class Cancelled : public Error {
public:
    explicit Cancelled(std::string note = {}) : Error("cancelled"), note_(std::move(note)) {}
    const std::string& note() const { return note_; }

private:
    std::string note_;
};

}  // namespace segearth
