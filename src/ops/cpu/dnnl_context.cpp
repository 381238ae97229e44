#include "ops/cpu/dnnl_context.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

#include "bertcpp/error.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bertcpp::ops::cpu {

const dnnl::engine& dnnl_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_thread_stream() {
  thread_local dnnl::stream stream(dnnl_engine());
  return stream;
}

dnnl::primitive_attr dnnl_default_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

namespace {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
struct ThreadScratch {
  std::unique_ptr<void, FreeDeleter> data;
  size_t size = 0;
};
}  // namespace

void* dnnl_thread_scratchpad(size_t bytes) {
  thread_local ThreadScratch scratch;
  if (bytes > scratch.size) {
    const size_t rounded = (bytes + 4095) / 4096 * 4096;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) throw Error(ErrorKind::Internal, "out of memory allocating a " + std::to_string(bytes) + "-byte GEMM scratchpad");
    scratch.data.reset(p);
    scratch.size = rounded;
  }
  return scratch.data.get();
}

dnnl::memory dnnl_weights_memory(const dnnl::memory::desc& desc, std::shared_ptr<void>& storage) {
  const size_t need = desc.get_size();
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = need >= kHuge ? kHuge : 64;
  const size_t rounded = (need + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
  if (!p) throw Error(ErrorKind::Internal, "out of memory allocating " + std::to_string(need) + " bytes of packed weights");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align == kHuge) madvise(p, rounded, MADV_HUGEPAGE);  // a hint: ignored where THP is off
#endif
  storage = std::shared_ptr<void>(p, FreeDeleter{});
  return dnnl::memory(desc, dnnl_engine(), p);
}

void dnnl_execute(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args) {
  try {
    dnnl::stream& s = dnnl_thread_stream();
    p.execute(s, args);
    s.wait();
  } catch (const dnnl::error& e) {
    throw Error(ErrorKind::Internal, std::string("oneDNN execution failed: ") + e.what());
  }
}

}  // namespace bertcpp::ops::cpu
