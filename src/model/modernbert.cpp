// ModernBERT on ops/, in modeling_modernbert.py's order. Top to bottom: loading (checkpoint names
// -> Linears, norms, rotary tables), the packed batch, embeddings, encoder layers (attention
// block, MLP block), final norm, heads.
#include "model/modernbert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "model/input.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/glu.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/rotary.h"
#include "ops/threads.h"

namespace bertcpp::model {

namespace {

struct Norm {  // nn.LayerNorm(hidden, eps, bias=norm_bias)
  Tensor weight, bias;
  bool defined() const { return weight.defined(); }
};

struct Layer {
  bool local = false;
  Norm attn_norm;  // undefined on layer 0 (Identity)
  ops::Linear wqkv, attn_wo;
  Norm mlp_norm;
  ops::Linear wi, mlp_wo;
};

// The checkpoint's tensors by name (with or without the "model." prefix), shape-checked, with
// every problem collected into one error.
class Reader {
 public:
  explicit Reader(const io::Checkpoint& c) : ckpt_(c) {}
  std::optional<std::string> file_name(const std::string& name) const {
    for (const std::string& n : {name, "model." + name, name.rfind("model.", 0) == 0 ? name.substr(6) : std::string()})
      if (!n.empty() && ckpt_.contains(n)) return n;
    return std::nullopt;
  }
  bool has(const std::string& name) const { return file_name(name).has_value(); }
  // F32 tensor `name` of `shape`; undefined (and a problem noted unless optional) when absent.
  Tensor get(const std::string& name, const Shape& shape, bool optional = false) {
    const auto n = file_name(name);
    if (!n) {
      if (!optional) problems.push_back("missing " + name);
      return Tensor();
    }
    const io::TensorInfo& info = ckpt_.info(*n);
    if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16) {
      problems.push_back(*n + " has dtype " + std::string(dtype_name(info.dtype)) + ", expected F32/F16/BF16");
      return Tensor();
    }
    if (info.shape != shape) {
      problems.push_back(*n + " has shape " + shape_to_string(info.shape) + ", expected " + shape_to_string(shape));
      return Tensor();
    }
    Tensor t = ckpt_.get_f32(*n);
    loaded.push_back(t);
    return t;
  }
  std::vector<std::string> problems;
  std::vector<Tensor> loaded;

 private:
  const io::Checkpoint& ckpt_;
};

Norm norm(Reader& r, const std::string& name, const EncoderConfig& c) {
  Norm n;
  n.weight = r.get(name + ".weight", {c.hidden_size});
  if (c.norm_bias) n.bias = r.get(name + ".bias", {c.hidden_size});
  return n;
}

ops::Linear linear(Reader& r, const std::string& name, int64_t out, int64_t in, bool bias,
                   ops::Activation act = ops::Activation::Identity, ops::GemmType gemm = ops::GemmType::F32) {
  const Tensor w = r.get(name + ".weight", {out, in});
  const Tensor b = bias ? r.get(name + ".bias", {out}) : Tensor();
  if (!w.defined() || (bias && !b.defined())) return ops::Linear();
  return ops::Linear(w, b, act, gemm);
}

void apply_norm(const Norm& n, const float* x, int64_t rows, int64_t cols, double eps, float* y) {
  ops::layer_norm(x, nullptr, rows, cols, n.weight.data<float>(), n.bias.defined() ? n.bias.data<float>() : nullptr, eps, y);
}

void add_inplace(float* x, const float* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

class ModernBert final : public Network {
 public:
  EncoderConfig cfg;
  const Family* fam = nullptr;
  HeadKind head_kind = HeadKind::None;
  std::string missing;
  int threads = 0;

  Tensor tok_embeddings;
  Norm emb_norm, final_norm;
  std::vector<Layer> layers;
  ops::RotaryTable rope_global, rope_local;
  // ModernBertPredictionHead (dense + classifier_activation, norm), then decoder or classifier.
  ops::Linear head_dense, decoder, classifier;
  Norm head_norm;

  const EncoderConfig& config() const override { return cfg; }
  const Family& family() const override { return *fam; }
  HeadKind head() const override { return head_kind; }
  const std::string& head_missing() const override { return missing; }
  bool has_pooler() const override { return false; }
  Output forward(const Input& input, const Request& request) const override;

 private:
  void run_head(const float* x, int64_t rows, Tensor& out) const;  // dense, act, norm, then the output Linear
};

}  // namespace

std::unique_ptr<Network> load_modernbert(const std::filesystem::path& dir, const EncoderConfig& config,
                                         const Family& family, const Options& options) {
  if (options.threads < 0) throw invalid_argument("threads must be >= 0 (0 = all cores), got " + std::to_string(options.threads));
  auto m = std::make_unique<ModernBert>();
  m->cfg = config;
  m->fam = &family;
  m->head_kind = head_from_architectures(family, config.architectures);
  m->threads = options.threads;
  const EncoderConfig& c = m->cfg;
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size, d = c.head_dim();
  const ops::GemmType gemm = options.gemm;
  const io::Checkpoint ckpt = io::Checkpoint::open(dir);
  Reader r(ckpt);
  ops::set_num_threads(options.threads);  // weight packing runs on the loading thread

  m->tok_embeddings = r.get("embeddings.tok_embeddings.weight", {V, H});
  m->emb_norm = norm(r, "embeddings.norm", c);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    Layer l;
    l.local = c.layer_is_local[static_cast<size_t>(i)];
    if (i > 0) l.attn_norm = norm(r, p + "attn_norm", c);
    l.wqkv = linear(r, p + "attn.Wqkv", 3 * H, H, c.attention_bias, ops::Activation::Identity, gemm);
    l.attn_wo = linear(r, p + "attn.Wo", H, H, c.attention_bias, ops::Activation::Identity, gemm);
    l.mlp_norm = norm(r, p + "mlp_norm", c);
    l.wi = linear(r, p + "mlp.Wi", 2 * I, H, c.mlp_bias, ops::Activation::Identity, gemm);
    l.mlp_wo = linear(r, p + "mlp.Wo", H, I, c.mlp_bias, ops::Activation::Identity, gemm);
    m->layers.push_back(std::move(l));
    for (const Tensor& t : r.loaded) ckpt.release_pages(t);  // packed now: drop the file's pages from RSS
    r.loaded.clear();
  }
  m->final_norm = norm(r, "final_norm", c);
  if (!r.problems.empty()) {
    std::string msg = dir.string() + ": " + std::to_string(r.problems.size()) + " weight problem" +
                      (r.problems.size() > 1 ? "s" : "") + " for a " + std::to_string(c.num_hidden_layers) +
                      "-layer modernbert (head " + head_name(m->head_kind) + "): ";
    for (size_t i = 0; i < r.problems.size(); ++i) msg += (i ? "; " : "") + r.problems[i];
    throw Error(ErrorKind::InvalidFile, msg);
  }
  m->rope_global = ops::rotary_table(c.max_position_embeddings, d, c.global_rope_theta);
  m->rope_local = ops::rotary_table(c.max_position_embeddings, d, c.local_rope_theta);

  // The head: every weight present, or the base model alone and head_missing saying what is absent.
  if (m->head_kind != HeadKind::None) {
    std::vector<std::string> names = {"head.dense.weight", "head.norm.weight"};
    if (c.classifier_bias) names.push_back("head.dense.bias");
    if (c.norm_bias) names.push_back("head.norm.bias");
    if (m->head_kind == HeadKind::MaskedLM) {
      if (c.decoder_bias) names.push_back("decoder.bias");
    } else {
      names.insert(names.end(), {"classifier.weight", "classifier.bias"});
    }
    std::string absent;
    for (const auto& n : names)
      if (!r.has(n)) absent += (absent.empty() ? "" : ", ") + n;
    if (!absent.empty()) {
      m->missing = "the checkpoint has no " + head_name(m->head_kind) + " head weights (missing " + absent + ")";
    } else {
      m->head_dense = linear(r, "head.dense", H, H, c.classifier_bias, c.classifier_activation);
      m->head_norm = norm(r, "head.norm", c);
      if (m->head_kind == HeadKind::MaskedLM) {
        // decoder.weight is tied to tok_embeddings (absent from files transformers writes).
        const Tensor w = r.has("decoder.weight") ? r.get("decoder.weight", {V, H}) : m->tok_embeddings;
        const Tensor b = c.decoder_bias ? r.get("decoder.bias", {V}) : Tensor();
        if (w.defined()) m->decoder = ops::Linear(w, b);
      } else {
        const int64_t L = m->head_kind == HeadKind::QuestionAnswering ? 2 : c.num_labels;
        m->classifier = linear(r, "classifier", L, H, true);
      }
      if (!r.problems.empty()) {
        std::string msg = dir.string() + ": ";
        for (size_t i = 0; i < r.problems.size(); ++i) msg += (i ? "; " : "") + r.problems[i];
        throw Error(ErrorKind::InvalidFile, msg);
      }
    }
  }
  for (const Tensor& t : r.loaded) ckpt.release_pages(t);
  return m;
}

Output ModernBert::forward(const Input& input, const Request& request) const {
  validate_input(cfg, input);
  if (request.head && head_kind != HeadKind::None && !missing.empty())
    throw invalid_file("model", missing + "; the base model's outputs need no head: ask for them only");
  ops::set_num_threads(threads);
  const int64_t B = input.batch_size(), S = input.seq_len(), T = B * S;
  const int64_t H = cfg.hidden_size, heads = cfg.num_attention_heads, d = cfg.head_dim(), I = cfg.intermediate_size;
  const double eps = cfg.layer_norm_eps;
  const int64_t* am = input.attention_mask.defined() ? input.attention_mask.data<int64_t>() : nullptr;

  // The packed batch (transformers' ModernBERT is unpadded too): a right-padded text contributes its
  // `len` real tokens, attending to them only; any other mask (left padding, holes, all zeros) runs
  // all S rows with the additive mask (1 - mask)·finfo.min, as transformers' padded path. Positions
  // are 0, 1, 2, ... within each text. Text b's rows start at off[b].
  std::vector<int64_t> rows(static_cast<size_t>(B)), off(static_cast<size_t>(B));
  Tensor mask_add = Tensor::empty(DType::F32, {B, S});
  std::vector<bool> masked(static_cast<size_t>(B), false);
  int64_t N = 0;
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = S;
    if (am) {
      len = 0;
      while (len < S && am[b * S + len] == 1) ++len;
      bool prefix = len > 0;
      for (int64_t s = len; s < S && prefix; ++s) prefix = am[b * S + s] == 0;
      if (!prefix) {
        len = S;
        masked[static_cast<size_t>(b)] = true;
        for (int64_t s = 0; s < S; ++s)
          mask_add.data<float>()[b * S + s] = (1.0f - static_cast<float>(am[b * S + s])) * std::numeric_limits<float>::lowest();
      }
    }
    rows[static_cast<size_t>(b)] = len;
    off[static_cast<size_t>(b)] = N;
    N += len;
  }
  // [N, H] packed rows -> [B, S, H] with zeros at the positions no row computes.
  auto scatter = [&](const float* x) {
    Tensor t = Tensor::zeros(DType::F32, {B, S, H});
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(t.data<float>() + b * S * H, x + off[static_cast<size_t>(b)] * H,
                  static_cast<size_t>(rows[static_cast<size_t>(b)] * H) * sizeof(float));
    return t;
  };
  Output out;

  // Embeddings: norm(tok_embeddings(input_ids)).
  Tensor ids = Tensor::empty(DType::I64, {N});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(ids.data<int64_t>() + off[static_cast<size_t>(b)], input.input_ids.data<int64_t>() + b * S,
                static_cast<size_t>(rows[static_cast<size_t>(b)]) * sizeof(int64_t));
  Tensor hidden = Tensor::empty(DType::F32, {N, H});
  float* x = hidden.data<float>();
  ops::embedding(tok_embeddings.data<float>(), cfg.vocab_size, H, ids.data<int64_t>(), N, x, false);
  apply_norm(emb_norm, x, N, H, eps, x);
  if (request.hidden_states) out.hidden_states.push_back(scatter(x));

  std::vector<float> normed(static_cast<size_t>(N * H)), qkv(static_cast<size_t>(N * 3 * H)),
      ctx(static_cast<size_t>(N * H)), up(static_cast<size_t>(N * 2 * I)), act(static_cast<size_t>(N * I)),
      y(static_cast<size_t>(N * H));
  const ops::AttentionShape ashape{heads, d, 3 * H, H, static_cast<float>(std::sqrt(static_cast<double>(d))),
                                   !layers.empty() && layers[0].wqkv.gemm() == ops::GemmType::BF16};
  std::vector<ops::AttentionSequence> seqs(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
    sq.qkv = qkv.data() + off[static_cast<size_t>(b)] * 3 * H;
    sq.ctx = ctx.data() + off[static_cast<size_t>(b)] * H;
    sq.rows = sq.keys = rows[static_cast<size_t>(b)];
    sq.mask = masked[static_cast<size_t>(b)] ? mask_add.data<float>() + b * S : nullptr;
  }

  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    // Attention block: x + Wo(attention(rotary(Wqkv(attn_norm(x))))).
    const float* a = x;
    if (l.attn_norm.defined()) {
      apply_norm(l.attn_norm, x, N, H, eps, normed.data());
      a = normed.data();
    }
    l.wqkv.forward(a, N, qkv.data());
    const ops::RotaryTable& rope = l.local ? rope_local : rope_global;
    for (int64_t b = 0; b < B; ++b)  // Q and K: 2·heads head vectors at the start of each row
      ops::rotary(rope, qkv.data() + off[static_cast<size_t>(b)] * 3 * H, rows[static_cast<size_t>(b)], 3 * H, 2 * heads);
    Tensor probs;
    if (request.attentions) probs = Tensor::zeros(DType::F32, {B, heads, S, S});
    for (int64_t b = 0; b < B; ++b) {
      ops::AttentionSequence& sq = seqs[static_cast<size_t>(b)];
      sq.window = l.local ? cfg.local_attention / 2 : -1;
      if (request.attentions) {
        sq.probs = probs.data<float>() + b * heads * S * S;
        sq.probs_head_stride = S * S;
        sq.probs_row_stride = S;
        sq.probs_cols = S;
      }
    }
    ops::attention(ashape, seqs);
    l.attn_wo.forward(ctx.data(), N, y.data());
    add_inplace(x, y.data(), N * H);
    // MLP block: x + Wo(act(input) · gate), [input | gate] = Wi(mlp_norm(x)).
    apply_norm(l.mlp_norm, x, N, H, eps, normed.data());
    l.wi.forward(normed.data(), N, up.data());
    ops::glu(up.data(), N, I, cfg.hidden_act, act.data());
    l.mlp_wo.forward(act.data(), N, y.data());
    add_inplace(x, y.data(), N * H);
    if (request.attentions) out.attentions.push_back(probs);
    // transformers returns every layer's output but the last, which last_hidden_state replaces.
    if (request.hidden_states && li + 1 < layers.size()) out.hidden_states.push_back(scatter(x));
  }
  apply_norm(final_norm, x, N, H, eps, x);
  out.last_hidden_state = scatter(x);
  if (request.hidden_states) out.hidden_states.push_back(out.last_hidden_state);
  if (!request.head || head_kind == HeadKind::None) return out;

  switch (head_kind) {
    case HeadKind::MaskedLM: {
      Tensor logits;
      run_head(x, N, logits);
      const int64_t Vo = decoder.out_features();
      out.prediction_logits = Tensor::zeros(DType::F32, {B, S, Vo});
      for (int64_t b = 0; b < B; ++b)
        std::memcpy(out.prediction_logits.data<float>() + b * S * Vo, logits.data<float>() + off[static_cast<size_t>(b)] * Vo,
                    static_cast<size_t>(rows[static_cast<size_t>(b)] * Vo) * sizeof(float));
      break;
    }
    case HeadKind::SequenceClassification: {
      // classifier_pooling: the first token, or the mean over attention_mask (transformers' formula).
      Tensor pooled = Tensor::empty(DType::F32, {B, H});
      const float* h = out.last_hidden_state.data<float>();
      for (int64_t b = 0; b < B; ++b) {
        float* p = pooled.data<float>() + b * H;
        if (cfg.classifier_pooling == "cls") {
          std::memcpy(p, h + b * S * H, static_cast<size_t>(H) * sizeof(float));
          continue;
        }
        float count = 0;
        std::vector<double> sum(static_cast<size_t>(H), 0.0);
        for (int64_t s = 0; s < S; ++s) {
          const float w = am ? static_cast<float>(am[b * S + s]) : 1.0f;
          count += w;
          for (int64_t j = 0; j < H; ++j) sum[static_cast<size_t>(j)] += static_cast<double>(h[(b * S + s) * H + j] * w);
        }
        for (int64_t j = 0; j < H; ++j) p[j] = static_cast<float>(sum[static_cast<size_t>(j)]) / count;
      }
      run_head(pooled.data<float>(), B, out.logits);
      break;
    }
    case HeadKind::TokenClassification:
    case HeadKind::QuestionAnswering: {
      Tensor logits;
      run_head(out.last_hidden_state.data<float>(), T, logits);
      if (head_kind == HeadKind::TokenClassification) {
        out.logits = logits.reshape({B, S, classifier.out_features()});
        break;
      }
      out.start_logits = Tensor::empty(DType::F32, {B, S});
      out.end_logits = Tensor::empty(DType::F32, {B, S});
      for (int64_t i = 0; i < T; ++i) {
        out.start_logits.data<float>()[i] = logits.data<float>()[2 * i];
        out.end_logits.data<float>()[i] = logits.data<float>()[2 * i + 1];
      }
      break;
    }
    default: break;
  }
  return out;
}

void ModernBert::run_head(const float* x, int64_t n, Tensor& out) const {
  const int64_t H = cfg.hidden_size;
  std::vector<float> t(static_cast<size_t>(n * H));
  head_dense.forward(x, n, t.data());
  apply_norm(head_norm, t.data(), n, H, cfg.layer_norm_eps, t.data());
  const ops::Linear& o = head_kind == HeadKind::MaskedLM ? decoder : classifier;
  out = Tensor::empty(DType::F32, {n, o.out_features()});
  o.forward(t.data(), n, out.data<float>());
}

}  // namespace bertcpp::model
