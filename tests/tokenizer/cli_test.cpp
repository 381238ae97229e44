// `bertcpp tokenize` end to end: JSON Lines on stdin -> JSON lines on stdout (BERTCPP_CLI).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& args, const std::string& stdin_text) {
  fs::path in = fs::temp_directory_path() / ("bertcpp_cli_in_" + std::to_string(::getpid()));
  fs::path err = fs::temp_directory_path() / ("bertcpp_cli_err_" + std::to_string(::getpid()));
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::string cmd = std::string(BERTCPP_CLI) + " tokenize " + args + " < " + in.string() + " 2> " + err.string();
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  std::ifstream e(err);
  std::stringstream ss;
  ss << e.rdbuf();
  fs::remove(in);
  fs::remove(err);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out + ss.str()};
}

std::vector<json> lines(const std::string& s) {
  std::vector<json> v;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty() && l[0] == '{') v.push_back(json::parse(l));
  return v;
}

// The folder has tokenizer.json too; these goldens are the slow BertTokenizer's.
const std::string kModel = std::string("--backend slow --model ") + BERTCPP_TEST_DATA + "/vocabs/bert-base-uncased";

TEST(Cli, JsonLinesMatchGolden) {
  std::ifstream f(std::string(BERTCPP_TEST_DATA) + "/tokenizer/uncased.json");
  json g = json::parse(f);
  std::string input;
  std::vector<json> want;
  for (size_t i = 0; i < 40; ++i) {
    const auto& c = g["cases"][i];
    input += json{{"text", c["text"]}}.dump() + "\n";
    want.push_back(c["input_ids"]);
  }
  const auto& p = g["pairs"][0];
  input += json{{"text", p["text_a"]}, {"text_pair", p["text_b"]}, {"max_length", p["max_length"]}, {"truncation", true},
                {"padding", "max_length"}}
               .dump() +
           "\n";
  input += "plain text line, not JSON\n";
  Result r = run(kModel, input);
  ASSERT_EQ(r.code, 0) << r.out;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 42u);
  for (size_t i = 0; i < 40; ++i) {
    EXPECT_EQ(out[i]["input_ids"], want[i]) << i;
    EXPECT_EQ(out[i]["tokens"].size(), out[i]["offsets"].size());
  }
  EXPECT_EQ(out[40]["input_ids"], p["input_ids"]);
  EXPECT_EQ(out[40]["token_type_ids"], p["token_type_ids"]);
  EXPECT_EQ(out[40]["attention_mask"], p["attention_mask"]);
  EXPECT_EQ(out[41]["tokens"][1], "plain");
}

TEST(Cli, BadLineNamesLineNumber) {
  Result r = run(kModel, "ok\n{\"text\": 5}\nnever reached\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("line 2"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out).size(), 1u);
  Result bad_json = run(kModel, "{\"text\": \"x\"\n");
  EXPECT_EQ(bad_json.code, 2);
  EXPECT_NE(bad_json.out.find("line 1"), std::string::npos);
  Result bad_opt = run(kModel + " --truncation sideways", "x\n");
  EXPECT_EQ(bad_opt.code, 2);
}

TEST(Cli, ArgumentsAndOverrides) {
  Result r = run(kModel + " --no-lower-case --max-length 3 --truncation true Hello", "");
  ASSERT_EQ(r.code, 0) << r.out;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["tokens"], (json{"[CLS]", "[UNK]", "[SEP]"}));
  Result missing = run("--model /no/such/dir x", "");
  EXPECT_EQ(missing.code, 4);
}

}  // namespace
