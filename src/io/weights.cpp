// Checkpoint names -> canonical BERT weight names, with presence and shape checks.
#include "io/weights.h"

#include <cstring>
#include <set>
#include <unordered_map>

#include "bertcpp/error.h"

namespace bertcpp::io {

HeadKind head_from_architectures(const std::vector<std::string>& architectures) {
  for (const auto& a : architectures) {
    if (a == "BertModel") return HeadKind::None;
    if (a == "BertForMaskedLM") return HeadKind::MaskedLM;
    if (a == "BertForPreTraining") return HeadKind::PreTraining;
    if (a == "BertForSequenceClassification") return HeadKind::SequenceClassification;
    if (a == "BertForTokenClassification") return HeadKind::TokenClassification;
    if (a == "BertForQuestionAnswering") return HeadKind::QuestionAnswering;
  }
  return HeadKind::None;
}

std::string head_name(HeadKind head) {
  switch (head) {
    case HeadKind::None: return "none";
    case HeadKind::MaskedLM: return "masked-lm";
    case HeadKind::PreTraining: return "pretraining";
    case HeadKind::SequenceClassification: return "sequence-classification";
    case HeadKind::TokenClassification: return "token-classification";
    case HeadKind::QuestionAnswering: return "question-answering";
  }
  return "?";
}

std::string canonical_weight_name(const std::string& stored) {
  std::string n = stored;
  if (n.rfind("bert.", 0) == 0) n = n.substr(5);
  auto replace_suffix = [&](const char* from, const char* to) {
    const std::string f = std::string("LayerNorm.") + from;
    if (n.size() >= f.size() && n.compare(n.size() - f.size(), f.size(), f) == 0)
      n = n.substr(0, n.size() - std::strlen(from)) + to;
  };
  replace_suffix("gamma", "weight");
  replace_suffix("beta", "bias");
  return n;
}

namespace {

struct Want {
  std::string name;
  Shape shape;
};

void linear(std::vector<Want>& w, const std::string& prefix, int64_t out, int64_t in) {
  w.push_back({prefix + ".weight", {out, in}});
  w.push_back({prefix + ".bias", {out}});
}
void layer_norm(std::vector<Want>& w, const std::string& prefix, int64_t h) {
  w.push_back({prefix + ".weight", {h}});
  w.push_back({prefix + ".bias", {h}});
}

}  // namespace

BertWeights BertWeights::load(const Checkpoint& checkpoint, const BertConfig& c, HeadKind head) {
  // Stored name for each canonical name.
  std::unordered_map<std::string, std::string> stored;
  std::vector<std::string> problems;
  for (const auto& t : checkpoint.tensors()) {
    const std::string canon = canonical_weight_name(t.name);
    if (canon == "embeddings.position_ids") continue;  // a buffer, not a weight
    auto [it, inserted] = stored.emplace(canon, t.name);
    if (!inserted) problems.push_back("\"" + t.name + "\" and \"" + it->second + "\" both map to " + canon);
  }

  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  std::vector<Want> required;
  required.push_back({"embeddings.word_embeddings.weight", {V, H}});
  required.push_back({"embeddings.position_embeddings.weight", {c.max_position_embeddings, H}});
  required.push_back({"embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}});
  layer_norm(required, "embeddings.LayerNorm", H);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    linear(required, p + "attention.self.query", H, H);
    linear(required, p + "attention.self.key", H, H);
    linear(required, p + "attention.self.value", H, H);
    linear(required, p + "attention.output.dense", H, H);
    layer_norm(required, p + "attention.output.LayerNorm", H);
    linear(required, p + "intermediate.dense", I, H);
    linear(required, p + "output.dense", H, I);
    layer_norm(required, p + "output.LayerNorm", H);
  }
  std::vector<Want> pooler;
  linear(pooler, "pooler.dense", H, H);
  const bool needs_pooler = head == HeadKind::PreTraining || head == HeadKind::SequenceClassification;
  const bool has_pooler = stored.count("pooler.dense.weight") || stored.count("pooler.dense.bias");
  if (needs_pooler || has_pooler) required.insert(required.end(), pooler.begin(), pooler.end());

  std::vector<Want> optional;  // loaded when present, shape-checked
  if (head == HeadKind::MaskedLM || head == HeadKind::PreTraining) {
    linear(required, "cls.predictions.transform.dense", H, H);
    layer_norm(required, "cls.predictions.transform.LayerNorm", H);
    optional.push_back({"cls.predictions.decoder.weight", {V, H}});
    optional.push_back({"cls.predictions.decoder.bias", {V}});
    optional.push_back({"cls.predictions.bias", {V}});
    if (!stored.count("cls.predictions.bias") && !stored.count("cls.predictions.decoder.bias"))
      problems.push_back("missing cls.predictions.bias (nor cls.predictions.decoder.bias)");
  }
  if (head == HeadKind::PreTraining) linear(required, "cls.seq_relationship", 2, H);
  if (head == HeadKind::SequenceClassification || head == HeadKind::TokenClassification)
    linear(required, "classifier", c.num_labels, H);
  if (head == HeadKind::QuestionAnswering) linear(required, "qa_outputs", 2, H);

  BertWeights w;
  auto load_one = [&](const Want& want, bool must) {
    auto it = stored.find(want.name);
    if (it == stored.end()) {
      if (must) problems.push_back("missing " + want.name);
      return;
    }
    const TensorInfo& info = checkpoint.info(it->second);
    if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16) {
      problems.push_back(it->second + " has dtype " + std::string(dtype_name(info.dtype)) + ", expected F32/F16/BF16");
      return;
    }
    if (info.shape != want.shape) {
      problems.push_back(it->second + " has shape " + shape_to_string(info.shape) + ", expected " +
                         shape_to_string(want.shape));
      return;
    }
    if (problems.empty()) w.tensors_[want.name] = checkpoint.get_f32(it->second);
  };
  for (const auto& want : required) load_one(want, true);
  for (const auto& want : optional) load_one(want, false);

  if (!problems.empty()) {
    std::string files;
    std::set<std::string> seen;
    for (const auto& t : checkpoint.tensors())
      if (seen.insert(t.file).second) files += (files.empty() ? "" : ", ") + t.file;
    if (files.empty()) files = "checkpoint";
    std::string msg = files + ": " + std::to_string(problems.size()) + " weight problem" +
                      (problems.size() > 1 ? "s" : "") + " for a " + std::to_string(c.num_hidden_layers) +
                      "-layer BERT (head " + head_name(head) + "): ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw Error(ErrorKind::InvalidFile, msg);
  }

  if (head == HeadKind::MaskedLM || head == HeadKind::PreTraining) {
    auto& t = w.tensors_;
    if (!t.count("cls.predictions.decoder.weight"))  // tied to the input embeddings
      t["cls.predictions.decoder.weight"] = t.at("embeddings.word_embeddings.weight");
    if (!t.count("cls.predictions.bias")) t["cls.predictions.bias"] = t.at("cls.predictions.decoder.bias");
    if (!t.count("cls.predictions.decoder.bias")) t["cls.predictions.decoder.bias"] = t.at("cls.predictions.bias");
  }
  return w;
}

bool BertWeights::has(const std::string& canonical) const { return tensors_.count(canonical) > 0; }

const Tensor& BertWeights::get(const std::string& canonical) const {
  auto it = tensors_.find(canonical);
  if (it == tensors_.end()) throw not_found("weight \"" + canonical + "\" is not loaded");
  return it->second;
}

BertModelFiles load_bert(const std::filesystem::path& path, std::optional<HeadKind> head) {
  BertModelFiles m;
  const std::filesystem::path dir = std::filesystem::is_directory(path) ? path : path.parent_path();
  m.config = load_bert_config(dir / "config.json");
  m.head = head ? *head : head_from_architectures(m.config.architectures);
  m.checkpoint = Checkpoint::open(path);
  m.weights = BertWeights::load(m.checkpoint, m.config, m.head);
  return m;
}

}  // namespace bertcpp::io
