// The tool's top level: command list, help, unknown commands, exit codes.
#include <doctest/doctest.h>

#include "run_segearth.hpp"

using segearth::test::run_segearth;

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
