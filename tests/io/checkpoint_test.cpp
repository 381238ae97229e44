// Golden checkpoints: every format loads, .bin and .safetensors agree bit for bit, F16/BF16
// decode exactly (checked against an independent decoder working on the raw file bytes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "io/checkpoint.h"

using namespace bertcpp;
using namespace bertcpp::io;

namespace {

const std::string kModels = std::string(BERTCPP_TEST_DATA) + "/models/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Independent decoding of IEEE half / bfloat16 (by arithmetic, not bit tricks).
double half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mant, exp - 25);
}
double bf16_value(uint16_t b) {
  const int sign = (b >> 15) ? -1 : 1;
  const int exp = (b >> 7) & 0xff;
  const int mant = b & 0x7f;
  if (exp == 0) return sign * std::ldexp(mant, -133);
  if (exp == 255) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(128 + mant, exp - 134);
}

// Raw bytes of a tensor, located by parsing the header here with plain nlohmann::json.
std::string raw_tensor(const std::string& file, const std::string& name, std::string* dtype) {
  const std::string all = slurp(file);
  uint64_t n;
  std::memcpy(&n, all.data(), 8);
  const auto h = nlohmann::json::parse(all.substr(8, n));
  const auto& e = h.at(name);
  *dtype = e.at("dtype").get<std::string>();
  const uint64_t b = e.at("data_offsets")[0], en = e.at("data_offsets")[1];
  return all.substr(8 + n + b, en - b);
}

}  // namespace

TEST(Checkpoint, OpensAllGoldenModels) {
  for (const char* m : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16"}) {
    SCOPED_TRACE(m);
    Checkpoint c = Checkpoint::open(kModels + m);
    EXPECT_EQ(c.format(), "safetensors");
    EXPECT_GT(c.tensors().size(), 30u);
    for (const auto& t : c.tensors()) {
      EXPECT_EQ(t.file, "model.safetensors");
      Tensor x = c.get(t.name);
      EXPECT_EQ(x.dtype(), t.dtype);
      EXPECT_EQ(x.shape(), t.shape);
      EXPECT_EQ(x.nbytes(), t.nbytes);
      Tensor f = c.get_f32(t.name);
      EXPECT_EQ(f.dtype(), DType::F32);
      EXPECT_EQ(f.shape(), t.shape);
    }
  }
}

TEST(Checkpoint, F32SafetensorsAreZeroCopy) {
  Checkpoint c = Checkpoint::open(kModels + "tiny-bert");
  Tensor a = c.get_f32("embeddings.word_embeddings.weight");
  EXPECT_TRUE(a.is_borrowed());
  EXPECT_EQ(a.shape(), (Shape{30522, 32}));
  // The map outlives the checkpoint object.
  Tensor b;
  {
    Checkpoint d = Checkpoint::open(kModels + "tiny-bert/model.safetensors");
    b = d.get("pooler.dense.bias");
  }
  std::string dt;
  const std::string raw = raw_tensor(kModels + "tiny-bert/model.safetensors", "pooler.dense.bias", &dt);
  ASSERT_EQ(dt, "F32");
  ASSERT_EQ(raw.size(), b.nbytes());
  EXPECT_EQ(std::memcmp(raw.data(), b.raw(), raw.size()), 0);
}

TEST(Checkpoint, PytorchBinMatchesSafetensorsBitForBit) {
  Checkpoint st = Checkpoint::open(kModels + "tiny-bert/model.safetensors");
  Checkpoint pt = Checkpoint::open(kModels + "tiny-bert/pytorch_model.bin");
  EXPECT_EQ(pt.format(), "pytorch");
  size_t compared = 0;
  for (const auto& t : st.tensors()) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(pt.contains(t.name));
    Tensor a = st.get(t.name), b = pt.get(t.name);
    ASSERT_EQ(a.dtype(), b.dtype());
    ASSERT_EQ(a.shape(), b.shape());
    ASSERT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
    ++compared;
  }
  EXPECT_EQ(compared, st.tensors().size());
  // The .bin also carries the position_ids buffer (I64 0..511).
  ASSERT_TRUE(pt.contains("embeddings.position_ids"));
  Tensor ids = pt.get("embeddings.position_ids");
  ASSERT_EQ(ids.dtype(), DType::I64);
  ASSERT_EQ(ids.shape(), (Shape{1, 512}));
  for (int64_t i = 0; i < 512; ++i) ASSERT_EQ(ids.data<int64_t>()[i], i);
}

TEST(Checkpoint, DirectoryPrefersSafetensors) {
  Checkpoint c = Checkpoint::open(kModels + "tiny-bert");
  EXPECT_EQ(c.format(), "safetensors");
  EXPECT_FALSE(c.contains("embeddings.position_ids"));
}

TEST(Checkpoint, F16AndBF16DecodeExactly) {
  struct Case { const char* model; const char* tensor; const char* dtype; };
  for (const Case& k : {Case{"tiny-bert-pretraining-f16", "bert.embeddings.word_embeddings.weight", "F16"},
                        Case{"tiny-bert-pretraining-f16", "cls.predictions.bias", "F16"},
                        Case{"tiny-bert-classifier-bf16", "bert.embeddings.word_embeddings.weight", "BF16"},
                        Case{"tiny-bert-classifier-bf16", "classifier.weight", "BF16"}}) {
    SCOPED_TRACE(k.tensor);
    const std::string file = kModels + k.model + "/model.safetensors";
    std::string dt;
    const std::string raw = raw_tensor(file, k.tensor, &dt);
    ASSERT_EQ(dt, k.dtype);
    Checkpoint c = Checkpoint::open(file);
    Tensor f = c.get_f32(k.tensor);
    ASSERT_EQ(f.numel() * 2, static_cast<int64_t>(raw.size()));
    const float* p = f.data<float>();
    size_t nonzero = 0;
    for (int64_t i = 0; i < f.numel(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, raw.data() + 2 * i, 2);
      const double want = dt == "F16" ? half_value(bits) : bf16_value(bits);
      ASSERT_EQ(static_cast<double>(p[i]), want) << "element " << i;
      nonzero += want != 0;
    }
    EXPECT_GT(nonzero, 0u);
  }
}

TEST(Checkpoint, NotFoundListsWhatWasLookedFor) {
  try {
    Checkpoint::open(std::string(BERTCPP_TEST_DATA) + "/vocabs");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("pytorch_model.bin.index.json"), std::string::npos);
  }
  EXPECT_THROW(Checkpoint::open(kModels + "does-not-exist"), Error);
  try {
    Checkpoint::open(kModels + "tiny-bert").get("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}
