// Embedding lookup: rows of a [num_embeddings, dim] table selected by ids.
#pragma once
#include <cstdint>

namespace bertcpp::ops {

// out[i, :] (=|+=) table[ids[i], :] for i < n. With accumulate, the row is added to out (the
// float addition torch does for summed embeddings). Throws InvalidArgument naming the first id
// outside [0, num_embeddings) before touching out.
void embedding(const float* table, int64_t num_embeddings, int64_t dim, const int64_t* ids, int64_t n, float* out,
               bool accumulate);

// out[i, :] += row for every i < n (e.g. one position embedding broadcast over a batch).
void add_row(float* out, int64_t n, int64_t dim, const float* row);

// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);

}  // namespace bertcpp::ops
