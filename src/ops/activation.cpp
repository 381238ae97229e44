#include "ops/activation.h"

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
template <class F> void apply(float* x, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= 16384)
  for (int64_t i = 0; i < n; ++i) x[i] = f(x[i]);
}
}  // namespace

void activate(float* x, int64_t n, Activation act) {
  switch (act) {
    case Activation::Identity: return;
    case Activation::GeluErf: return apply(x, n, gelu_erf);
    case Activation::GeluTanh: return apply(x, n, gelu_tanh);
    case Activation::Relu: return apply(x, n, relu);
    case Activation::Silu: return apply(x, n, silu);
    case Activation::Tanh: return apply(x, n, [](float v) { return std::tanh(v); });
  }
}

}  // namespace bertcpp::ops
