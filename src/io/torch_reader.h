// pytorch_model.bin (torch.save zip format, torch >= 1.6) read WITHOUT executing anything:
// the zip is opened with libzip (entry names, sizes and compression ratios checked before any
// byte is inflated), and <archive>/data.pkl is read by a restricted unpickler that understands
// only the opcodes torch.save emits and only the globals a state dict needs
// (collections.OrderedDict, torch._utils._rebuild_tensor[_v2], torch._utils._rebuild_parameter,
// torch.*Storage). Any other global, INST/OBJ/NEWOBJ, or BUILD on anything but the state dict is
// refused with an error naming it. Nothing is imported, called or evaluated.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"

namespace bertcpp::io {

struct TorchTensorDesc {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<int64_t> stride;
  int64_t storage_offset = 0;  // in elements
  std::string storage_key;     // <archive>/data/<key>
  int64_t storage_numel = 0;   // elements in the storage
  bool contiguous() const;
};

// Limits (bytes).
inline constexpr uint64_t kMaxPickleBytes = 64u << 20;
inline constexpr int kMaxPickleDepth = 64;

// Parses a torch.save data.pkl (restricted). `source` prefixes error messages
// (e.g. "pytorch_model.bin: data.pkl"). Every tensor's extent is checked against its storage.
std::vector<TorchTensorDesc> parse_torch_pickle(const uint8_t* data, size_t size, const std::string& source);

class TorchArchive {
 public:
  // Opens and validates the zip and the pickle; storages are read lazily by tensor().
  static TorchArchive open(const std::filesystem::path& path);
  const std::vector<TorchTensorDesc>& tensors() const { return tensors_; }
  // Reads the tensor's storage (exactly the declared bytes) and returns an owned tensor.
  Tensor tensor(const TorchTensorDesc& d) const;
  const std::string& path() const { return path_; }

  struct Zip;

 private:
  std::string path_;
  std::string prefix_;
  std::vector<TorchTensorDesc> tensors_;
  std::shared_ptr<Zip> zip_;
};

}  // namespace bertcpp::io
