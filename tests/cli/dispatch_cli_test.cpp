// One binary for every x86-64 CPU: the built `bertcpp` runs on an emulated AVX2-only CPU
// (qemu-x86_64 -cpu Haswell) and a pre-AVX one (-cpu Nehalem) and gives transformers' results
// there; oneDNN JITs for the emulated ISA (never AVX-512); bf16 is refused with exit code 6
// (Unsupported) where the CPU has no bf16 GEMM; `bench` reports the emulated CPU's features.
// Also: the load-time / memory fields of `bertcpp bench`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model/golden_util.h"
#include "support/qemu.h"

namespace {

using bertcpp::testing::find_qemu;
using bertcpp::testing::asan_build;
namespace fs = std::filesystem;
using bertcpp::testing::Golden;
using bertcpp::testing::max_abs_diff;
using nlohmann::json;

struct CliResult {
  int code;
  std::string out, err;
};

std::string slurp(const fs::path& f) {
  std::ifstream s(f, std::ios::binary);
  std::stringstream ss;
  ss << s.rdbuf();
  return ss.str();
}

// Runs `<prefix> bertcpp <args>`; prefix is e.g. "qemu-x86_64 -cpu Haswell" or empty.
CliResult run(const std::string& prefix, const std::string& args, const std::string& env = "") {
  static int counter = 0;
  const fs::path base = fs::temp_directory_path() / ("bertcpp_disp_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const std::string cmd = "env -u BERTCPP_MODEL OMP_NUM_THREADS=1 " + env + " " + prefix + " '" + BERTCPP_CLI + "' " + args +
                          " </dev/null >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  CliResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  fs::remove(out);
  fs::remove(err);
  return r;
}

#define QEMU_OR_SKIP(cpu)                                                                                        \
  if (asan_build())                                                                                              \
    GTEST_SKIP() << "ASan build: qemu-user cannot run ASan binaries (it commits ASan's shadow reservation; "     \
                    "measured: 23 GB RSS, then OOM-killed)";                                                     \
  const std::string qemu = find_qemu();                                                                          \
  if (qemu.empty()) GTEST_SKIP() << "qemu-x86_64 not installed (Debian package qemu-user; scripts/setup.sh installs it)"; \
  const std::string prefix = "'" + qemu + "' -cpu " + std::string(cpu)

// `bertcpp forward` of the golden "batch" case (8 padded texts), compared with the goldens at the
// same tolerance as natively (tests/model/cli_forward_test.cpp). Returns oneDNN's verbose log.
std::string expect_goldens(const std::string& prefix, const std::string& tag, const std::string& env, bool pooler) {
  const fs::path dir = bertcpp::testing::model_dir("tiny-bert");
  const Golden g(dir);
  const fs::path out = fs::temp_directory_path() / ("bertcpp_disp_" + std::to_string(::getpid()) + "_" + tag + ".safetensors");
  const CliResult r = run(prefix, "forward --threads 1 --model '" + dir.string() + "' --input-ids '" + (dir / "expected.safetensors").string() +
                                      "' --case batch --outputs last_hidden_state,pooler_output --out '" + out.string() + "'",
                          "ONEDNN_VERBOSE=1 " + env);
  EXPECT_EQ(r.code, 0) << r.err;
  if (r.code != 0) return r.out;
  const bertcpp::io::Checkpoint got = bertcpp::io::Checkpoint::open(out);
  const bertcpp::Tensor mask = g.get("batch", "attention_mask");
  EXPECT_LE(max_abs_diff(g.get("batch", "last_hidden_state"), got.get("batch.last_hidden_state"), mask), 1e-4);
  if (pooler) {
    EXPECT_LE(max_abs_diff(g.get("batch", "pooler_output"), got.get("batch.pooler_output")), 1e-4);
  }
  fs::remove(out);
  return r.out;
}

json bench_json(const std::string& prefix, const std::string& extra = "") {
  const CliResult r = run(prefix, "bench --model '" + bertcpp::testing::model_dir("tiny-bert").string() +
                                "' --threads 1 --batch 2 --seq 16 --iters 2 --warmup 0 " + extra);
  EXPECT_EQ(r.code, 0) << r.err;
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "bench output is not JSON: " << e.what() << "\n" << r.out;
    return json::object();
  }
}

}  // namespace

TEST(QemuDispatch, Avx2OnlyCpuMatchesGoldensWithOwnF32Gemm) {
  QEMU_OR_SKIP("Haswell");
  // Without AVX-512 the f32 GEMMs are bertcpp's own (ops/cpu/f32_avx2.h; oneDNN's gemm:jit there made
  // a row's bits depend on its batch), so no oneDNN matmul runs, and the pooler's tanh is ours too
  // (QEMU 7.2's TCG mis-executed oneDNN's AVX2 tanh post-op: every pooler row was off by ~0.46).
  const std::string verbose = expect_goldens(prefix, "Haswell", "", true);
  EXPECT_EQ(verbose.find(",exec,cpu,matmul,"), std::string::npos) << verbose.substr(0, 2000);
  EXPECT_EQ(verbose.find("avx512"), std::string::npos) << verbose.substr(0, 2000);
}

TEST(QemuDispatch, PreAvxCpuMatchesGoldens) {
  QEMU_OR_SKIP("Nehalem");
  const std::string verbose = expect_goldens(prefix, "Nehalem", "", true);
  EXPECT_NE(verbose.find("isa:Intel SSE4.1"), std::string::npos) << verbose.substr(0, 2000);
}

// oneDNN's AVX2 kernels on this (real, AVX-512) CPU: every output, pooler included, matches the goldens.
TEST(OneDnnAvx2OnThisCpu, MatchesGoldens) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "no AVX-512 here: f32 GEMMs run bertcpp's own AVX2 kernel, not oneDNN's (QemuDispatch covers it)";
  const std::string verbose = expect_goldens("", "avx2", "ONEDNN_MAX_CPU_ISA=AVX2", true);
  if (verbose.find("isa:Intel AVX2") == std::string::npos && verbose.find("isa:Intel SSE") != std::string::npos)
    GTEST_SKIP() << "this CPU has no AVX2";
  EXPECT_NE(verbose.find("isa:Intel AVX2"), std::string::npos) << verbose.substr(0, 2000);
  EXPECT_EQ(verbose.find("avx512"), std::string::npos) << verbose.substr(0, 2000);
}

TEST(QemuDispatch, Bf16WithoutAvx512IsUnsupported) {
  QEMU_OR_SKIP("Haswell");
  const CliResult r = run(prefix, "embed --threads 1 --dtype bf16 --model '" + bertcpp::testing::model_dir("tiny-bert").string() + "' 'hello world'");
  EXPECT_EQ(r.code, 6) << r.out << r.err;  // ErrorKind::Unsupported
  EXPECT_NE(r.err.find("bf16"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("f32"), std::string::npos) << "the message should name the way out (use f32): " << r.err;
  EXPECT_EQ(r.err.find("Segmentation"), std::string::npos) << r.err;
}

TEST(QemuDispatch, BenchReportsTheEmulatedCpusFeatures) {
  QEMU_OR_SKIP("Haswell");
  const json j = bench_json(prefix);
  ASSERT_TRUE(j.contains("cpu_features")) << j.dump();
  const auto f = j["cpu_features"].get<std::vector<std::string>>();
  auto has = [&](const char* x) { return std::find(f.begin(), f.end(), x) != f.end(); };
  EXPECT_TRUE(has("avx2")) << j.dump();
  EXPECT_TRUE(has("fma")) << j.dump();
  EXPECT_FALSE(has("avx512f")) << j.dump();
  EXPECT_FALSE(has("avx512_bf16")) << j.dump();
  const json nehalem = bench_json("'" + qemu + "' -cpu Nehalem");
  EXPECT_EQ(nehalem.value("cpu_features", json::array({"missing"})), json::array()) << nehalem.dump();
}

TEST(BenchMemory, ReportsLoadTimeWeightBytesAndRss) {
  const json j = bench_json("");
  ASSERT_TRUE(j.contains("load_ms") && j.contains("weight_bytes") && j.contains("rss_after_load_mb") && j.contains("peak_rss_mb"))
      << j.dump();
  EXPECT_GT(j["load_ms"].get<double>(), 0.0);
  EXPECT_GE(j.value("load_cpu_ms", -1.0), 0.0) << j.dump();
  // weight_bytes = the data section of model.safetensors: file size - 8 - header length.
  const fs::path st = bertcpp::testing::model_dir("tiny-bert") / "model.safetensors";
  std::ifstream f(st, std::ios::binary);
  unsigned char len[8] = {};
  f.read(reinterpret_cast<char*>(len), 8);
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = header << 8 | len[i];
  EXPECT_EQ(j["weight_bytes"].get<uint64_t>(), fs::file_size(st) - 8 - header);
  EXPECT_GT(j["rss_after_load_mb"].get<double>(), 0.0);
  EXPECT_GE(j["peak_rss_mb"].get<double>(), j["rss_after_load_mb"].get<double>());
}
