// Softmax over the last dimension (max-subtracted), in place.
#pragma once
#include <cstdint>

namespace bertcpp::ops {

// x: [rows, cols] contiguous.
void softmax(float* x, int64_t rows, int64_t cols);

}  // namespace bertcpp::ops
