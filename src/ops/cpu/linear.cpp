// Linear on oneDNN matmul: the weight [out, in] is viewed as Wᵀ [in, out] (strides {1, in}) and
// reordered once into the blocked layout oneDNN picks for it ("any"); a matmul primitive is
// created per row count and cached. Input rows always reach oneDNN contiguous (strided rows are
// gathered first: oneDNN 2.6 falls back to its reference kernel for them).
#include "ops/linear.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <cstring>
#include <utility>
#include <vector>

#include "ops/cpu/int8.h"
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
  dt wdt() const { return gemm == GemmType::BF16 ? dt::bf16 : gemm == GemmType::Int8 ? dt::s8 : dt::f32; }
  bool int8() const { return gemm == GemmType::Int8; }
  Tensor plain_weight;  // kept only when packing did not happen
  std::shared_ptr<void> weight_storage;  // the packed weights' buffer (huge pages where possible)
  // Int8: quantized weight [out, in] (kept only when packing did not happen), per-output-channel
  // weight scales, and 1/s[k] of the smoothing (empty: none).
  std::vector<int8_t> qweight;
  std::vector<float> wscale, inv_smooth;
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
    dnnl::primitive_attr attr = cpu::dnnl_default_attr();
    if (int8()) {  // bias, row scales and activation: our epilogue
      attr.set_output_scales(2, wscale);
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, w, dst), attr, cpu::dnnl_engine());
    }
    const dnnl::matmul::desc d = bias.defined() ? dnnl::matmul::desc(src, w, bias_desc(), dst)
                                                : dnnl::matmul::desc(src, w, dst);
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

  // y[rows, out] = GEMM of the contiguous input rows `src` (f32, bf16 or s8 as the plan expects),
  // with the bias when oneDNN adds it (not for int8: the epilogue does).
  void run(int64_t rows, const void* src, float* y) const {
    auto p = plan(rows, in);
    const auto& eng = cpu::dnnl_engine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(p->src, eng, const_cast<void*>(src))},
        {DNNL_ARG_WEIGHTS, weight_mem},
        {DNNL_ARG_DST, memory(p->dst, eng, y)},
    };
    if (bias.defined() && !int8()) args.emplace(DNNL_ARG_BIAS, bias_mem);
    cpu::dnnl_execute(p->prim, std::move(args), p->scratch);
  }
};

Linear::Linear(const Tensor& weight, const Tensor& bias, Activation activation, GemmType gemm,
               const Tensor& input_absmax) {
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
  if (input_absmax.defined()) {
    if (gemm != GemmType::Int8) throw invalid_argument("Linear: input_absmax (smoothing) applies to int8 GEMMs only");
    if (input_absmax.dtype() != DType::F32 || input_absmax.rank() != 1 || input_absmax.dim(0) != impl->in)
      throw invalid_argument("Linear input_absmax must be F32 [" + std::to_string(impl->in) + "], got " +
                             std::string(dtype_name(input_absmax.dtype())) + " " + shape_to_string(input_absmax.shape()));
  }
  if (gemm == GemmType::Int8) {
    init_int8(*impl, weight, input_absmax);
    impl_ = std::move(impl);
    return;
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
GemmType Linear::gemm() const { return impl_ ? impl_->gemm : GemmType::F32; }

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
  if (impl_->int8()) return forward_int8(x, rows, y, stride);
  const bool bf16 = impl_->gemm == GemmType::BF16;
  const void* src = x;
  if (bf16) {
    src = to_bf16(x, rows, impl_->in, stride);
  } else if (stride != impl_->in) {
    // oneDNN 2.6 has only its reference matmul for strided rows (measured: 1.4 s for the pooler's
    // 64 rows × 768 → 768); gathering them first costs a copy.
    src = gather_rows(x, rows, impl_->in, stride);
  }
  impl_->run(rows, src, y);
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

// Int8 (see linear.h): the weight is quantized per output channel here (optionally smoothed);
// oneDNN runs s8·s8 with the per-channel weight scales as CONSTANT output scales (runtime scales
// make oneDNN 2.6 fall back to a 10× slower kernel); our passes in ops/cpu/int8.cpp quantize the
// input per row (into a contiguous buffer) and apply the row scale, bias and activation.
void Linear::init_int8(Impl& impl, const Tensor& weight, const Tensor& input_absmax) {
  const int64_t in = impl.in, out = impl.out;
  const float* w = weight.data<float>();
  std::vector<float> smooth;
  if (input_absmax.defined()) {
    smooth = cpu::int8_smoothing(w, out, in, input_absmax);
    impl.inv_smooth.resize(smooth.size());
    for (size_t k = 0; k < smooth.size(); ++k) impl.inv_smooth[k] = 1.0f / smooth[k];
  }
  std::vector<int8_t> q(static_cast<size_t>(out * in));
  impl.wscale.resize(static_cast<size_t>(out));
  cpu::int8_quantize_weight(w, out, in, smooth, q.data(), impl.wscale.data());
  const memory::desc plain({in, out}, dt::s8, memory::dims{1, in});
  memory::desc packed;
  try {
    packed = impl.make_pd(128, in, memory::desc({in, out}, dt::s8, tag::any)).weights_desc();
  } catch (const dnnl::error& e) {
    throw unsupported(std::string("this CPU has no int8 GEMM (oneDNN: ") + e.what() + "); use f32");
  }
  if (packed == plain) {
    impl.qweight = std::move(q);
    impl.weight_desc = plain;
    impl.weight_mem = memory(plain, cpu::dnnl_engine(), impl.qweight.data());
    return;
  }
  impl.weight_desc = packed;
  impl.weight_mem = cpu::dnnl_weights_memory(packed, impl.weight_storage);
  memory src(plain, cpu::dnnl_engine(), q.data());
  try {
    dnnl::reorder r(src, impl.weight_mem);
    dnnl::stream& s = cpu::dnnl_thread_stream();
    r.execute(s, src, impl.weight_mem);
    s.wait();
  } catch (const dnnl::error& e) {
    throw Error(ErrorKind::Internal, std::string("oneDNN int8 weight packing failed: ") + e.what());
  }
}

void Linear::forward_int8(const float* x, int64_t rows, float* y, int64_t stride) const {
  const Impl& m = *impl_;
  const int64_t in = m.in, out = m.out;
  thread_local std::vector<int8_t> q;  // the quantized rows, contiguous [rows, in]
  thread_local std::vector<float> sx;   // their scales
  if (q.size() < static_cast<size_t>(rows * in)) q.resize(static_cast<size_t>(rows * in));
  if (sx.size() < static_cast<size_t>(rows)) sx.resize(static_cast<size_t>(rows));
  const float* inv_smooth = m.inv_smooth.empty() ? nullptr : m.inv_smooth.data();
  const float* b = m.bias.defined() ? m.bias.data<float>() : nullptr;
  int8_t* qd = q.data();
  float* sd = sx.data();
  // Rows [r0, r1): quantize, GEMM, epilogue — a row's result depends on that row only.
  auto block = [&](int64_t r0, int64_t r1) {
    if (r1 <= r0) return;
    cpu::int8_quantize_rows(x + r0 * stride, r1 - r0, in, stride, inv_smooth, qd + r0 * in, sd + r0);
    m.run(r1 - r0, qd + r0 * in, y + r0 * out);
    cpu::int8_dequantize_rows(y + r0 * out, r1 - r0, out, sd + r0, b, m.activation);
  };
  // One parallel region per call (each thread runs its block of rows, oneDNN single-threaded
  // inside) instead of three (quantize, GEMM, epilogue): fewer barriers, which matters when the
  // cores are shared. Blocks of >= 32 rows keep the GEMM efficient; fewer rows run as one block.
  const int threads = static_cast<int>(std::min<int64_t>(omp_get_max_threads(), rows / 32));  // >= 32 rows each
  if (threads <= 1 || omp_in_parallel()) {
    block(0, rows);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    try {
      block(rows * t / n, rows * (t + 1) / n);
    } catch (...) {
#pragma omp critical(bertcpp_int8_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace bertcpp::ops
