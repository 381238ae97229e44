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
  // True when [p, p + n) lies inside the map.
  bool contains(const void* p, size_t n) const;
  // Drops the resident pages wholly inside [p, p + n) from this process (madvise MADV_DONTNEED).
  // Safe at any time: the map is read-only and file-backed, so a later read faults the same bytes
  // back in from the page cache. Used once weights have been packed elsewhere, so that the packed
  // copy and the file's pages are not both counted in the resident set. No-op outside the map.
  void release(const void* p, size_t n) const;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bertcpp::io
