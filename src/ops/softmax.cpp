// Row softmax on cpu::softmax_row (vectorized exp), each row in one thread: a row's result does not
// depend on the thread count. (Attention has its own fused kernel: ops/attention.cpp.)
#include "ops/softmax.h"

#include <algorithm>
#include <cmath>

#include "ops/cpu/multiversion.h"
#include "ops/cpu/vec_math.h"

namespace bertcpp::ops {

namespace {
// Cloned per ISA; the OpenMP loop stays outside the clones (GCC outlines parallel regions into
// functions that would not inherit the clone's target).
BERTCPP_MULTIVERSION
void row(float* x, int64_t cols) { cpu::softmax_row(x, cols, 1.0f, nullptr); }
}  // namespace

void softmax(float* x, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r) row(x + r * cols, cols);
}

std::vector<double> probabilities(const float* logits, size_t n) {
  std::vector<double> p(n);
  if (n == 0) return p;
  const double mx = *std::max_element(logits, logits + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(logits[i]) - mx);
  for (double& x : p) x /= sum;
  return p;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace bertcpp::ops
