// The C API (include/bertcpp/bertcpp.h) over the C++ API: handles wrap Model / Tokenizer, every
// entry point catches everything and turns it into a status code + thread-local message.
#include "bertcpp/bertcpp.h"

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"

struct bertcpp_model {
  bertcpp::Model model;
};
struct bertcpp_tokenizer {
  bertcpp::Tokenizer tokenizer;
};

namespace {

thread_local std::string g_last_error;

int fail(int code, const std::string& message) {
  g_last_error = message;
  return code;
}

template <class F>
int guarded(F&& f) noexcept {
  try {
    f();
    return BERTCPP_OK;
  } catch (const bertcpp::Error& e) {
    return fail(static_cast<int>(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(BERTCPP_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(BERTCPP_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(BERTCPP_ERR_INTERNAL, "internal error: unknown exception");
  }
}

void require(bool ok, const char* what) {
  if (!ok) throw bertcpp::invalid_argument(what);
}

// a * b, or InvalidArgument when it does not fit in size_t (hostile sizes).
size_t checked_mul(size_t a, size_t b, const char* what) {
  if (b != 0 && a > SIZE_MAX / b) throw bertcpp::invalid_argument(std::string(what) + ": size overflows");
  return a * b;
}

void require_capacity(size_t capacity, size_t needed, const char* what) {
  if (capacity < needed)
    throw bertcpp::invalid_argument(std::string(what) + ": buffer holds " + std::to_string(capacity) +
                                    " elements, " + std::to_string(needed) + " needed");
}

}  // namespace

extern "C" {

const char* bertcpp_version(void) { return "0.1.0"; }

const char* bertcpp_last_error(void) { return g_last_error.c_str(); }

bertcpp_model_params bertcpp_model_default_params(void) {
  bertcpp_model_params p;
  p.n_threads = 0;
  p.compute = BERTCPP_COMPUTE_F32;
  p.revision = nullptr;
  return p;
}

int bertcpp_model_load(const char* id_or_path, const bertcpp_model_params* params, bertcpp_model** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require(id_or_path != nullptr, "bertcpp_model_load: id_or_path is NULL");
    require(out != nullptr, "bertcpp_model_load: out is NULL");
    const bertcpp_model_params p = params ? *params : bertcpp_model_default_params();
    bertcpp::ModelOptions o;
    require(p.n_threads >= 0, "bertcpp_model_load: n_threads must be >= 0");
    o.threads = p.n_threads;
    switch (p.compute) {
      case BERTCPP_COMPUTE_F32: o.compute = bertcpp::ComputeType::F32; break;
      case BERTCPP_COMPUTE_BF16: o.compute = bertcpp::ComputeType::BF16; break;
      case BERTCPP_COMPUTE_INT8: o.compute = bertcpp::ComputeType::Int8; break;
      default: throw bertcpp::invalid_argument("bertcpp_model_load: unknown compute type " + std::to_string(p.compute));
    }
    if (p.revision) o.revision = p.revision;
    *out = new bertcpp_model{bertcpp::Model::from_pretrained(id_or_path, o)};
  });
}

void bertcpp_model_free(bertcpp_model* model) { delete model; }

int64_t bertcpp_model_hidden_size(const bertcpp_model* model) { return model ? model->model.config().hidden_size : 0; }

int64_t bertcpp_model_max_seq_length(const bertcpp_model* model) { return model ? model->model.max_seq_length() : 0; }

int64_t bertcpp_model_n_labels(const bertcpp_model* model) {
  return model ? static_cast<int64_t>(model->model.config().labels.size()) : 0;
}

const char* bertcpp_model_label(const bertcpp_model* model, int64_t i) {
  if (!model || i < 0 || static_cast<size_t>(i) >= model->model.config().labels.size()) return nullptr;
  return model->model.config().labels[static_cast<size_t>(i)].c_str();
}

int64_t bertcpp_model_embedding_dimension(const bertcpp_model* model) {
  return model ? model->model.embedding_dimension() : 0;
}

int bertcpp_embed(const bertcpp_model* model, const char* const* texts, size_t n_texts, int pooling, int normalize,
                  float* out, size_t out_capacity) {
  return bertcpp_embed_with_prompt(model, texts, n_texts, pooling, normalize, nullptr, nullptr, out, out_capacity);
}

int bertcpp_embed_with_prompt(const bertcpp_model* model, const char* const* texts, size_t n_texts, int pooling,
                              int normalize, const char* prompt_name, const char* prompt, float* out, size_t out_capacity) {
  return guarded([&] {
    require(model != nullptr, "bertcpp_embed: model is NULL");
    require(n_texts == 0 || texts != nullptr, "bertcpp_embed: texts is NULL");
    require(n_texts == 0 || out != nullptr, "bertcpp_embed: out is NULL");
    const auto H = static_cast<size_t>(model->model.embedding_dimension());
    require_capacity(out_capacity, checked_mul(n_texts, H, "bertcpp_embed"), "bertcpp_embed");
    std::optional<bertcpp::Pooling> p;
    switch (pooling) {
      case BERTCPP_POOLING_DEFAULT: break;
      case BERTCPP_POOLING_CLS: p = bertcpp::Pooling::Cls; break;
      case BERTCPP_POOLING_MEAN: p = bertcpp::Pooling::Mean; break;
      case BERTCPP_POOLING_MAX: p = bertcpp::Pooling::Max; break;
      case BERTCPP_POOLING_MEAN_SQRT_LEN: p = bertcpp::Pooling::MeanSqrtLen; break;
      case BERTCPP_POOLING_WEIGHTED_MEAN: p = bertcpp::Pooling::WeightedMean; break;
      case BERTCPP_POOLING_LAST_TOKEN: p = bertcpp::Pooling::LastToken; break;
      default: throw bertcpp::invalid_argument("bertcpp_embed: unknown pooling " + std::to_string(pooling));
    }
    std::optional<bool> norm;
    if (normalize == 0 || normalize == 1) norm = normalize == 1;
    else require(normalize == -1, "bertcpp_embed: normalize must be -1, 0 or 1");
    std::vector<std::string> v;
    v.reserve(n_texts);
    for (size_t i = 0; i < n_texts; ++i) {
      require(texts[i] != nullptr, "bertcpp_embed: a text is NULL");
      v.emplace_back(texts[i]);
    }
    bertcpp::EmbedOptions eo;
    eo.pooling = p;
    eo.normalize = norm;
    if (prompt_name) eo.prompt_name = std::string(prompt_name);
    if (prompt) eo.prompt = std::string(prompt);
    const bertcpp::Tensor e = model->model.embed(v, eo);
    if (e.nbytes()) std::memcpy(out, e.data<float>(), e.nbytes());
  });
}

int bertcpp_forward(const bertcpp_model* model, const int64_t* input_ids, const int64_t* attention_mask,
                    const int64_t* token_type_ids, size_t batch, size_t seq, float* out, size_t out_capacity) {
  return guarded([&] {
    require(model != nullptr, "bertcpp_forward: model is NULL");
    require(input_ids != nullptr && out != nullptr, "bertcpp_forward: input_ids or out is NULL");
    require(batch > 0 && seq > 0, "bertcpp_forward: batch and seq must be > 0");
    const auto H = static_cast<size_t>(model->model.config().hidden_size);
    require(seq <= static_cast<size_t>(model->model.config().max_position_embeddings),
            "bertcpp_forward: seq exceeds the model's max_position_embeddings");
    require_capacity(out_capacity, checked_mul(checked_mul(batch, seq, "bertcpp_forward"), H, "bertcpp_forward"),
                     "bertcpp_forward");
    const bertcpp::Shape shape{static_cast<int64_t>(batch), static_cast<int64_t>(seq)};
    auto copy = [&](const int64_t* src) {
      bertcpp::Tensor t = bertcpp::Tensor::empty(bertcpp::DType::I64, shape);
      std::memcpy(t.raw(), src, t.nbytes());
      return t;
    };
    bertcpp::Batch b;
    b.input_ids = copy(input_ids);
    if (attention_mask) b.attention_mask = copy(attention_mask);
    if (token_type_ids) b.token_type_ids = copy(token_type_ids);
    const bertcpp::ModelOutput o = model->model.forward(b);
    if (!o.last_hidden_state.defined()) throw bertcpp::Error(bertcpp::ErrorKind::Internal, "forward returned no last_hidden_state");
    const bertcpp::Tensor h = o.last_hidden_state.to_f32();
    std::memcpy(out, h.data<float>(), h.nbytes());
  });
}

int bertcpp_classify(const bertcpp_model* model, const char* text, const char* text_pair, float* scores,
                     size_t capacity, size_t* n_labels) {
  return guarded([&] {
    require(model != nullptr && text != nullptr, "bertcpp_classify: model or text is NULL");
    const auto result = model->model.classify(text, text_pair ? std::optional<std::string>(text_pair) : std::nullopt);
    if (n_labels) *n_labels = result.size();
    require_capacity(scores ? capacity : 0, result.size(), "bertcpp_classify");
    for (const auto& r : result)
      if (r.id >= 0 && static_cast<size_t>(r.id) < result.size()) scores[r.id] = r.score;
  });
}

int bertcpp_tokenizer_load(const char* id_or_path, bertcpp_tokenizer** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require(id_or_path != nullptr && out != nullptr, "bertcpp_tokenizer_load: id_or_path or out is NULL");
    *out = new bertcpp_tokenizer{bertcpp::Tokenizer::from_pretrained(id_or_path)};
  });
}

int bertcpp_model_get_tokenizer(const bertcpp_model* model, bertcpp_tokenizer** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require(model != nullptr && out != nullptr, "bertcpp_model_get_tokenizer: model or out is NULL");
    *out = new bertcpp_tokenizer{model->model.tokenizer()};
  });
}

void bertcpp_tokenizer_free(bertcpp_tokenizer* tokenizer) { delete tokenizer; }

int bertcpp_tokenize(const bertcpp_tokenizer* tokenizer, const char* text, int add_special_tokens, int64_t* ids,
                     size_t capacity, size_t* n_ids) {
  return guarded([&] {
    require(tokenizer != nullptr && text != nullptr, "bertcpp_tokenize: tokenizer or text is NULL");
    bertcpp::EncodeOptions o;
    o.add_special_tokens = add_special_tokens != 0;
    const bertcpp::Encoding e = tokenizer->tokenizer.encode(text, o);
    if (n_ids) *n_ids = e.input_ids.size();
    require_capacity(ids ? capacity : 0, e.input_ids.size(), "bertcpp_tokenize");
    if (!e.input_ids.empty()) std::memcpy(ids, e.input_ids.data(), e.input_ids.size() * sizeof(int64_t));
  });
}

}  // extern "C"
