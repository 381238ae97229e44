// Int8 passes of Linear, see int8.h. The per-row kernels are cloned per ISA
// (BERTCPP_MULTIVERSION) with the OpenMP loops outside the clones; no libm in the hot loops.
#include "ops/cpu/int8.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/cpu/multiversion.h"

namespace bertcpp::ops::cpu {

void int8_quantize_weight(const float* w, int64_t out, int64_t in, const std::vector<float>& smooth, int8_t* q,
                          float* sw) {
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t c = 0; c < out; ++c) {
    float m = 0.0f;
    for (int64_t k = 0; k < in; ++k) {
      row[k] = smooth.empty() ? w[c * in + k] : w[c * in + k] * smooth[static_cast<size_t>(k)];
      m = std::max(m, std::fabs(row[k]));
    }
    const float scale = m > 0.0f ? m / 127.0f : 1.0f;
    sw[c] = scale;
    for (int64_t k = 0; k < in; ++k)
      q[c * in + k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f));
  }
}

std::vector<float> int8_smoothing(const float* w, int64_t out, int64_t in, const Tensor& absmax) {
  std::vector<float> wmax(static_cast<size_t>(in), 0.0f), s(static_cast<size_t>(in), 1.0f);
  for (int64_t c = 0; c < out; ++c)
    for (int64_t k = 0; k < in; ++k) wmax[k] = std::max(wmax[k], std::fabs(w[c * in + k]));
  const float* a = absmax.data<float>();
  for (int64_t k = 0; k < in; ++k) {
    if (!(a[k] > 0.0f) || !(wmax[k] > 0.0f) || !std::isfinite(a[k])) continue;
    s[k] = std::clamp(std::sqrt(a[k] / wmax[k]), 1e-4f, 1e4f);
  }
  return s;
}

namespace {
// Int8 input quantization of one row: v[k] = x[k]·inv_smooth[k] (when given),
// q[k] = round(v[k]·127/max|v|); returns the row scale max|v|/127 (0 for an all-zero row).
// Rounds half away from zero by truncation (no libm), so each ISA clone vectorizes it.
BERTCPP_MULTIVERSION
float quantize_row(const float* x, int64_t in, const float* inv_smooth, int8_t* q) {
  float m = 0.0f, nonfinite = 0.0f;  // nonfinite: Σ (v − v), NaN iff some v is inf or NaN
  if (inv_smooth) {
#pragma omp simd reduction(max : m) reduction(+ : nonfinite)
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv_smooth[k];
      m = std::max(m, v < 0.0f ? -v : v);
      nonfinite += v - v;
    }
  } else {
#pragma omp simd reduction(max : m) reduction(+ : nonfinite)
    for (int64_t k = 0; k < in; ++k) {
      m = std::max(m, x[k] < 0.0f ? -x[k] : x[k]);
      nonfinite += x[k] - x[k];
    }
  }
  if (nonfinite != 0.0f || m == 0.0f) {  // an inf/NaN input makes the row NaN (as f32 would); zeros stay zero
    std::fill(q, q + in, int8_t{0});
    return nonfinite != 0.0f ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
  }
  const float inv = 127.0f / m;
  if (inv_smooth) {
#pragma omp simd
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv_smooth[k] * inv;
      q[k] = static_cast<int8_t>(static_cast<int32_t>(v + (v < 0.0f ? -0.5f : 0.5f)));
    }
  } else {
#pragma omp simd
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv;
      q[k] = static_cast<int8_t>(static_cast<int32_t>(v + (v < 0.0f ? -0.5f : 0.5f)));
    }
  }
  return m / 127.0f;
}

// Int8 epilogue of one row: y[c] = (acc[c]·sw[c])·sx + b[c], in the order oneDNN's output scales
// used when it applied sw.
BERTCPP_MULTIVERSION
void epilogue_row(const int32_t* acc, int64_t n, const float* sw, float sx, const float* b, float* y) {
  if (b) {
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) y[c] = static_cast<float>(acc[c]) * sw[c] * sx + b[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) y[c] = static_cast<float>(acc[c]) * sw[c] * sx;
  }
}

// y[c] += a·w[c]: one f32 channel's contribution.
BERTCPP_MULTIVERSION
void axpy_row(float a, const float* w, int64_t n, float* y) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) y[c] += a * w[c];
}

}  // namespace

void int8_quantize_rows(const float* x, int64_t rows, int64_t in, int64_t stride, const float* inv_smooth,
                        const F32Channels& f, int8_t* q, float* side) {
  const int64_t ss = 1 + f.count;
#pragma omp parallel for schedule(static) if (rows * in >= 16384 && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * stride;
    side[r * ss] = quantize_row(xr, in, inv_smooth, q + r * in);
    for (int64_t i = 0; i < f.count; ++i) side[r * ss + 1 + i] = xr[f.channels[i]];
  }
}

void int8_epilogue(const int32_t* acc, int64_t rows, int64_t n, const float* sw, const float* side,
                   const F32Channels& f, const float* bias, Activation act, float* y, int64_t y_stride) {
  const int64_t ss = 1 + f.count;
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * y_stride;
    epilogue_row(acc + r * n, n, sw, side[r * ss], bias, yr);
    for (int64_t i = 0; i < f.count; ++i) axpy_row(side[r * ss + 1 + i], f.weight + i * n, n, yr);
    activate(yr, n, act);
  }
}

}  // namespace bertcpp::ops::cpu
