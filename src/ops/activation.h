// Elementwise activations, in place, with the formulas transformers uses.
#pragma once
#include <cmath>
#include <cstdint>
#include <string_view>

namespace bertcpp::ops {

enum class Activation {
  Identity,
  GeluErf,   // "gelu": 0.5·x·(1 + erf(x/√2))
  GeluTanh,  // "gelu_new" / "gelu_pytorch_tanh": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  Relu,
  Silu,      // x·sigmoid(x)
  Tanh,
};

std::string_view activation_name(Activation a);

inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }
inline float gelu_tanh(float x) {
  constexpr float k = 0.79788456080286535588f;  // √(2/π)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}
inline float relu(float x) { return x > 0.0f ? x : 0.0f; }
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

// x[i] = act(x[i]) for i < n, on the calling thread (callers run it per row inside their own
// parallel loops, e.g. the int8 GEMM epilogue).
void activate(float* x, int64_t n, Activation act);

}  // namespace bertcpp::ops
