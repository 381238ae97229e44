// Linear on oneDNN matmul: the weight [out, in] is viewed as Wᵀ [in, out] (strides {1, in}) and
// reordered once into the blocked layout oneDNN picks for it ("any"); a matmul primitive is
// created per row count and cached. Input rows always reach oneDNN contiguous (strided rows are
// gathered first: oneDNN 2.6 falls back to its reference kernel for them).
#include "ops/linear.h"

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <cstring>
#include <utility>
#include <vector>

#include "ops/cpu/dnnl_context.h"
#include "ops/cpu/multiversion.h"

namespace bertcpp::ops {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

struct Linear::Impl {
  int64_t in = 0, out = 0;
  Activation activation = Activation::Identity;
  GemmType gemm = GemmType::F32;
  dt wdt() const { return gemm == GemmType::BF16 ? dt::bf16 : dt::f32; }
  Tensor plain_weight;  // kept only when packing did not happen
  std::shared_ptr<void> weight_storage;  // the packed weights' buffer (huge pages where possible)
  Tensor bias;          // F32 [out] or undefined
  memory::desc weight_desc;
  memory weight_mem;    // packed (or plain) weights
  memory bias_mem;

  struct Plan {
    dnnl::matmul prim;
    memory::desc src, dst, scratch;
  };
  mutable std::shared_mutex mutex;
  mutable std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const Plan>> plans;

  memory::desc plain_weight_desc() const { return memory::desc({in, out}, dt::f32, memory::dims{1, in}); }
  memory::desc bias_desc() const { return memory::desc({1, out}, dt::f32, tag::ab); }

  dnnl::matmul::primitive_desc make_pd(int64_t rows, int64_t stride, const memory::desc& w) const {
    const memory::desc src({rows, in}, wdt(), memory::dims{stride, 1});
    const memory::desc dst({rows, out}, dt::f32, tag::ab);
    const dnnl::matmul::desc d = bias.defined() ? dnnl::matmul::desc(src, w, bias_desc(), dst)
                                                : dnnl::matmul::desc(src, w, dst);
    dnnl::primitive_attr attr = cpu::dnnl_default_attr();
    if (activation != Activation::Identity) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f, eltwise_algorithm(activation), activation == Activation::Silu ? 1.0f : 0.0f, 0.0f);
      attr.set_post_ops(po);
    }
    return dnnl::matmul::primitive_desc(d, attr, cpu::dnnl_engine());
  }

  static dnnl::algorithm eltwise_algorithm(Activation a) {
    switch (a) {
      case Activation::GeluErf: return dnnl::algorithm::eltwise_gelu_erf;
      case Activation::GeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
      case Activation::Relu: return dnnl::algorithm::eltwise_relu;
      case Activation::Silu: return dnnl::algorithm::eltwise_swish;  // x·sigmoid(alpha·x), alpha = 1
      case Activation::Tanh: return dnnl::algorithm::eltwise_tanh;
      case Activation::Identity: break;
    }
    throw Error(ErrorKind::Internal, "no oneDNN eltwise for activation " + std::string(activation_name(a)));
  }

  std::shared_ptr<const Plan> plan(int64_t rows, int64_t stride) const {
    const auto key = std::make_pair(rows, stride);
    {
      std::shared_lock lock(mutex);
      auto it = plans.find(key);
      if (it != plans.end()) return it->second;
    }
    dnnl::matmul::primitive_desc pd;
    try {
      pd = make_pd(rows, stride, weight_desc);
    } catch (const dnnl::error& e) {
      throw Error(ErrorKind::Internal, "oneDNN has no matmul for Linear " + std::to_string(in) + "->" +
                                           std::to_string(out) + " with " + std::to_string(rows) +
                                           " rows: " + e.what());
    }
    auto p = std::make_shared<Plan>(Plan{dnnl::matmul(pd), pd.src_desc(), pd.dst_desc(), pd.scratchpad_desc()});
    std::unique_lock lock(mutex);
    if (plans.size() >= 512) plans.clear();  // bound the cache; oneDNN keeps its own primitive cache
    return plans.emplace(key, std::move(p)).first->second;
  }
};

Linear::Linear(const Tensor& weight, const Tensor& bias, Activation activation, GemmType gemm) {
  if (weight.dtype() != DType::F32 || weight.rank() != 2)
    throw invalid_argument("Linear weight must be F32 [out, in], got " + std::string(dtype_name(weight.dtype())) +
                           " " + shape_to_string(weight.shape()));
  auto impl = std::make_shared<Impl>();
  impl->activation = activation;
  impl->gemm = gemm;
  impl->out = weight.dim(0);
  impl->in = weight.dim(1);
  if (impl->in <= 0 || impl->out <= 0) throw invalid_argument("Linear weight has an empty shape " + shape_to_string(weight.shape()));
  if (bias.defined()) {
    if (bias.dtype() != DType::F32 || bias.rank() != 1 || bias.dim(0) != impl->out)
      throw invalid_argument("Linear bias must be F32 [" + std::to_string(impl->out) + "], got " +
                             std::string(dtype_name(bias.dtype())) + " " + shape_to_string(bias.shape()));
    impl->bias = bias;
    impl->bias_mem = memory(impl->bias_desc(), cpu::dnnl_engine(), const_cast<float*>(bias.data<float>()));
  }
  const memory::desc plain = impl->plain_weight_desc();
  memory::desc packed;
  try {
    // The layout oneDNN wants for a typical sequence-sized GEMM; the same layout is then used for
    // every row count (it accepts any explicit weights layout it can handle).
    packed = impl->make_pd(128, impl->in, memory::desc({impl->in, impl->out}, impl->wdt(), tag::any)).weights_desc();
  } catch (const dnnl::error& e) {
    if (gemm != GemmType::F32)
      throw unsupported(std::string("this CPU has no bf16 GEMM (oneDNN: ") + e.what() + "); use f32");
    packed = plain;
  }
  if (packed == plain) {
    impl->plain_weight = weight;
    impl->weight_desc = plain;
    impl->weight_mem = memory(plain, cpu::dnnl_engine(), const_cast<float*>(weight.data<float>()));
  } else {
    impl->weight_desc = packed;
    impl->weight_mem = cpu::dnnl_weights_memory(packed, impl->weight_storage);
    memory src(plain, cpu::dnnl_engine(), const_cast<float*>(weight.data<float>()));
    try {
      dnnl::reorder r(src, impl->weight_mem);
      dnnl::stream& s = cpu::dnnl_thread_stream();
      r.execute(s, src, impl->weight_mem);
      s.wait();
    } catch (const dnnl::error& e) {
      throw Error(ErrorKind::Internal, std::string("oneDNN weight packing failed: ") + e.what());
    }
  }
  impl_ = std::move(impl);
}

int64_t Linear::in_features() const { return impl_ ? impl_->in : 0; }
int64_t Linear::out_features() const { return impl_ ? impl_->out : 0; }
Activation Linear::activation() const { return impl_ ? impl_->activation : Activation::Identity; }

namespace {
// One row of f32 rounded to bf16 (nearest even); cloned per ISA so it vectorizes (NaN inputs do
// not occur: activations are finite).
BERTCPP_MULTIVERSION
void row_to_bf16(const float* x, int64_t n, uint16_t* o) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) {
    uint32_t u;
    std::memcpy(&u, x + c, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    o[c] = static_cast<uint16_t>(u >> 16);
  }
}

// Rounds rows of f32 to bf16 into a per-thread buffer, contiguous [rows, in].
const uint16_t* to_bf16(const float* x, int64_t rows, int64_t in, int64_t stride) {
  thread_local std::vector<uint16_t> buf;
  const size_t need = static_cast<size_t>(rows * in);
  if (buf.size() < need) buf.resize(need);
  uint16_t* out = buf.data();
#pragma omp parallel for schedule(static) if (rows * in >= 65536)
  for (int64_t r = 0; r < rows; ++r) row_to_bf16(x + r * stride, in, out + r * in);
  return out;
}

// Copies strided rows into a per-thread contiguous buffer [rows, in].
const float* gather_rows(const float* x, int64_t rows, int64_t in, int64_t stride) {
  thread_local std::vector<float> buf;
  const size_t need = static_cast<size_t>(rows * in);
  if (buf.size() < need) buf.resize(need);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(buf.data() + r * in, x + r * stride, static_cast<size_t>(in) * sizeof(float));
  return buf.data();
}
}  // namespace

void Linear::forward(const float* x, int64_t rows, float* y, int64_t x_row_stride) const {
  if (!impl_) throw Error(ErrorKind::Internal, "Linear::forward on an empty Linear");
  if (rows < 0) throw invalid_argument("Linear::forward: negative row count " + std::to_string(rows));
  if (rows == 0) return;
  const int64_t stride = x_row_stride == 0 ? impl_->in : x_row_stride;
  if (stride < impl_->in) throw invalid_argument("Linear::forward: row stride " + std::to_string(stride) + " < in_features " + std::to_string(impl_->in));
  const bool bf16 = impl_->gemm == GemmType::BF16;
  const void* src = x;
  if (bf16) {
    src = to_bf16(x, rows, impl_->in, stride);
  } else if (stride != impl_->in) {
    // oneDNN 2.6 has only its reference matmul for strided rows (measured: 1.4 s for the pooler's
    // 64 rows × 768 → 768); gathering them first costs a copy.
    src = gather_rows(x, rows, impl_->in, stride);
  }
  auto plan = impl_->plan(rows, impl_->in);
  const auto& eng = cpu::dnnl_engine();
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, memory(plan->src, eng, const_cast<void*>(src))},
      {DNNL_ARG_WEIGHTS, impl_->weight_mem},
      {DNNL_ARG_DST, memory(plan->dst, eng, y)},
  };
  if (impl_->bias.defined()) args.emplace(DNNL_ARG_BIAS, impl_->bias_mem);
  cpu::dnnl_execute(plan->prim, std::move(args), plan->scratch);
}

Tensor Linear::forward(const Tensor& x) const {
  if (!impl_) throw Error(ErrorKind::Internal, "Linear::forward on an empty Linear");
  if (x.dtype() != DType::F32 || x.rank() < 1 || x.dim(-1) != impl_->in)
    throw invalid_argument("Linear::forward: input must be F32 [..., " + std::to_string(impl_->in) + "], got " +
                           std::string(dtype_name(x.dtype())) + " " + shape_to_string(x.shape()));
  Shape out_shape = x.shape();
  out_shape.back() = impl_->out;
  Tensor y = Tensor::empty(DType::F32, out_shape);
  forward(x.data<float>(), x.numel() / impl_->in, y.data<float>());
  return y;
}

}  // namespace bertcpp::ops
