// A failed write said in the user's words. Drivers report a full disk in their own terms (GDAL's
// TIFF driver: "TIFFAppendToStrip:Write error at scanline 512", SQLite: "database or disk is
// full", a stream: nothing at all); the user needs "no space left on device", the output's path,
// the space left there and what to do.
//
//   if (band->RasterIO(GF_Write, ...) != CE_None) throw write_error(path, "write", last_gdal_error("?"));
#pragma once

#include <segearth/error.hpp>

#include <string>

namespace segearth {

/// Bytes this process may still write on the filesystem of `path` (or of its folder, when `path`
/// does not exist); -1 when it cannot be told.
long long free_bytes_at(const std::string& path);

/// The error for a failed ACTION ("write", "finish") of `path`: "PATH: no space left on device
/// (N KB free in FOLDER; DETAIL): free some space there or write the output elsewhere" when the
/// filesystem is full (under 64 MB free), else "cannot ACTION PATH: DETAIL".
FileError write_error(const std::string& path, const std::string& action, const std::string& detail);

}  // namespace segearth
