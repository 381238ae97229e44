#include "ops/activation.h"


#include "ops/cpu/multiversion.h"
#include "ops/cpu/vec_math.h"

namespace bertcpp::ops {

std::string_view activation_name(Activation a) {
  switch (a) {
    case Activation::Identity: return "identity";
    case Activation::GeluErf: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
    case Activation::Tanh: return "tanh";
  }
  return "?";
}

namespace {

// tanh(v) = 1 − 2 / (e^{2v} + 1); absolute error ≈ 1e-7.
[[gnu::always_inline]] inline float tanh_v(float v) { return 1.0f - 2.0f / (cpu::exp_approx(2.0f * v) + 1.0f); }

// 1 + erf(z) through erfc's rational-exponential approximation (fractional error < 1.2e-7):
// erfc(|z|) = t·exp(−z² − 1.26551223 + t·P(t)), t = 1 / (1 + |z|/2); 1 + erf(z) = 2 − erfc(z) for
// z ≥ 0 and erfc(|z|) for z < 0.
[[gnu::always_inline]] inline float one_plus_erf(float z) {
  const float a = z < 0.0f ? -z : z;
  const float t = 1.0f / (1.0f + 0.5f * a);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  const float erfc = t * cpu::exp_approx(-a * a - 1.26551223f + t * p);
  return z < 0.0f ? erfc : 2.0f - erfc;
}

}  // namespace

// Cloned per ISA; runs on the calling thread (callers parallelize over rows outside the clones).
BERTCPP_MULTIVERSION
void activate(float* x, int64_t n, Activation act) {
  switch (act) {
    case Activation::Identity: return;
    case Activation::GeluErf:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * one_plus_erf(x[i] * 0.70710678118654752440f);
      return;
    case Activation::GeluTanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanh_v(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
      }
      return;
    case Activation::Relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case Activation::Silu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + cpu::exp_approx(-x[i]));
      return;
    case Activation::Tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) x[i] = tanh_v(x[i]);
      return;
  }
}


}  // namespace bertcpp::ops
