// RoPE tables in float32 (torch's order of operations) and the rotation, one row per iteration.
#include "ops/rotary.h"

#include <omp.h>

#include <cmath>
#include <string>

#include "bertcpp/error.h"

namespace bertcpp::ops {

std::vector<float> rotary_frequencies(int64_t head_dim, double theta) {
  if (head_dim <= 0 || head_dim % 2 != 0 || !(theta > 0))
    throw invalid_argument("rotary_table: head_dim " + std::to_string(head_dim) + " must be even and positive, theta " +
                           std::to_string(theta) + " > 0");
  // inv_freq = 1 / base ** (arange(0, d, 2).float() / d), every step rounded to float32 as torch.
  std::vector<float> inv(static_cast<size_t>(head_dim / 2));
  const float base = static_cast<float>(theta);
  for (size_t i = 0; i < inv.size(); ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv[i] = 1.0f / static_cast<float>(std::pow(static_cast<double>(base), static_cast<double>(e)));
  }
  return inv;
}

std::vector<float> ntk_frequencies(int64_t head_dim, double theta, double factor, const double* mixed_b) {
  if (!(factor > 0)) throw invalid_argument("ntk_frequencies: factor " + std::to_string(factor) + " must be > 0");
  const double d = static_cast<double>(head_dim);
  if (!mixed_b) {  // inv_freq / factor ** (2 / dim): the Python float rounded to float32 by the division
    std::vector<float> inv = rotary_frequencies(head_dim, theta * factor);
    const float s = static_cast<float>(std::pow(factor, 2.0 / d));
    for (float& f : inv) f /= s;
    return inv;
  }
  std::vector<float> inv = rotary_frequencies(head_dim, theta);
  // a = tensor(factor).log() / (dim / 2) ** b; lambda_m = (a · m.float() ** b).exp(), m = 1 .. d/2 — float32.
  const float a = static_cast<float>(std::log(static_cast<double>(static_cast<float>(factor)))) /
                  static_cast<float>(std::pow(d / 2, *mixed_b));
  const float b = static_cast<float>(*mixed_b);
  for (size_t i = 0; i < inv.size(); ++i) {
    const float mb = static_cast<float>(std::pow(static_cast<double>(i + 1), static_cast<double>(b)));
    inv[i] /= static_cast<float>(std::exp(static_cast<double>(a * mb)));
  }
  return inv;
}

RotaryTable rotary_table(int64_t positions, int64_t head_dim, double theta, bool interleaved) {
  if (positions < 0) throw invalid_argument("rotary_table: positions " + std::to_string(positions) + " must be >= 0");
  return rotary_table(positions, rotary_frequencies(head_dim, theta), interleaved);
}

RotaryTable rotary_table(int64_t positions, const std::vector<float>& inv, bool interleaved) {
  const int64_t half = static_cast<int64_t>(inv.size());
  if (half <= 0 || positions < 0)
    throw invalid_argument("rotary_table: " + std::to_string(half) + " frequencies and " + std::to_string(positions) +
                           " positions: need > 0 and >= 0");
  RotaryTable t;
  t.positions = positions;
  t.head_dim = 2 * half;
  t.interleaved = interleaved;
  t.cos.resize(static_cast<size_t>(positions * half));
  t.sin.resize(t.cos.size());
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float f = static_cast<float>(p) * inv[static_cast<size_t>(i)];
      t.cos[static_cast<size_t>(p * half + i)] = static_cast<float>(std::cos(static_cast<double>(f)));
      t.sin[static_cast<size_t>(p * half + i)] = static_cast<float>(std::sin(static_cast<double>(f)));
    }
  return t;
}

double dynamic_ntk_theta(double theta, int64_t d, double factor, int64_t seq_len, int64_t trained) {
  if (d <= 2 || !(factor > 0) || trained <= 0)
    throw invalid_argument("dynamic_ntk_theta: rotary width " + std::to_string(d) + " must be > 2, factor " +
                           std::to_string(factor) + " > 0, trained positions " + std::to_string(trained) + " > 0");
  if (seq_len <= trained) return theta;
  const double dd = static_cast<double>(d);
  return theta * std::pow(factor * static_cast<double>(seq_len) / static_cast<double>(trained) - (factor - 1), dd / (dd - 2));
}

void rotary(const RotaryTable& table, float* x, int64_t rows, int64_t row_stride, int64_t vectors, int64_t first_position,
            int64_t vector_stride) {
  if (rows <= 0) return;
  const int64_t d = table.head_dim, half = d / 2;
  if (vector_stride == 0) vector_stride = d;
  if (vector_stride < d)
    throw invalid_argument("rotary: vector stride " + std::to_string(vector_stride) + " below the rotary width " +
                           std::to_string(d));
  if (first_position < 0 || first_position + rows > table.positions)
    throw invalid_argument("rotary: positions [" + std::to_string(first_position) + ", " +
                           std::to_string(first_position + rows) + ") outside the table's " +
                           std::to_string(table.positions));
  const bool inter = table.interleaved;
#pragma omp parallel for schedule(static) if (rows * vectors * d >= 16384 && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const float* c = table.cos.data() + (first_position + r) * half;
    const float* s = table.sin.data() + (first_position + r) * half;
    for (int64_t v = 0; v < vectors; ++v) {
      float* x1 = x + r * row_stride + v * vector_stride;
      if (inter) {  // pairs (x[2i], x[2i + 1])
        for (int64_t i = 0; i < half; ++i) {
          const float a = x1[2 * i], b = x1[2 * i + 1];
          const float ac = a * c[i], bs = b * s[i], bc = b * c[i], as = a * s[i];
          x1[2 * i] = ac - bs;
          x1[2 * i + 1] = bc + as;
        }
        continue;
      }
      float* x2 = x1 + half;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float a = x1[i], b = x2[i];
        const float ac = a * c[i], bs = b * s[i], bc = b * c[i], as = a * s[i];
        x1[i] = ac - bs;
        x2[i] = bc + as;
      }
    }
  }
}

}  // namespace bertcpp::ops
