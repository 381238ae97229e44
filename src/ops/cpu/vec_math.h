// Scalar math written so that a loop calling it vectorizes (no libm, no branches): include it in
// BERTCPP_MULTIVERSION functions and each ISA clone gets its own vector code.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace bertcpp::ops::cpu {

// e^x for float x, relative error ≤ 2 ulp on [-87.3, 88.7]; below that 0 (as expf underflows),
// above it the largest finite float's neighbourhood is never reached by callers (softmax inputs
// are ≤ 0 after the max is subtracted). NaN is not propagated: callers never pass it.
[[gnu::always_inline]] inline float exp_approx(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;          // ln 2 split so n·kLn2Hi is exact for |n| < 2^12
  constexpr float kLn2Lo = -2.12194440e-4f;
  const float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  // n = round(x / ln 2) via the 1.5·2^23 trick (valid for |x·log2e| < 2^22).
  constexpr float kShift = 12582912.0f;
  const float t = xc * kLog2e + kShift;
  const float n = t - kShift;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;  // |r| ≤ ln2/2
  // e^r by its Taylor series to r^7 (truncation < 3e-9 relative on |r| ≤ 0.347), Horner form.
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n from the exponent bits: n ∈ [-126, 128]; n = 128 only for x near 88.7, kept finite by
  // scaling in two steps.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const uint32_t b1 = static_cast<uint32_t>(n1 + 127) << 23, b2 = static_cast<uint32_t>(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  const float y = p * s1 * s2;
  return x < -87.3f ? 0.0f : y;
}

// x[0, n) = softmax(x / divisor + mask) in place (mask nullable), with transformers' order of
// operations: divide, add the mask, subtract the row max, exponentiate, normalise. When the
// divisor is a power of two (√64 = 8 in BERT-base) the division is a multiplication by its exact
// reciprocal: the same correctly rounded x / divisor, bitwise, without vdivps.
[[gnu::always_inline]] inline void softmax_row(float* x, int64_t n, float divisor, const float* mask) {
  float mx = -3.402823466e38f;
  int exponent = 0;
  const bool pow2 = std::frexp(divisor, &exponent) == 0.5f;
  const float inv = 1.0f / divisor;
  if (mask && pow2) {
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c] * inv + mask[c];
      x[c] = v;
      mx = v > mx ? v : mx;
    }
  } else if (mask) {
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c] / divisor + mask[c];
      x[c] = v;
      mx = v > mx ? v : mx;
    }
  } else if (pow2) {
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c] * inv;
      x[c] = v;
      mx = v > mx ? v : mx;
    }
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c] / divisor;
      x[c] = v;
      mx = v > mx ? v : mx;
    }
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < n; ++c) {
    const float e = exp_approx(x[c] - mx);
    x[c] = e;
    sum += e;
  }
  const float inv_sum = 1.0f / sum;
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) x[c] *= inv_sum;
}

}  // namespace bertcpp::ops::cpu
