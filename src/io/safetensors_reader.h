// safetensors: an 8-byte little-endian header length, a JSON header, then raw little-endian data.
// Every header field is validated against the file size before anything is read or allocated.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"
#include "io/mapped_file.h"

namespace bertcpp::io {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;  // absolute byte offsets in the file
  uint64_t end;
};

struct SafetensorsFile {
  std::shared_ptr<const MappedFile> map;
  std::vector<SafetensorsEntry> entries;  // sorted by offset (= file order)
  std::map<std::string, std::string> metadata;

  // F32 (or any dtype) data as stored, borrowed from the map (zero-copy) when suitably aligned.
  Tensor tensor(const SafetensorsEntry& e) const;
};

// Largest header the reader accepts (the safetensors reference implementation uses 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;

// Maps and validates `path`. `display_name` is used in error messages (defaults to the path).
SafetensorsFile read_safetensors(const std::filesystem::path& path);
// Validates a safetensors image held in memory (the part of read_safetensors after mapping).
std::vector<SafetensorsEntry> parse_safetensors(const uint8_t* data, size_t size, const std::string& source,
                                                std::map<std::string, std::string>* metadata = nullptr);

}  // namespace bertcpp::io
