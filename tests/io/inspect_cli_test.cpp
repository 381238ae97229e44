// `bertcpp inspect` end to end: golden models print, hostile files fail with one stderr line and
// the ErrorKind exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "builders.h"

namespace fs = std::filesystem;
using namespace iotest;

namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run_cli(const std::string& args, const fs::path& tmp) {
  const fs::path out = tmp / "stdout", err = tmp / "stderr";
  const std::string cmd = std::string(BERTCPP_CLI) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int st = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

class InspectCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(BERTCPP_CLI)) << BERTCPP_CLI;
    std::string tmpl = (fs::temp_directory_path() / "bertcpp-inspect-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

const std::string kModels = std::string(BERTCPP_TEST_DATA) + "/models/";

}  // namespace

TEST_F(InspectCli, GoldenModelJson) {
  CliRun r = run_cli("inspect --json " + kModels + "tiny-bert-classifier-bf16", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "safetensors");
  EXPECT_EQ(j["config"]["hidden_size"], 32);
  EXPECT_EQ(j["config"]["hidden_act"], "relu");
  EXPECT_EQ(j["config"]["id2label"]["2"], "positive");
  EXPECT_EQ(j["head"], "sequence-classification");
  // 5 embeddings + 2 layers x 16 + pooler 2 + classifier 2 tensors in the file.
  ASSERT_EQ(j["tensors"].size(), 41u);
  EXPECT_EQ(j["tensors"][0]["name"], "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(j["tensors"][0]["dtype"], "BF16");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({30522, 32}));
  EXPECT_EQ(j["tensors"][0]["bytes"], 30522 * 32 * 2);
  EXPECT_EQ(j["tensors"][0]["file"], "model.safetensors");
  uint64_t bytes = 0;
  for (const auto& t : j["tensors"]) bytes += t["bytes"].get<uint64_t>();
  EXPECT_EQ(j["totals"]["bytes"], bytes);
  EXPECT_EQ(j["totals"]["tensors"], 41);
}

// The rotary families (their own weight names and config fields) inspect with their family named
// and their weights checked against config.json.
TEST_F(InspectCli, RotaryFamiliesAreNamedAndChecked) {
  for (const auto& [name, family, model_type] :
       {std::tuple{"tiny-modernbert", "modernbert", "modernbert"}, std::tuple{"tiny-nomic-bert", "nomic_bert", "nomic_bert"},
        std::tuple{"tiny-gte", "gte", "gte"}, std::tuple{"tiny-gte-new", "gte_new", "new"},
        std::tuple{"tiny-jina-bert", "jina_bert", "jina_bert"}}) {
    SCOPED_TRACE(name);
    CliRun r = run_cli("inspect --json " + kModels + name, dir_);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["config"]["family"], family);
    EXPECT_EQ(j["config"]["model_type"], model_type);
    EXPECT_EQ(j["config"]["hidden_size"], 32);
    EXPECT_EQ(j["weights_check"].get<std::string>().rfind("ok (", 0), 0u) << j["weights_check"];
    CliRun t = run_cli("inspect " + kModels + name, dir_);
    ASSERT_EQ(t.code, 0) << t.err;
    const size_t at = t.out.find("\n  family ");
    ASSERT_NE(at, std::string::npos) << t.out;
    const std::string line = t.out.substr(at + 1, t.out.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find(std::string("\"").append(family).append("\"")), std::string::npos) << line;
  }
}

TEST_F(InspectCli, GoldenModelTableAndBin) {
  CliRun r = run_cli("inspect " + kModels + "tiny-bert", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("format:  safetensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layer_norm_eps"), std::string::npos);
  EXPECT_NE(r.out.find("embeddings.word_embeddings.weight"), std::string::npos);
  EXPECT_NE(r.out.find("3,906,816"), std::string::npos);  // 30522 x 32 x 4 bytes
  CliRun b = run_cli("inspect " + kModels + "tiny-bert/pytorch_model.bin", dir_);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("format:  pytorch"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("embeddings.position_ids"), std::string::npos);
}

TEST_F(InspectCli, HostileFilesExitWithOneLine) {
  const fs::path witness = dir_ / "pwned";
  struct Case { std::string name, file, bytes, needle; int code; };
  const std::vector<Case> cases = {
      {"st-past-eof", "model.safetensors", safetensors("{}", "", 4096), "past the end", 3},
      {"st-dup", "model.safetensors",
       safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                   std::string(4, '\0')),
       "duplicate", 3},
      {"pkl-os-system", "pytorch_model.bin",
       torch_zip(Pickle().proto().global("os", "system").str("touch " + witness.string()).tuple1().reduce().stop().b, {}),
       "refused global 'os.system'", 3},
      {"zip-dotdot", "pytorch_model.bin", make_zip({{"../../x/data.pkl", "x"}}), "unsafe name", 3},
      // Finding 6: a header nested 70,000 levels segfaulted (exit 139) in a recursive copy/dump.
      {"st-deep", "model.safetensors",
       safetensors(R"({"a":{"dtype":"F32","shape":)" + std::string(70000, '[') + std::string(70000, ']') +
                       R"(,"data_offsets":[0,4]}})",
                   std::string(4, '\0')),
       "deeper than 128", 3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::create_directories(dir_ / c.name);
    write_file(dir_ / c.name / c.file, c.bytes);
    CliRun r = run_cli("inspect " + (dir_ / c.name).string(), dir_);
    EXPECT_EQ(r.code, c.code) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_EQ(r.err.rfind("bertcpp: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(fs::exists(witness));
  CliRun nf = run_cli("inspect " + dir_.string() + "/nothing-here", dir_);
  EXPECT_EQ(nf.code, 4) << nf.err;
  fs::create_directories(dir_ / "unsupported");
  write_file(dir_ / "unsupported" / "config.json", R"({"position_embedding_type": "relative_key"})");
  write_file(dir_ / "unsupported" / "model.safetensors", safetensors("{}", ""));
  CliRun us = run_cli("inspect " + (dir_ / "unsupported").string(), dir_);
  EXPECT_EQ(us.code, 6) << us.err;
  EXPECT_NE(us.err.find("position_embedding_type"), std::string::npos) << us.err;
}

// Tensor names are the file's: terminal escapes in them are printed as \xNN, in the table and in
// errors (a raw ESC could move the cursor or recolour the terminal).
TEST_F(InspectCli, TerminalEscapesInNamesArePrintedEscaped) {
  fs::create_directories(dir_ / "esc");
  write_file(dir_ / "esc" / "model.safetensors",
             safetensors("{\"" + std::string("w\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m") +
                             "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                         std::string(4, '\0')));
  CliRun r = run_cli("inspect " + (dir_ / "esc").string(), dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find('\x07'), std::string::npos);
  EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(r.out.find("w\\x1b[2J\\x1b]0;pwned\\x07\\xc2\\x9b31m"), std::string::npos) << r.out;
  // An error naming the tensors (two names that map to one weight) is escaped the same way.
  write_file(dir_ / "esc" / "model.safetensors",
             safetensors(R"({"bert.x\u001b[2J":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("x\u001b[2J":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                         std::string(4, '\0')));
  write_file(dir_ / "esc" / "config.json", R"({"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1})");
  r = run_cli("inspect " + (dir_ / "esc").string(), dir_);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("x\\x1b[2J"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
}
