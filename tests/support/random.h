// Deterministic random test inputs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace bertcpp::testing {

// n floats uniform in [lo, hi), from a fixed seed.
inline std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace bertcpp::testing
