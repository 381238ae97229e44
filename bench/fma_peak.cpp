// This machine's fp32 FMA peak: every thread runs independent chains of vfmadd on registers
// (enough chains to hide the FMA latency on two pipes), nothing loaded or stored, so the result is
// the core's FMA throughput — the ceiling issue 17 measures bertcpp's fp32 forward against
// (bench/real.py peak stores it; the report divides a forward's FLOPs by its time and by this).
//
//   fma_peak [--threads N] [--ms 300]
// Prints one JSON object: {"isa":"avx512"|"avx2","threads":N,"gflops":..,"gflops_1thread":..,
//   "per_thread":[..]} — the best of 5 timed runs of about --ms each.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kChains = 16;  // ≥ latency (4) × pipes (2) on every x86 core seen, with room

// Returns a value that depends on every FMA, so the compiler cannot drop them; flops = 2·lanes·chains·iters.
__attribute__((target("avx512f"))) float run_avx512(long iters) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float v[16];
  _mm512_store_ps(v, s);
  float r = 0;
  for (float x : v) r += x;
  return r;
}

__attribute__((target("avx2,fma"))) float run_avx2(long iters) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float v[8];
  _mm256_store_ps(v, s);
  float r = 0;
  for (float x : v) r += x;
  return r;
}

struct Isa {
  const char* name;
  int lanes;
  float (*run)(long);
};

// GFLOP/s of each of `threads` threads running together for about `ms` (best of 5).
std::vector<double> measure(const Isa& isa, int threads, double ms) {
  const double flops_per_iter = 2.0 * isa.lanes * kChains;
  long iters = 1 << 16;
  for (;;) {  // calibrate on one thread: `iters` taking about ms
    const auto t0 = std::chrono::steady_clock::now();
    volatile float sink = isa.run(iters);
    (void)sink;
    const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (took > ms / 4) {
      iters = static_cast<long>(static_cast<double>(iters) * ms / took);
      break;
    }
    iters *= 2;
  }
  std::vector<double> best(static_cast<size_t>(threads), 0.0);
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<double> g(static_cast<size_t>(threads));
#pragma omp parallel num_threads(threads)
    {
      const auto t0 = std::chrono::steady_clock::now();
      volatile float sink = isa.run(iters);
      (void)sink;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      g[static_cast<size_t>(omp_get_thread_num())] = flops_per_iter * static_cast<double>(iters) / s / 1e9;
    }
    double sum = 0, best_sum = 0;
    for (double x : g) sum += x;
    for (double x : best) best_sum += x;
    if (sum > best_sum) best = g;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double ms = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--threads" || a == "-t") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--ms" && i + 1 < argc) {
      ms = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fma_peak [--threads N (1..256)] [--ms MS (10..10000)]\nunknown or incomplete argument: %s\n",
                   a.c_str());
      return 2;
    }
  }
  if (threads < 1 || threads > 256 || !(ms >= 10 && ms <= 10000)) {
    std::fprintf(stderr, "fma_peak: --threads must be 1..256 and --ms 10..10000 (got %d, %g)\n", threads, ms);
    return 2;
  }
  __builtin_cpu_init();
  Isa isa{"avx512", 16, run_avx512};
  if (!__builtin_cpu_supports("avx512f")) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
      std::fprintf(stderr, "fma_peak: this CPU has neither AVX-512F nor AVX2+FMA\n");
      return 1;
    }
    isa = {"avx2", 8, run_avx2};
  }
  const std::vector<double> one = measure(isa, 1, ms);
  const std::vector<double> all = measure(isa, threads, ms);
  double total = 0;
  for (double x : all) total += x;
  std::printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.1f,\"gflops_1thread\":%.1f,\"per_thread\":[", isa.name, threads,
              total, one[0]);
  for (size_t i = 0; i < all.size(); ++i) std::printf("%s%.1f", i ? "," : "", all[i]);
  std::printf("]}\n");
  return 0;
}
