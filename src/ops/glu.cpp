// GLU rows: the activation of the first half (ops::activate, the formulas the Linears fuse), then
// the product with the gate; one row per iteration so a row's result never depends on the threads.
#include "ops/glu.h"

#include <vector>

namespace bertcpp::ops {

void glu(const float* in, int64_t rows, int64_t n, Activation act, float* out) {
  if (rows <= 0 || n <= 0) return;
#pragma omp parallel if (rows * n >= 16384)
  {
    std::vector<float> a(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = in + r * 2 * n;
      for (int64_t j = 0; j < n; ++j) a[static_cast<size_t>(j)] = x[j];
      activate(a.data(), n, act);
      float* y = out + r * n;
      for (int64_t j = 0; j < n; ++j) y[j] = a[static_cast<size_t>(j)] * x[n + j];
    }
  }
}

}  // namespace bertcpp::ops
