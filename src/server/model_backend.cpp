// Backend over bertcpp::Model: tokenization through the model's tokenizer, one padded forward pass
// per scheduled batch, outputs read back per input (pooled / all tokens / SPLADE / logits).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "bertcpp/error.h"
#include "bertcpp/model.hpp"
#include "server/backend.hpp"

namespace bertcpp::server {
namespace {

class ModelBackend final : public Backend {
 public:
  ModelBackend(const std::string& id_or_dir, const std::string& pooling, int threads, ComputeType compute,
               const DefaultPrompt& default_prompt) {
    if (default_prompt.name && default_prompt.text)
      throw invalid_argument("--default-prompt-name " + *default_prompt.name + " and --default-prompt are exclusive");
    ModelOptions options;
    options.threads = threads;
    options.compute = compute;
    model_ = Model::from_pretrained(id_or_dir, options);
    const ModelConfigInfo& cfg = model_.config();
    const std::string& head = model_.head();
    info_.model_id = id_or_dir;
    info_.model_architecture = cfg.model_type;
    info_.model_family = cfg.family;
    info_.hidden_size = cfg.hidden_size;
    info_.embedding_dimension = model_.embedding_dimension();
    info_.vocab_size = cfg.vocab_size;
    info_.has_classifier = head == "sequence_classification";
    info_.has_mlm_head = head == "masked_lm" || head == "pretraining";
    info_.has_token_classifier = head == "token_classification";
    info_.has_hidden_states = !info_.has_classifier;
    info_.labels = cfg.labels;
    if (info_.has_classifier) {
      info_.kind = cfg.labels.size() == 1 ? ModelKind::Reranker : ModelKind::Classifier;
      if (info_.labels.empty()) info_.labels = {"LABEL_0"};
    }

    if (pooling == "splade") {
      if (!info_.has_mlm_head)
        throw invalid_argument("--pooling splade needs a model with a masked-LM head; " + id_or_dir +
                               " has head '" + head + "'");
      info_.pooling = "splade";
    } else if (!pooling.empty()) {
      pooling_ = parse_pooling(pooling);
      info_.pooling = pooling_name(pooling_);
    } else {
      // embed()'s default: the sentence-transformers config when present, else mean.
      pooling_ = model_.default_pooling();
      info_.pooling = pooling_name(pooling_);
    }
    // embed()'s max_seq_length: sentence-transformers' max_seq_length, else the tokenizer's
    // model_max_length capped at max_position_embeddings.
    info_.max_input_length = model_.max_seq_length();
    info_.prompts = model_.prompts();
    if (model_.default_prompt_name()) info_.default_prompt = model_.prompts().at(*model_.default_prompt_name());
    if (default_prompt.text) info_.default_prompt = *default_prompt.text;
    if (default_prompt.name) {
      const auto it = info_.prompts.find(*default_prompt.name);
      if (it == info_.prompts.end()) {
        std::string names;
        for (const auto& [n, text] : info_.prompts) names += (names.empty() ? "" : ", ") + n;
        throw invalid_argument("--default-prompt-name " + *default_prompt.name + ": " + id_or_dir +
                               (names.empty() ? " has no prompts in config_sentence_transformers.json"
                                              : " has only the prompts " + names));
      }
      info_.default_prompt = it->second;
    }
    if (info_.kind == ModelKind::Embedding && info_.pooling != "splade")  // a pipeline embed() cannot run fails at startup
      (void)model_.pool_embeddings(Tensor::zeros(DType::F32, {0, 1, cfg.hidden_size}), Tensor::zeros(DType::I64, {0, 1}), {});
  }

  int64_t prompt_length(const std::string& prompt) const override { return model_.prompt_length(prompt); }

  const BackendInfo& info() const override { return info_; }

  Encoding encode(const EncodeRequest& r) const override {
    EncodeOptions options;
    options.add_special_tokens = r.add_special_tokens;
    options.truncation = r.truncate ? Truncation::LongestFirst : Truncation::None;
    options.truncation_side = r.side;
    if (r.truncate) options.max_length = r.max_length;
    const Tokenizer& tok = model_.tokenizer();
    if (r.text_pair) return tok.encode_pair(r.text, *r.text_pair, options);
    return tok.encode(r.text, options);
  }

  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override {
    return model_.tokenizer().decode(ids, skip_special_tokens);
  }

  bool is_special_id(int64_t id) const override { return model_.tokenizer().is_special_id(id); }
  const Tokenizer* tokenizer() const override { return &model_.tokenizer(); }

  std::vector<TaskOutput> run(std::span<const TokenizedInput* const> inputs,
                              std::span<const Task> tasks) override {
    std::vector<Encoding> encodings(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      encodings[i].input_ids = inputs[i]->input_ids;
      encodings[i].token_type_ids = inputs[i]->token_type_ids;
      // Families without token types take none (their tokenizers return none), so a pair sent to
      // such a classifier is valid and never fails its batch neighbours.
      if (model_.config().type_vocab_size <= 1 || encodings[i].token_type_ids.size() != encodings[i].input_ids.size())
        encodings[i].token_type_ids.assign(encodings[i].input_ids.size(), 0);
      encodings[i].attention_mask.assign(encodings[i].input_ids.size(), 1);
    }
    const Batch batch = Batch::from_encodings(encodings, model_.tokenizer().pad_token_id());
    bool want_pooled = false, want_head = false;
    for (Task t : tasks) {
      want_pooled |= t == Task::Pooled && info_.pooling != "splade";
      want_head |= t == Task::Classify || t == Task::ClassifyTokens || t == Task::Sparse ||
                   (t == Task::Pooled && info_.pooling == "splade");
    }
    // A head runs only when a task needs it (an MLM checkpoint's /embed computes no vocabulary logits).
    const ModelOutput out = model_.forward(batch, {.pooler_output = false, .head_outputs = want_head});
    const int64_t seq = batch.seq_len();

    Tensor hidden, pooled, logits, mlm;
    if (out.last_hidden_state.defined()) hidden = out.last_hidden_state.to_f32();
    if (want_pooled) {
      if (!hidden.defined()) throw unsupported("the model produces no last_hidden_state to pool");
      std::vector<int64_t> plens(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) plens[i] = inputs[i]->prompt_tokens;
      EmbedOptions eo;
      eo.pooling = pooling_;
      eo.normalize = false;  // the route normalizes (TEI's `normalize`)
      pooled = model_.pool_embeddings(hidden, batch.attention_mask, eo, plens).to_f32();
    }
    if (out.logits.defined()) logits = out.logits.to_f32();
    if (out.prediction_logits.defined()) mlm = out.prediction_logits.to_f32();

    std::vector<TaskOutput> results(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t len = static_cast<int64_t>(inputs[i]->input_ids.size());
      TaskOutput& r = results[i];
      Task task = tasks[i];
      if (task == Task::Pooled && info_.pooling == "splade") task = Task::Sparse;
      switch (task) {
        case Task::Pooled: {
          const int64_t h = pooled.dim(1);
          const float* p = pooled.data<float>() + static_cast<int64_t>(i) * h;
          r.values.assign(p, p + h);
          break;
        }
        case Task::AllTokens: {
          if (!hidden.defined()) throw unsupported("the model produces no last_hidden_state");
          const int64_t h = hidden.dim(2);
          const float* p = hidden.data<float>() + static_cast<int64_t>(i) * seq * h;
          r.values.assign(p, p + len * h);
          r.rows = len;
          break;
        }
        case Task::Sparse: {
          if (!mlm.defined()) throw unsupported("the model has no masked-LM head");
          const int64_t v = mlm.dim(2);
          r.values.assign(static_cast<size_t>(v), 0.0f);
          const float* base = mlm.data<float>() + static_cast<int64_t>(i) * seq * v;
          for (int64_t t = 0; t < len; ++t) {
            const float* row = base + t * v;
            for (int64_t k = 0; k < v; ++k) {
              const float x = row[k] > 0.0f ? std::log1p(row[k]) : 0.0f;
              if (x > r.values[static_cast<size_t>(k)]) r.values[static_cast<size_t>(k)] = x;
            }
          }
          break;
        }
        case Task::ClassifyTokens: {
          if (!logits.defined() || logits.rank() != 3) throw unsupported("the model has no token classification head");
          const int64_t l = logits.dim(2);
          const float* p = logits.data<float>() + static_cast<int64_t>(i) * seq * l;
          r.values.assign(p, p + len * l);
          r.rows = len;
          break;
        }
        case Task::Classify: {
          if (!logits.defined() || logits.rank() != 2) throw unsupported("the model has no sequence classification head");
          const int64_t l = logits.dim(-1);
          const float* p = logits.data<float>() + static_cast<int64_t>(i) * l;
          r.values.assign(p, p + l);
          break;
        }
      }
    }
    return results;
  }

 private:
  Model model_;
  BackendInfo info_;
  Pooling pooling_ = Pooling::Mean;
};

}  // namespace

std::unique_ptr<Backend> make_model_backend(const std::string& id_or_dir, const std::string& pooling,
                                            int threads, ComputeType compute, const DefaultPrompt& default_prompt) {
  return std::make_unique<ModelBackend>(id_or_dir, pooling, threads, compute, default_prompt);
}

}  // namespace bertcpp::server
