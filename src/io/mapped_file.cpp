#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::io {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  check_link_stays_inside(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) throw not_found(path + ": no such file");
    throw invalid_file(path, std::string("cannot open: ") + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw invalid_file(path, "not a regular file");
  }
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->path_ = path;
  m->size_ = static_cast<size_t>(st.st_size);
  if (m->size_ > 0) {
    void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw invalid_file(path, std::string("cannot map: ") + std::strerror(e));
    }
    m->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

bool MappedFile::contains(const void* p, size_t n) const {
  const auto a = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(data_);
  return data_ && a >= base && a - base <= size_ && n <= size_ - (a - base);
}

void MappedFile::release(const void* p, size_t n) const {
  if (!contains(p, n)) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = (a + page - 1) / page * page, end = (a + n) / page * page;  // whole pages only
  if (end <= begin) return;
  void* range = reinterpret_cast<void*>(begin);
  (void)::madvise(range, end - begin, MADV_DONTNEED);
  // A later fault next to the range (a bias, a LayerNorm weight) must not map the released pages
  // back: the kernel maps whole large folios / fault-around windows on a fault, clipped to the
  // mapping's region. MADV_RANDOM makes the released range a region of its own without that.
  (void)::madvise(range, end - begin, MADV_RANDOM);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace bertcpp::io
