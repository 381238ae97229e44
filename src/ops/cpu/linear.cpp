// Linear on oneDNN matmul. The weight [out, in] is viewed as Wᵀ [in, out] and reordered once into
// the blocked layout oneDNN picks ("any"); a matmul primitive per row-block size (a bounded set,
// see row_blocks) is created on first use and cached.
// f32 and bf16: one oneDNN call per row block (up to 512 rows), threaded by oneDNN.
// int8 from 64 rows on: a call is a set of row-block tasks (16–64 rows, the whole width) that the
// OpenMP threads take dynamically, each running oneDNN single-threaded (the two vCPUs of the
// machines this was tuned on run at unequal, shifting speeds; oneDNN's static split of one GEMM left
// the faster thread waiting). A task owns whole rows: it quantizes its input rows, and its result is
// still in cache for the epilogue (row scale, bias, activation) and the caller's RowFinish
// (LayerNorm, quantizing the next GEMM's input), so those need no pass or parallel region of their own.
// On AVX2 CPUs without AVX-512 VNNI int8 Linears run bertcpp's own exact GEMM (ops/cpu/int8.h) in
// the same row-block tasks instead of oneDNN, whose AVX2 s8 kernel saturates pair sums in s16;
// f32 Linears on CPUs without AVX-512 run the own f32 GEMM (ops/cpu/f32_avx2.h): oneDNN's gemm:jit
// there gave a row different bits in different batches.
// Input rows always reach oneDNN contiguous (strided rows are gathered first: oneDNN 2.6 falls
// back to its reference kernel for them) and chunk outputs go to a contiguous tile (a strided
// destination makes it fall back from brgemm to gemm:jit).
#include "ops/linear.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ops/cpu/dnnl_context.h"
#include "ops/cpu/f32_avx2.h"
#include "ops/cpu/int8.h"
#include "ops/cpu/multiversion.h"

namespace bertcpp::ops {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

constexpr int64_t kRowBlockFloat = 512;  // f32/bf16 rows per oneDNN call (all threads)

dnnl::algorithm eltwise_algorithm(Activation a) {
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

// One column chunk [n0, n0 + out) of a Linear as a oneDNN matmul y = x·W_chunkᵀ. f32/bf16 (one
// chunk: the whole weight): oneDNN also adds the bias and applies the activation. Int8: oneDNN
// multiplies s8·s8 into s32 with no scales, so one primitive per (shape, rows) serves every chunk
// of that shape in the process (constant per-chunk output scales made one primitive per chunk:
// runtime scales make oneDNN 2.6 fall back to a 10×
// slower kernel); the caller's epilogue applies the weight and row scales.
struct Gemm {
  int64_t in = 0, n0 = 0, out = 0;
  GemmType gemm = GemmType::F32;
  Activation activation = Activation::Identity;  // f32/bf16 only
  Tensor bias;                                    // f32/bf16 only: [out], or undefined
  std::vector<float> wscale;                      // int8 only: the slice of the weight scales
  std::vector<int32_t> comp;                      // int8 only: 128·Σ_k q_w[c,k] for u8 input codes, else 0
  bool own = false;                               // int8 only: own exact AVX2 GEMM (cpu/int8.h), not oneDNN
  std::vector<int16_t> own_weight;                // its packed weight
  std::vector<float> own_f32;                     // f32 on AVX2 without AVX-512: own GEMM's weight (cpu/f32_avx2.h)
  Tensor plain_weight;                            // kept only when packing did not happen (f32)
  std::vector<int8_t> plain_qweight;              // likewise (int8)
  std::shared_ptr<void> weight_storage;           // the packed weights (huge pages where possible)
  memory::desc weight_desc;
  memory weight_mem, bias_mem;

  struct Plan {
    dnnl::matmul prim;
    memory::desc src, dst, scratch;
  };
  mutable std::shared_mutex mutex;
  mutable std::map<int64_t, std::shared_ptr<const Plan>> plans;  // by row count (f32/bf16)

  dt wdt() const { return gemm == GemmType::BF16 ? dt::bf16 : gemm == GemmType::Int8 ? dt::s8 : dt::f32; }

  dnnl::matmul::primitive_desc make_pd(int64_t rows, const memory::desc& w) const {
    const memory::desc src({rows, in}, wdt(), tag::ab);
    const memory::desc dst({rows, out}, gemm == GemmType::Int8 ? dt::s32 : dt::f32, tag::ab);
    dnnl::primitive_attr attr = cpu::dnnl_default_attr();
    if (gemm == GemmType::Int8) {
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, w, dst), attr, cpu::dnnl_engine());
    }
    const dnnl::matmul::desc d = bias.defined()
                                     ? dnnl::matmul::desc(src, w, memory::desc({1, out}, dt::f32, tag::ab), dst)
                                     : dnnl::matmul::desc(src, w, dst);
    if (activation != Activation::Identity) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f, eltwise_algorithm(activation), activation == Activation::Silu ? 1.0f : 0.0f, 0.0f);
      attr.set_post_ops(po);
    }
    return dnnl::matmul::primitive_desc(d, attr, cpu::dnnl_engine());
  }

  // Packs the chunk's weight rows: `rows` points at row n0 of the f32 weight [·, in] (f32, bf16)
  // or of the quantized weight (int8). `owner` keeps an unpacked f32 weight alive.
  void pack(const void* rows, const Tensor& owner) {
    const dt plain_dt = gemm == GemmType::Int8 ? dt::s8 : dt::f32;
    const memory::desc plain({in, out}, plain_dt, memory::dims{1, in});
    memory::desc packed;
    try {
      // The layout oneDNN wants for a sequence-sized GEMM; every row count then uses it (oneDNN
      // accepts any explicit weights layout it can handle).
      packed = make_pd(128, memory::desc({in, out}, wdt(), tag::any)).weights_desc();
    } catch (const dnnl::error& e) {
      if (gemm != GemmType::F32)
        throw unsupported(std::string("this CPU has no ") + (gemm == GemmType::BF16 ? "bf16" : "int8") +
                          " GEMM (oneDNN: " + e.what() + "); use f32");
      packed = plain;
    }
    if (packed == plain) {
      if (gemm == GemmType::Int8) {
        const auto* q = static_cast<const int8_t*>(rows);
        plain_qweight.assign(q, q + in * out);
        rows = plain_qweight.data();
      } else {
        plain_weight = owner;
      }
      weight_desc = plain;
      weight_mem = memory(plain, cpu::dnnl_engine(), const_cast<void*>(rows));
      return;
    }
    weight_desc = packed;
    weight_mem = cpu::dnnl_weights_memory(packed, weight_storage);
    memory src(plain, cpu::dnnl_engine(), const_cast<void*>(rows));
    try {
      dnnl::reorder r(src, weight_mem);
      dnnl::stream& s = cpu::dnnl_thread_stream();
      r.execute(s, src, weight_mem);
      s.wait();
    } catch (const dnnl::error& e) {
      throw Error(ErrorKind::Internal, std::string("oneDNN weight packing failed: ") + e.what());
    }
  }

  std::shared_ptr<const Plan> plan(int64_t rows) const {
    // Int8 plans are shared by every chunk of the same shape (same weights layout, no attributes).
    static std::shared_mutex shared_mutex;
    static std::map<std::tuple<int64_t, int64_t, int64_t>, std::shared_ptr<const Plan>> shared_plans;
    const bool shared = gemm == GemmType::Int8;
    const auto key = std::make_tuple(in, out, rows);
    {
      std::shared_lock lock(shared ? shared_mutex : mutex);
      if (shared) {
        auto it = shared_plans.find(key);
        if (it != shared_plans.end()) return it->second;
      } else {
        auto it = plans.find(rows);
        if (it != plans.end()) return it->second;
      }
    }
    dnnl::matmul::primitive_desc pd;
    try {
      pd = make_pd(rows, weight_desc);
    } catch (const dnnl::error& e) {
      throw Error(ErrorKind::Internal, "oneDNN has no matmul for Linear " + std::to_string(in) + "->" +
                                           std::to_string(out) + " with " + std::to_string(rows) +
                                           " rows: " + e.what());
    }
    auto p = std::make_shared<Plan>(Plan{dnnl::matmul(pd), pd.src_desc(), pd.dst_desc(), pd.scratchpad_desc()});
    std::unique_lock lock(shared ? shared_mutex : mutex);
    if (shared) {
      if (shared_plans.size() >= 4096) shared_plans.clear();  // a safety bound: row_blocks keeps the set small
      return shared_plans.emplace(key, std::move(p)).first->second;
    }
    if (plans.size() >= 512) plans.clear();
    return plans.emplace(rows, std::move(p)).first->second;
  }

  // y[rows, out] (contiguous) = GEMM of the contiguous input rows `src` (f32, bf16 or s8).
  // The argument memory objects are made once per (thread, plan) and only re-pointed per call:
  // building them costs ≈ 2 µs a call (measured 5.6 vs 3.4 µs for a 16×768×128 int8 GEMM),
  // which adds up over ~300 chunk calls per int8 forward.
  void run(int64_t rows, const void* src, void* y) const {
    struct Bound {
      std::shared_ptr<const Plan> plan;  // keeps the plan's address from being reused
      memory src, dst, scratch;
      std::unordered_map<int, memory> args;
    };
    thread_local std::unordered_map<const Plan*, Bound> bound;
    auto p = plan(rows);
    auto it = bound.find(p.get());
    if (it == bound.end()) {
      if (bound.size() >= 1024) bound.clear();
      const auto& eng = cpu::dnnl_engine();
      Bound b{p, memory(p->src, eng, nullptr), memory(p->dst, eng, nullptr), memory(p->scratch, eng, nullptr), {}};
      b.args = {{DNNL_ARG_SRC, b.src}, {DNNL_ARG_DST, b.dst}};
      if (p->scratch.get_size() > 0) b.args.emplace(DNNL_ARG_SCRATCHPAD, b.scratch);
      it = bound.emplace(p.get(), std::move(b)).first;
    }
    Bound& b = it->second;
    b.args.insert_or_assign(DNNL_ARG_WEIGHTS, weight_mem);  // a shared plan runs many chunks' weights
    if (bias.defined()) b.args.insert_or_assign(DNNL_ARG_BIAS, bias_mem);
    b.src.set_data_handle(const_cast<void*>(src));
    b.dst.set_data_handle(y);
    if (p->scratch.get_size() > 0) b.scratch.set_data_handle(cpu::dnnl_thread_scratchpad(p->scratch.get_size()));
    cpu::dnnl_execute(p->prim, b.args);
  }
};

}  // namespace

// Max |x[:, k]| seen by a recording Linear (a probe pass at load).
struct InputAbsmax {
  std::mutex mutex;
  std::vector<float> absmax;
};

struct Linear::Impl {
  int64_t in = 0, out = 0;
  Activation activation = Activation::Identity;
  GemmType gemm = GemmType::F32;
  Tensor bias;                    // F32 [out] or undefined
  std::vector<float> inv_smooth;  // int8: 1/s[k] of the smoothing, 0 at the f32 channels (empty: none)
  std::vector<float> smooth_only; // int8: 1/s[k] of the smoothing alone (empty: none)
  std::vector<int64_t> f32_channels;  // int8: input channels multiplied in f32 beside the GEMM
  std::vector<float> f32_weight;      // [f32_channels, out]: W[:, j] of each
  std::shared_ptr<InputAbsmax> recorder;  // int8, probe pass only
  std::shared_ptr<const std::vector<Gemm>> chunks;  // one: the whole weight (shared by with_f32_channels)

  cpu::F32Channels f32() const {
    return {f32_channels.data(), static_cast<int64_t>(f32_channels.size()), f32_weight.data()};
  }
  void record(const float* x, int64_t rows, int64_t stride) const;
};

void Linear::Impl::record(const float* x, int64_t rows, int64_t stride) const {
  std::vector<float> a(static_cast<size_t>(in), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[r * stride + k] * (smooth_only.empty() ? 1.0f : smooth_only[static_cast<size_t>(k)]);
      a[k] = std::max(a[k], std::fabs(v));
    }
  std::lock_guard lock(recorder->mutex);
  for (int64_t k = 0; k < in; ++k) recorder->absmax[k] = std::max(recorder->absmax[k], a[k]);
}

Linear::Linear(const Tensor& weight, const Tensor& bias, Activation activation, GemmType gemm,
               const Tensor& input_absmax) {
  if (weight.dtype() != DType::F32 || weight.rank() != 2)
    throw invalid_argument("Linear weight must be F32 [out, in], got " + std::string(dtype_name(weight.dtype())) +
                           " " + shape_to_string(weight.shape()));
  auto impl = std::make_shared<Impl>();
  impl->activation = activation;
  impl->gemm = gemm;
  const int64_t out = impl->out = weight.dim(0);
  const int64_t in = impl->in = weight.dim(1);
  if (in <= 0 || out <= 0) throw invalid_argument("Linear weight has an empty shape " + shape_to_string(weight.shape()));
  if (bias.defined()) {
    if (bias.dtype() != DType::F32 || bias.rank() != 1 || bias.dim(0) != out)
      throw invalid_argument("Linear bias must be F32 [" + std::to_string(out) + "], got " +
                             std::string(dtype_name(bias.dtype())) + " " + shape_to_string(bias.shape()));
    impl->bias = bias;
  }
  if (input_absmax.defined()) {
    if (gemm != GemmType::Int8) throw invalid_argument("Linear: input_absmax (smoothing) applies to int8 GEMMs only");
    if (input_absmax.dtype() != DType::F32 || input_absmax.rank() != 1 || input_absmax.dim(0) != in)
      throw invalid_argument("Linear input_absmax must be F32 [" + std::to_string(in) + "], got " +
                             std::string(dtype_name(input_absmax.dtype())) + " " + shape_to_string(input_absmax.shape()));
  }
  const bool int8 = gemm == GemmType::Int8;
  std::vector<int8_t> q;
  std::vector<float> wscale;
  if (int8) {
    const float* w = weight.data<float>();
    std::vector<float> smooth;
    if (input_absmax.defined()) {
      smooth = cpu::int8_smoothing(w, out, in, input_absmax);
      impl->inv_smooth.resize(smooth.size());
      for (size_t k = 0; k < smooth.size(); ++k) impl->inv_smooth[k] = 1.0f / smooth[k];
      impl->smooth_only = impl->inv_smooth;
    }
    q.resize(static_cast<size_t>(out * in));
    wscale.resize(static_cast<size_t>(out));
    cpu::int8_quantize_weight(w, out, in, smooth, q.data(), wscale.data());
  }
  // One chunk: the whole weight. Column chunks as tasks measured slower for f32 (b1×128 133 vs
  // 120 ms, b1×16 31.5 vs 28.3 ms) and bf16 (b1×128 67.0 vs 55.4 ms); for int8 they were replaced
  // by row-block tasks, which let a task finish whole rows (see forward_int8).
  const int64_t width = out;
  auto chunks = std::make_shared<std::vector<Gemm>>(static_cast<size_t>((out + width - 1) / width));
  for (size_t i = 0; i < chunks->size(); ++i) {
    Gemm& c = (*chunks)[i];
    c.in = in;
    c.n0 = static_cast<int64_t>(i) * width;
    c.out = std::min(width, out - c.n0);
    c.gemm = gemm;
    if (int8) {
      c.wscale.assign(wscale.begin() + c.n0, wscale.begin() + c.n0 + c.out);
      c.comp.assign(static_cast<size_t>(c.out), 0);
      c.own = cpu::int8_avx2_exact();
      if (c.own) {
        c.own_weight = cpu::int8_avx2_pack(q.data() + c.n0 * in, c.out, in);
        continue;
      }
      c.pack(q.data() + c.n0 * in, weight);
      continue;
    }
    c.activation = activation;  // the one chunk: the whole weight, bias and activation
    if (bias.defined()) {
      c.bias = bias;
      c.bias_mem = memory(memory::desc({1, out}, dt::f32, tag::ab), cpu::dnnl_engine(), const_cast<float*>(bias.data<float>()));
    }
    if (gemm == GemmType::F32 && cpu::f32_avx2_own()) {
      c.own_f32 = cpu::f32_avx2_pack(weight.data<float>() + c.n0 * in, c.out, in);
      continue;
    }
    c.pack(weight.data<float>(), weight);
  }
  impl->chunks = std::move(chunks);
  impl_ = std::move(impl);
}

Linear Linear::with_f32_channels(const Tensor& weight, const std::vector<int64_t>& channels) const {
  if (!impl_ || impl_->gemm != GemmType::Int8) throw Error(ErrorKind::Internal, "Linear::with_f32_channels on a non-int8 Linear");
  const int64_t in = impl_->in, out = impl_->out;
  if (weight.dtype() != DType::F32 || weight.rank() != 2 || weight.dim(0) != out || weight.dim(1) != in)
    throw invalid_argument("Linear::with_f32_channels: weight must be F32 [" + std::to_string(out) + ", " +
                           std::to_string(in) + "], got " + std::string(dtype_name(weight.dtype())) + " " +
                           shape_to_string(weight.shape()));
  auto impl = std::make_shared<Impl>();
  impl->in = in;
  impl->out = out;
  impl->activation = impl_->activation;
  impl->gemm = impl_->gemm;
  impl->bias = impl_->bias;
  impl->smooth_only = impl_->smooth_only;
  impl->chunks = impl_->chunks;
  impl->f32_channels = channels;
  if (!channels.empty()) {
    impl->inv_smooth = impl->smooth_only.empty() ? std::vector<float>(static_cast<size_t>(in), 1.0f) : impl->smooth_only;
    impl->f32_weight.resize(channels.size() * static_cast<size_t>(out));
    const float* w = weight.data<float>();
    for (size_t i = 0; i < channels.size(); ++i) {
      const int64_t j = channels[i];
      if (j < 0 || j >= in || impl->inv_smooth[static_cast<size_t>(j)] == 0.0f)
        throw invalid_argument("Linear::with_f32_channels: channel " + std::to_string(j) +
                               (j < 0 || j >= in ? " is not in [0, " + std::to_string(in) + ")" : " is given twice"));
      impl->inv_smooth[static_cast<size_t>(j)] = 0.0f;  // left out of the int8 row (and of its scale)
      for (int64_t c = 0; c < out; ++c) impl->f32_weight[i * static_cast<size_t>(out) + c] = w[c * in + j];
    }
  } else {
    impl->inv_smooth = impl->smooth_only;
  }
  Linear l;
  l.impl_ = std::move(impl);
  return l;
}

const std::vector<int64_t>& Linear::f32_channels() const {
  static const std::vector<int64_t> none;
  return impl_ ? impl_->f32_channels : none;
}

Linear Linear::recording_input_absmax() const {
  if (!impl_ || impl_->gemm != GemmType::Int8) throw Error(ErrorKind::Internal, "Linear::recording_input_absmax on a non-int8 Linear");
  auto impl = std::make_shared<Impl>();
  impl->in = impl_->in;
  impl->out = impl_->out;
  impl->activation = impl_->activation;
  impl->gemm = impl_->gemm;
  impl->bias = impl_->bias;
  impl->inv_smooth = impl_->inv_smooth;
  impl->smooth_only = impl_->smooth_only;
  impl->f32_channels = impl_->f32_channels;
  impl->f32_weight = impl_->f32_weight;
  impl->chunks = impl_->chunks;
  impl->recorder = std::make_shared<InputAbsmax>();
  impl->recorder->absmax.assign(static_cast<size_t>(impl->in), 0.0f);
  Linear l;
  l.impl_ = std::move(impl);
  return l;
}

std::vector<float> Linear::input_absmax() const {
  if (!impl_ || !impl_->recorder) return {};
  std::lock_guard lock(impl_->recorder->mutex);
  return impl_->recorder->absmax;
}

int64_t Linear::scale_stride() const { return impl_ ? 1 + static_cast<int64_t>(impl_->f32_channels.size()) : 1; }

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

// The row blocks of a call. Every block but a call's only one has a multiple of 16 rows and at
// most max_rows, so a Linear compiles at most max_rows / 16 + 15 primitives however many distinct
// row counts a corpus brings (one primitive per count grew a streaming run's memory without bound).
// A tail that is not a multiple of 16 is covered by a block rounded up to 16 that ends at the last
// row and overlaps rows already computed: no padded copy of the input, and an overlapped row gets
// the same bits again (a row's result depends on that row only). `from` is the first row the
// block writes. Also oneDNN 2.6's AMX GEMMs ran 2–7× slower for some counts above 128 that are not
// multiples of 16 (232 rows 1.3 ms, 224 and 240 rows 0.3 ms), every count up to 128 was fine.
struct RowBlock {
  int64_t start, rows, from;
};
std::vector<RowBlock> row_blocks(int64_t rows, int64_t max_rows) {
  if (rows < 16) return {{0, rows, 0}};
  std::vector<RowBlock> blocks;
  int64_t r = 0;
  for (; rows - r >= max_rows; r += max_rows) blocks.push_back({r, max_rows, r});
  const int64_t rest = rows - r, up = (rest + 15) / 16 * 16;
  if (rest == 0) return blocks;
  if (up <= rows) {
    blocks.push_back({rows - up, up, r});
  } else {  // rows < max_rows and not a multiple of 16: the 16-multiple part, then 16 rows at the end
    blocks.push_back({0, rest / 16 * 16, 0});
    blocks.push_back({rows - 16, 16, rest / 16 * 16});
  }
  return blocks;
}

// Per-thread buffer of at least n elements of T, one per Use (they are live at the same time).
enum class Use { Input, Scales, Tile };
template <typename T, Use>
T* thread_buffer(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Runs task(0 .. tasks-1): on the calling thread when there is one task or we are already inside
// a parallel region, else taken dynamically by the OpenMP threads (the first exception rethrown).
template <typename F>
void run_tasks(int64_t tasks, const F& task) {
  if (tasks == 1 || omp_in_parallel()) {
    for (int64_t t = 0; t < tasks; ++t) task(t);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; ++t) {
    try {
      task(t);
    } catch (...) {
#pragma omp critical(bertcpp_linear_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Int8 GEMM of `rows` rows: input f32 x (row stride `stride`, quantized per task) or, when x is
// null, already quantized q/scale; results into y (or a per-thread tile when y is null), then
// finish per row block (see Linear::forward_int8).
void run_int8(const Linear::Impl& m, const float* x, int64_t stride, const int8_t* q, const float* scale, int64_t rows,
              float* y, Linear::RowFinish finish, void* ctx) {
  const Gemm& g = m.chunks->front();
  const int64_t in = m.in, out = m.out, ss = 1 + static_cast<int64_t>(m.f32_channels.size());
  const cpu::F32Channels f32 = m.f32();
  const float* inv_smooth = m.inv_smooth.empty() ? nullptr : m.inv_smooth.data();
  const float* bias = m.bias.defined() ? m.bias.data<float>() : nullptr;
  // Row blocks of 16–64 rows, about four per thread; under 64 rows one block on all threads.
  const bool nested = omp_in_parallel() != 0;
  const int64_t threads = nested ? 1 : omp_get_max_threads();
  const int64_t block_rows = rows < 64 ? kRowBlockFloat : std::clamp<int64_t>(rows / (4 * threads) / 16 * 16, 16, 64);
  const std::vector<RowBlock> blocks = row_blocks(rows, block_rows);
  auto task = [&](const RowBlock& b) {
    const int8_t* qb = q ? q + b.start * in : nullptr;
    const float* sb = q ? scale + b.start * ss : nullptr;
    if (!q) {
      int8_t* qt = thread_buffer<int8_t, Use::Input>(static_cast<size_t>(b.rows * in));
      float* st = thread_buffer<float, Use::Scales>(static_cast<size_t>(b.rows * ss));
      if (m.recorder) m.record(x + b.start * stride, b.rows, stride);
      cpu::int8_quantize_rows(x + b.start * stride, b.rows, in, stride, inv_smooth, f32, false, qt, st);
      qb = qt;
      sb = st;
    }
    const int64_t skip = b.from - b.start;  // overlapped rows: another task writes them
    // s32 and f32 have one size: a block that overlaps nothing converts in place
    float* tile = y ? nullptr : thread_buffer<float, Use::Tile>(static_cast<size_t>(b.rows * out));
    float* dst = y ? y + b.from * out : tile + skip * out;
    int32_t* acc = y && skip > 0 ? thread_buffer<int32_t, Use::Tile>(static_cast<size_t>(b.rows * out))
                                 : reinterpret_cast<int32_t*>(y ? dst : tile);
    if (!g.own) {
      g.run(b.rows, qb, acc);
    } else if (blocks.size() == 1 && !nested && threads > 1) {  // one block: its column panels on all threads
      const int64_t panels = cpu::int8_avx2_panels(out), per = (panels + threads - 1) / threads;
#pragma omp parallel for schedule(static)
      for (int64_t t = 0; t < threads; ++t)
        if (t * per < panels) cpu::int8_avx2_gemm(qb, b.rows, in, g.own_weight.data(), out, acc, t * per, (t + 1) * per);
    } else {
      cpu::int8_avx2_gemm(qb, b.rows, in, g.own_weight.data(), out, acc);
    }
    cpu::int8_epilogue(acc + skip * out, b.rows - skip, out, g.comp.data(), g.wscale.data(), sb + skip * ss, f32, bias, m.activation,
                       dst, out);
    if (finish) finish(ctx, b.from, b.rows - skip, dst);
  };
  // One block (oneDNN runs it on all threads: it must not be inside a parallel region, even an
  // inactive one, or it runs single-threaded), or the blocks as tasks.
  run_tasks(static_cast<int64_t>(blocks.size()), [&](int64_t t) { task(blocks[static_cast<size_t>(t)]); });
}
// f32 on the own AVX2 GEMM: tasks of up to 96 rows × a share of the 16-column panels, taken
// dynamically (about four per thread); rows are independent, so the split never changes a result.
void run_f32_own(const Linear::Impl& m, const Gemm& g, const float* x, int64_t stride, int64_t rows, float* y) {
  const int64_t out = m.out, in = m.in, panels = cpu::f32_avx2_panels(out);
  const float* bias = m.bias.defined() ? m.bias.data<float>() : nullptr;
  const bool nested = omp_in_parallel() != 0;
  const int64_t threads = nested ? 1 : omp_get_max_threads();
  const int64_t row_tasks = (rows + 95) / 96;
  const int64_t col_tasks = std::min(panels, std::max<int64_t>(1, (4 * threads + row_tasks - 1) / row_tasks));
  const int64_t per = (panels + col_tasks - 1) / col_tasks, tasks = row_tasks * col_tasks;
  auto task = [&](int64_t t) {
    const int64_t r0 = t / col_tasks * 96, rn = std::min<int64_t>(96, rows - r0);
    const int64_t p0 = t % col_tasks * per, p1 = std::min(panels, p0 + per);
    if (p0 >= p1) return;
    cpu::f32_avx2_gemm(x + r0 * stride, stride, rn, in, g.own_f32.data(), out, bias, y + r0 * out, out, p0, p1);
    const int64_t c0 = p0 * 16, cn = std::min(out, p1 * 16) - c0;
    for (int64_t r = r0; r < r0 + rn; ++r) activate(y + r * out + c0, cn, m.activation);
  };
  run_tasks(tasks, task);
}

// oneDNN 2.6 on AMX CPUs picks a bf16 GEMM's kernel and K blocking from its row count (1–15 rows:
// avx512_core_bf16; K = 3072 split one way at 16 rows and another at 32+), and a K split changes
// the f32 sums' rounding: the same row gave other bits alone than in a batch. So there every bf16
// call has exactly kRowBlockAmxBf16 rows (one primitive; the last block padded with zero rows) and
// the blocks are tasks, oneDNN single-threaded inside.
constexpr int64_t kRowBlockAmxBf16 = 32;
bool amx_bf16() {
  static const bool v = dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx;
  return v;
}
void run_bf16_fixed(const Gemm& g, const float* x, int64_t stride, int64_t rows, float* y) {
  const int64_t in = g.in, out = g.out, mb = kRowBlockAmxBf16, tasks = (rows + mb - 1) / mb;
  auto task = [&](int64_t t) {
    const int64_t r0 = t * mb, rn = std::min(mb, rows - r0);
    uint16_t* b = thread_buffer<uint16_t, Use::Input>(static_cast<size_t>(mb * in));
    for (int64_t r = 0; r < rn; ++r) row_to_bf16(x + (r0 + r) * stride, in, b + r * in);
    if (rn == mb) {
      g.run(mb, b, y + r0 * out);
      return;
    }
    std::fill(b + rn * in, b + mb * in, uint16_t{0});
    float* tile = thread_buffer<float, Use::Tile>(static_cast<size_t>(mb * out));
    g.run(mb, b, tile);
    std::memcpy(y + r0 * out, tile, static_cast<size_t>(rn * out) * sizeof(float));
  };
  run_tasks(tasks, task);
}
}  // namespace

void Linear::forward(const float* x, int64_t rows, float* y, int64_t x_row_stride) const {
  if (!impl_) throw Error(ErrorKind::Internal, "Linear::forward on an empty Linear");
  if (rows < 0) throw invalid_argument("Linear::forward: negative row count " + std::to_string(rows));
  if (rows == 0) return;
  const Impl& m = *impl_;
  const int64_t in = m.in;
  const int64_t stride = x_row_stride == 0 ? in : x_row_stride;
  if (stride < in) throw invalid_argument("Linear::forward: row stride " + std::to_string(stride) + " < in_features " + std::to_string(in));
  if (m.gemm == GemmType::Int8) {
    run_int8(m, x, stride, nullptr, nullptr, rows, y, nullptr, nullptr);
    return;
  }
  if (!m.chunks->front().own_f32.empty()) {
    run_f32_own(m, m.chunks->front(), x, stride, rows, y);
    return;
  }

  // The GEMM input, contiguous [rows, in]: f32 rows as given (gathered when strided) or rounded to bf16.
  const size_t n_in = static_cast<size_t>(rows * in);
  const void* src = x;
  size_t elem = sizeof(float);
  const Gemm& c = m.chunks->front();
  if (m.gemm == GemmType::BF16) {
    if (amx_bf16()) {
      run_bf16_fixed(c, x, stride, rows, y);
      return;
    }
    uint16_t* b = thread_buffer<uint16_t, Use::Input>(n_in);
#pragma omp parallel for schedule(static) if (n_in >= 65536 && !omp_in_parallel())
    for (int64_t r = 0; r < rows; ++r) row_to_bf16(x + r * stride, in, b + r * in);
    src = b;
    elem = 2;
  } else if (stride != in) {
    float* g = thread_buffer<float, Use::Input>(n_in);
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(g + r * in, x + r * stride, static_cast<size_t>(in) * sizeof(float));
    src = g;
  }
  // Row blocks straight into y, each on all threads (oneDNN's threading; every row's result depends
  // on that row only: the GEMMs never mix rows).
  for (const RowBlock& rb : row_blocks(rows, kRowBlockFloat))
    c.run(rb.rows, static_cast<const char*>(src) + static_cast<size_t>(rb.start * in) * elem, y + rb.start * m.out);
}

void Linear::quantize_input(const float* x, int64_t rows, int8_t* q, float* scale, int64_t x_row_stride) const {
  if (!impl_ || impl_->gemm != GemmType::Int8) throw Error(ErrorKind::Internal, "Linear::quantize_input on a non-int8 Linear");
  const Impl& m = *impl_;
  const int64_t stride = x_row_stride == 0 ? m.in : x_row_stride;
  if (m.recorder) m.record(x, rows, stride);
  cpu::int8_quantize_rows(x, rows, m.in, stride, m.inv_smooth.empty() ? nullptr : m.inv_smooth.data(), m.f32(),
                          false, q, scale);
}

void Linear::forward_int8(const float* x, const int8_t* q, const float* scale, int64_t rows, float* y,
                          RowFinish finish, void* finish_ctx) const {
  if (!impl_ || impl_->gemm != GemmType::Int8) throw Error(ErrorKind::Internal, "Linear::forward_int8 on a non-int8 Linear");
  if (rows < 0) throw invalid_argument("Linear::forward_int8: negative row count " + std::to_string(rows));
  if (!x && (!q || !scale)) throw invalid_argument("Linear::forward_int8: neither f32 nor quantized input rows");
  if (rows == 0) return;
  run_int8(*impl_, x, impl_->in, x ? nullptr : q, scale, rows, y, finish, finish_ctx);
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
