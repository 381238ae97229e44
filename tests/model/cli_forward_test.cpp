// `bertcpp forward` end to end: the file it writes matches transformers' goldens (every model,
// every case), and bad usage exits with the documented code and a clear message.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "golden_util.h"

using namespace bertcpp;
using bertcpp::testing::Golden;
using bertcpp::testing::max_abs_diff;

namespace {

struct CliRun {
  int code;
  std::string output;
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(BERTCPP_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("bertcpp-fwd-" + std::to_string(::getpid()) + "-" + name);
}

}  // namespace

TEST(CliForward, EveryModelAndCaseMatchesGoldens) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16", "tiny-modernbert",
                           "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-gte-new-classifier", "tiny-jina-bert"}) {
    const auto dir = bertcpp::testing::model_dir(name);
    const Golden g(dir);
    for (const char* c : {"single", "batch", "pair", "long"}) {
      SCOPED_TRACE(std::string(name) + " " + c);
      std::string outputs = "last_hidden_state,attention_mask";
      int requested = 1;  // every requested output but the mask is compared
      for (const char* o : {"pooler_output", "hidden_states", "attentions", "logits", "prediction_logits", "seq_relationship_logits"})
        if (g.has(c, o)) outputs += std::string(",") + o, ++requested;
      const auto out = temp_file(std::string(name) + "-" + c + ".safetensors");
      const CliRun r = run("forward --threads 1 --model " + dir.string() + " --input-ids " + (dir / "expected.safetensors").string() +
                        " --case " + c + " --outputs " + outputs + " --out " + out.string());
      ASSERT_EQ(r.code, 0) << r.output;
      const io::Checkpoint got = io::Checkpoint::open(out);
      const Tensor mask = g.get(c, "attention_mask");
      EXPECT_EQ(max_abs_diff(mask, got.get(std::string(c) + ".attention_mask")), 0.0);
      int compared = 0;
      for (const auto& info : got.tensors()) {
        const std::string key = info.name;
        if (key == std::string(c) + ".attention_mask") continue;
        ASSERT_TRUE(g.file.contains(key)) << key;
        // Per-position outputs are compared where the mask is 1 (padding holds arbitrary values).
        const Tensor e = g.file.get(key);
        const bool per_position = e.rank() >= 3 && e.dim(0) == mask.dim(0) && e.dim(1) == mask.dim(1) &&
                                  key.find("attentions") == std::string::npos && key.find("hidden_states") == std::string::npos;
        const double d = max_abs_diff(e, got.get(key), per_position ? mask : Tensor());
        EXPECT_LE(d, 1e-4) << key;
        ++compared;
      }
      EXPECT_EQ(compared, requested);
      std::filesystem::remove(out);
    }
  }
}

TEST(CliForward, TextInputMatchesTheTokenizedGolden) {
  // The golden's "single" text, tokenized by bertcpp's tokenizer, gives the golden outputs.
  const auto dir = bertcpp::testing::model_dir("tiny-bert");
  const Golden g(dir);
  const auto out = temp_file("text.safetensors");
  const CliRun r = run("forward --model " + dir.string() + " --outputs input_ids,last_hidden_state,pooler_output --out " +
                    out.string() + " \"Replace me by any text you'd like.\"");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("last_hidden_state F32 [1, 12, 32]"), std::string::npos) << r.output;
  const io::Checkpoint got = io::Checkpoint::open(out);
  EXPECT_EQ(max_abs_diff(g.get("single", "input_ids"), got.get("input_ids")), 0.0);
  EXPECT_LE(max_abs_diff(g.get("single", "last_hidden_state"), got.get("last_hidden_state")), 1e-4);
  EXPECT_LE(max_abs_diff(g.get("single", "pooler_output"), got.get("pooler_output")), 1e-4);
  std::filesystem::remove(out);
}

TEST(CliForward, BadUsageFailsClearly) {
  const auto dir = bertcpp::testing::model_dir("tiny-bert");
  const std::string golden = (dir / "expected.safetensors").string();
  const auto out = temp_file("bad.safetensors");
  CliRun r = run("forward --model " + dir.string() + " --input-ids " + golden + " --case single --outputs logits --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("logits"), std::string::npos) << r.output;
  r = run("forward --model " + dir.string() + " --input-ids " + golden + " --case single --outputs nope --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("nope"), std::string::npos) << r.output;
  r = run("forward --model " + dir.string() + " --input-ids " + golden + " --outputs last_hidden_state --out " + out.string());
  EXPECT_EQ(r.code, 4) << r.output;  // no bare input_ids in a golden file
  EXPECT_NE(r.output.find("--case"), std::string::npos) << r.output;
  r = run("forward --model " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  r = run("forward --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("--input-ids"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
}
