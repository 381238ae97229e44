// Batched strided matmul on oneDNN: one primitive per distinct (dims, strides) signature, cached.
#include "ops/matmul.h"

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"
#include "ops/cpu/dnnl_context.h"

namespace bertcpp::ops {

using dnnl::memory;
using dt = memory::data_type;

std::array<int64_t, 4> contiguous_strides(const std::array<int64_t, 4>& dims) {
  std::array<int64_t, 4> s{};
  int64_t acc = 1;
  for (int i = 3; i >= 0; --i) {
    s[static_cast<size_t>(i)] = acc;
    acc *= dims[static_cast<size_t>(i)];
  }
  return s;
}

namespace {

struct Plan {
  dnnl::matmul prim;
  memory::desc a, b, c, scratch;
};

memory::desc desc_of(const std::array<int64_t, 4>& dims, const std::array<int64_t, 4>& strides) {
  return memory::desc(memory::dims(dims.begin(), dims.end()), dt::f32, memory::dims(strides.begin(), strides.end()));
}

std::shared_ptr<const Plan> plan_for(const StridedView& a, const StridedView& b, const MutableStridedView& c) {
  static std::shared_mutex mutex;
  static std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans;
  std::vector<int64_t> key;
  key.reserve(24);
  for (const auto* arr : {&a.dims, &a.strides, &b.dims, &b.strides, &c.dims, &c.strides}) key.insert(key.end(), arr->begin(), arr->end());
  {
    std::shared_lock lock(mutex);
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
  }
  const memory::desc ad = desc_of(a.dims, a.strides), bd = desc_of(b.dims, b.strides), cd = desc_of(c.dims, c.strides);
  dnnl::matmul::primitive_desc pd;
  try {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(ad, bd, cd), cpu::dnnl_default_attr(), cpu::dnnl_engine());
  } catch (const dnnl::error& e) {
    throw Error(ErrorKind::Internal, std::string("oneDNN has no batched matmul for this layout: ") + e.what());
  }
  auto p = std::make_shared<Plan>(Plan{dnnl::matmul(pd), ad, bd, cd, pd.scratchpad_desc()});
  std::unique_lock lock(mutex);
  if (plans.size() >= 512) plans.clear();
  return plans.emplace(std::move(key), std::move(p)).first->second;
}

std::string dims_str(const std::array<int64_t, 4>& d) { return shape_to_string(Shape(d.begin(), d.end())); }

}  // namespace

void batched_matmul(const StridedView& a, const StridedView& b, const MutableStridedView& c) {
  bool ok = a.dims[0] == b.dims[0] && a.dims[0] == c.dims[0] && a.dims[1] == b.dims[1] && a.dims[1] == c.dims[1] &&
            a.dims[3] == b.dims[2] && c.dims[2] == a.dims[2] && c.dims[3] == b.dims[3];
  for (int i = 0; i < 4; ++i) ok = ok && a.dims[static_cast<size_t>(i)] >= 0 && b.dims[static_cast<size_t>(i)] >= 0;
  if (!ok)
    throw invalid_argument("batched_matmul: shapes " + dims_str(a.dims) + " · " + dims_str(b.dims) + " -> " +
                           dims_str(c.dims) + " do not match");
  for (int64_t d : c.dims)
    if (d == 0) return;
  auto plan = plan_for(a, b, c);
  const auto& eng = cpu::dnnl_engine();
  cpu::dnnl_execute(plan->prim,
                    {{DNNL_ARG_SRC, memory(plan->a, eng, const_cast<float*>(a.data))},
                     {DNNL_ARG_WEIGHTS, memory(plan->b, eng, const_cast<float*>(b.data))},
                     {DNNL_ARG_DST, memory(plan->c, eng, c.data)}},
                    plan->scratch);
}

}  // namespace bertcpp::ops
