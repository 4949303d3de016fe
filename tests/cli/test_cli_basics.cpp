// The tool's top level: command list, help, unknown commands, exit codes.
#include <doctest/doctest.h>

#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <filesystem>

using segearth::test::run_segearth;
using segearth::test::wait_for;

TEST_CASE("no arguments: usage on stderr, exit 2") {
    const auto r = run_segearth({});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("Usage: segearth <command>") != std::string::npos);
    CHECK(r.err.find("  info") != std::string::npos);
}

TEST_CASE("--help lists the commands on stdout, exit 0") {
    const auto r = run_segearth({"--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("info") != std::string::npos);
}

TEST_CASE("an unknown command is a usage error that says how to list them") {
    const auto r = run_segearth({"segmnet"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: unknown command 'segmnet' (run 'segearth --help' for the list)\n");
}

TEST_CASE("--config without a value is a usage error") {
    const auto r = run_segearth({"info", "--system", "--config", "GDAL_CACHEMAX"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --config needs a KEY and a VALUE, e.g. --config GDAL_CACHEMAX 512\n");
}

TEST_CASE("segearth runs vectorize and eval itself and hands the model commands to segearth-torch") {
    namespace fs = std::filesystem;
    const auto dir = segearth::test::scratch_dir("cli_torch_binary");
    // A copy of segearth without its segearth-torch beside it (nor a libexec folder above it).
    const auto alone = dir / "bin" / "segearth";
    fs::create_directories(alone.parent_path());
    fs::copy_file(SEGEARTH_BINARY, alone, fs::copy_options::overwrite_existing);
    const auto missing = wait_for(segearth::test::start_program(alone.string(), {"segment", "--help"}));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("segearth-torch, which runs this command, is missing") != std::string::npos);
    CHECK(missing.err.find("reinstall segearth") != std::string::npos);
    // Its own commands still run.
    const auto own = wait_for(segearth::test::start_program(alone.string(), {"vectorize", "--help"}));
    CHECK(own.exit_code == 0);
    CHECK(own.out.find("vectorize") != std::string::npos);

    // Installed, segearth-torch lies in libexec beside bin.
    fs::create_directories(dir / "libexec");
    fs::copy_file(fs::path(SEGEARTH_BINARY).parent_path() / "segearth-torch", dir / "libexec" / "segearth-torch",
                  fs::copy_options::overwrite_existing);
    const auto installed = wait_for(segearth::test::start_program(alone.string(), {"--help"}));
    CHECK(installed.exit_code == 0);
    CHECK(installed.out.find("  train") != std::string::npos);
    // Exit codes come through the exec unchanged.
    CHECK(wait_for(segearth::test::start_program(alone.string(), {"segment", "--bogus"})).exit_code == 2);
}
