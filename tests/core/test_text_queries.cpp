// Vocabulary parsing, prompt templates and the averaged, cached text queries (METHOD.md 2).
#include <doctest/doctest.h>

#include <segearth/core/text_queries.hpp>
#include <segearth/core/vocabulary.hpp>
#include <segearth/error.hpp>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

#include <fstream>

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::relative_error;

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("class lists with synonyms") {
    const auto v = Vocabulary::parse(" building, roof ,house; water ;road");
    CHECK(v.query_names() == std::vector<std::string>{"building", "roof", "house", "water", "road"});
    CHECK(v.query_class() == std::vector<int64_t>{0, 0, 0, 1, 2});
    CHECK(v.class_names() == std::vector<std::string>{"building", "water", "road"});
}

TEST_CASE("bad class lists are usage errors that quote the input") {
    CHECK_THROWS_WITH_AS(Vocabulary::parse("  "), "the class list is empty: give classes like \"building,roof;water;road\"",
                         segearth::UsageError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("water;;road"),
                         "empty class in \"water;;road\": separate classes with single ';'", segearth::UsageError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("building,,roof"),
                         "class list: empty class name in 'building,,roof' (separate synonyms with single commas)",
                         segearth::UsageError);
}

TEST_CASE("class files: one class per line, comments, blank lines refused with the line number") {
    const auto dir = segearth::test::scratch_dir("class_files");
    write_text(dir / "ok.txt", "# land cover\nbuilding,roof\nwater\n\n");
    CHECK(Vocabulary::read(dir / "ok.txt").query_names() == std::vector<std::string>{"building", "roof", "water"});
    write_text(dir / "blank.txt", "building\n\nwater\n");
    CHECK_THROWS_WITH_AS(Vocabulary::read(dir / "blank.txt"),
                         ((dir / "blank.txt").string() +
                          ":2: blank line; every line is one class (synonyms separated by commas): remove the blank "
                          "line or comment it with '#'")
                             .c_str(),
                         segearth::FileError);
    write_text(dir / "empty.txt", "# nothing\n");
    CHECK_THROWS_WITH_AS(Vocabulary::read(dir / "empty.txt"),
                         ((dir / "empty.txt").string() + ": the class file has no classes").c_str(), segearth::FileError);
    CHECK_THROWS_WITH_AS(Vocabulary::read(dir / "missing.txt"),
                         ((dir / "missing.txt").string() + ": cannot open the class file").c_str(), segearth::FileError);
}

TEST_CASE("the shipped templates are the 80 ImageNet prompts") {
    const auto templates = read_templates(segearth::test::data_file("imagenet_templates.txt"));
    CHECK(templates.size() == 80);
    CHECK(templates.front() == "a bad photo of a {}.");
    CHECK(fill_template(templates.front(), "building") == "a bad photo of a building.");
}

TEST_CASE("a template without {} is refused with its line") {
    const auto dir = segearth::test::scratch_dir("templates");
    write_text(dir / "t.txt", "a photo of a {}.\na photo.\n");
    CHECK_THROWS_WITH_AS(read_templates(dir / "t.txt"),
                         ((dir / "t.txt").string() +
                          ":2: template 'a photo.' must contain \"{}\" exactly once (where the class name goes)")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("a query is the normalised mean of its normalised template embeddings, and is cached") {
    auto clip = load_clip(fixture("tiny_clip.safetensors"));
    const Tokenizer tokenizer(segearth::test::data_file("bpe_simple_vocab_16e6.txt.gz"));
    const std::vector<std::string> templates{"a photo of a {}.", "an aerial image of {}.", "{}"};
    const auto cache = segearth::test::scratch_dir("text_cache");

    // Straightforward computation, one template at a time.
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> expected_rows;
    for (const std::string name : {"building", "water body"}) {
        auto sum = torch::zeros({32});
        for (const auto& t : templates) {
            const auto ids = torch::tensor(tokenizer.tokenize(fill_template(t, name))).view({1, 77});
            const auto e = clip.model->encode_text(ids)[0];
            sum += e / e.norm();
        }
        expected_rows.push_back(sum / sum.norm());
    }
    const auto expected = torch::stack(expected_rows);

    TextQueryEncoder first(clip.model, tokenizer, templates, cache);
    CHECK(relative_error(first.encode({"building", "water body"}), expected) < 1e-5);
    CHECK(first.cache_misses() == 2);
    CHECK(std::filesystem::exists(first.cache_file()));

    TextQueryEncoder second(clip.model, tokenizer, templates, cache);
    const auto again = second.encode({"water body", "building"});
    CHECK(second.cache_hits() == 2);
    CHECK(second.cache_misses() == 0);
    CHECK(torch::equal(again[0], first.encode({"water body"})[0]));

    TextQueryEncoder other_templates(clip.model, tokenizer, {"a photo of a {}."}, cache);
    CHECK(other_templates.cache_file() != first.cache_file());
    other_templates.encode({"building"});
    CHECK(other_templates.cache_misses() == 1);
}

TEST_CASE("a damaged cache file is rebuilt, not trusted") {
    auto clip = load_clip(fixture("tiny_clip.safetensors"));
    const Tokenizer tokenizer(segearth::test::data_file("bpe_simple_vocab_16e6.txt.gz"));
    const auto cache = segearth::test::scratch_dir("text_cache_damaged");
    TextQueryEncoder encoder(clip.model, tokenizer, {"a photo of a {}."}, cache);
    const auto good = encoder.encode({"road"});
    write_text(encoder.cache_file(), "garbage");
    TextQueryEncoder again(clip.model, tokenizer, {"a photo of a {}."}, cache);
    CHECK(torch::equal(again.encode({"road"}), good));
    CHECK(again.cache_misses() == 1);
}
