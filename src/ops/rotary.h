// Rotary position embeddings (RoPE) on the first d columns of a head vector (d = the rotary width:
// the head dim, or a fraction of it as NomicBERT's rotary_emb_fraction), f_i = 1 / θ^(2i/d) computed in
// float32 as torch does (one θ per layer type). Non-interleaved (transformers' rotate_half, GPT-NeoX):
// x1 = x[:d/2], x2 = x[d/2:d] and at position p
//   out[i] = x1[i]·cos(p·f_i) − x2[i]·sin(p·f_i),  out[i + d/2] = x2[i]·cos(p·f_i) + x1[i]·sin(p·f_i);
// interleaved (GPT-J) the pairs are (x[2i], x[2i+1]) instead. Columns from d on are left as they are.
#pragma once
#include <cstdint>
#include <vector>

namespace bertcpp::ops {

// cos/sin of p·f_i for positions [0, positions), [positions, head_dim / 2] each; head_dim is the
// rotary width d.
struct RotaryTable {
  int64_t positions = 0, head_dim = 0;
  bool interleaved = false;
  std::vector<float> cos, sin;
};
// Throws InvalidArgument unless head_dim is even and positive, positions ≥ 0 and θ > 0.
RotaryTable rotary_table(int64_t positions, int64_t head_dim, double theta, bool interleaved = false);
// The same from given frequencies f_i, [head_dim / 2] (head_dim = 2·size).
RotaryTable rotary_table(int64_t positions, const std::vector<float>& inv_freq, bool interleaved = false);
// f_i = 1 / θ^(2i/d), i < d/2, in float32 as torch (what rotary_table(positions, d, θ) uses).
std::vector<float> rotary_frequencies(int64_t head_dim, double theta);

// GTE-v1.5's (Alibaba-NLP/new-impl) fixed NTK scaling, rope_scaling {"type": "ntk", "factor": k[, "mixed_b": b]},
// applied at every position: without b, f_i = rotary_frequencies(d, θ·k)_i / k^(2/d); with b,
// f_i = rotary_frequencies(d, θ)_i / exp(a·(i+1)^b), a = ln k / (d/2)^b — each in float32 as the reference.
// Throws InvalidArgument unless d is even and positive, θ > 0, k > 0.
std::vector<float> ntk_frequencies(int64_t head_dim, double theta, double factor, const double* mixed_b);

// NomicBERT's dynamic NTK scaling: past `trained` positions the base grows with the sequence length,
// θ' = θ·(factor·seq_len / trained − (factor − 1))^(d / (d − 2)) (in double, as the reference's Python
// floats); θ itself when seq_len <= trained. Throws InvalidArgument unless d > 2, factor > 0, trained > 0.
double dynamic_ntk_theta(double theta, int64_t d, double factor, int64_t seq_len, int64_t trained);

// Rotates, in place, `vectors` head vectors in each of `rows` rows (row r at x + r·row_stride, at
// position first_position + r; vector v at column v·vector_stride, 0 = table.head_dim). Q and K of a
// fused [Q | K | V] row are 2·heads vectors, vector_stride = the head dim. Throws when a position is
// outside the table or vector_stride < table.head_dim.
void rotary(const RotaryTable& table, float* x, int64_t rows, int64_t row_stride, int64_t vectors,
            int64_t first_position = 0, int64_t vector_stride = 0);

}  // namespace bertcpp::ops
