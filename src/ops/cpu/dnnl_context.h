// The oneDNN CPU engine (created once per process), a stream per calling thread, and a per-thread
// scratchpad so primitives can run concurrently from several threads. Private to ops/cpu/.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <memory>
#include <unordered_map>

namespace bertcpp::ops::cpu {

const dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_thread_stream();
// Primitive attributes every bertcpp primitive uses (user-managed scratchpad).
dnnl::primitive_attr dnnl_default_attr();
// A scratchpad of at least `bytes`, owned by the calling thread (reused across calls; the pointer
// changes when a larger one is needed).
void* dnnl_thread_scratchpad(size_t bytes);
// Memory for long-lived packed weights: 2 MiB-aligned and, on Linux, marked MADV_HUGEPAGE, so the
// hundreds of MB of a model take few TLB entries and few page faults when first written. The
// buffer is owned by `storage` (keep it as long as the memory object).
dnnl::memory dnnl_weights_memory(const dnnl::memory::desc& desc, std::shared_ptr<void>& storage);
// Runs a primitive on the thread's stream and waits; converts dnnl::error into bertcpp::Error.
void dnnl_execute(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args);

}  // namespace bertcpp::ops::cpu
