// The encoder on ops/, in transformers' order. Top to bottom: loading (slots -> packed Linears),
// input validation, embeddings, the packed batch, encoder layers (attention block, feed-forward
// block), pooler, heads.
#include "model/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <random>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "model/input.h"
#include "model/weights.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/alibi.h"
#include "ops/glu.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/rotary.h"
#include "ops/threads.h"

namespace bertcpp::model {

namespace {

struct LayerNormWeights {
  Tensor gamma, beta;  // beta undefined: no bias
  bool rms = false;    // RMSNorm (gamma only)
};

struct EncoderLayer {
  ops::Linear qkv;       // query, key, value fused: [3·hidden, hidden]
  ops::Linear attn_out;  // attention.output.dense
  LayerNormWeights attn_ln;
  ops::Linear intermediate;  // with hidden_act fused; a gated MLP's [gate | up] rows, act applied by ops::glu
  ops::Linear output;
  LayerNormWeights out_ln;
  ops::Linear& linear(int which) { return which == 0 ? qkv : which == 1 ? attn_out : which == 2 ? intermediate : output; }
};

// Rows of several [out_i] or [out_i, in] tensors (slot + suffix) stacked into one.
Tensor stacked(const Weights& w, const std::vector<std::string>& slots, const std::string& suffix) {
  int64_t rows = 0;
  for (const auto& p : slots) rows += w.get(p + suffix).dim(0);
  Shape shape = w.get(slots.front() + suffix).shape();
  shape[0] = rows;
  Tensor out = Tensor::empty(DType::F32, shape);
  float* d = out.data<float>();
  for (const auto& p : slots) {
    const Tensor& t = w.get(p + suffix);
    std::memcpy(d, t.data<float>(), t.nbytes());
    d += t.numel();
  }
  return out;
}

// Rows of several [out_i, in] weights (and their [out_i] biases, when the slots have them) stacked
// into one Linear.
ops::Linear stacked_linear(const Weights& w, const std::vector<std::string>& slots, ops::GemmType gemm) {
  const bool has_bias = w.has(slots.front() + ".bias");  // the slot table asks for all or none
  return ops::Linear(stacked(w, slots, ".weight"), has_bias ? stacked(w, slots, ".bias") : Tensor(),
                     ops::Activation::Identity, gemm);
}

// A stored [up | gate] tensor as the Linear ops::glu reads, [gate | up].
Tensor swap_halves(const Tensor& t) {
  Tensor out = Tensor::empty(DType::F32, t.shape());
  const size_t half = static_cast<size_t>(t.numel() / 2);
  std::memcpy(out.data<float>(), t.data<float>() + half, half * sizeof(float));
  std::memcpy(out.data<float>() + half, t.data<float>(), half * sizeof(float));
  return out;
}
ops::Linear gate_first_linear(const Weights& w, const std::string& slot, ops::GemmType gemm) {
  const std::string bias = slot + ".bias";
  return ops::Linear(swap_halves(w.get(slot + ".weight")), w.has(bias) ? swap_halves(w.get(bias)) : Tensor(),
                     ops::Activation::Identity, gemm);
}

// Int8 outlier channels without calibration data. Trained encoders have a few input channels of
// their Linears that are 10–40× the others in many tokens (all-mpnet-base-v2: hidden channels
// 555, 461, 568 of the QKV input; all-MiniLM-L6-v2: 99 of the intermediate input); a per-row int8
// scale spent on them coarsens every other channel. They are properties of the weights, not of the
// text: a probe forward at load on token ids spread over the vocabulary records max |x_k| at every
// int8 Linear's input, and each Linear's kF32Channels largest channels are then multiplied in f32
// beside the int8 GEMM (ops::Linear::with_f32_channels; docs/accuracy.md).
constexpr int64_t kF32Channels = 4, kProbeTexts = 4, kProbeTokens = 128;

// The f32 weight [out, in] of a layer's qkv, attn_out, intermediate and output Linears (in that
// order) as that Linear was built from, made again on demand (stacked ones are copies).
using LayerWeightSource = std::function<Tensor(int)>;
LayerWeightSource layer_weight_source(const Weights& w, const EncoderConfig& cfg, const std::string& p) {
  return [&w, &cfg, p](int which) -> Tensor {
    switch (which) {
      case 0:
        return cfg.qkv_fused ? w.get(p + "attention.self.qkv.weight")
                             : stacked(w, {p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"},
                                       ".weight");
      case 1: return w.get(p + "attention.output.dense.weight");
      case 2:
        if (cfg.glu_fused_up_gate) return swap_halves(w.get(p + "intermediate.up_gate.weight"));
        if (cfg.glu_fused_gate_up) return w.get(p + "intermediate.gate_up.weight");
        if (cfg.glu) return stacked(w, {p + "intermediate.gate", p + "intermediate.dense"}, ".weight");
        return w.get(p + "intermediate.dense.weight");
      default: return w.get(p + "output.dense.weight");
    }
  };
}

// `release(i)` drops layer i's checkpoint pages again once its columns are copied (they were
// released after packing; reading them back would otherwise raise the peak RSS by every layer's f32 weights).
void find_f32_channels(const Network& net, std::vector<EncoderLayer>& layers, const std::vector<LayerWeightSource>& sources,
                       const std::function<void(size_t)>& release) {
  const EncoderConfig& cfg = net.config();
  const int64_t S = std::min(kProbeTokens, cfg.max_sequence_length());
  Input probe;
  probe.input_ids = Tensor::empty(DType::I64, {kProbeTexts, S});
  std::mt19937_64 rng(20261203);  // fixed: the same channels on every load
  for (int64_t i = 0; i < probe.input_ids.numel(); ++i)
    probe.input_ids.data<int64_t>()[i] = static_cast<int64_t>(rng() % static_cast<uint64_t>(cfg.vocab_size));
  for (EncoderLayer& l : layers)
    for (int which = 0; which < 4; ++which) l.linear(which) = l.linear(which).recording_input_absmax();
  Request req;
  req.pooler = false;
  req.head = false;
  net.forward(probe, req);
  for (size_t i = 0; i < layers.size(); ++i)
    for (int which = 0; which < 4; ++which) {
      ops::Linear& lin = layers[i].linear(which);
      const std::vector<float> a = lin.input_absmax();
      std::vector<int64_t> order(a.size());
      std::iota(order.begin(), order.end(), int64_t{0});
      const size_t k = std::min<size_t>(static_cast<size_t>(kF32Channels), order.size());
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](int64_t x, int64_t y) { return a[static_cast<size_t>(x)] > a[static_cast<size_t>(y)] ||
                                                           (a[static_cast<size_t>(x)] == a[static_cast<size_t>(y)] && x < y); });
      order.resize(k);
      std::sort(order.begin(), order.end());
      lin = lin.with_f32_channels(sources[i](which), order);
      if (which == 3) release(i);
    }
}

ops::Linear linear(const Weights& w, const std::string& slot, ops::Activation act = ops::Activation::Identity,
                   ops::GemmType gemm = ops::GemmType::F32) {
  const std::string bias = slot + ".bias";
  return ops::Linear(w.get(slot + ".weight"), w.has(bias) ? w.get(bias) : Tensor(), act, gemm);
}

LayerNormWeights layer_norm_weights(const Weights& w, const std::string& slot, bool rms = false) {
  if (rms) return {w.get(slot + ".weight"), Tensor(), true};
  return {w.get(slot + ".weight"), w.get(slot + ".bias")};
}

// Per-thread scratch for the encoder's intermediate activations, kept between calls so a
// forward pass does not allocate (and page-fault) them again; blocks above kKeepBytes are
// released after the call that needed them.
class Workspace {
 public:
  static Workspace& of_this_thread() {
    thread_local Workspace ws;
    return ws;
  }
  float* get(size_t floats) {
    if (floats > size_) {
      data_.reset(new float[floats]);
      size_ = floats;
    }
    return data_.get();
  }
  void trim() {
    if (size_ * sizeof(float) > kKeepBytes) {
      data_.reset();
      size_ = 0;
    }
  }

 private:
  static constexpr size_t kKeepBytes = size_t{256} << 20;
  std::unique_ptr<float[]> data_;
  size_t size_ = 0;
};

// Rows per slab of the encoder with int8 GEMMs (see Encoder::forward). Measured (random bert-base,
// 2 threads): b32×128 int8 903–1242 ms with 512-row slabs vs 1211–1275 ms without; the var-len
// batch 1038–1157 vs 1113–1140 ms. f32 and bf16 run all rows at once: their single oneDNN call
// per Linear would get a slab's odd row count (var-len batch 4791 vs 3684 ms and 3835 vs 3638 ms).
// Hidden size ≤ 384 (all-MiniLM-L6-v2): 2048-row slabs, a quarter of the parallel regions; best
// iteration of five interleaved rounds at b32×128, 591–879 ms vs 728–1000 ms with 512 (a loaded machine).
constexpr int64_t kSlabRows = 512, kSlabRowsNarrow = 2048;

// MPNet's relative_position_bucket (T5's, bidirectional) for relative position j - i, with
// torch's float32 arithmetic for the logarithmic buckets.
int64_t relative_position_bucket(int64_t relative_position, int64_t num_buckets, int64_t max_distance = 128) {
  int64_t ret = 0;
  int64_t n = -relative_position;
  num_buckets /= 2;
  if (n < 0) ret += num_buckets;
  n = n < 0 ? -n : n;
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return ret + n;
  const float ratio = static_cast<float>(n) / static_cast<float>(max_exact);
  const float scale = static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  int64_t large = max_exact + static_cast<int64_t>(std::log(ratio) / scale * static_cast<float>(num_buckets - max_exact));
  large = std::min(large, num_buckets - 1);
  return ret + large;
}

// Int8 layers: the work after each GEMM, fused into its row blocks (ops::Linear::forward_int8).
// NormQuantize: rows = LayerNorm(rows + residual) in place, then quantized for `next` (when given);
// Quantize: rows quantized for `next`. Row offsets are those of the GEMM's call.
struct NormQuantize {
  const LayerNormWeights* ln;
  double eps;
  const float* residual;
  int64_t cols;
  const ops::Linear* next;
  int8_t* q;
  float* scale;
  static void run(void* self, int64_t first, int64_t n, float* rows) {
    const NormQuantize& t = *static_cast<const NormQuantize*>(self);
    ops::layer_norm(rows, t.residual + first * t.cols, n, t.cols, t.ln->gamma.data<float>(), t.ln->beta.data<float>(),
                    t.eps, rows);
    if (t.next) t.next->quantize_input(rows, n, t.q + first * t.cols, t.scale + first * t.next->scale_stride());
  }
};
struct Quantize {
  const ops::Linear* next;
  int8_t* q;
  float* scale;
  static void run(void* self, int64_t first, int64_t n, float* rows) {
    const Quantize& t = *static_cast<const Quantize*>(self);
    t.next->quantize_input(rows, n, t.q + first * t.next->in_features(), t.scale + first * t.next->scale_stride());
  }
};

// Per-thread int8 activations of the fused int8 layers (kept between calls, like Workspace).
template <typename T, int Slot>
T* int8_buffer(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

}  // namespace

struct Encoder::Impl {
  EncoderConfig config;
  const Family* family = nullptr;
  HeadKind head = HeadKind::None;
  std::string head_missing;
  int threads = 0;

  Tensor word_embeddings, position_embeddings, token_type_embeddings;
  LayerNormWeights embeddings_ln;
  ops::Linear embeddings_project;  // ELECTRA when embedding_size != hidden_size
  Tensor relative_attention_bias;  // MPNet [buckets, heads]
  ops::RotaryTable rope;           // rotary families; rebuilt per call past the NTK threshold
  std::vector<float> alibi_slopes;  // ALiBi families: one per head
  std::vector<EncoderLayer> layers;
  ops::Linear pooler;  // dense + tanh; undefined when the checkpoint has no pooler

  // Heads (defined only for the checkpoint's head).
  ops::Linear classifier_dense, classifier_out;  // sequence classification on the first token
  ops::Linear mlm_dense, mlm_decoder;            // dense (+ activation), LayerNorm, decoder
  LayerNormWeights mlm_ln;
  ops::Linear nsp, discriminator_dense, discriminator_out, token_classifier, qa_outputs;

  void layer_norm(float* x, const float* residual, int64_t rows, int64_t cols, const LayerNormWeights& ln) const {
    if (ln.rms) ops::rms_norm(x, residual, rows, cols, ln.gamma.data<float>(), config.layer_norm_eps, x);
    else ops::layer_norm(x, residual, rows, cols, ln.gamma.data<float>(), ln.beta.data<float>(), config.layer_norm_eps, x);
  }
  Tensor embeddings(const Input& in) const;
  Tensor position_ids(const Input& in) const;
  Tensor relative_bias(int64_t S) const;
  void heads(Output& out, const Input& in, const float* first_tokens) const;
};

std::unique_ptr<Encoder> Encoder::load(const std::filesystem::path& dir, const Options& options) {
  return load(dir, load_config(dir / "config.json"), options);
}

std::unique_ptr<Encoder> Encoder::load(const std::filesystem::path& dir, const EncoderConfig& config,
                                       const Options& options) {
  const ops::GemmType gemm = options.gemm;
  if (options.threads < 0) throw invalid_argument("threads must be >= 0 (0 = all cores), got " + std::to_string(options.threads));
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  const EncoderConfig& cfg = impl->config;
  impl->family = find_family(cfg.model_type);
  impl->head = head_from_architectures(*impl->family, cfg.architectures);
  impl->threads = options.threads;
  const io::Checkpoint checkpoint = io::Checkpoint::open(dir);
  const Weights w = load_weights(checkpoint, cfg, *impl->family, impl->head);
  impl->head_missing = w.head_missing;

  ops::set_num_threads(options.threads);  // weight packing runs on the loading thread
  impl->word_embeddings = w.get("embeddings.word_embeddings.weight");
  if (cfg.has_position_table()) impl->position_embeddings = w.get("embeddings.position_embeddings.weight");
  else if (cfg.alibi) impl->alibi_slopes = ops::alibi_slopes(cfg.num_attention_heads);
  else if (cfg.rotary_fixed_ntk_factor > 0)
    impl->rope = ops::rotary_table(cfg.max_position_embeddings,
                                   ops::ntk_frequencies(cfg.rotary_dim, cfg.rotary_theta, cfg.rotary_fixed_ntk_factor,
                                                        cfg.rotary_ntk_mixed_b ? &*cfg.rotary_ntk_mixed_b : nullptr),
                                   cfg.rotary_interleaved);
  else impl->rope = ops::rotary_table(cfg.max_position_embeddings, cfg.rotary_dim, cfg.rotary_theta, cfg.rotary_interleaved);
  if (cfg.type_vocab_size > 0) impl->token_type_embeddings = w.get("embeddings.token_type_embeddings.weight");
  impl->embeddings_ln = layer_norm_weights(w, "embeddings.LayerNorm");
  if (w.has("embeddings_project.weight")) impl->embeddings_project = linear(w, "embeddings_project");
  if (cfg.relative_attention_num_buckets > 0) impl->relative_attention_bias = w.get("encoder.relative_attention_bias.weight");
  std::vector<LayerWeightSource> sources;  // int8: each layer's f32 weights again, for the probe
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    if (gemm == ops::GemmType::Int8) sources.push_back(layer_weight_source(w, cfg, p));
    EncoderLayer layer;
    // Int8: no Linear is smoothed (ops::Linear's input_absmax): the probe's f32 channels do better
    // on real weights (docs/accuracy.md).
    layer.qkv = cfg.qkv_fused ? linear(w, p + "attention.self.qkv", ops::Activation::Identity, gemm)
                              : stacked_linear(w, {p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"}, gemm);
    layer.attn_out = linear(w, p + "attention.output.dense", ops::Activation::Identity, gemm);
    layer.attn_ln = layer_norm_weights(w, p + "attention.output.LayerNorm", cfg.layer_rms_norm);
    if (cfg.glu_fused_up_gate) layer.intermediate = gate_first_linear(w, p + "intermediate.up_gate", gemm);
    else if (cfg.glu_fused_gate_up) layer.intermediate = linear(w, p + "intermediate.gate_up", ops::Activation::Identity, gemm);
    else if (cfg.glu) layer.intermediate = stacked_linear(w, {p + "intermediate.gate", p + "intermediate.dense"}, gemm);
    else layer.intermediate = linear(w, p + "intermediate.dense", cfg.hidden_act, gemm);
    layer.output = linear(w, p + "output.dense", ops::Activation::Identity, gemm);
    layer.out_ln = layer_norm_weights(w, p + "output.LayerNorm", cfg.layer_rms_norm);
    impl->layers.push_back(std::move(layer));
    // Its weights are packed now: drop the file's pages from RSS (forward re-reads the rest on demand).
    for (const auto& [name, t] : w.tensors)
      if (name.rfind(p, 0) == 0) checkpoint.release_pages(t);
  }
  if (w.has("pooler.dense.weight")) impl->pooler = linear(w, "pooler.dense", ops::Activation::Tanh);

  const HeadKind head = impl->head;
  const Family& fam = *impl->family;
  if (head == HeadKind::PreTraining && !impl->pooler.defined() && impl->head_missing.empty())
    impl->head_missing = "the pre-training head needs pooler.dense weights, which the checkpoint lacks";
  if (impl->head_missing.empty()) {
    if (head == HeadKind::MaskedLM || head == HeadKind::PreTraining) {
      impl->mlm_dense = linear(w, "head.mlm.dense", fam.mlm_act_is_hidden_act ? cfg.hidden_act : ops::Activation::GeluErf);
      impl->mlm_ln = layer_norm_weights(w, "head.mlm.layer_norm");
      impl->mlm_decoder = ops::Linear(w.get("head.mlm.decoder.weight"), w.has("head.mlm.bias") ? w.get("head.mlm.bias") : Tensor());
    }
    if (head == HeadKind::PreTraining) impl->nsp = linear(w, "head.nsp");
    if (head == HeadKind::SequenceClassification) {
      impl->classifier_dense = linear(w, "head.classifier.dense", fam.classifier_act);
      impl->classifier_out = linear(w, "head.classifier.out");
    }
    if (head == HeadKind::Discriminator) {
      impl->discriminator_dense = linear(w, "head.discriminator.dense", cfg.hidden_act);
      impl->discriminator_out = linear(w, "head.discriminator.out");
    }
    if (head == HeadKind::TokenClassification) impl->token_classifier = linear(w, "head.token");
    if (head == HeadKind::QuestionAnswering) impl->qa_outputs = linear(w, "head.qa");
  }

  std::unique_ptr<Encoder> e(new Encoder());
  e->impl_ = std::move(impl);
  if (!sources.empty())
    find_f32_channels(*e, e->impl_->layers, sources, [&](size_t i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      for (const auto& [name, t] : w.tensors)
        if (name.rfind(p, 0) == 0) checkpoint.release_pages(t);
    });
  for (const auto& [name, t] : w.tensors) checkpoint.release_pages(t);  // pooler, heads, embeddings: as above
  return e;
}

Encoder::~Encoder() = default;

std::unique_ptr<Network> load_network(const std::filesystem::path& dir, const Options& options) {
  const EncoderConfig config = load_config(dir / "config.json");
  const Family& family = *find_family(config.model_type);
  if (family.load) return family.load(dir, config, family, options);
  return Encoder::load(dir, config, options);
}
const EncoderConfig& Encoder::config() const { return impl_->config; }
const Family& Encoder::family() const { return *impl_->family; }
HeadKind Encoder::head() const { return impl_->head; }
const std::string& Encoder::head_missing() const { return impl_->head_missing; }
bool Encoder::has_pooler() const { return impl_->pooler.defined(); }

// Position ids as data [batch, seq]: 0, 1, 2, ... or, for RoBERTa-style families,
// padding_idx + 1 + (index among the non-pad tokens) with pad tokens at padding_idx.
Tensor Encoder::Impl::position_ids(const Input& in) const {
  const int64_t B = in.input_ids.dim(0), S = in.input_ids.dim(1);
  Tensor pos = Tensor::empty(DType::I64, {B, S});
  int64_t* p = pos.data<int64_t>();
  const int64_t* id = in.input_ids.data<int64_t>();
  const int64_t pad = config.pad_token_id;
  for (int64_t b = 0; b < B; ++b) {
    int64_t count = 0;
    for (int64_t s = 0; s < S; ++s) {
      const int64_t i = b * S + s;
      if (!config.positions_from_padding) p[i] = s;
      else p[i] = id[i] == pad ? pad : pad + ++count;
    }
  }
  return pos;
}

// Embeddings: (word + token_type) + position, LayerNorm, then ELECTRA's projection — in
// transformers' order of additions.
Tensor Encoder::Impl::embeddings(const Input& in) const {
  const int64_t B = in.input_ids.dim(0), S = in.input_ids.dim(1), T = B * S;
  const int64_t E = config.embedding_width();
  Tensor e = Tensor::empty(DType::F32, {B, S, E});
  float* h = e.data<float>();
  ops::embedding(word_embeddings.data<float>(), config.vocab_size, E, in.input_ids.data<int64_t>(), T, h, false);
  if (token_type_embeddings.defined()) {
    if (in.token_type_ids.defined())
      ops::embedding(token_type_embeddings.data<float>(), config.type_vocab_size, E, in.token_type_ids.data<int64_t>(), T,
                     h, true);
    else
      for (int64_t i = 0; i < T; ++i) ops::add_inplace(h + i * E, token_type_embeddings.data<float>(), E);
  }
  if (position_embeddings.defined()) {  // rotary families have none
    const Tensor pos = position_ids(in);
    ops::embedding(position_embeddings.data<float>(), config.max_position_embeddings, E, pos.data<int64_t>(), T, h, true);
  }
  layer_norm(h, nullptr, T, E, embeddings_ln);
  if (!embeddings_project.defined()) return e;
  return embeddings_project.forward(e);
}

// MPNet: bias[h][S - 1 + (j - i)] = W[bucket(j - i)][h], one row per head for every j - i.
Tensor Encoder::Impl::relative_bias(int64_t S) const {
  const int64_t heads = config.num_attention_heads, n = 2 * S - 1;
  Tensor t = Tensor::empty(DType::F32, {heads, n});
  const float* w = relative_attention_bias.data<float>();
  for (int64_t r = 0; r < n; ++r) {
    const int64_t bucket = relative_position_bucket(r - (S - 1), config.relative_attention_num_buckets);
    for (int64_t h = 0; h < heads; ++h) t.data<float>()[h * n + r] = w[bucket * heads + h];
  }
  return t;
}

Output Encoder::forward(const Input& input, const Request& request) const {
  const Impl& m = *impl_;
  const EncoderConfig& cfg = m.config;
  validate_input(cfg, input);
  if (request.head && m.head != HeadKind::None && !m.head_missing.empty())
    throw invalid_file("model", m.head_missing + "; the base model's outputs need no head: ask for them only");
  ops::set_num_threads(m.threads);

  const int64_t B = input.input_ids.dim(0), S = input.input_ids.dim(1), T = B * S;
  const int64_t H = cfg.hidden_size, heads = cfg.num_attention_heads, d = cfg.head_dim();
  const int64_t I = cfg.intermediate_size;
  Output out;

  Tensor hidden = m.embeddings(input);
  float* h = hidden.data<float>();
  if (request.hidden_states) out.hidden_states.push_back(hidden);

  // Additive mask [B, S]: (1 - mask) · finfo(float32).min, as transformers extends it.
  Tensor mask_add;
  if (input.attention_mask.defined()) {
    mask_add = Tensor::empty(DType::F32, {B, S});
    const int64_t* am = input.attention_mask.data<int64_t>();
    float* ma = mask_add.data<float>();
    for (int64_t i = 0; i < T; ++i) ma[i] = (1.0f - static_cast<float>(am[i])) * std::numeric_limits<float>::lowest();
  }
  // Each sequence's key length when its mask is ones then zeros (right padding); 0 = use the mask.
  std::vector<int64_t> key_len(static_cast<size_t>(B), S);
  if (input.attention_mask.defined()) {
    const int64_t* am = input.attention_mask.data<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      while (len < S && am[b * S + len] == 1) ++len;
      bool prefix = len > 0;
      for (int64_t s2 = len; s2 < S && prefix; ++s2) prefix = am[b * S + s2] == 0;
      key_len[static_cast<size_t>(b)] = prefix ? len : 0;
    }
  }
  const float divisor = static_cast<float>(std::sqrt(static_cast<double>(d)));
  const Tensor rel_bias = m.relative_attention_bias.defined() ? m.relative_bias(S) : Tensor();
  // NomicBERT's dynamic NTK: past the trained length, θ grows with the padded length S (as the reference).
  ops::RotaryTable ntk_rope;
  const bool ntk = cfg.rotary_dim > 0 && cfg.rotary_ntk_factor > 0 && S > cfg.rotary_trained_positions;
  if (ntk)
    ntk_rope = ops::rotary_table(S, cfg.rotary_dim,
                                 ops::dynamic_ntk_theta(cfg.rotary_theta, cfg.rotary_dim, cfg.rotary_ntk_factor, S,
                                                        cfg.rotary_trained_positions),
                                 cfg.rotary_interleaved);
  const ops::RotaryTable& rope = ntk ? ntk_rope : m.rope;
  // GTE-v1.5's logn attention scale: log(real tokens) / log(max_position_embeddings) per text, float32.
  std::vector<float> logn(static_cast<size_t>(cfg.logn_attention_scale ? B : 0));
  for (int64_t b = 0; b < static_cast<int64_t>(logn.size()); ++b) {
    int64_t len = S;
    if (input.attention_mask.defined()) len = std::accumulate(input.attention_mask.data<int64_t>() + b * S,
                                                              input.attention_mask.data<int64_t>() + (b + 1) * S, int64_t{0});
    logn[static_cast<size_t>(b)] = static_cast<float>(std::log(static_cast<double>(len))) /
                                   static_cast<float>(std::log(static_cast<double>(cfg.max_position_embeddings)));
  }

  // The packed batch: when every text is right-padded and no per-layer outputs are requested,
  // the encoder runs on the real tokens only, [N, H] (text b's rows start at off[b]); the result
  // is scattered back to [B, S, H] with zeros at padded positions.
  bool packed = input.attention_mask.defined() && !request.hidden_states && !request.attentions;
  int64_t N = 0;
  std::vector<int64_t> off(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    packed = packed && key_len[static_cast<size_t>(b)] > 0;
    off[static_cast<size_t>(b)] = N;
    N += key_len[static_cast<size_t>(b)];
  }
  packed = packed && N < T;
  Tensor work;
  if (packed) {
    work = Tensor::empty(DType::F32, {N, H});
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(work.data<float>() + off[static_cast<size_t>(b)] * H, h + b * S * H,
                  static_cast<size_t>(key_len[static_cast<size_t>(b)] * H) * sizeof(float));
    h = work.data<float>();
  } else {
    N = T;
    for (int64_t b = 0; b < B; ++b) off[static_cast<size_t>(b)] = b * S;
  }

  // Each sequence's attention: its real query rows (packed) or all S rows (padded batch) against
  // its own keys; a right-padded text attends to its `len` real keys only, so its result does not
  // depend on how much padding the batch has. Other masks (left padding, holes, all zero) use the
  // full length with the additive mask, exactly as transformers.
  // bf16 and int8 GEMMs: the attention's matmuls in bf16 too (as PyTorch's bf16 autocast; int8 retrieval
  // still meets its targets on MiniLM, docs/accuracy.md); f32 stays f32.
  const bool bf16_attention = !m.layers.empty() && m.layers[0].qkv.gemm() != ops::GemmType::F32;
  const ops::AttentionShape ashape{heads, d, 3 * H, H, divisor, bf16_attention};
  std::vector<ops::AttentionSequence> seqs(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = key_len[static_cast<size_t>(b)];
    ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
    sq.rows = packed ? len : S;
    sq.keys = len > 0 ? len : S;
    sq.mask = (len == 0 && mask_add.defined()) ? mask_add.data<float>() + b * S : nullptr;
    if (rel_bias.defined()) {
      sq.rel_bias = rel_bias.data<float>();
      sq.rel_bias_head_stride = 2 * S - 1;
      sq.rel_bias_center = S - 1;
    }
    if (cfg.alibi) sq.alibi_slopes = m.alibi_slopes.data();
  }
  // Slabs (int8 only, see kSlabRows): runs of whole sequences of at most kSlabRows rows (a longer
  // sequence is a slab of its own). Every layer runs slab by slab, so a layer's intermediate
  // activations (QKV, context, feed-forward) are slab-sized and stay in cache between the ops
  // instead of streaming through memory at large batches. Rows never mix across a GEMM, so slabs
  // do not change any result.
  struct Slab {
    int64_t b0, b1, r0, rows;
  };
  std::vector<Slab> slabs;
  int64_t slab_rows_max = 0;
  const int64_t slab_rows = !m.layers.empty() && m.layers[0].qkv.gemm() == ops::GemmType::Int8
                                ? (H <= 384 ? kSlabRowsNarrow : kSlabRows)
                                : std::numeric_limits<int64_t>::max();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t r = seqs[static_cast<size_t>(b)].rows;
    if (slabs.empty() || slabs.back().rows + r > slab_rows) slabs.push_back({b, b, off[static_cast<size_t>(b)], 0});
    slabs.back().b1 = b + 1;
    slabs.back().rows += r;
    slab_rows_max = std::max(slab_rows_max, slabs.back().rows);
  }

  // Int8 without a gated MLP: each Linear's input is quantized by the op before it, inside that
  // op's row blocks (QKV's by the previous layer's output LayerNorm, the intermediate's by the
  // attention LayerNorm, the output dense's by the GELU), and the LayerNorms run there too. Same
  // results as the unfused sequence, bitwise, with fewer passes and parallel regions.
  const bool fused = !m.layers.empty() && m.layers[0].qkv.gemm() == ops::GemmType::Int8 && !cfg.glu;
  int64_t ss = 1;  // floats per row of a scale buffer: the row scale, then the f32 channels' values
  if (fused)
    for (const EncoderLayer& l : m.layers)
      ss = std::max({ss, l.qkv.scale_stride(), l.intermediate.scale_stride(), l.output.scale_stride()});
  // A slab's scratch on the calling thread, reused across calls (see Workspace): QKV, context, the
  // attention block's output, the feed-forward rows; fused int8: the quantized inputs of the
  // intermediate and output dense (qa, qi) and, for `qh_rows` rows, of QKV (qh).
  struct Scratch {
    float *qkv, *context, *a, *inter, *gated;
    int8_t *qh = nullptr, *qa = nullptr, *qi = nullptr;
    float *sh = nullptr, *sa = nullptr, *si = nullptr;
  };
  const int64_t up_cols = cfg.glu ? 3 * I : I;  // a gated MLP's [gate | up] rows, then the product
  auto scratch = [&](int64_t rows, int64_t qh_rows) {
    Scratch s;
    s.qkv = Workspace::of_this_thread().get(static_cast<size_t>(rows * (5 * H + up_cols)));
    s.context = s.qkv + rows * 3 * H;
    s.a = s.context + rows * H;
    s.inter = s.a + rows * H;
    s.gated = s.inter + rows * 2 * I;
    if (fused) {
      s.qh = int8_buffer<int8_t, 0>(static_cast<size_t>(qh_rows * H));
      s.sh = int8_buffer<float, 0>(static_cast<size_t>(qh_rows * ss));
      s.qa = int8_buffer<int8_t, 1>(static_cast<size_t>(rows * H));
      s.sa = int8_buffer<float, 1>(static_cast<size_t>(rows * ss));
      s.qi = int8_buffer<int8_t, 2>(static_cast<size_t>(rows * I));
      s.si = int8_buffer<float, 2>(static_cast<size_t>(rows * ss));
    }
    return s;
  };
  // Points a slab's sequences at scratch s (their QKV and context rows relative to the slab).
  auto point = [&](const Slab& sl, std::span<ops::AttentionSequence> slab_seqs, const Scratch& s) {
    for (int64_t b = sl.b0; b < sl.b1; ++b) {
      ops::AttentionSequence& sq = slab_seqs[static_cast<size_t>(b - sl.b0)];
      sq.qkv = s.qkv + (off[static_cast<size_t>(b)] - sl.r0) * 3 * H;
      sq.ctx = s.context + (off[static_cast<size_t>(b)] - sl.r0) * H;
    }
  };
  // Fused int8 on all threads: after attention a row needs no other row, so the attention output
  // dense → LayerNorm → intermediate (GELU) → output dense → LayerNorm (→ the next layer's QKV into
  // next_qkv_rows, when given) run as one chain per row block in one parallel region, not one
  // region (and barrier) per GEMM. Row blocks as ops::Linear's int8 tasks pick them.
  const int threads = ops::num_threads();
  auto chain = [&](const EncoderLayer& layer, const ops::Linear* next_qkv, int64_t n, const float* x, float* y,
                   const Scratch& s, int8_t* qh_out, float* sh_out, float* next_qkv_rows) {
    const int64_t block = std::clamp<int64_t>(n / (4 * threads) / 16 * 16, 16, 64);
    const int64_t nb = std::max<int64_t>(1, n / block);
    const int64_t si = layer.intermediate.scale_stride(), so = layer.output.scale_stride();
    const int64_t sq = next_qkv ? next_qkv->scale_stride() : 1;
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) if (nb > 1)
    for (int64_t bi = 0; bi < nb; ++bi) {
      try {
        const int64_t r0 = bi * block, rn = bi + 1 == nb ? n - r0 : block;  // the last block takes the rest
        NormQuantize attn_ln{&layer.attn_ln, cfg.layer_norm_eps, x + r0 * H, H, &layer.intermediate, s.qa + r0 * H,
                             s.sa + r0 * si};
        layer.attn_out.forward_int8(s.context + r0 * H, nullptr, nullptr, rn, s.a + r0 * H, NormQuantize::run, &attn_ln);
        Quantize gelu{&layer.output, s.qi + r0 * I, s.si + r0 * so};
        layer.intermediate.forward_int8(nullptr, s.qa + r0 * H, s.sa + r0 * si, rn, nullptr, Quantize::run, &gelu);
        int8_t* qo = next_qkv ? qh_out + r0 * H : nullptr;
        float* sco = next_qkv ? sh_out + r0 * sq : nullptr;
        NormQuantize out_ln{&layer.out_ln, cfg.layer_norm_eps, s.a + r0 * H, H, next_qkv, qo, sco};
        layer.output.forward_int8(nullptr, s.qi + r0 * I, s.si + r0 * so, rn, y + r0 * H, NormQuantize::run, &out_ln);
        if (next_qkv_rows) next_qkv->forward_int8(nullptr, qo, sco, rn, next_qkv_rows + r0 * 3 * H, nullptr, nullptr);
      } catch (...) {
#pragma omp critical(bertcpp_encoder_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  };
  // One layer on one slab: input rows x, output rows y (may be x: each input row is consumed
  // before its output is written). Fused int8: the slab's QKV input is read from qh_in/sh_in
  // (its QKV rows are already in scratch when qkv_ready) and the next layer's (when next_qkv is
  // given) written to qh_out/sh_out; with `chained`, through chain (and its QKV into next_qkv_rows).
  auto layer_slab = [&](const EncoderLayer& layer, const ops::Linear* next_qkv, const Slab& sl, const float* x, float* y,
                        std::span<const ops::AttentionSequence> slab_seqs, const Scratch& s, const int8_t* qh_in,
                        const float* sh_in, int8_t* qh_out, float* sh_out, bool chained = false, bool qkv_ready = false,
                        float* next_qkv_rows = nullptr) {
    const int64_t n = sl.rows;
    float* qkv = s.qkv;
    // Attention block: self-attention, output dense, LayerNorm(· + x).
    if (!qkv_ready) {
      if (fused) layer.qkv.forward_int8(nullptr, qh_in, sh_in, n, qkv, nullptr, nullptr);
      else layer.qkv.forward(x, n, qkv);
    }
    if (cfg.rotary_dim > 0)  // Q and K rotated by position in their text (packed) or row (padded): 0, 1, 2, ...
      for (int64_t b = sl.b0; b < sl.b1; ++b)
        ops::rotary(rope, qkv + (off[static_cast<size_t>(b)] - sl.r0) * 3 * H, seqs[static_cast<size_t>(b)].rows, 3 * H,
                    2 * heads, 0, d);
    for (int64_t b = sl.b0; b < static_cast<int64_t>(logn.size()) && b < sl.b1; ++b) {  // queries only
      float* q = qkv + (off[static_cast<size_t>(b)] - sl.r0) * 3 * H;
      for (int64_t r = 0; r < seqs[static_cast<size_t>(b)].rows; ++r)
        for (int64_t c = 0; c < H; ++c) q[r * 3 * H + c] *= logn[static_cast<size_t>(b)];
    }
    ops::attention(ashape, slab_seqs);
    if (fused && chained) {
      chain(layer, next_qkv, n, x, y, s, qh_out, sh_out, next_qkv_rows);
      return;
    }
    if (fused) {
      NormQuantize attn_ln{&layer.attn_ln, cfg.layer_norm_eps, x, H, &layer.intermediate, s.qa, s.sa};
      layer.attn_out.forward_int8(s.context, nullptr, nullptr, n, s.a, NormQuantize::run, &attn_ln);
      Quantize gelu{&layer.output, s.qi, s.si};
      layer.intermediate.forward_int8(nullptr, s.qa, s.sa, n, nullptr, Quantize::run, &gelu);
      NormQuantize out_ln{&layer.out_ln, cfg.layer_norm_eps, s.a, H, next_qkv, qh_out, sh_out};
      layer.output.forward_int8(nullptr, s.qi, s.si, n, y, NormQuantize::run, &out_ln);
      return;
    }
    layer.attn_out.forward(s.context, n, s.a);
    m.layer_norm(s.a, x, n, H, layer.attn_ln);
    // Feed-forward block: act(intermediate dense) in one GEMM (gated: act(gate) · up after it),
    // output dense, LayerNorm(· + a).
    layer.intermediate.forward(s.a, n, s.inter);
    if (cfg.glu) {  // act(gate) · up
      ops::glu(s.inter, n, I, cfg.hidden_act, s.gated);
      layer.output.forward(s.gated, n, y);
    } else {
      layer.output.forward(s.inter, n, y);
    }
    m.layer_norm(y, s.a, n, H, layer.out_ln);
  };

  // Fused int8 with enough texts: text-parallel. Each thread takes groups of whole texts (about
  // 1/(8·threads) of the rows, ≥ 256, each; dynamically) and runs them through every layer on its own, the
  // ops single-threaded inside: no barrier between ops or layers, and a group's activations stay in
  // that core's cache. A row's result is the same either way (int8 GEMM rows are exact and
  // independent; attention, LayerNorm and quantization work per row or per text).
  std::vector<Slab> groups;
  if (fused && !request.hidden_states && !request.attentions && threads > 1) {
    const int64_t target = std::clamp<int64_t>(N / (8 * threads), 256, slab_rows);  // 64-row GEMM blocks inside
    for (int64_t b = 0; b < B; ++b) {
      const int64_t r = seqs[static_cast<size_t>(b)].rows;
      if (groups.empty() || groups.back().rows + r > target) groups.push_back({b, b, off[static_cast<size_t>(b)], 0});
      groups.back().b1 = b + 1;
      groups.back().rows += r;
    }
    if (static_cast<int64_t>(groups.size()) < 4 * threads) groups.clear();
  }
  if (!groups.empty()) {
    const int64_t ng = static_cast<int64_t>(groups.size());
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t gi = 0; gi < ng; ++gi) {
      try {
        const Slab& g = groups[static_cast<size_t>(gi)];
        const Scratch s = scratch(g.rows, g.rows);
        std::vector<ops::AttentionSequence> gseqs(seqs.begin() + g.b0, seqs.begin() + g.b1);
        point(g, gseqs, s);
        float* rows = h + g.r0 * H;  // every layer's output overwrites its input
        m.layers[0].qkv.quantize_input(rows, g.rows, s.qh, s.sh);
        for (size_t li = 0; li < m.layers.size(); ++li)
          layer_slab(m.layers[li], li + 1 < m.layers.size() ? &m.layers[li + 1].qkv : nullptr, g, rows, rows, gseqs, s, s.qh,
                     s.sh, s.qh, s.sh);
        Workspace::of_this_thread().trim();
      } catch (...) {
#pragma omp critical(bertcpp_encoder_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  }

  // Otherwise layer by layer, each slab's ops on all threads.
  const Scratch s = groups.empty() ? scratch(slab_rows_max, N) : Scratch{};
  if (groups.empty())
    for (const Slab& sl : slabs) point(sl, std::span(seqs).subspan(static_cast<size_t>(sl.b0), static_cast<size_t>(sl.b1 - sl.b0)), s);
  if (fused && groups.empty()) m.layers[0].qkv.quantize_input(h, N, s.qh, s.sh);  // all N rows (a slab's are written a layer ahead)
  for (size_t li = 0; li < m.layers.size() && groups.empty(); ++li) {
    const EncoderLayer& layer = m.layers[li];
    Tensor scores;
    if (request.attentions) {
      scores = Tensor::empty(DType::F32, {B, heads, S, S});
      for (int64_t b = 0; b < B; ++b) {
        ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
        sq.probs = scores.data<float>() + b * heads * S * S;
        sq.probs_head_stride = S * S;
        sq.probs_row_stride = S;
        sq.probs_cols = S;
      }
    }
    // The layer's output goes to a new tensor when every layer's output is returned; otherwise it
    // overwrites the input slab by slab (each slab's input is consumed before its output is written).
    const float* in = h;
    if (request.hidden_states) hidden = Tensor::empty(DType::F32, {B, S, H});
    float* next = packed ? work.data<float>() : hidden.data<float>();
    const ops::Linear* next_qkv = li + 1 < m.layers.size() ? &m.layers[li + 1].qkv : nullptr;
    for (const Slab& sl : slabs) {
      const auto slab_seqs = std::span(seqs).subspan(static_cast<size_t>(sl.b0), static_cast<size_t>(sl.b1 - sl.b0));
      int8_t* qh = fused ? s.qh + sl.r0 * H : nullptr;
      float* sh_in = fused ? s.sh + sl.r0 * layer.qkv.scale_stride() : nullptr;
      float* sh_out = fused ? s.sh + sl.r0 * (next_qkv ? next_qkv->scale_stride() : 1) : nullptr;
      // One slab: the chain also computes the next layer's QKV rows (the scratch's are consumed).
      const bool one = fused && slabs.size() == 1;
      layer_slab(layer, next_qkv, sl, in + sl.r0 * H, next + sl.r0 * H, slab_seqs, s, qh, sh_in, qh, sh_out, fused,
                 one && li > 0, one && next_qkv ? s.qkv : nullptr);
    }
    h = next;
    if (request.attentions) out.attentions.push_back(scores);
    if (request.hidden_states) out.hidden_states.push_back(hidden);
  }
  Workspace::of_this_thread().trim();
  if (packed) {
    h = hidden.data<float>();
    std::fill(h, h + T * H, 0.0f);
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(h + b * S * H, work.data<float>() + off[static_cast<size_t>(b)] * H,
                  static_cast<size_t>(key_len[static_cast<size_t>(b)] * H) * sizeof(float));
  }
  out.last_hidden_state = hidden;

  // Pooler: dense + tanh on each sequence's first token.
  if (m.pooler.defined() && (request.pooler || (request.head && m.head == HeadKind::PreTraining))) {
    out.pooler_output = Tensor::empty(DType::F32, {B, H});
    m.pooler.forward(h, B, out.pooler_output.data<float>(), S * H);
  }
  if (request.head) m.heads(out, input, h);
  return out;
}

// The task heads, on last_hidden_state (`first_tokens` = its rows, a sequence every S rows).
void Encoder::Impl::heads(Output& out, const Input& in, const float* first_tokens) const {
  const int64_t B = in.input_ids.dim(0), S = in.input_ids.dim(1), T = B * S, H = config.hidden_size;
  switch (head) {
    case HeadKind::None: break;
    case HeadKind::MaskedLM:
    case HeadKind::PreTraining: {
      const int64_t E = mlm_dense.out_features();
      Tensor t = Tensor::empty(DType::F32, {T, E});
      mlm_dense.forward(first_tokens, T, t.data<float>());
      layer_norm(t.data<float>(), nullptr, T, E, mlm_ln);
      out.prediction_logits = Tensor::empty(DType::F32, {B, S, mlm_decoder.out_features()});
      mlm_decoder.forward(t.data<float>(), T, out.prediction_logits.data<float>());
      if (head == HeadKind::PreTraining) out.seq_relationship_logits = nsp.forward(out.pooler_output);
      break;
    }
    case HeadKind::SequenceClassification: {
      Tensor x = Tensor::empty(DType::F32, {B, H});
      classifier_dense.forward(first_tokens, B, x.data<float>(), S * H);
      out.logits = classifier_out.forward(x);
      break;
    }
    case HeadKind::Discriminator: {
      const Tensor x = discriminator_dense.forward(out.last_hidden_state);
      out.logits = discriminator_out.forward(x).reshape({B, S});
      break;
    }
    case HeadKind::TokenClassification: out.logits = token_classifier.forward(out.last_hidden_state); break;
    case HeadKind::QuestionAnswering: {
      const Tensor both = qa_outputs.forward(out.last_hidden_state);  // [B, S, 2]
      out.start_logits = Tensor::empty(DType::F32, {B, S});
      out.end_logits = Tensor::empty(DType::F32, {B, S});
      const float* p = both.data<float>();
      for (int64_t i = 0; i < T; ++i) {
        out.start_logits.data<float>()[i] = p[2 * i];
        out.end_logits.data<float>()[i] = p[2 * i + 1];
      }
      break;
    }
  }
}

}  // namespace bertcpp::model
