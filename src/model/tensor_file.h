// Writes tensors to a .safetensors file (the format transformers' goldens use): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "bertcpp/tensor.h"

namespace bertcpp::model {

// Tensors are written in name order. Throws InvalidArgument on an undefined tensor and
// NotFound/InvalidArgument when the file cannot be written.
void safetensors_write(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors);

}  // namespace bertcpp::model
