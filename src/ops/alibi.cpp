#include "ops/alibi.h"

#include <cmath>
#include <string>

#include "bertcpp/error.h"

namespace bertcpp::ops {

namespace {

// start · ratio^i with start = ratio = 2^(-8/n), n a power of two: the reference's recurrence,
// in its order of operations.
std::vector<double> power_of_two_slopes(int64_t n) {
  const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(double(n)) - 3.0)));
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = start * std::pow(start, double(i));
  return out;
}

}  // namespace

std::vector<float> alibi_slopes(int64_t heads) {
  if (heads <= 0) throw invalid_argument("alibi_slopes: heads must be positive, got " + std::to_string(heads));
  int64_t p = 1;
  while (p * 2 <= heads) p *= 2;
  std::vector<double> slopes = power_of_two_slopes(p);
  if (p != heads) {
    const std::vector<double> finer = power_of_two_slopes(2 * p);
    for (int64_t k = 0; k < heads - p; ++k) slopes.push_back(finer[static_cast<size_t>(2 * k)]);
  }
  return {slopes.begin(), slopes.end()};
}

}  // namespace bertcpp::ops
