// Softmax over the last dimension (max-subtracted), in place.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bertcpp::ops {

// x: [rows, cols] contiguous.
void softmax(float* x, int64_t rows, int64_t cols);

// A head's scores as the pipelines report them (transformers computes them in numpy): max-subtracted,
// exp and sum in double. The one implementation for every classifier, fill-mask and QA score.
std::vector<double> probabilities(const float* logits, size_t n);
double sigmoid(double x);

}  // namespace bertcpp::ops
