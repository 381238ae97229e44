// Checkpoint: every tensor of a Hugging Face model folder, by the name it is stored under,
// whatever the file format: model.safetensors, sharded safetensors (+ model.safetensors.index.json),
// pytorch_model.bin (torch zip, read by a restricted unpickler that never runs code), or sharded .bin.
// safetensors are preferred over .bin when both are present.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"

namespace bertcpp::io {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  size_t nbytes;
  std::string file;  // the file (shard) it lives in, relative to the folder
};

class Checkpoint {
 public:
  // Opens the weights of a model folder (or a single .safetensors / .bin file). Throws Error
  // naming the file and fault for anything malformed; NotFound when the folder has no weights.
  static Checkpoint open(const std::filesystem::path& path);

  const std::vector<TensorInfo>& tensors() const;  // in file order
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws NotFound
  // The tensor as stored. F32 safetensors data is borrowed from the memory map (zero-copy).
  Tensor get(const std::string& name) const;
  // The tensor converted exactly to F32 (borrowed when already F32).
  Tensor get_f32(const std::string& name) const;
  // "safetensors" or "pytorch"
  const std::string& format() const;
  // Drops the resident pages of `t`'s data when it is borrowed from one of this checkpoint's memory
  // maps (see MappedFile::release); call it once the tensor has been copied or packed elsewhere.
  // Always safe: a later read of `t` faults the bytes back in from the file. No-op otherwise.
  void release_pages(const Tensor& t) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bertcpp::io
