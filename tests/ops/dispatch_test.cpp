// Runtime CPU dispatch: one binary picks its code for the CPU it runs on. BERTCPP_MULTIVERSION
// (GCC target_clones + ifunc) must select the x86-64-v3 clone on an AVX2-only CPU and the baseline
// clone on a pre-AVX CPU, and the ops (our kernels and oneDNN's JIT GEMMs) must give the same
// results there as natively. The other CPUs are emulated with qemu-user (`qemu-x86_64 -cpu
// Haswell|Nehalem`, Debian package qemu-user): this test re-runs its own binary under qemu in
// "child" mode (env BERTCPP_DISPATCH_OUT=file), which writes what it computed, and compares.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bertcpp/error.h"
#include "ops/activation.h"
#include "ops/cpu/multiversion.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/softmax.h"
#include "ops/threads.h"
#include "support/qemu.h"
#include "support/random.h"

using namespace bertcpp;

namespace {

using bertcpp::testing::random_vec;
using bertcpp::testing::find_qemu;
using bertcpp::testing::asan_build;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BERTCPP_HAVE_CLONES 1
// A multiversioned function that returns an address inside the clone that ran; comparing it with
// the clones' own symbols (GCC names them <name>.<target>) says which clone the loader picked.
extern "C" BERTCPP_MULTIVERSION __attribute__((noinline)) uintptr_t bertcpp_dispatch_probe() {
  uintptr_t pc;
  __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
  return pc;
}
extern "C" const char bertcpp_probe_v4[] __asm__("bertcpp_dispatch_probe.arch_x86_64_v4");
extern "C" const char bertcpp_probe_v3[] __asm__("bertcpp_dispatch_probe.arch_x86_64_v3");
extern "C" const char bertcpp_probe_default[] __asm__("bertcpp_dispatch_probe.default");

std::string selected_clone() {
  const uintptr_t pc = bertcpp_dispatch_probe();
  const std::pair<const char*, uintptr_t> clones[] = {{"x86-64-v4", reinterpret_cast<uintptr_t>(bertcpp_probe_v4)},
                                                      {"x86-64-v3", reinterpret_cast<uintptr_t>(bertcpp_probe_v3)},
                                                      {"default", reinterpret_cast<uintptr_t>(bertcpp_probe_default)}};
  std::string best = "unknown";
  uintptr_t best_at = 0;
  for (const auto& [name, at] : clones)
    if (at <= pc && at >= best_at) best = name, best_at = at;
  return best;
}

// What the loader should pick on this CPU (GCC's own feature test, independent of the ifunc).
std::string expected_clone() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4";
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3";
  return "default";
}
#endif

// Everything the child computes: name -> values. Deterministic inputs, one thread.
struct Results {
  std::string clone = "none";
  std::string bf16;  // "ok" or "unsupported: <message>" or "error: <message>"
  std::map<std::string, std::vector<float>> values;
};

Results compute() {
  ops::set_num_threads(1);
  Results r;
#ifdef BERTCPP_HAVE_CLONES
  r.clone = selected_clone();
#endif
  const int64_t rows = 7, cols = 131;  // odd sizes: vector bodies and scalar tails both run
  const auto x = random_vec(rows * cols, 1, -3.0f, 3.0f), res = random_vec(rows * cols, 2, -3.0f, 3.0f);
  const auto gamma = random_vec(cols, 3, 0.5f, 1.5f), beta = random_vec(cols, 4, -3.0f, 3.0f);
  std::vector<float> y(x.size());
  ops::layer_norm(x.data(), res.data(), rows, cols, gamma.data(), beta.data(), 1e-12, y.data());
  r.values["layer_norm"] = y;
  std::vector<float> s = x;
  ops::softmax(s.data(), rows, cols);
  r.values["softmax"] = s;
  for (const auto& [name, act] : {std::pair{"gelu_erf", ops::Activation::GeluErf}, std::pair{"gelu_tanh", ops::Activation::GeluTanh},
                                  std::pair{"silu", ops::Activation::Silu}, std::pair{"tanh", ops::Activation::Tanh}}) {
    std::vector<float> a = x;
    ops::activate(a.data(), static_cast<int64_t>(a.size()), act);
    r.values[name] = a;
  }
  const int64_t in = 96, out = 80;
  Tensor w = Tensor::empty(DType::F32, {out, in}), b = Tensor::empty(DType::F32, {out});
  const auto wv = random_vec(out * in, 5, -0.2f, 0.2f), bv = random_vec(out, 6, -3.0f, 3.0f);
  std::copy(wv.begin(), wv.end(), w.data<float>());
  std::copy(bv.begin(), bv.end(), b.data<float>());
  const auto lx = random_vec(rows * in, 7, -3.0f, 3.0f);
  std::vector<float> ly(rows * out);
  ops::Linear(w, b, ops::Activation::GeluErf).forward(lx.data(), rows, ly.data());
  r.values["linear_f32"] = ly;
  try {
    const ops::Linear bf(w, b, ops::Activation::Identity, ops::GemmType::BF16);
    bf.forward(lx.data(), rows, ly.data());
    r.bf16 = "ok";
    r.values["linear_bf16"] = ly;
  } catch (const Error& e) {
    r.bf16 = std::string(e.kind() == ErrorKind::Unsupported ? "unsupported: " : "error: ") + e.what();
  }
  return r;
}

// Text format, exact floats (%a): "clone NAME" / "bf16 TEXT" / "NAME N v0 v1 ...".
void write_results(const Results& r, const std::string& path) {
  std::ofstream f(path);
  f << "clone " << r.clone << "\nbf16 " << r.bf16 << "\n";
  char buf[64];
  for (const auto& [name, v] : r.values) {
    f << name << " " << v.size();
    for (float x : v) {
      std::snprintf(buf, sizeof buf, " %a", static_cast<double>(x));
      f << buf;
    }
    f << "\n";
  }
}

Results read_results(const std::string& path) {
  Results r;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "clone") {
      in >> r.clone;
    } else if (key == "bf16") {
      std::getline(in >> std::ws, r.bf16);
    } else {
      size_t n = 0;
      in >> n;
      std::vector<float> v(n);
      for (auto& x : v) {
        std::string t;
        in >> t;
        x = std::strtof(t.c_str(), nullptr);
      }
      r.values[key] = v;
    }
  }
  return r;
}

// Runs this test binary's child test under `qemu-x86_64 -cpu <cpu>`; returns what it computed.
Results run_under_qemu(const std::string& qemu, const std::string& cpu) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("bertcpp-dispatch-" + std::to_string(::getpid()) + "-" + cpu + ".txt")).string();
  const std::string log = out + ".log";
  const std::string cmd = "BERTCPP_DISPATCH_OUT='" + out + "' OMP_NUM_THREADS=1 '" + qemu + "' -cpu " + cpu + " '" + self +
                          "' --gtest_filter=DispatchChild.WriteResults >'" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream lf(log);
  std::stringstream ls;
  ls << lf.rdbuf();
  std::filesystem::remove(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << ls.str();
  Results r = read_results(out);
  std::filesystem::remove(out);
  return r;
}

void expect_close(const Results& native, const Results& emulated, const std::string& cpu) {
  for (const auto& [name, v] : native.values) {
    if (name == "linear_bf16") continue;  // bf16 availability differs by CPU; checked separately
    SCOPED_TRACE(cpu + " " + name);
    auto it = emulated.values.find(name);
    ASSERT_NE(it, emulated.values.end()) << "missing in the qemu run";
    ASSERT_EQ(it->second.size(), v.size());
    double worst = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      const double d = std::abs(double(v[i]) - double(it->second[i]));
      const double tol = 1e-5 * std::max(1.0, std::abs(double(v[i])));  // summation order differs by ISA
      if (!(d <= tol)) ADD_FAILURE() << "element " << i << ": native " << v[i] << " vs " << it->second[i];
      worst = std::max(worst, d);
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", worst);
    ::testing::Test::RecordProperty(cpu + "_" + name + "_max_abs_diff", text);
  }
}

}  // namespace

// Child mode only (run by the tests below under qemu).
TEST(DispatchChild, WriteResults) {
  const char* out = std::getenv("BERTCPP_DISPATCH_OUT");
  if (!out) GTEST_SKIP() << "child of Dispatch.* (runs under qemu with BERTCPP_DISPATCH_OUT set)";
  write_results(compute(), out);
}

TEST(Dispatch, NativeCpuGetsItsClone) {
#ifndef BERTCPP_HAVE_CLONES
  GTEST_SKIP() << "BERTCPP_MULTIVERSION is a no-op on this compiler/architecture";
#else
  EXPECT_EQ(selected_clone(), expected_clone());
#endif
}

class DispatchUnderQemu : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(DispatchUnderQemu, SameResultsAsNative) {
#ifndef BERTCPP_HAVE_CLONES
  GTEST_SKIP() << "BERTCPP_MULTIVERSION is a no-op on this compiler/architecture";
#else
  if (asan_build())
    GTEST_SKIP() << "ASan build: qemu-user cannot run ASan binaries (it commits ASan's shadow reservation; "
                    "measured: 23 GB RSS, then OOM-killed)";
  const std::string qemu = find_qemu();
  if (qemu.empty()) GTEST_SKIP() << "qemu-x86_64 not installed (Debian package qemu-user; scripts/setup.sh installs it)";
  const auto [cpu, clone] = GetParam();
  const Results native = compute();
  const Results emulated = run_under_qemu(qemu, cpu);
  EXPECT_EQ(emulated.clone, clone) << "BERTCPP_MULTIVERSION picked the wrong clone on -cpu " << cpu;
  expect_close(native, emulated, cpu);
  // No CPU qemu 7.2 emulates has AVX-512, so bf16 GEMMs must be refused cleanly (Unsupported).
  EXPECT_EQ(emulated.bf16.rfind("unsupported: ", 0), 0u) << "bf16 Linear on -cpu " << cpu << ": " << emulated.bf16;
#endif
}

INSTANTIATE_TEST_SUITE_P(Cpus, DispatchUnderQemu,
                         ::testing::Values(std::pair{"Haswell", "x86-64-v3"}, std::pair{"Nehalem", "default"}),
                         [](const auto& info) { return std::string(info.param.first); });
