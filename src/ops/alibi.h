// ALiBi (Press et al., "Train Short, Test Long"): attention scores get a per-head linear distance
// penalty instead of position embeddings. Encoder ALiBi (JinaBERT v2) is symmetric: query row i,
// key j add -slope_h·|i - j|; ops::attention applies it from the slopes (AttentionSequence::alibi_slopes)
// without materializing the [rows, keys] bias.
#pragma once
#include <cstdint>
#include <vector>

namespace bertcpp::ops {

// The slope of each of `heads` heads, as JinaBERT's _get_alibi_head_slopes and transformers'
// build_alibi_tensor compute them: for a power of two n, 2^(-8k/n) for k = 1..n; otherwise the n' = the
// largest power of two below n get 2^(-8k/n'), and the other n - n' heads take every other slope of
// 2·n' heads, 2^(-8(2k-1)/(2n')) for k = 1..n - n'. Computed in double (as the reference's Python floats),
// rounded once to float. Throws InvalidArgument unless heads > 0.
std::vector<float> alibi_slopes(int64_t heads);

}  // namespace bertcpp::ops
