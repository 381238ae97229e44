// Weight slots -> checkpoint names (a family's table) -> F32 tensors, with presence/shape checks.
#include "model/weights.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

#include "bertcpp/error.h"

namespace bertcpp::model {

namespace {

enum class Part { Base, Optional, Head };

struct Want {
  std::string slot;  // full slot name, e.g. "encoder.layer.0.attention.self.query.weight"
  Shape shape;
  Part part;
};

struct Table {
  std::vector<Want> wants;
  void linear(const std::string& slot, int64_t out, int64_t in, Part part = Part::Base, bool bias = true) {
    wants.push_back({slot + ".weight", {out, in}, part});
    if (bias) wants.push_back({slot + ".bias", {out}, part});
  }
  void layer_norm(const std::string& slot, int64_t n, Part part = Part::Base, bool bias = true) {
    wants.push_back({slot + ".weight", {n}, part});
    if (bias) wants.push_back({slot + ".bias", {n}, part});
  }
  void tensor(const std::string& slot, Shape shape, Part part = Part::Base) { wants.push_back({slot, std::move(shape), part}); }
};

// LayerNorm.gamma/beta (TF-converted BERTs) -> weight/bias.
std::string modern_layer_norm_name(std::string n) {
  auto replace_suffix = [&](const char* from, const char* to) {
    const std::string f = std::string("LayerNorm.") + from;
    if (n.size() >= f.size() && n.compare(n.size() - f.size(), f.size(), f) == 0)
      n = n.substr(0, n.size() - std::strlen(from)) + to;
  };
  replace_suffix("gamma", "weight");
  replace_suffix("beta", "bias");
  return n;
}

// The slots the config and the head need, with their shapes.
Table slot_table(const EncoderConfig& c, HeadKind head) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size, E = c.embedding_width();
  Table t;
  t.tensor("embeddings.word_embeddings.weight", {V, E});
  if (c.has_position_table()) t.tensor("embeddings.position_embeddings.weight", {c.max_position_embeddings, E});
  if (c.type_vocab_size > 0) t.tensor("embeddings.token_type_embeddings.weight", {c.type_vocab_size, E});
  t.layer_norm("embeddings.LayerNorm", E);
  if (E != H) t.linear("embeddings_project", H, E);
  if (c.relative_attention_num_buckets > 0)
    t.tensor("encoder.relative_attention_bias.weight", {c.relative_attention_num_buckets, c.num_attention_heads});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    const bool ab = c.attn_linear_bias;
    if (c.qkv_fused) {
      t.linear(p + "attention.self.qkv", 3 * H, H, Part::Base, ab);
    } else {
      t.linear(p + "attention.self.query", H, H, Part::Base, ab);
      t.linear(p + "attention.self.key", H, H, Part::Base, ab);
      t.linear(p + "attention.self.value", H, H, Part::Base, ab);
    }
    t.linear(p + "attention.output.dense", H, H, Part::Base, ab);
    t.layer_norm(p + "attention.output.LayerNorm", H, Part::Base, !c.layer_rms_norm);
    if (c.glu_fused_up_gate || c.glu_fused_gate_up) {
      t.linear(p + (c.glu_fused_up_gate ? "intermediate.up_gate" : "intermediate.gate_up"), 2 * I, H, Part::Base, c.mlp_in_bias);
    } else {
      t.linear(p + "intermediate.dense", I, H, Part::Base, c.mlp_in_bias);
      if (c.glu) t.linear(p + "intermediate.gate", I, H, Part::Base, c.mlp_in_bias);
    }
    t.linear(p + "output.dense", H, I, Part::Base, c.mlp_out_bias);
    t.layer_norm(p + "output.LayerNorm", H, Part::Base, !c.layer_rms_norm);
  }
  t.linear("pooler.dense", H, H, Part::Optional);
  switch (head) {
    case HeadKind::None: break;
    case HeadKind::MaskedLM:
    case HeadKind::PreTraining:
      t.linear("head.mlm.dense", E, H, Part::Head, c.mlm_bias);
      t.layer_norm("head.mlm.layer_norm", E, Part::Head);
      t.tensor("head.mlm.decoder.weight", {V, E}, Part::Optional);  // absent when tied to the word embeddings
      if (c.mlm_bias) t.tensor("head.mlm.bias", {V}, Part::Head);
      if (head == HeadKind::PreTraining) t.linear("head.nsp", 2, H, Part::Head);
      break;
    case HeadKind::Discriminator:
      t.linear("head.discriminator.dense", H, H, Part::Head);
      t.linear("head.discriminator.out", 1, H, Part::Head);
      break;
    case HeadKind::SequenceClassification:
      t.linear("head.classifier.dense", H, H, Part::Head);
      t.linear("head.classifier.out", c.num_labels, H, Part::Head);
      break;
    case HeadKind::TokenClassification: t.linear("head.token", c.num_labels, H, Part::Head); break;
    case HeadKind::QuestionAnswering: t.linear("head.qa", 2, H, Part::Head); break;
  }
  return t;
}

bool replace_layer_pattern(const std::string& pattern, const std::string& slot, const std::string& target,
                           std::string& out) {
  // pattern "encoder.layer.{i}.x" matches slot "encoder.layer.7.x<rest>" -> target with {i} = 7.
  const size_t brace = pattern.find("{i}");
  if (brace == std::string::npos) {
    if (slot.compare(0, pattern.size(), pattern) != 0) return false;
    if (slot.size() > pattern.size() && slot[pattern.size()] != '.') return false;
    out = target + slot.substr(pattern.size());
    return true;
  }
  if (slot.compare(0, brace, pattern, 0, brace) != 0) return false;
  size_t k = brace;
  while (k < slot.size() && slot[k] >= '0' && slot[k] <= '9') ++k;
  if (k == brace) return false;
  const std::string index = slot.substr(brace, k - brace);
  const std::string tail = pattern.substr(brace + 3);
  if (slot.compare(k, tail.size(), tail) != 0) return false;
  const size_t end = k + tail.size();
  if (slot.size() > end && slot[end] != '.') return false;
  std::string t = target;
  t.replace(t.find("{i}"), 3, index);
  out = t + slot.substr(end);
  return true;
}

}  // namespace

const Tensor& Weights::get(const std::string& slot) const {
  auto it = tensors.find(slot);
  if (it == tensors.end()) throw not_found("weight \"" + slot + "\" is not loaded");
  return it->second;
}

std::string stored_name(const Family& family, const std::string& slot) {
  std::string out;
  for (const auto& [pattern, target] : family.weight_names)
    if (replace_layer_pattern(pattern, slot, target, out)) return out;
  return slot;
}

Weights load_weights(const io::Checkpoint& checkpoint, const EncoderConfig& c, const Family& family, HeadKind head) {
  // Stored name (prefix stripped, modern LayerNorm names) -> the name in the file.
  const std::string prefix = family.prefix + ".";
  std::unordered_map<std::string, std::string> stored;
  std::vector<std::string> problems;
  for (const auto& t : checkpoint.tensors()) {
    std::string n = t.name.rfind(prefix, 0) == 0 ? t.name.substr(prefix.size()) : t.name;
    n = modern_layer_norm_name(n);
    if (n.size() >= 12 && n.compare(n.size() - 12, 12, "position_ids") == 0) continue;  // a buffer
    auto [it, inserted] = stored.emplace(n, t.name);
    if (!inserted) problems.push_back("\"" + t.name + "\" and \"" + it->second + "\" both map to " + n);
  }

  const Table table = slot_table(c, head);
  Weights w;
  std::vector<std::string> head_missing;
  std::vector<std::pair<const Want*, std::string>> found;  // want, file name
  for (const Want& want : table.wants) {
    std::string name = stored_name(family, want.slot);
    auto it = stored.find(name);
    if (it == stored.end() && want.slot == "head.mlm.bias") {  // older files keep it on the decoder only
      it = stored.find(stored_name(family, "head.mlm.decoder.bias"));
    }
    if (it == stored.end()) {
      if (want.part == Part::Base) problems.push_back("missing " + name);
      if (want.part == Part::Head) head_missing.push_back(name);
      continue;
    }
    const io::TensorInfo& info = checkpoint.info(it->second);
    if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16) {
      problems.push_back(it->second + " has dtype " + std::string(dtype_name(info.dtype)) + ", expected F32/F16/BF16");
      continue;
    }
    if (info.shape != want.shape) {
      problems.push_back(it->second + " has shape " + shape_to_string(info.shape) + ", expected " +
                         shape_to_string(want.shape));
      continue;
    }
    found.emplace_back(&want, it->second);
  }
  // A tensor inside a layer that no slot reads is a variant of the graph (extra norms, adapters,
  // quantization state) that would otherwise run silently without it.
  std::set<std::string> layer_roots;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string slot_root = "encoder.layer." + std::to_string(l) + ".";
    std::string root;
    bool first = true;
    for (const Want& want : table.wants) {
      if (want.slot.rfind(slot_root, 0) != 0) continue;
      const std::string n = stored_name(family, want.slot);
      if (first) root = n, first = false;
      size_t k = 0;
      while (k < root.size() && k < n.size() && root[k] == n[k]) ++k;
      root.resize(k);
    }
    if (const size_t dot = root.rfind('.'); dot != std::string::npos) layer_roots.insert(root.substr(0, dot + 1));
  }
  std::set<std::string> read;
  for (const auto& f : found) read.insert(f.second);
  auto is_buffer = [](const std::string& n) {
    for (const char* b : {"inv_freq", "position_ids", "num_batches_tracked"})
      if (n.size() >= std::strlen(b) && n.compare(n.size() - std::strlen(b), std::strlen(b), b) == 0) return true;
    return false;
  };
  std::vector<std::string> unread;
  for (const auto& [n, file_name] : stored)
    if (!read.count(file_name) && !is_buffer(n))
      for (const std::string& root : layer_roots)
        if (n.rfind(root, 0) == 0) {
          unread.push_back(file_name);
          break;
        }
  if (!unread.empty()) {
    std::sort(unread.begin(), unread.end());
    std::string list;
    for (size_t i = 0; i < unread.size() && i < 6; ++i) list += (i ? ", " : "") + unread[i];
    if (unread.size() > 6) list += ", ...";
    problems.push_back(std::to_string(unread.size()) + " tensor" + (unread.size() > 1 ? "s" : "") +
                       " inside the layers that the " + family.name +
                       " graph does not use (" + list + "): a variant of the architecture bertcpp does not implement");
  }
  // The pooler is all or nothing.
  const bool pooler_w = std::any_of(found.begin(), found.end(), [](auto& f) { return f.first->slot == "pooler.dense.weight"; });
  const bool pooler_b = std::any_of(found.begin(), found.end(), [](auto& f) { return f.first->slot == "pooler.dense.bias"; });
  if (pooler_w != pooler_b) problems.push_back(std::string("missing ") + (pooler_w ? "pooler.dense.bias" : "pooler.dense.weight"));

  if (!problems.empty()) {
    std::string files;
    std::set<std::string> seen;
    for (const auto& t : checkpoint.tensors())
      if (seen.insert(t.file).second) files += (files.empty() ? "" : ", ") + t.file;
    if (files.empty()) files = "checkpoint";
    std::string msg = files + ": " + std::to_string(problems.size()) + " weight problem" +
                      (problems.size() > 1 ? "s" : "") + " for a " + std::to_string(c.num_hidden_layers) + "-layer " +
                      family.name + " (" + c.model_type + ", head " + head_name(head) + "): ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw Error(ErrorKind::InvalidFile, msg);
  }
  const bool load_head = head_missing.empty();
  for (const auto& [want, file_name] : found)
    if (want->part != Part::Head || load_head) w.tensors[want->slot] = checkpoint.get_f32(file_name);
  if (!load_head) {
    w.head_missing = "the checkpoint has no " + head_name(head) + " head weights (missing ";
    for (size_t i = 0; i < head_missing.size(); ++i) w.head_missing += (i ? ", " : "") + head_missing[i];
    w.head_missing += ")";
    w.tensors.erase("head.mlm.decoder.weight");
  } else if ((head == HeadKind::MaskedLM || head == HeadKind::PreTraining) && !w.has("head.mlm.decoder.weight")) {
    w.tensors["head.mlm.decoder.weight"] = w.get("embeddings.word_embeddings.weight");  // tied
  }
  return w;
}

}  // namespace bertcpp::model
