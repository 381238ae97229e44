// Scaled dot-product self-attention over a fused QKV buffer, f32 (or bf16 matmuls), all heads and sequences of a
// batch in one parallel loop: softmax(Q·Kᵀ / divisor [+ relative bias] [- ALiBi] + mask) · V per
// (sequence, head).
//
// Layout: each token's row in `qkv` holds [Q | K | V], each of width heads·head_dim, with head h
// at columns h·head_dim of its part (the output of one fused Linear). The context output row of a
// token is [heads·head_dim] with head h at columns h·head_dim (what attention.output.dense reads).
//
// Memory: one (sequence, head) at a time holds Kᵀ and V of its keys and the scores of 4 query rows,
// O(keys · head_dim) per thread: the [rows, keys] score matrix is never materialized (only the
// optional probabilities output is), so long sequences run in memory linear in their length.
// With a window, the 4 rows' scores cover only their keys' span (≤ 2·window + 4 columns).
//
// Determinism: every query row goes through the same instructions whatever its neighbours, the
// batch composition or the thread count, so a text's result is bitwise reproducible.
#pragma once
#include <cstdint>
#include <span>

namespace bertcpp::ops {

struct AttentionShape {
  int64_t heads = 0, head_dim = 0;
  int64_t qkv_stride = 0;  // elements between consecutive token rows of qkv (≥ 3·heads·head_dim)
  int64_t ctx_stride = 0;  // elements between consecutive rows of the context output
  float divisor = 1.0f;    // scores are divided by it (√head_dim), as transformers does
  // Q·Kᵀ and P·V from bf16-rounded Q, K, V and probabilities with f32 sums (AVX-512 BF16
  // vdpbf16ps), as PyTorch's bf16 autocast does its attention matmuls; softmax stays f32. On a
  // CPU without AVX-512 BF16 (attention_bf16_supported() false) the f32 kernel runs instead.
  bool bf16 = false;
};

struct AttentionSequence {
  const float* qkv = nullptr;  // the sequence's first token row
  float* ctx = nullptr;        // its first context row
  int64_t rows = 0;            // query rows
  int64_t keys = 0;            // keys/values attended: token rows [0, keys)
  const float* mask = nullptr; // additive mask [keys] or nullptr
  // Sliding window (local attention, ModernBERT): query row i attends to keys j with
  // |i - j| <= window only (rows and keys share positions); < 0 = every key.
  int64_t window = -1;
  // Optional relative position bias (MPNet), added to the scaled scores before the mask:
  // bias(h, i, j) = rel_bias[h·rel_bias_head_stride + rel_bias_center + j - i] for query row i, key j.
  const float* rel_bias = nullptr;
  int64_t rel_bias_head_stride = 0, rel_bias_center = 0;
  // Optional ALiBi (ops/alibi.h), [heads] slopes: -alibi_slopes[h]·|i - j| is added to the scaled
  // scores (after rel_bias) before the mask, computed per row, never as a [rows, keys] matrix.
  const float* alibi_slopes = nullptr;
  // Optional probabilities output: probs[h·probs_head_stride + r·probs_row_stride + j] for
  // j < probs_cols; columns from `keys` on (and outside the window) are written as 0.
  float* probs = nullptr;
  int64_t probs_head_stride = 0, probs_row_stride = 0, probs_cols = 0;
};

// Whether this CPU runs AttentionShape::bf16 (AVX-512 BF16), checked once with cpuid.
bool attention_bf16_supported();

// Computes the context rows of every sequence. Uses the OpenMP threads (ops::set_num_threads).
void attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences);

}  // namespace bertcpp::ops
