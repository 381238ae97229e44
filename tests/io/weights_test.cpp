// Weight mapping on the golden checkpoints.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "io/weights.h"

using namespace bertcpp;
using namespace bertcpp::io;

namespace {
const std::string kModels = std::string(BERTCPP_TEST_DATA) + "/models/";

bool same_f32(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == DType::F32 && b.dtype() == DType::F32 &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}
}  // namespace

TEST(Weights, HeadFromArchitectures) {
  EXPECT_EQ(head_from_architectures({"BertModel"}), HeadKind::None);
  EXPECT_EQ(head_from_architectures({"BertForMaskedLM"}), HeadKind::MaskedLM);
  EXPECT_EQ(head_from_architectures({"BertForPreTraining"}), HeadKind::PreTraining);
  EXPECT_EQ(head_from_architectures({"BertForSequenceClassification"}), HeadKind::SequenceClassification);
  EXPECT_EQ(head_from_architectures({"BertForTokenClassification"}), HeadKind::TokenClassification);
  EXPECT_EQ(head_from_architectures({"BertForQuestionAnswering"}), HeadKind::QuestionAnswering);
  EXPECT_EQ(head_from_architectures({"SomethingElse"}), HeadKind::None);
  EXPECT_EQ(head_from_architectures({}), HeadKind::None);
}

TEST(Weights, CanonicalNames) {
  EXPECT_EQ(canonical_weight_name("bert.embeddings.LayerNorm.gamma"), "embeddings.LayerNorm.weight");
  EXPECT_EQ(canonical_weight_name("bert.encoder.layer.0.output.LayerNorm.beta"), "encoder.layer.0.output.LayerNorm.bias");
  EXPECT_EQ(canonical_weight_name("cls.predictions.transform.LayerNorm.gamma"), "cls.predictions.transform.LayerNorm.weight");
  EXPECT_EQ(canonical_weight_name("pooler.dense.weight"), "pooler.dense.weight");
  EXPECT_EQ(canonical_weight_name("classifier.weight"), "classifier.weight");
}

TEST(Weights, TinyBertBaseModel) {
  auto m = load_bert(kModels + "tiny-bert");
  EXPECT_EQ(m.head, HeadKind::None);
  const auto& w = m.weights;
  EXPECT_TRUE(w.has("pooler.dense.weight"));
  EXPECT_EQ(w.get("encoder.layer.1.intermediate.dense.weight").shape(), (Shape{64, 32}));
  EXPECT_EQ(w.get("encoder.layer.1.output.dense.weight").shape(), (Shape{32, 64}));
  EXPECT_TRUE(w.get("embeddings.word_embeddings.weight").is_borrowed());  // zero-copy F32
  EXPECT_FALSE(w.has("embeddings.position_ids"));
  EXPECT_FALSE(w.has("cls.predictions.decoder.weight"));
  // 5 embedding tensors + 16 per layer + 2 pooler.
  EXPECT_EQ(w.all().size(), 5u + 16u * 2 + 2);
  EXPECT_THROW(w.get("nope"), Error);
  // The .bin gives the same weights.
  Checkpoint bin = Checkpoint::open(kModels + "tiny-bert/pytorch_model.bin");
  BertWeights wb = BertWeights::load(bin, m.config, HeadKind::None);
  for (const auto& [name, t] : w.all()) EXPECT_TRUE(same_f32(t, wb.get(name))) << name;
}

TEST(Weights, PretrainingF16PrefixGammaBetaAndTiedDecoder) {
  auto m = load_bert(kModels + "tiny-bert-pretraining-f16");
  EXPECT_EQ(m.head, HeadKind::PreTraining);
  const Checkpoint& c = m.checkpoint;
  const auto& w = m.weights;
  ASSERT_FALSE(c.contains("cls.predictions.decoder.weight"));  // the golden file relies on tying
  EXPECT_TRUE(same_f32(w.get("embeddings.LayerNorm.weight"), c.get_f32("bert.embeddings.LayerNorm.gamma")));
  EXPECT_TRUE(same_f32(w.get("embeddings.LayerNorm.bias"), c.get_f32("bert.embeddings.LayerNorm.beta")));
  EXPECT_TRUE(same_f32(w.get("encoder.layer.2.output.LayerNorm.weight"),
                       c.get_f32("bert.encoder.layer.2.output.LayerNorm.gamma")));
  EXPECT_TRUE(same_f32(w.get("cls.predictions.transform.LayerNorm.bias"),
                       c.get_f32("cls.predictions.transform.LayerNorm.beta")));
  EXPECT_TRUE(same_f32(w.get("cls.predictions.decoder.weight"), c.get_f32("bert.embeddings.word_embeddings.weight")));
  EXPECT_EQ(w.get("cls.predictions.decoder.weight").raw(), w.get("embeddings.word_embeddings.weight").raw());
  EXPECT_TRUE(same_f32(w.get("cls.predictions.bias"), c.get_f32("cls.predictions.bias")));
  EXPECT_TRUE(same_f32(w.get("cls.predictions.decoder.bias"), c.get_f32("cls.predictions.decoder.bias")));
  EXPECT_EQ(w.get("cls.seq_relationship.weight").shape(), (Shape{2, 48}));
  EXPECT_EQ(w.get("embeddings.position_embeddings.weight").shape(), (Shape{64, 48}));
  for (const auto& [name, t] : w.all()) EXPECT_EQ(t.dtype(), DType::F32) << name;
  // As a plain BertModel the same checkpoint also loads (heads ignored).
  BertWeights base = BertWeights::load(c, m.config, HeadKind::None);
  EXPECT_FALSE(base.has("cls.seq_relationship.weight"));
  EXPECT_TRUE(base.has("pooler.dense.weight"));
}

TEST(Weights, ClassifierBF16) {
  auto m = load_bert(kModels + "tiny-bert-classifier-bf16");
  EXPECT_EQ(m.head, HeadKind::SequenceClassification);
  EXPECT_EQ(m.config.num_labels, 3);
  const auto& w = m.weights;
  EXPECT_EQ(w.get("classifier.weight").shape(), (Shape{3, 32}));
  EXPECT_EQ(w.get("classifier.bias").shape(), (Shape{3}));
  EXPECT_TRUE(same_f32(w.get("classifier.weight"), m.checkpoint.get_f32("classifier.weight")));
  EXPECT_TRUE(same_f32(w.get("encoder.layer.1.attention.self.key.bias"),
                       m.checkpoint.get_f32("bert.encoder.layer.1.attention.self.key.bias")));
  EXPECT_TRUE(w.has("pooler.dense.weight"));
}

TEST(Weights, OneErrorListsEveryProblem) {
  auto m = load_bert(kModels + "tiny-bert");
  BertConfig c = m.config;
  c.num_hidden_layers = 3;   // layer 2 missing entirely (16 tensors)
  c.intermediate_size = 65;  // every intermediate/output dense mis-shaped
  try {
    BertWeights::load(m.checkpoint, c, HeadKind::SequenceClassification);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing encoder.layer.2.attention.self.query.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("encoder.layer.0.intermediate.dense.weight has shape [64, 32], expected [65, 32]"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("missing classifier.weight"), std::string::npos) << msg;
  }
  // A head needing the pooler on a checkpoint without it; an MLM head without cls.* weights.
  EXPECT_THROW(BertWeights::load(m.checkpoint, m.config, HeadKind::MaskedLM), Error);
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
    if (t.name.find("pooler") != std::string::npos || t.name == "cls.predictions.decoder.bias" ||
        t.name.rfind("cls.seq_relationship", 0) == 0)
      continue;
    kept.emplace_back(t.name, src.get(t.name));
  }
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-mlm-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_safetensors(dir / "model.safetensors", kept);
  Checkpoint c = Checkpoint::open(dir);
  const BertConfig cfg = load_bert_config(kModels + "tiny-bert-pretraining-f16/config.json");
  BertWeights w = BertWeights::load(c, cfg, HeadKind::MaskedLM);
  EXPECT_FALSE(w.has("pooler.dense.weight"));
  EXPECT_FALSE(w.has("pooler.dense.bias"));
  EXPECT_TRUE(same_f32(w.get("cls.predictions.decoder.bias"), src.get_f32("cls.predictions.bias")));
  EXPECT_TRUE(same_f32(w.get("cls.predictions.decoder.weight"), src.get_f32("bert.embeddings.word_embeddings.weight")));
  BertWeights base = BertWeights::load(c, cfg, HeadKind::None);
  EXPECT_FALSE(base.has("pooler.dense.weight"));
  try {
    BertWeights::load(c, cfg, HeadKind::SequenceClassification);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing pooler.dense.weight"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}
