// fp32 determinism: the same input gives bitwise identical results whatever the thread count and
// whatever else is in the batch (Linear row counts, padding, batch neighbours).
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

#include "golden_util.h"
#include "model/encoder.h"
#include "model/network.h"
#include "ops/linear.h"
#include "ops/threads.h"

using namespace bertcpp;

namespace {

Tensor random_tensor(Shape s, uint32_t seed, float scale = 0.05f) {
  Tensor t = Tensor::empty(DType::F32, std::move(s));
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}

bool same_bits(const float* a, const float* b, int64_t n) { return std::memcmp(a, b, static_cast<size_t>(n) * 4) == 0; }

Tensor row_of(const Tensor& t, int64_t b, int64_t len) {
  if (!t.defined()) return Tensor();  // families without token types
  Tensor r = Tensor::empty(t.dtype(), {1, len});
  std::memcpy(r.raw(), static_cast<const char*>(t.raw()) + b * t.dim(1) * 8, static_cast<size_t>(len) * 8);
  return r;
}

}  // namespace

TEST(Determinism, LinearRowsDoNotDependOnRowCountOrThreads) {
  // Shapes of bert-base (the tiny test models are too small to reach multi-threaded GEMM paths).
  // Row counts: below, at and above 16 (the tail block overlaps computed rows), past the f32/bf16
  // and int8 row blocks (512, 256) with tails of every kind, in every compute type.
  const int64_t R = 1100;
  for (ops::GemmType gemm : {ops::GemmType::F32, ops::GemmType::BF16, ops::GemmType::Int8}) {
    SCOPED_TRACE(gemm == ops::GemmType::F32 ? "f32" : gemm == ops::GemmType::BF16 ? "bf16" : "int8");
    for (auto [in, out] : {std::pair<int64_t, int64_t>{768, 2304}, {3072, 768}, {2048, 512}, {48, 144}, {32, 96}, {32, 64}, {64, 32}, {32, 32}}) {
      SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out));
      std::unique_ptr<ops::Linear> lin;
      try {
        lin = std::make_unique<ops::Linear>(random_tensor({out, in}, 1), random_tensor({out}, 2), ops::Activation::GeluErf, gemm);
      } catch (const Error& e) {
        if (gemm == ops::GemmType::F32) throw;
        std::cout << "no such GEMM here (the other compute types are still checked): " << e.what() << "\n";
        break;
      }
      const Tensor x = random_tensor({R, in}, 3, 1.0f);
      ops::set_num_threads(1);
      Tensor ref = Tensor::empty(DType::F32, {R, out});
      for (int64_t r = 0; r < R; ++r) lin->forward(x.data<float>() + r * in, 1, ref.data<float>() + r * out);  // row by row
      for (int threads : {1, 2}) {
        ops::set_num_threads(threads);
        for (int64_t rows : {int64_t{5}, int64_t{16}, int64_t{17}, int64_t{33}, int64_t{128}, int64_t{300}, int64_t{513},
                             int64_t{775}, int64_t{1100}}) {
          for (int64_t first : {int64_t{0}, R - rows}) {
            Tensor y = Tensor::empty(DType::F32, {rows, out});
            lin->forward(x.data<float>() + first * in, rows, y.data<float>());
            EXPECT_TRUE(same_bits(y.data<float>(), ref.data<float>() + first * out, rows * out))
                << "threads " << threads << ", rows " << rows << " from row " << first;
          }
        }
      }
    }
  }
  ops::set_num_threads(0);
}

TEST(Determinism, ModelOutputIsBitwiseStableAcrossThreadsAndBatches) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-roberta", "tiny-distilbert", "tiny-electra", "tiny-mpnet",
                           "tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    const bertcpp::testing::Golden g(dir);
    const model::Input batch = g.batch("batch");
    const int64_t B = batch.batch_size(), S = batch.seq_len();
    model::Options o1, o2;
    o1.threads = 1;
    o2.threads = 2;
    auto one = model::load_network(dir, o1);  // the family's own graph where it has one (ModernBERT)
    auto two = model::load_network(dir, o2);
    const int64_t H = one->config().hidden_size;
    const model::Output ref = one->forward(batch, {});
    // Run to run, and 1 vs 2 threads: the whole padded batch.
    for (const model::Network* m : {one.get(), two.get(), one.get(), two.get()}) {
      const model::Output o = m->forward(batch, {});
      EXPECT_TRUE(same_bits(o.last_hidden_state.data<float>(), ref.last_hidden_state.data<float>(), B * S * H));
      if (ref.pooler_output.defined()) {
        EXPECT_TRUE(same_bits(o.pooler_output.data<float>(), ref.pooler_output.data<float>(), B * H));
      }
    }
    // Each text alone (no padding, no neighbours) equals its rows in the padded batch, bitwise.
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      for (int64_t s = 0; s < S; ++s) len += batch.attention_mask.data<int64_t>()[b * S + s];
      const model::Input alone{row_of(batch.input_ids, b, len), row_of(batch.attention_mask, b, len),
                        row_of(batch.token_type_ids, b, len)};
      for (const model::Network* m : {one.get(), two.get()}) {
        const model::Output o = m->forward(alone, {});
        EXPECT_TRUE(same_bits(o.last_hidden_state.data<float>(), ref.last_hidden_state.data<float>() + b * S * H, len * H))
            << "text " << b;
        if (ref.pooler_output.defined()) {
          EXPECT_TRUE(same_bits(o.pooler_output.data<float>(), ref.pooler_output.data<float>() + b * H, H)) << "text " << b;
        }
      }
    }
  }
}

// A large batch (> 1000 rows: several int8 encoder slabs and row blocks): right-padded texts
// (packed rows), a batch with a mask hole (padded rows) and a hidden_states request (padded rows,
// a new tensor per layer) all give every text exactly its result alone — bitwise in f32, bf16 and
// int8 (whose GEMM rows are independent too).
TEST(Determinism, LargeBatchesEqualEachTextAlone) {
  const auto dir = bertcpp::testing::model_dir("tiny-bert");
  const int64_t B = 40, S = 61;
  std::mt19937 rng(5);
  std::vector<int64_t> lens(static_cast<size_t>(B));
  for (auto& l : lens) l = 2 + static_cast<int64_t>(rng() % (S - 1));
  lens[3] = S;
  model::Input batch{Tensor::empty(DType::I64, {B, S}), Tensor::empty(DType::I64, {B, S}), Tensor::empty(DType::I64, {B, S})};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const bool real = s < lens[static_cast<size_t>(b)];
      batch.input_ids.data<int64_t>()[b * S + s] = real ? 1000 + static_cast<int64_t>(rng() % 20000) : 0;
      batch.attention_mask.data<int64_t>()[b * S + s] = real ? 1 : 0;
      batch.token_type_ids.data<int64_t>()[b * S + s] = real && s > lens[static_cast<size_t>(b)] / 2 ? 1 : 0;
    }
  int64_t total = 0;
  for (auto l : lens) total += l;
  ASSERT_GT(total, 1000);
  for (ops::GemmType compute : {ops::GemmType::F32, ops::GemmType::BF16, ops::GemmType::Int8}) {
    SCOPED_TRACE(compute == ops::GemmType::F32 ? "f32" : compute == ops::GemmType::BF16 ? "bf16" : "int8");
    model::Options o;
    o.gemm = compute;
    std::unique_ptr<model::Encoder> m;
    try {
      m = model::Encoder::load(dir, o);
    } catch (const Error& e) {
      if (compute == ops::GemmType::F32) throw;
      std::cout << "no such GEMM here (the other compute types are still checked): " << e.what() << "\n";
      continue;
    }
    const int64_t H = m->config().hidden_size;
    const model::Output packed = m->forward(batch, {});
    model::Request all_layers;
    all_layers.hidden_states = true;
    const model::Output padded = m->forward(batch, all_layers);
    model::Input holed = batch;  // a hole in text 0's mask: every text then runs padded to S rows
    holed.attention_mask = Tensor::empty(DType::I64, {B, S});
    std::memcpy(holed.attention_mask.raw(), batch.attention_mask.raw(), static_cast<size_t>(B * S) * 8);
    holed.attention_mask.data<int64_t>()[1] = 0;
    const model::Output with_hole = m->forward(holed, {});
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = lens[static_cast<size_t>(b)];
      const model::Input alone{row_of(batch.input_ids, b, len), row_of(batch.attention_mask, b, len),
                        row_of(batch.token_type_ids, b, len)};
      const model::Output o = m->forward(alone, {});
      const float* want = o.last_hidden_state.data<float>();
      EXPECT_TRUE(same_bits(packed.last_hidden_state.data<float>() + b * S * H, want, len * H)) << "packed, text " << b;
      EXPECT_TRUE(same_bits(padded.last_hidden_state.data<float>() + b * S * H, want, len * H)) << "padded, text " << b;
      EXPECT_TRUE(same_bits(padded.hidden_states.back().data<float>() + b * S * H, want, len * H)) << "text " << b;
      if (b > 0) {
        EXPECT_TRUE(same_bits(with_hole.last_hidden_state.data<float>() + b * S * H, want, len * H)) << "holed, text " << b;
      }
    }
  }
}

// ModernBERT's graph (packed batch, rotary, sliding window): each text of the golden batch alone,
// with 1 and 2 threads, gives the bits it has inside the padded batch.
TEST(Determinism, ModernBertTextAloneEqualsTextInBatch) {
  const auto dir = bertcpp::testing::model_dir("tiny-modernbert");
  model::Options one, two;
  one.threads = 1;
  two.threads = 2;
  const auto m1 = model::load_network(dir, one), m2 = model::load_network(dir, two);
  const bertcpp::testing::Golden g(dir);
  const model::Input batch = g.batch("batch");
  const Tensor full = m2->forward(batch, {}).last_hidden_state;
  const int64_t B = batch.batch_size(), S = batch.seq_len(), H = full.dim(2);
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = 0;
    while (len < S && batch.attention_mask.data<int64_t>()[b * S + len] == 1) ++len;
    model::Input alone;
    alone.input_ids = row_of(batch.input_ids, b, len);
    alone.attention_mask = row_of(batch.attention_mask, b, len);
    for (const auto* m : {m1.get(), m2.get()}) {
      const Tensor a = m->forward(alone, {}).last_hidden_state;
      EXPECT_TRUE(same_bits(a.data<float>(), full.data<float>() + b * S * H, len * H)) << "text " << b;
    }
  }
}
