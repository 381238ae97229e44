// A read-only memory map of a whole file, shared by every tensor borrowed from it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace bertcpp::io {

class MappedFile {
 public:
  // Maps `path` read-only. Throws NotFound if it does not exist, InvalidFile if it cannot be read.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bertcpp::io
