// transformers' BertModel and its heads on ops/. Top to bottom: loading (weights -> packed
// Linears), input validation, embeddings, encoder layers, pooler, heads.
#include "model/bert.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/attention.h"
#include "ops/threads.h"

namespace bertcpp::model {

namespace {

ops::Activation to_op(io::Activation a) {
  switch (a) {
    case io::Activation::Gelu: return ops::Activation::GeluErf;
    case io::Activation::GeluNew: return ops::Activation::GeluTanh;
    case io::Activation::GeluPytorchTanh: return ops::Activation::GeluTanh;
    case io::Activation::Relu: return ops::Activation::Relu;
    case io::Activation::Silu: return ops::Activation::Silu;
  }
  throw Error(ErrorKind::Internal, "unknown activation");
}

struct LayerNormWeights {
  Tensor gamma, beta;
};

// Int8 smoothing input: an estimate of max |y_j| over the tokens of a LayerNorm's output
// y_j = γ_j·x̂_j + β_j (x̂ normalized, |x̂_j| ≲ 4): 4·|γ_j| + |β_j|. Outlier channels of BERTs
// come from large γ_j/β_j, so this marks them without calibration data.
Tensor layer_norm_absmax(const LayerNormWeights& ln) {
  const int64_t n = ln.gamma.numel();
  Tensor a = Tensor::empty(DType::F32, {n});
  for (int64_t j = 0; j < n; ++j)
    a.data<float>()[j] = 4.0f * std::fabs(ln.gamma.data<float>()[j]) + std::fabs(ln.beta.data<float>()[j]);
  return a;
}

struct EncoderLayer {
  ops::Linear qkv;       // query, key, value fused: [3·hidden, hidden]
  ops::Linear attn_out;  // attention.output.dense
  LayerNormWeights attn_ln;
  ops::Linear intermediate;  // with hidden_act fused
  ops::Linear output;
  LayerNormWeights out_ln;
};

// Rows of several [out_i, in] weights (and their [out_i] biases) stacked into one Linear.
ops::Linear stacked_linear(const io::BertWeights& w, const std::vector<std::string>& prefixes, ops::GemmType gemm,
                           const Tensor& input_absmax = Tensor()) {
  int64_t rows = 0, in = 0;
  for (const auto& p : prefixes) {
    const Tensor& t = w.get(p + ".weight");
    rows += t.dim(0);
    in = t.dim(1);
  }
  Tensor weight = Tensor::empty(DType::F32, {rows, in});
  Tensor bias = Tensor::empty(DType::F32, {rows});
  float* wd = weight.data<float>();
  float* bd = bias.data<float>();
  for (const auto& p : prefixes) {
    const Tensor& t = w.get(p + ".weight");
    const Tensor& b = w.get(p + ".bias");
    std::memcpy(wd, t.data<float>(), t.nbytes());
    std::memcpy(bd, b.data<float>(), b.nbytes());
    wd += t.numel();
    bd += b.numel();
  }
  return ops::Linear(weight, bias, ops::Activation::Identity, gemm, input_absmax);
}

ops::Linear linear(const io::BertWeights& w, const std::string& prefix, ops::Activation act = ops::Activation::Identity,
                   ops::GemmType gemm = ops::GemmType::F32, const Tensor& input_absmax = Tensor()) {
  const std::string bias = prefix + ".bias";
  return ops::Linear(w.get(prefix + ".weight"), w.has(bias) ? w.get(bias) : Tensor(), act, gemm, input_absmax);
}

LayerNormWeights layer_norm_weights(const io::BertWeights& w, const std::string& prefix) {
  return {w.get(prefix + ".weight"), w.get(prefix + ".bias")};
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

// Rows per slab of the encoder with int8 GEMMs (see Bert::forward). Measured (random bert-base,
// 2 threads): b32×128 int8 903–1242 ms with 512-row slabs vs 1211–1275 ms without; the var-len
// batch 1038–1157 vs 1113–1140 ms. f32 and bf16 run all rows at once: their single oneDNN call
// per Linear would get a slab's odd row count (var-len batch 4791 vs 3684 ms and 3835 vs 3638 ms).
constexpr int64_t kSlabRows = 512;

std::string at(int64_t b, int64_t s) { return "[" + std::to_string(b) + ", " + std::to_string(s) + "]"; }

}  // namespace

struct Bert::Impl {
  io::BertConfig config;
  io::HeadKind head = io::HeadKind::None;
  int threads = 0;
  ops::Activation act = ops::Activation::GeluErf;

  Tensor word_embeddings, position_embeddings, token_type_embeddings;
  LayerNormWeights embeddings_ln;
  std::vector<EncoderLayer> layers;
  ops::Linear pooler;  // dense + tanh; undefined when the checkpoint has no pooler

  // Heads.
  ops::Linear mlm_transform, mlm_decoder;  // transform: dense + hidden_act
  LayerNormWeights mlm_ln;
  ops::Linear seq_relationship, classifier, qa_outputs;

  void validate(const Batch& batch) const;
  void layer_norm(float* x, const float* residual, int64_t rows, const LayerNormWeights& ln) const {
    ops::layer_norm(x, residual, rows, config.hidden_size, ln.gamma.data<float>(), ln.beta.data<float>(),
                    config.layer_norm_eps, x);
  }
};

std::unique_ptr<Bert> Bert::load(const std::filesystem::path& dir, const ModelOptions& options) {
  const ops::GemmType gemm = options.compute == ComputeType::BF16  ? ops::GemmType::BF16
                             : options.compute == ComputeType::Int8 ? ops::GemmType::Int8
                                                                    : ops::GemmType::F32;
  const bool smooth = gemm == ops::GemmType::Int8;  // QKV and intermediate inputs are LayerNorm outputs
  if (options.threads < 0) throw invalid_argument("threads must be >= 0 (0 = all cores), got " + std::to_string(options.threads));
  auto impl = std::make_unique<Impl>();
  impl->config = io::load_bert_config(dir / "config.json");
  const auto& cfg = impl->config;
  impl->head = io::head_from_architectures(cfg.architectures);
  impl->threads = options.threads;
  impl->act = to_op(cfg.hidden_act);
  const io::Checkpoint checkpoint = io::Checkpoint::open(dir);
  const io::BertWeights w = io::BertWeights::load(checkpoint, cfg, impl->head);

  ops::set_num_threads(options.threads);  // weight packing runs on the loading thread
  impl->word_embeddings = w.get("embeddings.word_embeddings.weight");
  impl->position_embeddings = w.get("embeddings.position_embeddings.weight");
  impl->token_type_embeddings = w.get("embeddings.token_type_embeddings.weight");
  impl->embeddings_ln = layer_norm_weights(w, "embeddings.LayerNorm");
  LayerNormWeights prev_ln = impl->embeddings_ln;  // the LayerNorm feeding the next QKV (shallow copy)
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    EncoderLayer layer;
    layer.qkv = stacked_linear(w, {p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"}, gemm,
                               smooth ? layer_norm_absmax(prev_ln) : Tensor());
    layer.attn_out = linear(w, p + "attention.output.dense", ops::Activation::Identity, gemm);
    layer.attn_ln = layer_norm_weights(w, p + "attention.output.LayerNorm");
    layer.intermediate = linear(w, p + "intermediate.dense", impl->act, gemm,
                                smooth ? layer_norm_absmax(layer.attn_ln) : Tensor());
    layer.output = linear(w, p + "output.dense", ops::Activation::Identity, gemm);
    layer.out_ln = layer_norm_weights(w, p + "output.LayerNorm");
    impl->layers.push_back(std::move(layer));
    prev_ln = impl->layers.back().out_ln;
    // Its weights are packed now: drop the file's pages from RSS (forward re-reads the rest on demand).
    for (const auto& [name, t] : w.all())
      if (name.rfind(p, 0) == 0) checkpoint.release_pages(t);
  }
  if (w.has("pooler.dense.weight")) impl->pooler = linear(w, "pooler.dense", ops::Activation::Tanh);

  using io::HeadKind;
  const HeadKind head = impl->head;
  if (head == HeadKind::MaskedLM || head == HeadKind::PreTraining) {
    impl->mlm_transform = linear(w, "cls.predictions.transform.dense", impl->act);
    impl->mlm_ln = layer_norm_weights(w, "cls.predictions.transform.LayerNorm");
    const Tensor& decoder = w.has("cls.predictions.decoder.weight") ? w.get("cls.predictions.decoder.weight")
                                                                    : impl->word_embeddings;  // tied
    impl->mlm_decoder = ops::Linear(decoder, w.get("cls.predictions.bias"));
  }
  if (head == HeadKind::PreTraining) impl->seq_relationship = linear(w, "cls.seq_relationship");
  if (head == HeadKind::SequenceClassification || head == HeadKind::TokenClassification)
    impl->classifier = linear(w, "classifier");
  if (head == HeadKind::QuestionAnswering) {
    impl->qa_outputs = linear(w, "qa_outputs");
    if (impl->qa_outputs.out_features() != 2)
      throw invalid_file(dir.string(), "qa_outputs.weight has " + std::to_string(impl->qa_outputs.out_features()) +
                                           " rows; question answering needs 2 (start, end)");
  }
  if ((head == HeadKind::SequenceClassification || head == HeadKind::PreTraining) && !impl->pooler.defined())
    throw invalid_file(dir.string(), "the " + std::string(head == HeadKind::PreTraining ? "pre-training" : "sequence classification") +
                                         " head needs pooler.dense weights, which the checkpoint lacks");

  for (const auto& [name, t] : w.all()) checkpoint.release_pages(t);  // pooler, heads, embeddings: as above
  std::unique_ptr<Bert> bert(new Bert());
  bert->impl_ = std::move(impl);
  return bert;
}

Bert::~Bert() = default;
const io::BertConfig& Bert::config() const { return impl_->config; }
io::HeadKind Bert::head() const { return impl_->head; }

void Bert::Impl::validate(const Batch& batch) const {
  const Tensor& ids = batch.input_ids;
  if (!ids.defined()) throw invalid_argument("input_ids is missing");
  if (ids.dtype() != DType::I64 || ids.rank() != 2)
    throw invalid_argument("input_ids must be I64 [batch, seq], got " + std::string(dtype_name(ids.dtype())) + " " +
                           shape_to_string(ids.shape()));
  const int64_t B = ids.dim(0), S = ids.dim(1);
  if (B == 0 || S == 0) throw invalid_argument("input_ids is empty: shape " + shape_to_string(ids.shape()));
  if (S > config.max_position_embeddings)
    throw invalid_argument("sequence length " + std::to_string(S) + " exceeds max_position_embeddings " +
                           std::to_string(config.max_position_embeddings));
  const int64_t* id = ids.data<int64_t>();
  for (int64_t i = 0; i < B * S; ++i)
    if (id[i] < 0 || id[i] >= config.vocab_size)
      throw invalid_argument("input_ids" + at(i / S, i % S) + " = " + std::to_string(id[i]) +
                             " is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
  auto check_shape = [&](const Tensor& t, const char* name) {
    if (t.dtype() != DType::I64 || t.shape() != ids.shape())
      throw invalid_argument(std::string(name) + " must be I64 " + shape_to_string(ids.shape()) +
                             " like input_ids, got " + std::string(dtype_name(t.dtype())) + " " + shape_to_string(t.shape()));
  };
  if (batch.attention_mask.defined()) {
    check_shape(batch.attention_mask, "attention_mask");
    const int64_t* m = batch.attention_mask.data<int64_t>();
    for (int64_t i = 0; i < B * S; ++i)
      if (m[i] != 0 && m[i] != 1)
        throw invalid_argument("attention_mask" + at(i / S, i % S) + " = " + std::to_string(m[i]) + " is not 0 or 1");
  }
  if (batch.token_type_ids.defined()) {
    check_shape(batch.token_type_ids, "token_type_ids");
    const int64_t* t = batch.token_type_ids.data<int64_t>();
    for (int64_t i = 0; i < B * S; ++i)
      if (t[i] < 0 || t[i] >= config.type_vocab_size)
        throw invalid_argument("token_type_ids" + at(i / S, i % S) + " = " + std::to_string(t[i]) +
                               " is outside [0, type_vocab_size " + std::to_string(config.type_vocab_size) + ")");
  }
}

ModelOutput Bert::forward(const Batch& batch, const OutputRequest& request) const {
  const Impl& m = *impl_;
  const io::BertConfig& cfg = m.config;
  m.validate(batch);
  ops::set_num_threads(m.threads);

  const int64_t B = batch.batch_size(), S = batch.seq_len(), T = B * S;
  const int64_t H = cfg.hidden_size, heads = cfg.num_attention_heads, d = cfg.head_dim();
  const int64_t I = cfg.intermediate_size;
  ModelOutput out;

  // Embeddings: (word + token_type) + position, then LayerNorm — in transformers' order.
  Tensor hidden = Tensor::empty(DType::F32, {B, S, H});
  float* h = hidden.data<float>();
  ops::embedding(m.word_embeddings.data<float>(), cfg.vocab_size, H, batch.input_ids.data<int64_t>(), T, h, false);
  if (batch.token_type_ids.defined()) {
    ops::embedding(m.token_type_embeddings.data<float>(), cfg.type_vocab_size, H, batch.token_type_ids.data<int64_t>(),
                   T, h, true);
  } else {
    for (int64_t i = 0; i < T; ++i) ops::add_inplace(h + i * H, m.token_type_embeddings.data<float>(), H);
  }
  for (int64_t b = 0; b < B; ++b) ops::add_inplace(h + b * S * H, m.position_embeddings.data<float>(), S * H);
  m.layer_norm(h, nullptr, T, m.embeddings_ln);
  if (request.hidden_states) out.hidden_states.push_back(hidden);

  // Additive mask [B, S]: (1 - mask) · finfo(float32).min, as transformers 4.19 extends it.
  Tensor mask_add;
  if (batch.attention_mask.defined()) {
    mask_add = Tensor::empty(DType::F32, {B, S});
    const int64_t* am = batch.attention_mask.data<int64_t>();
    float* ma = mask_add.data<float>();
    for (int64_t i = 0; i < T; ++i) ma[i] = (1.0f - static_cast<float>(am[i])) * std::numeric_limits<float>::lowest();
  }
  // Each sequence's key length when its mask is ones then zeros (right padding); 0 = use the mask.
  std::vector<int64_t> key_len(static_cast<size_t>(B), S);
  if (batch.attention_mask.defined()) {
    const int64_t* am = batch.attention_mask.data<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      while (len < S && am[b * S + len] == 1) ++len;
      bool prefix = len > 0;
      for (int64_t s2 = len; s2 < S && prefix; ++s2) prefix = am[b * S + s2] == 0;
      key_len[static_cast<size_t>(b)] = prefix ? len : 0;
    }
  }
  const float divisor = static_cast<float>(std::sqrt(static_cast<double>(d)));

  // Unpadded rows: when every text is right-padded and no per-layer outputs are requested, the
  // encoder runs on the real tokens only, packed [N, H] (text b's rows start at off[b]); the
  // result is scattered back to [B, S, H] with zeros at padded positions.
  bool packed = batch.attention_mask.defined() && !request.hidden_states && !request.attentions;
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
  const ops::AttentionShape ashape{heads, d, 3 * H, H, divisor};
  std::vector<ops::AttentionSequence> seqs(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = key_len[static_cast<size_t>(b)];
    ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
    sq.rows = packed ? len : S;
    sq.keys = len > 0 ? len : S;
    sq.mask = (len == 0 && mask_add.defined()) ? mask_add.data<float>() + b * S : nullptr;
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
                                ? kSlabRows
                                : std::numeric_limits<int64_t>::max();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t r = seqs[static_cast<size_t>(b)].rows;
    if (slabs.empty() || slabs.back().rows + r > slab_rows)
      slabs.push_back({b, b, off[static_cast<size_t>(b)], 0});
    slabs.back().b1 = b + 1;
    slabs.back().rows += r;
    slab_rows_max = std::max(slab_rows_max, slabs.back().rows);
  }

  // Scratch for one slab of one layer, reused across calls on this thread (see Workspace).
  Workspace& ws = Workspace::of_this_thread();
  float* qkv = ws.get(static_cast<size_t>(slab_rows_max * (5 * H + I)));
  float* context = qkv + slab_rows_max * 3 * H;
  float* a = context + slab_rows_max * H;
  float* inter = a + slab_rows_max * H;
  for (const Slab& sl : slabs)  // QKV and context rows relative to the slab's scratch
    for (int64_t b = sl.b0; b < sl.b1; ++b) {
      ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
      sq.qkv = qkv + (off[static_cast<size_t>(b)] - sl.r0) * 3 * H;
      sq.ctx = context + (off[static_cast<size_t>(b)] - sl.r0) * H;
    }
  for (const EncoderLayer& layer : m.layers) {
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
    for (const Slab& sl : slabs) {
      const float* x = in + sl.r0 * H;
      float* y = next + sl.r0 * H;
      const int64_t n = sl.rows;
      // Self-attention.
      layer.qkv.forward(x, n, qkv);
      ops::attention(ashape, std::span(seqs).subspan(static_cast<size_t>(sl.b0), static_cast<size_t>(sl.b1 - sl.b0)));
      layer.attn_out.forward(context, n, a);
      m.layer_norm(a, x, n, layer.attn_ln);
      // Feed-forward: act(intermediate dense) in one GEMM, then output dense.
      layer.intermediate.forward(a, n, inter);
      layer.output.forward(inter, n, y);
      m.layer_norm(y, a, n, layer.out_ln);
    }
    h = next;
    if (request.attentions) out.attentions.push_back(scores);
    if (request.hidden_states) out.hidden_states.push_back(hidden);
  }
  ws.trim();
  if (packed) {
    h = hidden.data<float>();
    std::fill(h, h + T * H, 0.0f);
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(h + b * S * H, work.data<float>() + off[static_cast<size_t>(b)] * H,
                  static_cast<size_t>(key_len[static_cast<size_t>(b)] * H) * sizeof(float));
  }
  out.last_hidden_state = hidden;

  // Pooler: dense + tanh on each sequence's first token.
  if (m.pooler.defined()) {
    out.pooler_output = Tensor::empty(DType::F32, {B, H});
    m.pooler.forward(h, B, out.pooler_output.data<float>(), S * H);
  }

  using io::HeadKind;
  if (m.head == HeadKind::MaskedLM || m.head == HeadKind::PreTraining) {
    Tensor t = Tensor::empty(DType::F32, {T, H});
    m.mlm_transform.forward(h, T, t.data<float>());
    m.layer_norm(t.data<float>(), nullptr, T, m.mlm_ln);
    out.prediction_logits = Tensor::empty(DType::F32, {B, S, m.mlm_decoder.out_features()});
    m.mlm_decoder.forward(t.data<float>(), T, out.prediction_logits.data<float>());
  }
  if (m.head == HeadKind::PreTraining) out.seq_relationship_logits = m.seq_relationship.forward(out.pooler_output);
  if (m.head == HeadKind::SequenceClassification) out.logits = m.classifier.forward(out.pooler_output);
  if (m.head == HeadKind::TokenClassification) out.logits = m.classifier.forward(out.last_hidden_state);
  if (m.head == HeadKind::QuestionAnswering) {
    Tensor both = m.qa_outputs.forward(out.last_hidden_state);  // [B, S, 2]
    out.start_logits = Tensor::empty(DType::F32, {B, S});
    out.end_logits = Tensor::empty(DType::F32, {B, S});
    const float* p = both.data<float>();
    for (int64_t i = 0; i < T; ++i) {
      out.start_logits.data<float>()[i] = p[2 * i];
      out.end_logits.data<float>()[i] = p[2 * i + 1];
    }
  }
  return out;
}

}  // namespace bertcpp::model
