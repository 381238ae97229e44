// A deterministic stand-in for the model, so the HTTP layer, limits and batching can be tested
// without weights: words become ids, outputs are simple functions of the ids. `gate` lets a test
// hold every forward pass (to fill the server up, or to shut it down mid-request).
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "server/backend.hpp"

namespace fake {

using namespace bertcpp;
using namespace bertcpp::server;

class FakeBackend : public Backend {
 public:
  explicit FakeBackend(ModelKind kind = ModelKind::Embedding, bool mlm = false) {
    info_.model_id = "fake/model";
    info_.kind = kind;
    info_.has_classifier = kind != ModelKind::Embedding;
    info_.has_mlm_head = mlm;
    info_.has_hidden_states = kind == ModelKind::Embedding;
    info_.hidden_size = 4;
    info_.embedding_dimension = 4;
    info_.vocab_size = 100;
    info_.max_input_length = 16;
    if (kind == ModelKind::Classifier) info_.labels = {"negative", "neutral", "positive"};
    if (kind == ModelKind::Reranker) info_.labels = {"LABEL_0"};
  }
  const BackendInfo& info() const override { return info_; }

  static int64_t word_id(std::string_view w) {
    uint64_t h = 1469598103934665603ull;
    for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return 5 + static_cast<int64_t>(h % 95);
  }

  Encoding encode(const EncodeRequest& r) const override {
    Encoding e;
    auto add = [&](int64_t id, std::string tok, int seq, int64_t b0, int64_t b1, int type) {
      e.input_ids.push_back(id);
      e.tokens.push_back(std::move(tok));
      e.sequence_ids.push_back(seq);
      e.byte_offsets.push_back({b0, b1});
      e.offsets.push_back({b0, b1});
      e.token_type_ids.push_back(type);
      e.attention_mask.push_back(1);
    };
    auto words = [&](std::string_view text, int seq, int type) {
      size_t i = 0;
      while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ') ++j;
        if (j > i) add(word_id(text.substr(i, j - i)), std::string(text.substr(i, j - i)), seq,
                       static_cast<int64_t>(i), static_cast<int64_t>(j), type);
        i = j;
      }
    };
    if (r.add_special_tokens) add(1, "[CLS]", -1, 0, 0, 0);
    words(r.text, 0, 0);
    if (r.add_special_tokens) add(2, "[SEP]", -1, 0, 0, 0);
    if (r.text_pair) {
      words(*r.text_pair, 1, 1);
      if (r.add_special_tokens) add(2, "[SEP]", -1, 0, 0, 1);
    }
    if (r.truncate && static_cast<int64_t>(e.input_ids.size()) > r.max_length) {
      const size_t n = static_cast<size_t>(r.max_length);
      auto cut = [&](auto& v) {
        if (r.side == TruncationSide::Right) v.resize(n);
        else v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(n));
      };
      cut(e.input_ids); cut(e.tokens); cut(e.sequence_ids); cut(e.byte_offsets); cut(e.offsets);
      cut(e.token_type_ids); cut(e.attention_mask);
    }
    return e;
  }
  std::string decode(std::span<const int64_t> ids, bool skip) const override {
    std::string s;
    for (int64_t id : ids) {
      if (skip && is_special_id(id)) continue;
      if (!s.empty()) s += ' ';
      s += 'w';
      s += std::to_string(id);
    }
    return s;
  }
  bool is_special_id(int64_t id) const override { return id == 1 || id == 2; }

  // Pooled embedding of an id sequence: what run() returns for Task::Pooled.
  static std::vector<float> pooled(const std::vector<int64_t>& ids) {
    std::vector<float> v(4, 0.0f);
    for (int64_t id : ids)
      for (int k = 0; k < 4; ++k) v[static_cast<size_t>(k)] += static_cast<float>((id * (k + 1)) % 7) + 0.25f;
    for (float& x : v) x /= static_cast<float>(ids.size());
    return v;
  }

  std::vector<TaskOutput> run(std::span<const TokenizedInput* const> inputs, std::span<const Task> tasks) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !blocked_; });
      --waiting_;
    }
    batches_++;
    inputs_run_ += inputs.size();
    max_batch_ = std::max<size_t>(max_batch_, inputs.size());
    if (fail_) throw std::runtime_error("injected failure");
    if (type_vocab_1_)  // as a model with type_vocab_size 1: a pair in the batch fails all of it
      for (const auto* in : inputs)
        for (int64_t t : in->token_type_ids)
          if (t != 0) throw std::runtime_error("token type id " + std::to_string(t) + " out of range");
    std::vector<TaskOutput> out(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& ids = inputs[i]->input_ids;
      switch (tasks[i]) {
        case Task::Pooled: out[i].values = pooled(ids); break;
        case Task::AllTokens:
          out[i].rows = static_cast<int64_t>(ids.size());
          for (int64_t id : ids)
            for (int k = 0; k < 4; ++k) out[i].values.push_back(static_cast<float>(id + k));
          break;
        case Task::Sparse:
          out[i].values.assign(100, 0.0f);
          for (int64_t id : ids) out[i].values[static_cast<size_t>(id)] += 1.0f;
          break;
        case Task::Classify: {
          const float n = static_cast<float>(ids.size());
          if (info_.labels.size() == 1) out[i].values = {n / 4.0f - 2.0f};
          else out[i].values = {n / 4.0f, -n / 4.0f, 0.5f};
          break;
        }
        case Task::ClassifyTokens: break;  // the fake has no token classifier
      }
    }
    return out;
  }

  void block() { std::lock_guard l(mutex_); blocked_ = true; }
  void unblock() { { std::lock_guard l(mutex_); blocked_ = false; } cv_.notify_all(); }
  void wait_until_running() { std::unique_lock l(mutex_); cv_.wait(l, [&] { return waiting_ > 0; }); }
  void set_fail(bool f) { fail_ = f; }
  void set_type_vocab_1(bool f) { type_vocab_1_ = f; }
  size_t batches() const { return batches_; }
  size_t inputs_run() const { return inputs_run_; }  // inputs computed, over every batch
  size_t max_batch() const { return max_batch_; }

 private:
  BackendInfo info_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool blocked_ = false;
  int waiting_ = 0;
  std::atomic<bool> fail_{false};
  std::atomic<bool> type_vocab_1_{false};
  std::atomic<size_t> batches_{0};
  std::atomic<size_t> inputs_run_{0};
  std::atomic<size_t> max_batch_{0};
};

}  // namespace fake
