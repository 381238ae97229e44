// Rotary position embeddings (RoPE), non-interleaved as transformers' rotate_half: a head vector
// x of width d is split into halves x1 = x[:d/2], x2 = x[d/2:], and at position p
//   out[i] = x1[i]·cos(p·f_i) − x2[i]·sin(p·f_i),  out[i + d/2] = x2[i]·cos(p·f_i) + x1[i]·sin(p·f_i)
// with f_i = 1 / θ^(2i/d) computed in float32 as transformers does (one θ per layer type).
#pragma once
#include <cstdint>
#include <vector>

namespace bertcpp::ops {

// cos/sin of p·f_i for positions [0, positions), [positions, head_dim / 2] each.
struct RotaryTable {
  int64_t positions = 0, head_dim = 0;
  std::vector<float> cos, sin;
};
// Throws InvalidArgument unless head_dim is even and positive, positions ≥ 0 and θ > 0.
RotaryTable rotary_table(int64_t positions, int64_t head_dim, double theta);

// Rotates, in place, `vectors` consecutive head vectors of width table.head_dim in each of `rows`
// rows (row r at x + r·row_stride, at position first_position + r). Q and K of a fused [Q | K | V]
// row are 2·heads consecutive vectors. Throws when a position is outside the table.
void rotary(const RotaryTable& table, float* x, int64_t rows, int64_t row_stride, int64_t vectors,
            int64_t first_position = 0);

}  // namespace bertcpp::ops
