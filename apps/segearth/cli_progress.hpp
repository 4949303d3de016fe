// Progress on stderr in GDAL's style ("0...10...20...30...40...50...60...70...80...90...100 - done.")
// and Ctrl-C turned into a clean cancellation: the progress callback returns false once SIGINT has
// arrived, the library throws Cancelled, its outputs remove their temporary files, and main exits 130.
#pragma once

#include <segearth/progress.hpp>

namespace segearth::cli {

/// Installs the SIGINT/SIGTERM handler (once); a second Ctrl-C ends the process at once.
void install_interrupt_handler();
bool interrupted();

/// --progress-lines: for programs that run segearth (the QGIS provider), progress as whole lines on
/// stderr, "segearth progress 0.425" (the fraction done, each time it grows by 0.005 or more), in place
/// of GDAL's ticks and whether or not -q is given; messages stay lines of their own.
void set_progress_lines(bool on);

/// A progress callback for the library: prints GDAL-style ticks unless `quiet` (or progress lines),
/// and returns false after an interrupt.
Progress terminal_progress(bool quiet);

/// A progress callback that prints each non-empty message as a line (train's step lines) unless
/// `quiet` (and the fraction as a progress line with --progress-lines), and returns false after an
/// interrupt.
Progress message_progress(bool quiet);

}  // namespace segearth::cli
