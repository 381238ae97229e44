// Reduced-precision compute types agree with fp32 closely enough for embeddings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "golden_util.h"
#include "model/encoder.h"
#include "model/network.h"

using namespace bertcpp;

namespace {

// Cosine of two [B, S, H] tensors over the real (mask 1) positions, flattened.
double masked_cosine(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const int64_t positions = mask.numel(), H = a.dim(-1);
  double dot = 0, na = 0, nb = 0;
  for (int64_t p = 0; p < positions; ++p) {
    if (mask.data<int64_t>()[p] == 0) continue;
    for (int64_t h = 0; h < H; ++h) {
      const double x = a.data<float>()[p * H + h], y = b.data<float>()[p * H + h];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
  }
  return dot / std::sqrt(na * nb);
}

}  // namespace

TEST(ComputeType, Bf16LastHiddenStateCosineVsF32) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16", "tiny-roberta", "tiny-xlm-roberta", "tiny-distilbert", "tiny-electra", "tiny-mpnet", "tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    model::Options bf16;
    bf16.gemm = ops::GemmType::BF16;
    std::unique_ptr<model::Network> low;  // the family's own graph where it has one (ModernBERT)
    try {
      low = model::load_network(dir, bf16);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Unsupported) GTEST_SKIP() << e.what();
      throw;
    }
    auto ref = model::load_network(dir, model::Options{});
    const bertcpp::testing::Golden g(dir);
    for (const char* c : {"single", "batch"}) {
      if (!g.has(c, "input_ids")) continue;
      const model::Input batch = g.batch(c);
      const Tensor a = ref->forward(batch, {}).last_hidden_state;
      const Tensor b = low->forward(batch, {}).last_hidden_state;
      EXPECT_GE(masked_cosine(a, b, batch.attention_mask), 0.999) << c;
      EXPECT_LE(bertcpp::testing::max_abs_diff(a, b, batch.attention_mask), 0.5) << c;
    }
  }
}

// ModernBERT's Linears (no biases; Wqkv, Wo, Wi, Wo per layer) through bf16 and int8 GEMMs.
TEST(ComputeType, ModernBertBf16AndInt8CosineVsF32) {
  for (const char* name : {"tiny-modernbert", "tiny-modernbert-classifier"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    auto ref = model::load_network(dir, model::Options{});
    const bertcpp::testing::Golden g(dir);
    for (const auto& [gemm, min_cos] : {std::pair{ops::GemmType::BF16, 0.999}, std::pair{ops::GemmType::Int8, 0.99}}) {
      model::Options o;
      o.gemm = gemm;
      std::unique_ptr<model::Network> low;
      try {
        low = model::load_network(dir, o);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Unsupported) continue;  // no bf16 GEMM on this CPU
        throw;
      }
      for (const char* c : {"single", "batch", "long"}) {
        const model::Input batch = g.batch(c);
        const Tensor a = ref->forward(batch, {}).last_hidden_state;
        const Tensor b = low->forward(batch, {}).last_hidden_state;
        const double cos = masked_cosine(a, b, batch.attention_mask);
        std::printf("    %s %s %s 1 - cosine %.3g, max|delta| %.3g\n", name, gemm == ops::GemmType::BF16 ? "bf16" : "int8", c,
                    1 - cos, bertcpp::testing::max_abs_diff(a, b, batch.attention_mask));
        EXPECT_GE(cos, min_cos) << c;
      }
    }
  }
}

namespace {

// Per-text pooled embeddings (mean over real tokens, and the [CLS] token) of two
// last_hidden_states [B, S, H]; returns the smallest cosine over texts of each. Channels where
// `skip` is true are left out of the cosines.
struct PooledCosines {
  double mean = 1, cls = 1;
};
PooledCosines pooled_cosines(const Tensor& a, const Tensor& b, const Tensor& mask, const std::vector<bool>& skip = {}) {
  const int64_t B = a.dim(0), S = a.dim(1), H = a.dim(2);
  auto cosine = [&](const std::vector<double>& x, const std::vector<double>& y) {
    double dot = 0, nx = 0, ny = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!skip.empty() && skip[i]) continue;
      dot += x[i] * y[i];
      nx += x[i] * x[i];
      ny += y[i] * y[i];
    }
    return dot / std::sqrt(nx * ny);
  };
  PooledCosines out;
  for (int64_t t = 0; t < B; ++t) {
    std::vector<double> ma(H, 0.0), mb(H, 0.0), ca(H), cb(H);
    for (int64_t s = 0; s < S; ++s) {
      if (mask.defined() && mask.data<int64_t>()[t * S + s] == 0) continue;
      for (int64_t h = 0; h < H; ++h) {
        ma[h] += a.data<float>()[(t * S + s) * H + h];
        mb[h] += b.data<float>()[(t * S + s) * H + h];
      }
    }
    for (int64_t h = 0; h < H; ++h) {
      ca[h] = a.data<float>()[t * S * H + h];
      cb[h] = b.data<float>()[t * S * H + h];
    }
    out.mean = std::min(out.mean, cosine(ma, mb));
    out.cls = std::min(out.cls, cosine(ca, cb));
  }
  return out;
}

std::unique_ptr<model::Network> load_int8(const std::filesystem::path& dir) {
  model::Options o;
  o.gemm = ops::GemmType::Int8;
  return model::load_network(dir, o);
}

}  // namespace

TEST(ComputeType, Int8PooledEmbeddingsCosineVsF32) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16", "tiny-roberta", "tiny-xlm-roberta", "tiny-distilbert", "tiny-electra", "tiny-mpnet", "tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    auto low = load_int8(dir);
    auto ref = model::load_network(dir, model::Options{});
    const bertcpp::testing::Golden g(dir);
    for (const char* c : {"single", "batch"}) {
      if (!g.has(c, "input_ids")) continue;
      const model::Input batch = g.batch(c);
      const Tensor a = ref->forward(batch, {}).last_hidden_state;
      const Tensor b = low->forward(batch, {}).last_hidden_state;
      const PooledCosines p = pooled_cosines(a, b, batch.attention_mask);
      EXPECT_GE(p.mean, 0.99) << c;
      EXPECT_GE(p.cls, 0.99) << c;
      EXPECT_GE(masked_cosine(a, b, batch.attention_mask), 0.99) << c;
    }
  }
}

// tiny-bert-outliers (tests/data/models/README.md): 2 hidden channels whose LayerNorm gain and
// bias are 10-50× the others, as in trained BERTs — per-row int8 alone loses the other channels.
TEST(ComputeType, Int8OnOutlierChannels) {
  const auto dir = bertcpp::testing::model_dir("tiny-bert-outliers");
  auto low = load_int8(dir);
  auto ref = model::Encoder::load(dir, model::Options{});
  const int64_t B = 3, S = 40, V = ref->config().vocab_size;
  model::Input batch;
  batch.input_ids = Tensor::empty(DType::I64, {B, S});
  batch.attention_mask = Tensor::empty(DType::I64, {B, S});
  uint32_t state = 12345;
  for (int64_t t = 0; t < B; ++t) {
    const int64_t len = S - 13 * t;  // right padding on texts 1 and 2
    for (int64_t s = 0; s < S; ++s) {
      state = state * 1664525u + 1013904223u;
      const int64_t id = s == 0 ? 101 % V : s == len - 1 ? 102 % V : 5 + static_cast<int64_t>(state >> 8) % (V - 5);
      batch.input_ids.data<int64_t>()[t * S + s] = s < len ? id : 0;
      batch.attention_mask.data<int64_t>()[t * S + s] = s < len ? 1 : 0;
    }
  }
  const Tensor a = ref->forward(batch, {}).last_hidden_state;
  const Tensor b = low->forward(batch, {}).last_hidden_state;
  const PooledCosines p = pooled_cosines(a, b, batch.attention_mask);
  EXPECT_GE(p.mean, 0.99);
  EXPECT_GE(p.cls, 0.99);
  // The outlier channels (|γ| > 5 in the last LayerNorm) dominate those cosines; the other
  // channels, where per-row int8 without smoothing loses its precision, must agree as well.
  const Tensor gamma = io::Checkpoint::open(dir / "model.safetensors").get_f32("encoder.layer.1.output.LayerNorm.weight");
  std::vector<bool> outlier(static_cast<size_t>(gamma.numel()));
  int64_t n_outliers = 0;
  for (int64_t j = 0; j < gamma.numel(); ++j) n_outliers += (outlier[j] = std::fabs(gamma.data<float>()[j]) > 5.0f);
  EXPECT_EQ(n_outliers, 2);
  const PooledCosines q = pooled_cosines(a, b, batch.attention_mask, outlier);
  EXPECT_GE(q.mean, 0.99);
  EXPECT_GE(q.cls, 0.99);
  // Per-row quantization: a text's result does not depend on its batch neighbours (bitwise).
  model::Input one;
  one.input_ids = Tensor::empty(DType::I64, {1, S - 13});
  one.attention_mask = Tensor::empty(DType::I64, {1, S - 13});
  for (int64_t s = 0; s < S - 13; ++s) {
    one.input_ids.data<int64_t>()[s] = batch.input_ids.data<int64_t>()[S + s];
    one.attention_mask.data<int64_t>()[s] = 1;
  }
  const Tensor c = low->forward(one, {}).last_hidden_state;
  const int64_t H = c.dim(2);
  for (int64_t i = 0; i < (S - 13) * H; ++i)
    ASSERT_EQ(c.data<float>()[i], b.data<float>()[S * H + i]) << "element " << i;
  // ... nor on the thread count (the s32 accumulation is exact; everything else is per element/row).
  for (int threads : {1, 2}) {
    model::Options o;
    o.gemm = ops::GemmType::Int8;
    o.threads = threads;
    const Tensor d = model::Encoder::load(dir, o)->forward(batch, {}).last_hidden_state;
    for (int64_t i = 0; i < d.numel(); ++i)
      ASSERT_EQ(d.data<float>()[i], b.data<float>()[i]) << threads << " threads, element " << i;
  }
}

// `bertcpp embed --dtype int8` end to end: same shape as f32, embeddings within cosine 0.99.
TEST(ComputeType, Int8EmbedCli) {
  auto embed = [](const std::string& dtype) {
    const std::string cmd = std::string(BERTCPP_CLI) + " embed --threads 1 --dtype " + dtype + " -m '" +
                            bertcpp::testing::model_dir("tiny-bert").string() +
                            "' 'Hello, world!' 'the quick brown fox jumps over the lazy dog' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = p ? pclose(p) : -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
    return nlohmann::json::parse(out, nullptr, false);
  };
  const nlohmann::json a = embed("f32"), b = embed("int8");
  ASSERT_FALSE(a.is_discarded());
  ASSERT_FALSE(b.is_discarded());
  ASSERT_EQ(a["embeddings"].size(), 2u);
  ASSERT_EQ(b["embeddings"].size(), 2u);
  for (size_t t = 0; t < 2; ++t) {
    const auto& x = a["embeddings"][t];
    const auto& y = b["embeddings"][t];
    ASSERT_EQ(x.size(), y.size());
    double dot = 0, nx = 0, ny = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double u = x[i].get<double>(), v = y[i].get<double>();
      dot += u * v;
      nx += u * u;
      ny += v * v;
    }
    EXPECT_GE(dot / std::sqrt(nx * ny), 0.99) << "text " << t;
  }
}
