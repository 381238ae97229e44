// The weight tables on the golden checkpoints: slots, prefixes, legacy names, tying, head rules.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "model/config.h"
#include "model/family.h"
#include "model/weights.h"

using namespace bertcpp;
using namespace bertcpp::model;
using bertcpp::io::Checkpoint;

namespace {
const std::string kModels = std::string(BERTCPP_TEST_DATA) + "/models/";

bool same_f32(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == DType::F32 && b.dtype() == DType::F32 &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

struct Loaded {
  EncoderConfig config;
  const Family* family;
  HeadKind head;
  Checkpoint checkpoint;
  Weights weights;
};

Loaded load(const std::string& dir, std::optional<HeadKind> head = std::nullopt) {
  Loaded m{load_config(dir + "/config.json"), nullptr, HeadKind::None, Checkpoint::open(dir), {}};
  m.family = find_family(m.config.model_type);
  m.head = head ? *head : head_from_architectures(*m.family, m.config.architectures);
  m.weights = load_weights(m.checkpoint, m.config, *m.family, m.head);
  return m;
}
}  // namespace

TEST(Weights, StoredNamesFollowTheFamilyTable) {
  EXPECT_EQ(stored_name(*find_family("bert"), "encoder.layer.3.attention.self.query.weight"),
            "encoder.layer.3.attention.self.query.weight");
  EXPECT_EQ(stored_name(*find_family("bert"), "head.mlm.layer_norm.bias"), "cls.predictions.transform.LayerNorm.bias");
  EXPECT_EQ(stored_name(*find_family("distilbert"), "encoder.layer.12.attention.self.query.weight"),
            "transformer.layer.12.attention.q_lin.weight");
  EXPECT_EQ(stored_name(*find_family("distilbert"), "encoder.layer.1.output.LayerNorm.weight"),
            "transformer.layer.1.output_layer_norm.weight");
  EXPECT_EQ(stored_name(*find_family("mpnet"), "encoder.layer.0.attention.output.LayerNorm.bias"),
            "encoder.layer.0.attention.LayerNorm.bias");
  EXPECT_EQ(stored_name(*find_family("roberta"), "head.classifier.out.weight"), "classifier.out_proj.weight");
  EXPECT_EQ(stored_name(*find_family("electra"), "head.discriminator.out.bias"),
            "discriminator_predictions.dense_prediction.bias");
}

TEST(Weights, TinyBertBaseModel) {
  auto m = load(kModels + "tiny-bert");
  EXPECT_EQ(m.head, HeadKind::None);
  const auto& w = m.weights;
  EXPECT_TRUE(w.has("pooler.dense.weight"));
  EXPECT_EQ(w.get("encoder.layer.1.intermediate.dense.weight").shape(), (Shape{64, 32}));
  EXPECT_EQ(w.get("encoder.layer.1.output.dense.weight").shape(), (Shape{32, 64}));
  EXPECT_TRUE(w.get("embeddings.word_embeddings.weight").is_borrowed());  // zero-copy F32
  EXPECT_FALSE(w.has("embeddings.position_ids"));
  EXPECT_FALSE(w.has("head.mlm.decoder.weight"));
  // 5 embedding tensors + 16 per layer + 2 pooler.
  EXPECT_EQ(w.tensors.size(), 5u + 16u * 2 + 2);
  EXPECT_THROW(w.get("nope"), Error);
  // The .bin gives the same weights.
  Checkpoint bin = Checkpoint::open(kModels + "tiny-bert/pytorch_model.bin");
  Weights wb = load_weights(bin, m.config, *m.family, HeadKind::None);
  for (const auto& [name, t] : w.tensors) EXPECT_TRUE(same_f32(t, wb.get(name))) << name;
}

TEST(Weights, PretrainingF16PrefixGammaBetaAndTiedDecoder) {
  auto m = load(kModels + "tiny-bert-pretraining-f16");
  EXPECT_EQ(m.head, HeadKind::PreTraining);
  const Checkpoint& c = m.checkpoint;
  const auto& w = m.weights;
  EXPECT_TRUE(w.head_missing.empty()) << w.head_missing;
  ASSERT_FALSE(c.contains("cls.predictions.decoder.weight"));  // the golden file relies on tying
  EXPECT_TRUE(same_f32(w.get("embeddings.LayerNorm.weight"), c.get_f32("bert.embeddings.LayerNorm.gamma")));
  EXPECT_TRUE(same_f32(w.get("embeddings.LayerNorm.bias"), c.get_f32("bert.embeddings.LayerNorm.beta")));
  EXPECT_TRUE(same_f32(w.get("encoder.layer.2.output.LayerNorm.weight"),
                       c.get_f32("bert.encoder.layer.2.output.LayerNorm.gamma")));
  EXPECT_TRUE(same_f32(w.get("head.mlm.layer_norm.bias"), c.get_f32("cls.predictions.transform.LayerNorm.beta")));
  EXPECT_EQ(w.get("head.mlm.decoder.weight").raw(), w.get("embeddings.word_embeddings.weight").raw());
  EXPECT_TRUE(same_f32(w.get("head.mlm.bias"), c.get_f32("cls.predictions.bias")));
  EXPECT_EQ(w.get("head.nsp.weight").shape(), (Shape{2, 48}));
  EXPECT_EQ(w.get("embeddings.position_embeddings.weight").shape(), (Shape{64, 48}));
  for (const auto& [name, t] : w.tensors) EXPECT_EQ(t.dtype(), DType::F32) << name;
  // As a plain BertModel the same checkpoint also loads (heads ignored).
  Weights base = load_weights(c, m.config, *m.family, HeadKind::None);
  EXPECT_FALSE(base.has("head.nsp.weight"));
  EXPECT_TRUE(base.has("pooler.dense.weight"));
}

TEST(Weights, ClassifierBF16) {
  auto m = load(kModels + "tiny-bert-classifier-bf16");
  EXPECT_EQ(m.head, HeadKind::SequenceClassification);
  EXPECT_EQ(m.config.num_labels, 3);
  const auto& w = m.weights;
  EXPECT_EQ(w.get("head.classifier.out.weight").shape(), (Shape{3, 32}));
  EXPECT_EQ(w.get("head.classifier.out.bias").shape(), (Shape{3}));
  EXPECT_TRUE(same_f32(w.get("head.classifier.out.weight"), m.checkpoint.get_f32("classifier.weight")));
  EXPECT_TRUE(same_f32(w.get("head.classifier.dense.weight"), m.checkpoint.get_f32("bert.pooler.dense.weight")));
  EXPECT_TRUE(same_f32(w.get("encoder.layer.1.attention.self.key.bias"),
                       m.checkpoint.get_f32("bert.encoder.layer.1.attention.self.key.bias")));
  EXPECT_TRUE(w.has("pooler.dense.weight"));
}

TEST(Weights, OneErrorListsEveryProblem) {
  auto m = load(kModels + "tiny-bert");
  EncoderConfig c = m.config;
  c.num_hidden_layers = 3;   // layer 2 missing entirely (16 tensors)
  c.intermediate_size = 65;  // every intermediate/output dense mis-shaped
  try {
    load_weights(m.checkpoint, c, *m.family, HeadKind::SequenceClassification);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing encoder.layer.2.attention.self.query.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("encoder.layer.0.intermediate.dense.weight has shape [64, 32], expected [65, 32]"),
              std::string::npos) << msg;
  }
}

// A head's weights are required only when the head runs: without them the base model loads.
TEST(Weights, MissingHeadWeightsLeaveTheBaseModel) {
  auto m = load(kModels + "tiny-bert");
  const Weights w = load_weights(m.checkpoint, m.config, *m.family, HeadKind::MaskedLM);
  EXPECT_FALSE(w.head_missing.empty());
  EXPECT_NE(w.head_missing.find("cls.predictions.transform.dense.weight"), std::string::npos) << w.head_missing;
  EXPECT_FALSE(w.has("head.mlm.decoder.weight"));
  EXPECT_TRUE(w.has("encoder.layer.1.output.dense.weight"));
  const Weights q = load_weights(m.checkpoint, m.config, *m.family, HeadKind::QuestionAnswering);
  EXPECT_NE(q.head_missing.find("qa_outputs.weight"), std::string::npos) << q.head_missing;
}

namespace {
// Writes tensors as a safetensors file (test helper; F16/F32 raw bytes as given).
void write_safetensors(const std::filesystem::path& p, const std::vector<std::pair<std::string, Tensor>>& ts) {
  nlohmann::json h = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : ts) {
    h[name] = {{"dtype", std::string(dtype_name(t.dtype()))}, {"shape", t.shape()}, {"data_offsets", {data.size(), data.size() + t.nbytes()}}};
    data.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  const std::string hs = h.dump();
  std::ofstream out(p, std::ios::binary);
  const uint64_t n = hs.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << hs << data;
}
}  // namespace

TEST(Weights, PoolerOptionalAndMlmBiasFallback) {
  Checkpoint src = Checkpoint::open(kModels + "tiny-bert-pretraining-f16");
  std::vector<std::pair<std::string, Tensor>> kept;
  for (const auto& t : src.tensors()) {
    if (t.name.find("pooler") != std::string::npos || t.name == "cls.predictions.bias" ||
        t.name.rfind("cls.seq_relationship", 0) == 0)
      continue;
    kept.emplace_back(t.name, src.get(t.name));
  }
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-mlm-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_safetensors(dir / "model.safetensors", kept);
  Checkpoint c = Checkpoint::open(dir);
  const EncoderConfig cfg = load_config(kModels + "tiny-bert-pretraining-f16/config.json");
  const Family& bert = *find_family("bert");
  Weights w = load_weights(c, cfg, bert, HeadKind::MaskedLM);
  EXPECT_TRUE(w.head_missing.empty()) << w.head_missing;
  EXPECT_FALSE(w.has("pooler.dense.weight"));
  EXPECT_FALSE(w.has("pooler.dense.bias"));
  EXPECT_TRUE(same_f32(w.get("head.mlm.bias"), src.get_f32("cls.predictions.decoder.bias")));  // the decoder's bias
  EXPECT_TRUE(same_f32(w.get("head.mlm.decoder.weight"), src.get_f32("bert.embeddings.word_embeddings.weight")));
  Weights base = load_weights(c, cfg, bert, HeadKind::None);
  EXPECT_FALSE(base.has("pooler.dense.weight"));
  // BERT's sequence classifier is the pooler + classifier: without the pooler the head is missing.
  Weights cls = load_weights(c, cfg, bert, HeadKind::SequenceClassification);
  EXPECT_NE(cls.head_missing.find("pooler.dense.weight"), std::string::npos) << cls.head_missing;
  std::filesystem::remove_all(dir);
}

// A tensor inside a layer that no slot reads (here JinaBERT-code-style Q/K norms, and a
// bitsandbytes-style quantization state) means a variant the graph would run without: refused,
// naming it. Buffers (inv_freq) and tensors outside the layers (other heads) stay ignored.
TEST(Weights, TensorsInsideALayerThatNoSlotReadsAreRefused) {
  for (const std::string model : {"tiny-bert", "tiny-distilbert"}) {
    SCOPED_TRACE(model);
    Checkpoint src = Checkpoint::open(kModels + model);
    const EncoderConfig cfg = load_config(kModels + model + "/config.json");
    const Family& family = *find_family(cfg.model_type);
    const std::string root = model == "tiny-bert" ? "encoder.layer.1." : "transformer.layer.1.";
    std::vector<std::pair<std::string, Tensor>> base;
    for (const auto& t : src.tensors()) base.emplace_back(t.name, src.get(t.name));
    const Tensor norm = src.get_f32(src.tensors().front().name);
    auto load_with = [&](const std::vector<std::string>& extra) {
      auto ts = base;
      for (const auto& n : extra) ts.emplace_back(n, norm);
      const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-unread-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      write_safetensors(dir / "model.safetensors", ts);
      Checkpoint c = Checkpoint::open(dir / "model.safetensors");
      try {
        load_weights(c, cfg, family, HeadKind::None);
      } catch (const Error& e) {
        std::filesystem::remove_all(dir);
        return std::string(e.what());
      }
      std::filesystem::remove_all(dir);
      return std::string();
    };
    EXPECT_EQ(load_with({root + "attention.self.rotary_emb.inv_freq", "classifier.weight"}), "");
    const std::string e = load_with({root + "attention.self.layer_norm_q.weight", root + "output.dense.SCB"});
    EXPECT_NE(e.find("2 tensors inside the layers"), std::string::npos) << e;
    EXPECT_NE(e.find(root + "attention.self.layer_norm_q.weight"), std::string::npos) << e;
    EXPECT_NE(e.find(root + "output.dense.SCB"), std::string::npos) << e;
  }
}
