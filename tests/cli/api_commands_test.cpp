// End-to-end tests of the user-facing commands (embed, fill-mask, classify, rerank, bench): run
// the built `bertcpp` binary and check its output against the C++ API.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api_test_util.h"
#include "bertcpp/model.hpp"
#include "support/st_folders.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string model(const char* name) { return std::string(BERTCPP_TEST_DATA) + "/models/" + name; }

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

// Runs `bertcpp <args>` with optional stdin text; captures stdout and stderr.
CliRun run(const std::string& args, const std::string& stdin_text = "", const std::string& env = "") {
  static int counter = 0;
  const fs::path base = fs::temp_directory_path() / ("bertcpp_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string in = base.string() + ".in", out = base.string() + ".out", err = base.string() + ".err";
  std::ofstream(in, std::ios::binary) << stdin_text;
  const std::string cmd = "env -u BERTCPP_MODEL " + env + " " + quote(BERTCPP_CLI) + " " + args + " <" + quote(in) + " >" + quote(out) + " 2>" + quote(err);
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& f) {
    std::ifstream s(f, std::ios::binary);
    std::stringstream ss;
    ss << s.rdbuf();
    return ss.str();
  };
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  fs::remove(in);
  fs::remove(out);
  fs::remove(err);
  return r;
}

const bertcpp::Model& tiny() {
  static const bertcpp::Model m = bertcpp::Model::from_pretrained(model("tiny-bert"));
  return m;
}

void expect_embeddings_equal(const json& rows, const bertcpp::Tensor& ref) {
  ASSERT_EQ(rows.size(), static_cast<size_t>(ref.dim(0)));
  const int64_t H = ref.dim(1);
  for (size_t r = 0; r < rows.size(); ++r) {
    ASSERT_EQ(rows[r].size(), static_cast<size_t>(H));
    for (int64_t k = 0; k < H; ++k)
      EXPECT_EQ(static_cast<float>(rows[r][k].get<double>()), ref.data<float>()[static_cast<int64_t>(r) * H + k]) << r << "," << k;
  }
}

TEST(CliEmbed, JsonOutputEqualsTheApi) {
  const CliRun r = run("embed --model " + quote(model("tiny-bert")) + " --threads 1 'Hello, world!' 'café naïve résumé'");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["model"], model("tiny-bert"));
  EXPECT_EQ(j["dimensions"], 32);
  EXPECT_EQ(j["pooling"], "mean");
  EXPECT_EQ(j["normalized"], false);
  expect_embeddings_equal(j["embeddings"], tiny().embed(std::vector<std::string>{"Hello, world!", "café naïve résumé"}));
}

// A sentence-transformers folder with a Dense module, prompts and include_prompt false: `bertcpp embed`
// gives sentence-transformers' encode() (tests/data/st_dense/expected.json) with --prompt-name / --prompt.
TEST(CliEmbed, DenseModulesAndPromptsAsSentenceTransformers) {
  const json& cases = bertcpp::testsupport::st_dense_expected()["cases"];
  const fs::path root = fs::temp_directory_path() / ("bertcpp_cli_st_" + std::to_string(::getpid()));
  const fs::path dir = bertcpp::testsupport::build_st_folder("exclude-prompt-mean-dense", root);
  std::string texts;
  for (const auto& t : bertcpp::testsupport::st_dense_expected()["texts"]) texts += " " + quote(t.get<std::string>());
  auto check = [&](const std::string& flags, const std::string& key) {
    const CliRun r = run("embed -m " + quote(dir.string()) + " " + flags + texts);
    ASSERT_EQ(r.code, 0) << flags << ": " << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["dimensions"], 16);
    const auto want = cases[key]["data"].get<std::vector<double>>();
    ASSERT_EQ(j["embeddings"].size() * 16, want.size());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(j["embeddings"][i / 16][i % 16].get<double>() - want[i]));
    EXPECT_LE(worst, 1e-5) << flags;
  };
  check("", "exclude-prompt-mean-dense");
  check("--prompt-name query", "exclude-prompt-mean-dense/prompt_name_query");
  check("--prompt-name long -f json", "exclude-prompt-mean-dense/prompt_name_long");
  check("--prompt 'Hello, '", "exclude-prompt-mean-dense/prompt");
  const CliRun bad = run("embed -m " + quote(dir.string()) + " --prompt-name nope x");
  EXPECT_EQ(bad.code, 2) << bad.err;  // InvalidArgument
  EXPECT_NE(bad.err.find("'nope' is not one of the prompts"), std::string::npos) << bad.err;
  EXPECT_EQ(run("embed -m " + quote(dir.string()) + " --prompt-name query --prompt x y").code, 2);
  fs::remove_all(root);
}

// The rotary families through `bertcpp embed`: the golden's batch texts, mean-pooled, equal the
// mean over real tokens of transformers' last_hidden_state (the golden) within 1e-4.
TEST(CliEmbed, RotaryFamiliesEqualTheGolden) {
  for (const char* name : {"tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-gte-new-mixed",
                           "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    const bertcpp::apitest::Golden g(name);
    const std::vector<std::string> texts = g.texts("batch");
    std::string args = "embed --model " + quote(model(name)) + " --threads 1 --pooling mean --no-normalize";
    for (const auto& t : texts) args += " " + quote(t);
    const CliRun r = run(args);
    ASSERT_EQ(r.code, 0) << r.err;
    const json rows = json::parse(r.out)["embeddings"];
    const bertcpp::Tensor hidden = g.get("batch.last_hidden_state"), mask = g.ids("batch.attention_mask");
    const int64_t B = hidden.dim(0), S = hidden.dim(1), H = hidden.dim(2);
    ASSERT_EQ(rows.size(), texts.size());
    ASSERT_EQ(static_cast<int64_t>(texts.size()), B);
    for (int64_t b = 0; b < B; ++b) {
      ASSERT_EQ(rows[b].size(), static_cast<size_t>(H));
      for (int64_t k = 0; k < H; ++k) {
        double sum = 0, n = 0;
        for (int64_t s = 0; s < S; ++s) {
          if (mask.data<int64_t>()[b * S + s] == 0) continue;
          sum += hidden.data<float>()[(b * S + s) * H + k];
          ++n;
        }
        EXPECT_NEAR(rows[b][k].get<double>(), sum / n, 1e-4) << "text " << b << ", channel " << k;
      }
    }
  }
}

std::vector<json> jsonl_rows(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  std::vector<json> rows;
  while (std::getline(lines, line)) {
    const json j = json::parse(line);
    EXPECT_EQ(j["index"], rows.size());
    rows.push_back(j["embedding"]);
  }
  return rows;
}

TEST(CliEmbed, StdinTextKeepsEveryLineIncludingBlankAndBraceLines) {
  // Row i is line i: a blank line is the empty text, a line starting with '{' is text.
  const std::string input = "Hello, world!\n{not json, just text\r\n\n  plain three\n{\"text\": \"x\"}\n";
  const CliRun r = run("embed -m " + quote(model("tiny-bert")) + " --pooling cls --normalize --format jsonl", input);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> rows = jsonl_rows(r.out);
  ASSERT_EQ(rows.size(), 5u);
  expect_embeddings_equal(json(rows), tiny().embed(std::vector<std::string>{"Hello, world!", "{not json, just text", "",
                                                                            "  plain three", "{\"text\": \"x\"}"},
                                                   bertcpp::Pooling::Cls, true));
  EXPECT_EQ(r.err, "");  // no progress output when stderr is not a terminal
}

TEST(CliEmbed, EmptyTextIsClsSep) {
  // sentence-transformers encodes "" as [CLS] [SEP]; the blank line's row is that embedding.
  const CliRun r = run("embed -m " + quote(model("tiny-bert")) + " --format jsonl", "\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> rows = jsonl_rows(r.out);
  ASSERT_EQ(rows.size(), 1u);
  const int64_t cls = 101, sep = 102;  // bert-base-uncased vocabulary
  bertcpp::Batch batch;
  batch.input_ids = bertcpp::Tensor::empty(bertcpp::DType::I64, {1, 2});
  batch.input_ids.data<int64_t>()[0] = cls;
  batch.input_ids.data<int64_t>()[1] = sep;
  batch.attention_mask = bertcpp::Tensor::empty(bertcpp::DType::I64, {1, 2});
  batch.attention_mask.data<int64_t>()[0] = batch.attention_mask.data<int64_t>()[1] = 1;
  batch.token_type_ids = bertcpp::Tensor::zeros(bertcpp::DType::I64, {1, 2});
  const bertcpp::Tensor& mask = batch.attention_mask;
  const bertcpp::ModelOutput out = tiny().forward(batch);
  expect_embeddings_equal(json(rows), tiny().pool(out.last_hidden_state, mask, bertcpp::Pooling::Mean, false));
}

TEST(CliEmbed, StdinJsonLines) {
  const std::string input = "{\"text\": \"line two\\twith tab\"}\r\n\n  {\"text\": \"b\"}\n";
  const CliRun r = run("embed -m " + quote(model("tiny-bert")) + " --input-format jsonl --format jsonl", input);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> rows = jsonl_rows(r.out);
  expect_embeddings_equal(json(rows), tiny().embed(std::vector<std::string>{"line two\twith tab", "b"}));
  const CliRun bad = run("embed -m " + quote(model("tiny-bert")) + " --input-format jsonl", "plain\n");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("stdin line 1"), std::string::npos) << bad.err;
  EXPECT_EQ(run("embed -m " + quote(model("tiny-bert")) + " --input-format csv", "a\n").code, 2);
}

TEST(CliEmbed, ThreadsAreBounded) {
  for (const char* cmd : {"embed", "classify", "serve"}) {
    const CliRun r = run(std::string(cmd) + " -m " + quote(model("tiny-bert")) + " --threads 65536 x");
    EXPECT_EQ(r.code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("65536"), std::string::npos) << cmd << ": " << r.err;
  }
  EXPECT_EQ(run("embed -m " + quote(model("tiny-bert")) + " -t -1 x").code, 2);
  const CliRun pool = run("serve -m " + quote(model("tiny-bert")) + " --tokenization-workers 65536");
  EXPECT_EQ(pool.code, 2) << pool.err;
  EXPECT_NE(pool.err.find("65536"), std::string::npos) << pool.err;
}

TEST(CliEmbed, NpyOutputParses) {
  const fs::path out = fs::temp_directory_path() / ("bertcpp_embed_" + std::to_string(::getpid()) + ".npy");
  const CliRun r = run("embed -m " + quote(model("tiny-bert")) + " --pooling max --format npy --out " + quote(out.string()) + " a b c");
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  fs::remove(out);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  const std::string header = bytes.substr(10, hlen);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (3, 32)"), std::string::npos) << header;
  ASSERT_EQ(bytes.size(), 10 + hlen + 3 * 32 * sizeof(float));
  const bertcpp::Tensor ref = tiny().embed(std::vector<std::string>{"a", "b", "c"}, bertcpp::Pooling::Max, false);
  EXPECT_EQ(std::memcmp(bytes.data() + 10 + hlen, ref.raw(), ref.nbytes()), 0);
}

TEST(CliEmbed, NpyParsesWithNumpyWhenAvailable) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no numpy";
  const fs::path out = fs::temp_directory_path() / ("bertcpp_embed_np_" + std::to_string(::getpid()) + ".npy");
  ASSERT_EQ(run("embed -m " + quote(model("tiny-bert")) + " -f npy -o " + quote(out.string()) + " one two").code, 0);
  const std::string py = "/usr/bin/python3 -c \"import numpy as n; a=n.load('" + out.string() +
                         "'); assert a.shape==(2,32) and a.dtype==n.float32, a\"";
  EXPECT_EQ(std::system(py.c_str()), 0);
  fs::remove(out);
}

TEST(CliEmbed, UsageErrorsExitTwo) {
  EXPECT_EQ(run("embed --pooling median -m " + quote(model("tiny-bert")) + " x").code, 2);
  EXPECT_EQ(run("embed --format xml -m " + quote(model("tiny-bert")) + " x").code, 2);
  EXPECT_EQ(run("embed --normalize --no-normalize -m " + quote(model("tiny-bert")) + " x").code, 2);
  EXPECT_EQ(run("embed --bogus-flag x").code, 2);
  const CliRun none = run("embed hello");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("--model"), std::string::npos) << none.err;
  EXPECT_EQ(run("embed -m " + quote(model("tiny-bert")), "").code, 2);  // no texts at all
  EXPECT_EQ(run("embed -m " + quote(model("tiny-bert")) + " --input-format jsonl", "{\"txt\": 1}\n").code, 2);
  EXPECT_EQ(run("embed -m " + quote(model("no-such-model-dir")) + " x").code, 4);
}

TEST(CliEmbed, HelpDescribesTheCommand) {
  const CliRun r = run("embed --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"--pooling", "--normalize", "--format", "--out", "jsonl", "npy"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliServe, ModelFromFlagPositionalOrEnvAndDtypeThreadsFlags) {
  const CliRun help = run("serve --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out.find("REQUIRED"), std::string::npos) << help.out;
  for (const char* s : {"--dtype", "-t,", "--threads", "BERTCPP_MODEL"}) EXPECT_NE(help.out.find(s), std::string::npos) << s;
  // A missing folder fails at load (exit 4) naming it: the model was taken from where it was given.
  const std::string missing = "/nonexistent/bertcpp-model";
  for (const auto& [args, env] : std::vector<std::pair<std::string, std::string>>{
           {"serve --port 0", "BERTCPP_MODEL=" + missing},
           {"serve --port 0 -t 1 --dtype bf16 " + missing, ""},
           {"serve --port 0 --threads 2 --dtype int8 -m " + missing, ""}}) {
    const CliRun r = run(args, "", env);
    EXPECT_EQ(r.code, 4) << args << ": " << r.err;
    EXPECT_NE(r.err.find(missing), std::string::npos) << args << ": " << r.err;
  }
  const CliRun none = run("serve --port 0");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("BERTCPP_MODEL"), std::string::npos) << none.err;
  EXPECT_EQ(run("serve --dtype f64 -m " + quote(model("tiny-bert"))).code, 2);
  EXPECT_EQ(run("serve -m a b").code, 2);
}

TEST(CliFillMask, PrintsCandidatesBestFirst) {
  const CliRun r = run("fill-mask -m " + quote(model("tiny-bert-pretraining-f16")) + " --top-k 3 'Paris is the [MASK] of France.'");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  const auto ref = bertcpp::Model::from_pretrained(model("tiny-bert-pretraining-f16")).fill_mask("Paris is the [MASK] of France.", 3);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i]["token"], ref[i].token_id);
    EXPECT_EQ(j[i]["token_str"], ref[i].token);
    EXPECT_EQ(j[i]["sequence"], ref[i].sequence);
    EXPECT_EQ(static_cast<float>(j[i]["score"].get<double>()), ref[i].score);
  }
  const CliRun wrong = run("fill-mask -m " + quote(model("tiny-bert")) + " 'a [MASK]'");
  EXPECT_EQ(wrong.code, 6);
  EXPECT_NE(wrong.err.find("masked LM"), std::string::npos) << wrong.err;
  EXPECT_EQ(run("fill-mask -m " + quote(model("tiny-bert-pretraining-f16")) + " --top-k 0 'a [MASK]'").code, 2);
  EXPECT_EQ(run("fill-mask -m " + quote(model("tiny-bert-pretraining-f16"))).code, 2);
}

TEST(CliClassify, LabelsAndScores) {
  const CliRun r = run("classify -m " + quote(model("tiny-bert-classifier-bf16")) + " 'I loved it'");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  const auto ref = bertcpp::Model::from_pretrained(model("tiny-bert-classifier-bf16")).classify("I loved it");
  ASSERT_EQ(j.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i]["label"], ref[i].label);
    EXPECT_EQ(static_cast<float>(j[i]["score"].get<double>()), ref[i].score);
  }
  const CliRun two = run("classify -m " + quote(model("tiny-bert-classifier-bf16")) + " --pair 'b' --top-k 1 'a' 'c'");
  ASSERT_EQ(two.code, 0) << two.err;
  const json k = json::parse(two.out);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].size(), 1u);
  EXPECT_EQ(k[1][0]["label"],
            bertcpp::Model::from_pretrained(model("tiny-bert-classifier-bf16")).classify("c", std::string("b"))[0].label);
  EXPECT_EQ(run("classify -m " + quote(model("tiny-bert")) + " x").code, 6);
}

TEST(CliRerank, ScoresEveryDocumentBestFirst) {
  const CliRun r = run("rerank -m " + quote(model("tiny-bert-classifier-bf16")) + " -q 'what is a panda?' --return-text 'hi' 'The giant panda is a bear.' 'x y z'");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  const std::vector<std::string> docs{"hi", "The giant panda is a bear.", "x y z"};
  const auto ref = bertcpp::Model::from_pretrained(model("tiny-bert-classifier-bf16")).rerank("what is a panda?", docs);
  for (size_t i = 0; i < 3; ++i) {
    const size_t idx = j[i]["index"].get<size_t>();
    EXPECT_EQ(static_cast<float>(j[i]["score"].get<double>()), ref[idx]);
    EXPECT_EQ(j[i]["text"], docs[idx]);
    if (i) { EXPECT_GE(j[i - 1]["score"].get<double>(), j[i]["score"].get<double>()); }
  }
  EXPECT_EQ(run("rerank -m " + quote(model("tiny-bert-classifier-bf16")) + " doc").code, 2);  // no --query
  EXPECT_EQ(run("rerank -m " + quote(model("tiny-bert")) + " -q q doc").code, 6);
}

TEST(CliBench, PrintsOneJsonObject) {
  const CliRun r = run("bench -m " + quote(model("tiny-bert")) + " --batch 2 --seq 16 --iters 2 --warmup 1 --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* k : {"model", "batch", "seq", "dtype", "threads", "iters", "median_ms", "min_ms", "mean_ms", "tokens_per_s", "cpu_features"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["seq"], 16);
  EXPECT_EQ(j["iters"], 2);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["dtype"], "f32");
  EXPECT_TRUE(j["cpu_features"].is_array());
  EXPECT_LE(j["min_ms"].get<double>(), j["median_ms"].get<double>());

  const fs::path lengths = fs::temp_directory_path() / ("bertcpp_lengths_" + std::to_string(::getpid()));
  std::ofstream(lengths) << "5\n9\n\n3\n";
  const CliRun rag = run("bench -m " + quote(model("tiny-bert")) + " --lengths " + quote(lengths.string()) + " --iters 1 --warmup 0");
  ASSERT_EQ(rag.code, 0) << rag.err;
  const json g = json::parse(rag.out);
  EXPECT_EQ(g["batch"], 3);
  EXPECT_EQ(g["seq"], 9);
  EXPECT_EQ(g["real_tokens"], 17);
  std::ofstream(lengths) << "5\nseven\n";
  EXPECT_EQ(run("bench -m " + quote(model("tiny-bert")) + " --lengths " + quote(lengths.string())).code, 2);
  fs::remove(lengths);
  EXPECT_EQ(run("bench -m " + quote(model("tiny-bert")) + " --seq 100000").code, 2);
  EXPECT_EQ(run("bench -m " + quote(model("tiny-bert")) + " --dtype f64").code, 2);
}

TEST(CliHelp, EveryCommandHasHelp) {
  for (const char* c : {"embed", "fill-mask", "classify", "rerank", "bench"}) {
    const CliRun r = run(std::string(c) + " --help");
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << c;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << c;
  }
}

}  // namespace
