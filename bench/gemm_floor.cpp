// The GEMM floor of a BERT forward on this machine: oneDNN matmul alone, on the encoder's four
// GEMM shapes (QKV, attention output, intermediate, output) for `--tokens` rows, timed in
// isolation (warm, weights pre-packed, no elementwise work) and summed over the layers. A forward
// pass cannot be faster than this with oneDNN's GEMMs; bench/run.py reports bertcpp / floor.
//
//   gemm_floor [--tokens 128] [--hidden 768] [--intermediate 3072] [--layers 12] [--threads 2]
//              [--dtype f32|bf16|int8] [--iters 50] [--stream-mb N]
// Prints one JSON object: {"dtype":..,"floor_ms":..,"gflops":..,"shapes":[{"m","k","n","ms","gflops","impl"}..]}
// int8 = s8 activations × s8 weights → f32 with constant per-column scales (what --dtype int8 runs).
// --stream-mb N (N > 0) also times reading N MB once per pass with the same threads and adds
// "read_gbs" (GB/s, best of 5) and "weights_read_ms": the time to stream the encoder's weights of
// this dtype once — the floor of a small-batch forward, which must read every weight.
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

struct Result {
  long m, k, n;
  double ms;
  std::string impl;
};

Result time_gemm(long m, long k, long n, const std::string& dtype, int iters) {
  static const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const dt src = dtype == "bf16" ? dt::bf16 : dtype == "int8" ? dt::s8 : dt::f32;
  const dt wei = dtype == "bf16" ? dt::bf16 : dtype == "int8" ? dt::s8 : dt::f32;
  const memory::desc a({m, k}, src, tag::ab), w({k, n}, wei, tag::any), c({m, n}, dt::f32, tag::ab),
      b({1, n}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  if (dtype == "int8") attr.set_output_scales(2, std::vector<float>(static_cast<size_t>(n), 0.01f));
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, w, b, c), attr, eng);
  memory am(a, eng), wm(pd.weights_desc(), eng), cm(c, eng), bm(b, eng);
  std::memset(am.get_data_handle(), 0, a.get_size());
  std::memset(wm.get_data_handle(), 0, pd.weights_desc().get_size());
  std::memset(bm.get_data_handle(), 0, b.get_size());
  const dnnl::matmul mm(pd);
  const std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, cm}};
  for (int i = 0; i < 5; ++i) mm.execute(s, args);
  s.wait();
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    mm.execute(s, args);
    s.wait();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {m, k, n, t[t.size() / 2], pd.impl_info_str()};
}

long arg(int argc, char** argv, const char* name, long def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  return def;
}

// Best-of-5 read bandwidth over an mb-MB buffer (GB/s), with the OpenMP threads.
double read_gbs(long mb) {
  const size_t n = static_cast<size_t>(mb) << 18;  // floats, a multiple of 4096
  std::vector<float> a(n, 1.0f);
  double best = 0;
  for (int it = 0; it < 5; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    float s = 0;
    // 32 independent partial sums per thread, so the loop is bound by loads, not by add latency.
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (size_t i = 0; i < n; i += 4096) {
      float acc[32] = {};
      for (size_t j = i; j < i + 4096; j += 32)
        for (int k = 0; k < 32; ++k) acc[k] += a[j + static_cast<size_t>(k)];
      for (float v : acc) s += v;
    }
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < 0) std::puts("");  // keep the sum alive
    best = std::max(best, static_cast<double>(n) * 4 / dt / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dtype = "f32";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::puts("gemm_floor [--tokens 128] [--hidden 768] [--intermediate 3072] [--layers 12] [--threads 2]\n"
                "           [--dtype f32|bf16|int8] [--iters 50] [--stream-mb N]\n"
                "Median time of oneDNN matmul alone on a BERT encoder's GEMM shapes, summed over layers (JSON).\n"
                "--stream-mb N: also the read bandwidth over N MB and the time to stream the encoder weights once.");
      return 0;
    }
    if (std::strcmp(argv[i], "--dtype") == 0 && i + 1 < argc) dtype = argv[i + 1];
  }
  if (dtype != "f32" && dtype != "bf16" && dtype != "int8") {
    std::fprintf(stderr, "gemm_floor: --dtype must be f32, bf16 or int8, got '%s'\n", dtype.c_str());
    return 2;
  }
  const long m = arg(argc, argv, "--tokens", 128), h = arg(argc, argv, "--hidden", 768);
  const long inter = arg(argc, argv, "--intermediate", 3072), layers = arg(argc, argv, "--layers", 12);
  const int threads = static_cast<int>(arg(argc, argv, "--threads", 2));
  const int iters = static_cast<int>(arg(argc, argv, "--iters", 50));
  const long stream_mb = arg(argc, argv, "--stream-mb", 0);
  if (m <= 0 || h <= 0 || inter <= 0 || layers <= 0 || threads <= 0 || iters <= 0 || stream_mb < 0) {
    std::fprintf(stderr, "gemm_floor: every number must be positive\n");
    return 2;
  }
  omp_set_num_threads(threads);
  std::vector<Result> res;
  try {
    for (const auto& [k, n] : std::vector<std::pair<long, long>>{{h, 3 * h}, {h, h}, {h, inter}, {inter, h}})
      res.push_back(time_gemm(m, k, n, dtype, iters));
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "gemm_floor: oneDNN has no %s matmul here: %s\n", dtype.c_str(), e.what());
    return 6;
  }
  double layer_ms = 0, layer_flop = 0;
  for (const auto& r : res) {
    layer_ms += r.ms;
    layer_flop += 2.0 * static_cast<double>(r.m * r.k * r.n);
  }
  std::printf("{\"dtype\":\"%s\",\"tokens\":%ld,\"layers\":%ld,\"threads\":%d,\"floor_ms\":%.4f,\"gflops\":%.1f,\"shapes\":[",
              dtype.c_str(), m, layers, threads, layer_ms * static_cast<double>(layers), layer_flop / layer_ms / 1e6);
  for (size_t i = 0; i < res.size(); ++i)
    std::printf("%s{\"m\":%ld,\"k\":%ld,\"n\":%ld,\"ms\":%.4f,\"gflops\":%.1f,\"impl\":\"%s\"}", i ? "," : "", res[i].m,
                res[i].k, res[i].n, res[i].ms, 2.0 * static_cast<double>(res[i].m * res[i].k * res[i].n) / res[i].ms / 1e6,
                res[i].impl.c_str());
  std::printf("]");
  if (stream_mb > 0) {
    const double gbs = read_gbs(stream_mb);
    const double bytes_per_weight = dtype == "f32" ? 4.0 : dtype == "bf16" ? 2.0 : 1.0;
    const double weights = static_cast<double>(layers) * static_cast<double>(4 * h * h + 2 * h * inter) * bytes_per_weight;
    std::printf(",\"read_gbs\":%.2f,\"weights_read_ms\":%.3f", gbs, weights / gbs / 1e6);
  }
  std::puts("}");
  return 0;
}
