// bertcpp::Model: loading (hub id or folder → model::Encoder + Tokenizer + sentence-transformers
// defaults) and the task helpers built on forward(): embed, fill_mask, classify, rerank,
// classify_tokens, answer. The compute itself is model::Encoder's.
#include "bertcpp/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "api/resolve.h"
#include "api/sentence_transformers.h"
#include "model/network.h"
#include "ops/softmax.h"
#include "tokenizer/unicode.hpp"

namespace bertcpp {
namespace fs = std::filesystem;

struct Model::Impl {
  std::string name;
  std::string dir;
  std::unique_ptr<model::Network> encoder;
  Tokenizer tokenizer;
  ModelConfigInfo info;
  std::string head;
  model::HeadKind head_kind = model::HeadKind::None;
  std::optional<std::string> problem_type;
  api::SentenceTransformersConfig st;
  Pooling pooling = Pooling::Mean;
  bool normalize = false;
  int64_t max_seq_length = 512;   // embed()
  int64_t task_max_length = 512;  // the other helpers: min(model_max_length, max_position_embeddings)
  int threads = 0;
};

namespace {

constexpr size_t kChunk = 32;  // sequences per forward() in embed()/rerank()

const char* api_head_name(model::HeadKind h) {
  switch (h) {
    case model::HeadKind::None: return "base";
    case model::HeadKind::MaskedLM: return "masked_lm";
    case model::HeadKind::PreTraining: return "pretraining";
    case model::HeadKind::Discriminator: return "discriminator";
    case model::HeadKind::SequenceClassification: return "sequence_classification";
    case model::HeadKind::TokenClassification: return "token_classification";
    case model::HeadKind::QuestionAnswering: return "question_answering";
  }
  return "base";
}

// sentence-transformers' do_lower_case: Python's str.lower() of the text (full case mapping and
// the final-sigma rule; invalid UTF-8 decoded with U+FFFD as the tokenizer does).
std::string lower_utf8(std::string_view s) { return tok::u32_to_utf8(tok::py_lower(tok::utf8_to_u32(s))); }

std::vector<float> softmax(const float* x, size_t n) {
  const std::vector<double> p = ops::probabilities(x, n);
  return std::vector<float>(p.begin(), p.end());
}

float sigmoid(float x) { return static_cast<float>(ops::sigmoid(x)); }

Tensor need(const Tensor& t, const char* what, const std::string& model) {
  if (!t.defined()) throw Error(ErrorKind::Internal, "model " + model + " produced no " + what);
  return t.to_f32();
}

// Indices of `encs` sorted longest first (stable), so chunks pad little.
std::vector<size_t> by_length(const std::vector<Encoding>& encs) {
  std::vector<size_t> order(encs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return encs[a].size() > encs[b].size(); });
  return order;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Batch

Batch Batch::from_encodings(std::span<const Encoding> encodings, int64_t pad_token_id) {
  if (encodings.empty()) throw invalid_argument("Batch::from_encodings: no encodings");
  size_t S = 0;
  for (const auto& e : encodings) S = std::max(S, e.size());
  if (S == 0) throw invalid_argument("Batch::from_encodings: every encoding is empty");
  const auto B = static_cast<int64_t>(encodings.size());
  Batch b;
  b.input_ids = Tensor::empty(DType::I64, {B, static_cast<int64_t>(S)});
  b.attention_mask = Tensor::zeros(DType::I64, {B, static_cast<int64_t>(S)});
  b.token_type_ids = Tensor::zeros(DType::I64, {B, static_cast<int64_t>(S)});
  int64_t* ids = b.input_ids.data<int64_t>();
  int64_t* mask = b.attention_mask.data<int64_t>();
  int64_t* types = b.token_type_ids.data<int64_t>();
  std::fill(ids, ids + B * static_cast<int64_t>(S), pad_token_id);
  for (size_t r = 0; r < encodings.size(); ++r) {
    const Encoding& e = encodings[r];
    const size_t n = e.size();
    if ((!e.attention_mask.empty() && e.attention_mask.size() != n) || (!e.token_type_ids.empty() && e.token_type_ids.size() != n))
      throw invalid_argument("Batch::from_encodings: encoding " + std::to_string(r) +
                             " has input_ids, attention_mask and token_type_ids of different lengths");
    for (size_t i = 0; i < n; ++i) {
      ids[r * S + i] = e.input_ids[i];
      mask[r * S + i] = e.attention_mask.empty() ? 1 : e.attention_mask[i];
      types[r * S + i] = e.token_type_ids.empty() ? 0 : e.token_type_ids[i];
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Loading

Model Model::from_pretrained(const std::string& id_or_path, const ModelOptions& options) {
  if (options.threads < 0) throw invalid_argument("ModelOptions.threads must be >= 0, got " + std::to_string(options.threads));
  auto impl = std::make_shared<Impl>();
  impl->name = id_or_path;
  const fs::path dir = api::resolve_model_dir(id_or_path, options.revision);
  impl->dir = dir.string();
  impl->st = api::load_sentence_transformers_config(dir);
  const fs::path model_dir = impl->st.transformer_dir;
  model::Options mo;
  mo.threads = options.threads;
  mo.gemm = options.compute == ComputeType::BF16   ? ops::GemmType::BF16
            : options.compute == ComputeType::Int8 ? ops::GemmType::Int8
                                                   : ops::GemmType::F32;
  impl->encoder = model::load_network(model_dir, mo);
  impl->tokenizer = Tokenizer::from_dir(model_dir, options.tokenizer);
  impl->threads = options.threads;

  const model::EncoderConfig& c = impl->encoder->config();
  ModelConfigInfo& info = impl->info;
  info.model_type = c.model_type;
  info.family = impl->encoder->family().name;
  info.vocab_size = c.vocab_size;
  info.hidden_size = c.hidden_size;
  info.num_hidden_layers = c.num_hidden_layers;
  info.num_attention_heads = c.num_attention_heads;
  info.intermediate_size = c.intermediate_size;
  info.max_position_embeddings = c.max_position_embeddings;
  info.type_vocab_size = c.type_vocab_size;
  info.max_sequence_length = c.max_sequence_length();
  info.has_pooler = impl->encoder->has_pooler();
  info.hidden_act = c.hidden_act_name;
  info.architectures = c.architectures;
  impl->head_kind = impl->encoder->head();
  impl->head = api_head_name(impl->head_kind);
  impl->problem_type = c.problem_type;
  if (impl->head_kind == model::HeadKind::SequenceClassification || impl->head_kind == model::HeadKind::TokenClassification) {
    for (int64_t i = 0; i < c.num_labels; ++i) {
      auto it = c.id2label.find(i);
      info.labels.push_back(it != c.id2label.end() ? it->second : "LABEL_" + std::to_string(i));
    }
  }

  const int64_t longest = c.max_sequence_length();
  impl->task_max_length = std::min(impl->tokenizer.model_max_length(), longest);
  if (impl->task_max_length < 2) impl->task_max_length = longest;
  impl->max_seq_length = impl->st.max_seq_length.value_or(impl->task_max_length);
  if (impl->max_seq_length > longest)
    throw invalid_file((dir / "sentence_bert_config.json").string(),
                       "max_seq_length " + std::to_string(impl->max_seq_length) + " exceeds the model's longest input " +
                           std::to_string(longest) + " (max_position_embeddings " +
                           std::to_string(c.max_position_embeddings) + ")");
  if (impl->st.pooling) impl->pooling = *impl->st.pooling;
  impl->normalize = impl->st.normalize;
  for (const api::PostPoolingStep& step : impl->st.after_pooling)
    if (step.dense) {  // the first Dense module takes the pooled hidden states
      if (step.dense->in_features != c.hidden_size)
        throw invalid_file(step.dense->dir + "/config.json", "in_features " + std::to_string(step.dense->in_features) +
                                                                 " does not match the model's hidden_size " +
                                                                 std::to_string(c.hidden_size));
      break;
    }

  Model m;
  m.impl_ = std::move(impl);
  return m;
}

Tokenizer Tokenizer::from_pretrained(const std::string& id_or_path, const TokenizerOptions& options) {
  const fs::path dir = api::resolve_model_dir(id_or_path, "main");
  const api::SentenceTransformersConfig st = api::load_sentence_transformers_config(dir);
  return Tokenizer::from_dir(st.transformer_dir, options);
}

const Tokenizer& Model::tokenizer() const { return impl_->tokenizer; }
const ModelConfigInfo& Model::config() const { return impl_->info; }
const std::string& Model::name() const { return impl_->name; }
const std::string& Model::directory() const { return impl_->dir; }
Pooling Model::default_pooling() const { return impl_->pooling; }
bool Model::default_normalize() const { return impl_->normalize; }
int64_t Model::max_seq_length() const { return impl_->max_seq_length; }
const std::string& Model::head() const { return impl_->head; }

ModelOutput Model::forward(const Batch& batch, const OutputRequest& request) const {
  model::Input in{batch.input_ids, batch.attention_mask, batch.token_type_ids};
  model::Request r;
  r.hidden_states = request.hidden_states;
  r.attentions = request.attentions;
  r.pooler = request.pooler_output;
  // A checkpoint without its head's weights is the base model (as transformers' base classes load it).
  r.head = request.head_outputs && impl_->encoder->head_missing().empty();
  model::Output o = impl_->encoder->forward(in, r);
  ModelOutput out;
  out.last_hidden_state = std::move(o.last_hidden_state);
  out.pooler_output = std::move(o.pooler_output);
  out.hidden_states = std::move(o.hidden_states);
  out.attentions = std::move(o.attentions);
  out.logits = std::move(o.logits);
  out.prediction_logits = std::move(o.prediction_logits);
  out.seq_relationship_logits = std::move(o.seq_relationship_logits);
  out.start_logits = std::move(o.start_logits);
  out.end_logits = std::move(o.end_logits);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sentence embeddings

const char* pooling_name(Pooling pooling) {
  switch (pooling) {
    case Pooling::Cls: return "cls";
    case Pooling::Mean: return "mean";
    case Pooling::Max: return "max";
    case Pooling::MeanSqrtLen: return "mean_sqrt_len";
    case Pooling::WeightedMean: return "weightedmean";
    case Pooling::LastToken: return "lasttoken";
  }
  return "mean";
}

Pooling parse_pooling(std::string_view name) {
  if (name == "cls") return Pooling::Cls;
  if (name == "mean") return Pooling::Mean;
  if (name == "max") return Pooling::Max;
  if (name == "mean_sqrt_len") return Pooling::MeanSqrtLen;
  if (name == "weightedmean") return Pooling::WeightedMean;
  if (name == "lasttoken") return Pooling::LastToken;
  throw invalid_argument("unknown pooling '" + std::string(name) +
                         "' (expected cls, mean, max, mean_sqrt_len, weightedmean or lasttoken)");
}

namespace {
// sentence-transformers' Pooling; the first `skip[b]` real tokens of row b (the prompt) count as
// masked, except for weightedmean's weights, which start at the first real token.
Tensor pool_rows(const Tensor& last_hidden_state, const Tensor& attention_mask, Pooling pooling, bool normalize,
                 std::span<const int64_t> skip);
}  // namespace

Tensor Model::pool(const Tensor& last_hidden_state, const Tensor& attention_mask, Pooling pooling, bool normalize) {
  return pool_rows(last_hidden_state, attention_mask, pooling, normalize, {});
}

namespace {
Tensor pool_rows(const Tensor& last_hidden_state, const Tensor& attention_mask, Pooling pooling, bool normalize,
                 std::span<const int64_t> skip) {
  if (!last_hidden_state.defined() || last_hidden_state.rank() != 3)
    throw invalid_argument("pool: last_hidden_state must be [batch, seq, hidden]");
  const int64_t B = last_hidden_state.dim(0), S = last_hidden_state.dim(1), H = last_hidden_state.dim(2);
  if (!attention_mask.defined() || attention_mask.shape() != Shape{B, S})
    throw invalid_argument("pool: attention_mask must be " + shape_to_string({B, S}) + ", got " +
                           (attention_mask.defined() ? shape_to_string(attention_mask.shape()) : std::string("undefined")));
  if (!skip.empty() && skip.size() != static_cast<size_t>(B))
    throw invalid_argument("pool: " + std::to_string(skip.size()) + " prompt lengths for " + std::to_string(B) + " rows");
  const Tensor h = last_hidden_state.to_f32();
  Tensor m = attention_mask.dtype() == DType::F32 ? attention_mask.clone() : attention_mask.to_f32();  // edited below
  std::vector<int64_t> origin(static_cast<size_t>(B), 0);  // first real token of each row, before the prompt is dropped
  for (int64_t b = 0; b < B; ++b) {
    float* mb = m.data<float>() + b * S;
    int64_t first = 0;
    while (first < S && mb[first] == 0.f) ++first;
    origin[static_cast<size_t>(b)] = first;
    if (!skip.empty())
      for (int64_t s = first; s < std::min(S, first + std::max<int64_t>(skip[static_cast<size_t>(b)], 0)); ++s) mb[s] = 0.f;
  }
  const float* hp = h.data<float>();
  const float* mp = m.data<float>();
  Tensor out = Tensor::empty(DType::F32, {B, H});
  float* op = out.data<float>();
  std::vector<double> acc(static_cast<size_t>(H));
  for (int64_t b = 0; b < B; ++b) {
    const float* hb = hp + b * S * H;
    const float* mb = mp + b * S;
    float* ob = op + b * H;
    // sentence-transformers counts positions from the first unmasked token (left padding).
    int64_t first = 0;
    while (first < S && mb[first] == 0.f) ++first;
    switch (pooling) {
      case Pooling::Cls:
        std::memcpy(ob, hb + (first < S ? first : 0) * H, static_cast<size_t>(H) * sizeof(float));
        break;
      case Pooling::Mean:  // sentence-transformers: sum(h·mask) / clamp(sum(mask), 1e-9)
      case Pooling::MeanSqrtLen:  // ... / sqrt(clamp(sum(mask), 1e-9))
      case Pooling::WeightedMean: {  // sum(h·mask·w) / clamp(sum(mask·w), 1e-9), w = position - first + 1
        std::fill(acc.begin(), acc.end(), 0.0);
        double count = 0;
        for (int64_t s = 0; s < S; ++s) {
          if (mb[s] == 0.f) continue;
          const double w = pooling == Pooling::WeightedMean ? double(mb[s]) * double(s - origin[static_cast<size_t>(b)] + 1) : double(mb[s]);
          count += w;
          for (int64_t k = 0; k < H; ++k) acc[k] += static_cast<double>(hb[s * H + k]) * w;
        }
        count = std::max(count, 1e-9);
        const double denom = pooling == Pooling::MeanSqrtLen ? std::sqrt(count) : count;
        for (int64_t k = 0; k < H; ++k) ob[k] = static_cast<float>(acc[k] / denom);
        break;
      }
      case Pooling::Max: {  // sentence-transformers: masked positions count as -1e9
        std::fill(ob, ob + H, -1e9f);
        for (int64_t s = 0; s < S; ++s) {
          if (mb[s] == 0.f) continue;
          for (int64_t k = 0; k < H; ++k) ob[k] = std::max(ob[k], hb[s * H + k]);
        }
        break;
      }
      case Pooling::LastToken: {  // the last unmasked token; zeros when every token is masked
        int64_t last = S - 1;
        while (last >= 0 && mb[last] == 0.f) --last;
        if (last < 0) {
          std::fill(ob, ob + H, 0.f);
        } else {
          for (int64_t k = 0; k < H; ++k) ob[k] = hb[last * H + k] * mb[last];
        }
        break;
      }
    }
    if (normalize) {  // torch.nn.functional.normalize: x / max(‖x‖₂, 1e-12)
      double ss = 0;
      for (int64_t k = 0; k < H; ++k) ss += static_cast<double>(ob[k]) * ob[k];
      const double norm = std::max(std::sqrt(ss), 1e-12);
      for (int64_t k = 0; k < H; ++k) ob[k] = static_cast<float>(ob[k] / norm);
    }
  }
  return out;
}

void normalize_rows(std::vector<float>& x, size_t width) {  // torch.nn.functional.normalize
  for (size_t r = 0; width && r < x.size() / width; ++r) {
    double ss = 0;
    for (size_t k = 0; k < width; ++k) ss += static_cast<double>(x[r * width + k]) * x[r * width + k];
    const double norm = std::max(std::sqrt(ss), 1e-12);
    for (size_t k = 0; k < width; ++k) x[r * width + k] = static_cast<float>(x[r * width + k] / norm);
  }
}
}  // namespace

int64_t Model::embedding_dimension() const {
  for (auto it = impl_->st.after_pooling.rbegin(); it != impl_->st.after_pooling.rend(); ++it)
    if (it->dense) return it->dense->out_features;
  return impl_->info.hidden_size;
}
const std::map<std::string, std::string>& Model::prompts() const { return impl_->st.prompts; }
const std::optional<std::string>& Model::default_prompt_name() const { return impl_->st.default_prompt_name; }

std::string Model::resolve_prompt(const EmbedOptions& options) const {
  if (options.prompt) return *options.prompt;
  const std::optional<std::string>& name = options.prompt_name ? options.prompt_name : impl_->st.default_prompt_name;
  if (!name) return {};
  auto it = impl_->st.prompts.find(*name);
  if (it == impl_->st.prompts.end()) {
    std::string known;
    for (const auto& [k, v] : impl_->st.prompts) known += (known.empty() ? "" : ", ") + k;
    throw invalid_argument("prompt name '" + *name + "' is not one of the prompts of model " + impl_->name + " (" +
                           (known.empty() ? std::string("it has none") : known) + "; config_sentence_transformers.json)");
  }
  return it->second;
}

int64_t Model::prompt_length(const std::string& prompt) const {
  if (prompt.empty()) return 0;
  const std::vector<Encoding> e = encode_for_embed(std::span<const std::string>(&prompt, 1), "", 1);
  auto n = static_cast<int64_t>(e[0].size());
  if (n > 0 && impl_->tokenizer.is_special_id(e[0].input_ids.back())) --n;
  return n;
}

std::vector<Encoding> Model::encode_for_embed(std::span<const std::string> texts, const std::string& prompt, int threads) const {
  const Impl& m = *impl_;
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = m.max_seq_length;
  if (!m.st.do_lower_case && prompt.empty()) return m.tokenizer.encode_batch(texts, eo, threads);
  std::vector<std::string> prepared;
  prepared.reserve(texts.size());
  for (const auto& t : texts) prepared.push_back(m.st.do_lower_case ? lower_utf8(prompt + t) : prompt + t);
  return m.tokenizer.encode_batch(prepared, eo, threads);
}

Tensor Model::pool_embeddings(const Tensor& last_hidden_state, const Tensor& attention_mask, const EmbedOptions& options,
                              std::span<const int64_t> prompt_lengths) const {
  const Impl& m = *impl_;
  if (!m.st.unsupported.empty()) throw unsupported("model " + m.name + ": " + m.st.unsupported);
  const Pooling p = options.pooling.value_or(m.pooling);
  const bool norm_at_end = options.normalize.value_or(false) && (m.st.after_pooling.empty() || m.st.after_pooling.back().dense);
  const bool skip_normalize = options.normalize && !*options.normalize;
  const std::span<const int64_t> skip = m.st.include_prompt ? std::span<const int64_t>() : prompt_lengths;
  if (m.st.after_pooling.empty()) return pool_rows(last_hidden_state, attention_mask, p, norm_at_end, skip);
  const Tensor pooled = pool_rows(last_hidden_state, attention_mask, p, false, skip);
  const auto n = static_cast<size_t>(pooled.dim(0));
  std::vector<float> x(pooled.data<float>(), pooled.data<float>() + pooled.numel());
  auto width = static_cast<size_t>(pooled.dim(1));
  for (const api::PostPoolingStep& step : m.st.after_pooling) {
    if (!step.dense) {
      if (!skip_normalize) normalize_rows(x, width);
      continue;
    }
    if (static_cast<size_t>(step.dense->in_features) != width)
      throw invalid_file(step.dense->dir + "/config.json", "in_features " + std::to_string(step.dense->in_features) +
                                                              " does not match the " + std::to_string(width) +
                                                              " features it receives (pooling " + pooling_name(p) + ")");
    x = api::apply_dense(*step.dense, x.data(), n);
    width = static_cast<size_t>(step.dense->out_features);
  }
  if (norm_at_end) normalize_rows(x, width);
  Tensor out = Tensor::empty(DType::F32, {static_cast<int64_t>(n), static_cast<int64_t>(width)});
  if (!x.empty()) std::memcpy(out.data<float>(), x.data(), x.size() * sizeof(float));  // no rows: data() may be null
  return out;
}

Tensor Model::embed(std::span<const std::string> texts, std::optional<Pooling> pooling, std::optional<bool> normalize) const {
  EmbedOptions o;
  o.pooling = pooling;
  o.normalize = normalize;
  return embed(texts, o);
}

Tensor Model::embed(std::span<const std::string> texts, const EmbedOptions& options) const {
  const Impl& m = *impl_;
  if (!m.st.unsupported.empty()) throw unsupported("model " + m.name + ": " + m.st.unsupported);
  const std::string prompt = resolve_prompt(options);
  const int64_t D = embedding_dimension();
  Tensor out = Tensor::zeros(DType::F32, {static_cast<int64_t>(texts.size()), D});
  if (texts.empty()) return out;
  std::vector<Encoding> encs = encode_for_embed(texts, prompt, m.threads);
  const int64_t plen = prompt_length(prompt);
  const std::vector<size_t> order = by_length(encs);
  float* op = out.data<float>();
  std::vector<Encoding> chunk;
  for (size_t start = 0; start < order.size(); start += kChunk) {
    const size_t n = std::min(kChunk, order.size() - start);
    chunk.clear();
    for (size_t i = 0; i < n; ++i) chunk.push_back(std::move(encs[order[start + i]]));
    const Batch batch = Batch::from_encodings(chunk, m.tokenizer.pad_token_id());
    const ModelOutput o = forward(batch, {.pooler_output = false, .head_outputs = false});  // no head runs for embeddings
    const std::vector<int64_t> plens(plen ? n : 0, plen);
    const Tensor pooled = pool_embeddings(need(o.last_hidden_state, "last_hidden_state", m.name), batch.attention_mask, options, plens);
    const float* pp = pooled.data<float>();
    for (size_t i = 0; i < n; ++i)
      std::memcpy(op + static_cast<int64_t>(order[start + i]) * D, pp + static_cast<int64_t>(i) * D,
                  static_cast<size_t>(D) * sizeof(float));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Task heads

namespace {

void require_head(const Model::Impl& m, std::initializer_list<model::HeadKind> ok, const char* task, const char* needs) {
  for (model::HeadKind h : ok) {
    if (m.head_kind != h) continue;
    if (!m.encoder->head_missing().empty()) throw unsupported("model " + m.name + ": " + m.encoder->head_missing());
    return;
  }
  throw unsupported("model " + m.name + " has head " + m.head + "; " + task + " needs " + needs);
}

// The helpers' batches. Families without token types (type_vocab_size <= 1: RoBERTa, DistilBERT,
// MPNet) get none, as their transformers tokenizers return none, whatever a pair encoding says.
Batch task_batch(const Model::Impl& m, std::span<const Encoding> encs) {
  Batch b = Batch::from_encodings(encs, m.tokenizer.pad_token_id());
  if (m.info.type_vocab_size <= 1) b.token_type_ids = Tensor();
  return b;
}
Batch single_batch(const Model::Impl& m, const Encoding& e) { return task_batch(m, std::span<const Encoding>(&e, 1)); }

}  // namespace

std::vector<FillMaskCandidate> Model::fill_mask(const std::string& text, int top_k) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::MaskedLM, model::HeadKind::PreTraining}, "fill-mask",
               "a masked LM (BertForMaskedLM/BertForPreTraining)");
  if (top_k < 1) throw invalid_argument("fill-mask: top_k must be >= 1, got " + std::to_string(top_k));
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = m.task_max_length;
  const Encoding enc = m.tokenizer.encode(text, eo);
  const int64_t mask_id = m.tokenizer.mask_token_id();
  const auto it = std::find(enc.input_ids.begin(), enc.input_ids.end(), mask_id);
  if (it == enc.input_ids.end())
    throw invalid_argument("fill-mask: the text has no mask token " + m.tokenizer.mask_token() +
                           " (within the first " + std::to_string(m.task_max_length) + " tokens)");
  const size_t pos = static_cast<size_t>(it - enc.input_ids.begin());
  const auto n_masks = std::count(enc.input_ids.begin(), enc.input_ids.end(), mask_id);

  const ModelOutput o = forward(single_batch(m, enc));
  const Tensor logits = need(o.prediction_logits, "prediction_logits", m.name);
  const int64_t V = logits.dim(2);
  const std::vector<float> probs = softmax(logits.data<float>() + static_cast<int64_t>(pos) * V, static_cast<size_t>(V));
  std::vector<int64_t> ids(static_cast<size_t>(V));
  std::iota(ids.begin(), ids.end(), int64_t{0});
  const size_t k = std::min(static_cast<size_t>(top_k), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), [&](int64_t a, int64_t b) {
    return probs[a] != probs[b] ? probs[a] > probs[b] : a < b;
  });
  std::vector<FillMaskCandidate> out;
  std::vector<int64_t> filled = enc.input_ids;
  for (size_t i = 0; i < k; ++i) {
    const int64_t id = ids[i];
    filled[pos] = id;
    FillMaskCandidate c;
    c.token_id = id;
    c.token = m.tokenizer.decode(std::span<const int64_t>(&id, 1));
    c.score = probs[static_cast<size_t>(id)];
    c.sequence = m.tokenizer.decode(filled, /*skip_special_tokens=*/n_masks == 1);
    out.push_back(std::move(c));
  }
  return out;
}

EncodeOptions Model::task_encode_options() const {
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = impl_->task_max_length;
  return eo;
}

std::vector<LabelScore> Model::classify(const std::string& text, const std::optional<std::string>& text_pair) const {
  const EncodeOptions eo = task_encode_options();
  const Encoding enc = text_pair ? impl_->tokenizer.encode_pair(text, *text_pair, eo) : impl_->tokenizer.encode(text, eo);
  return std::move(classify(std::span<const Encoding>(&enc, 1)).front());
}

std::vector<std::vector<LabelScore>> Model::classify(std::span<const Encoding> encodings) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::SequenceClassification}, "classification",
               "a sequence classifier (BertForSequenceClassification)");
  std::vector<std::vector<LabelScore>> out(encodings.size());
  std::vector<size_t> order(encodings.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return encodings[a].size() > encodings[b].size(); });
  std::vector<Encoding> chunk;
  for (size_t start = 0; start < order.size(); start += kChunk) {
    const size_t n = std::min(kChunk, order.size() - start);
    chunk.clear();
    for (size_t i = 0; i < n; ++i) chunk.push_back(encodings[order[start + i]]);
    const ModelOutput o = forward(task_batch(m, chunk));
    const Tensor logits = need(o.logits, "logits", m.name);
    const auto L = static_cast<size_t>(logits.dim(-1));
    for (size_t i = 0; i < n; ++i) {
      const float* lp = logits.data<float>() + i * L;
      // As transformers' text-classification pipeline: sigmoid for multi-label or single-label
      // (regression-style) models, softmax otherwise.
      std::vector<float> scores;
      if (L == 1 || m.problem_type == "multi_label_classification") {
        for (size_t j = 0; j < L; ++j) scores.push_back(sigmoid(lp[j]));
      } else {
        scores = softmax(lp, L);
      }
      std::vector<LabelScore>& labels = out[order[start + i]];
      for (size_t j = 0; j < L; ++j)
        labels.push_back({j < m.info.labels.size() ? m.info.labels[j] : "LABEL_" + std::to_string(j), static_cast<int64_t>(j), scores[j]});
      std::stable_sort(labels.begin(), labels.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
    }
  }
  return out;
}

std::vector<float> Model::rerank(const std::string& query, std::span<const std::string> documents) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::SequenceClassification}, "rerank",
               "a cross-encoder (BertForSequenceClassification)");
  std::vector<float> scores(documents.size());
  if (documents.empty()) return scores;
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(documents.size());
  for (const auto& d : documents) pairs.emplace_back(query, d);
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = m.task_max_length;
  std::vector<Encoding> encs = m.tokenizer.encode_pair_batch(pairs, eo, m.threads);
  const std::vector<size_t> order = by_length(encs);
  std::vector<Encoding> chunk;
  for (size_t start = 0; start < order.size(); start += kChunk) {
    const size_t n = std::min(kChunk, order.size() - start);
    chunk.clear();
    for (size_t i = 0; i < n; ++i) chunk.push_back(std::move(encs[order[start + i]]));
    const ModelOutput o = forward(task_batch(m, chunk));
    const Tensor logits = need(o.logits, "logits", m.name);
    const auto L = static_cast<size_t>(logits.dim(-1));
    const float* lp = logits.data<float>();
    for (size_t i = 0; i < n; ++i) {
      const float* row = lp + i * L;
      // One label: the raw logit (like TEI's raw score). Several: the probability of the last
      // label (the "relevant" class of two-label cross-encoders).
      scores[order[start + i]] = L == 1 ? row[0] : softmax(row, L).back();
    }
  }
  return scores;
}

std::vector<TokenPrediction> Model::classify_tokens(const std::string& text) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::TokenClassification}, "token classification",
               "a token classifier (BertForTokenClassification)");
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = m.task_max_length;
  const Encoding enc = m.tokenizer.encode(text, eo);
  const ModelOutput o = forward(single_batch(m, enc));
  const Tensor logits = need(o.logits, "logits", m.name);
  const auto L = static_cast<size_t>(logits.dim(-1));
  const float* lp = logits.data<float>();
  std::vector<TokenPrediction> out;
  for (size_t i = 0; i < enc.size(); ++i) {
    if (i < enc.sequence_ids.size() && enc.sequence_ids[i] < 0) continue;
    const std::vector<float> p = softmax(lp + i * L, L);
    const size_t best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    TokenPrediction t;
    t.token = i < enc.tokens.size() ? enc.tokens[i] : "";
    t.label = best < m.info.labels.size() ? m.info.labels[best] : "LABEL_" + std::to_string(best);
    t.score = p[best];
    t.start = i < enc.offsets.size() ? enc.offsets[i].first : 0;
    t.end = i < enc.offsets.size() ? enc.offsets[i].second : 0;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TokenEntity> Model::token_entities(const std::string& text, const TokenClassificationOptions& options) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::TokenClassification}, "token classification",
               "a token classifier (BertForTokenClassification)");
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = m.task_max_length;
  const Encoding enc = m.tokenizer.encode(text, eo);
  const ModelOutput o = forward(single_batch(m, enc));
  const Tensor logits = need(o.logits, "logits", m.name);
  const auto L = static_cast<size_t>(logits.dim(-1));
  std::vector<float> probs;
  probs.reserve(enc.size() * L);
  for (size_t i = 0; i < enc.size(); ++i) {
    const std::vector<float> p = softmax(logits.data<float>() + i * L, L);
    probs.insert(probs.end(), p.begin(), p.end());
  }
  return aggregate_tokens(m.tokenizer, enc, text, probs, m.info.labels, options);
}

std::vector<Answer> Model::answers(const std::string& question, const std::string& context, const AnswerOptions& options) const {
  const Impl& m = *impl_;
  require_head(m, {model::HeadKind::QuestionAnswering}, "question answering",
               "a question-answering model (BertForQuestionAnswering)");
  if (options.top_k < 1) throw invalid_argument("question answering: top_k must be >= 1, got " + std::to_string(options.top_k));
  if (options.max_answer_len < 1)
    throw invalid_argument("question answering: max_answer_len must be >= 1, got " + std::to_string(options.max_answer_len));
  // transformers' defaults: windows of min(model_max_length, 384) tokens overlapping by half, at most 128.
  const int64_t max_seq_len = options.max_seq_len.value_or(std::min<int64_t>(m.task_max_length, 384));
  const int64_t stride = options.doc_stride.value_or(std::min<int64_t>(max_seq_len / 2, 128));
  AnswerOptions o = options;
  o.question_first = options.question_first.value_or(m.tokenizer.padding_side() == TruncationSide::Right);
  const std::vector<Encoding> windows = answer_windows(m.tokenizer, question, context, max_seq_len, stride, *o.question_first);
  // One forward per window, unpadded, as transformers' pipeline feeds them.
  std::vector<std::vector<float>> logits(2 * windows.size());
  std::vector<AnswerWindow> w;
  for (size_t k = 0; k < windows.size(); ++k) {
    const ModelOutput out = forward(single_batch(m, windows[k]));
    const Tensor sl = need(out.start_logits, "start_logits", m.name), el = need(out.end_logits, "end_logits", m.name);
    const size_t n = windows[k].size();
    logits[2 * k].assign(sl.data<float>(), sl.data<float>() + n);
    logits[2 * k + 1].assign(el.data<float>(), el.data<float>() + n);
  }
  for (size_t k = 0; k < windows.size(); ++k) w.push_back({&windows[k], logits[2 * k], logits[2 * k + 1]});
  std::optional<int64_t> cls;
  try {
    cls = m.tokenizer.cls_token_id();
  } catch (const Error&) {  // a tokenizer without one: every non-context token is masked
  }
  return decode_answers(w, context, cls, o);
}

Answer Model::answer(const std::string& question, const std::string& context, const AnswerOptions& options) const {
  AnswerOptions o = options;
  o.top_k = 1;
  std::vector<Answer> a = answers(question, context, o);
  if (a.empty()) throw invalid_argument("question answering: no answer span in the context");
  return a.front();
}

}  // namespace bertcpp
