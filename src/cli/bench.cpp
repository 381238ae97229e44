// bertcpp bench: times Model::forward in-process on random valid ids; prints one JSON object.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/cli_options.h"
#include "api/cpu_info.h"
#include "cli/command.h"
#include "io/checkpoint.h"

namespace bertcpp::cli {
namespace {

// Resident set size now (VmRSS) and its peak so far (ru_maxrss), in MiB; -1 when unknown.
double rss_now_mb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      double kb = -1;
      f >> kb;
      return kb < 0 ? -1 : kb / 1024.0;
    }
    f.ignore(1 << 20, '\n');
  }
  return -1;
}
double rss_peak_mb() {
  rusage u{};
  return ::getrusage(RUSAGE_SELF, &u) == 0 ? static_cast<double>(u.ru_maxrss) / 1024.0 : -1;  // Linux: KiB
}

// CPU time (user + system) of this process so far, ms.
double cpu_ms() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

struct BenchArgs {
  api::cli::ModelFlags model;
  int64_t batch = 1;
  int64_t seq = 128;
  std::string lengths_file;
  int iters = 20;
  int warmup = 3;
};

std::vector<int64_t> read_lengths(const std::string& file, int64_t max_len) {
  std::ifstream in(file);
  if (!in) throw not_found("--lengths: cannot open " + file);
  std::vector<int64_t> out;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(line.substr(b), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || line.find_first_not_of(" \t\r", b + used) != std::string::npos)
      throw invalid_argument(file + " line " + std::to_string(lineno) + ": expected one sequence length, got '" + line + "'");
    if (v < 2 || v > max_len)
      throw invalid_argument(file + " line " + std::to_string(lineno) + ": length " + std::to_string(v) +
                             " outside [2, " + std::to_string(max_len) + "] (max_position_embeddings)");
    out.push_back(v);
  }
  if (out.empty()) throw invalid_argument(file + ": no lengths");
  return out;
}

int run_bench(const BenchArgs& a) {
  if (a.iters < 1) throw invalid_argument("--iters must be >= 1");
  if (a.warmup < 0) throw invalid_argument("--warmup must be >= 0");
  const double c0 = cpu_ms();
  const auto l0 = std::chrono::steady_clock::now();
  const Model model = api::cli::load_model(a.model);  // config, tokenizer, weights, GEMM packing
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - l0).count();
  const double load_cpu_ms = cpu_ms() - c0;
  const double rss_after_load = rss_now_mb();
  const ModelConfigInfo& cfg = model.config();
  std::vector<int64_t> lengths;
  if (!a.lengths_file.empty()) {
    lengths = read_lengths(a.lengths_file, cfg.max_position_embeddings);
  } else {
    if (a.batch < 1) throw invalid_argument("--batch must be >= 1");
    if (a.seq < 2 || a.seq > cfg.max_position_embeddings)
      throw invalid_argument("--seq " + std::to_string(a.seq) + " outside [2, " + std::to_string(cfg.max_position_embeddings) +
                             "] (the model's max_position_embeddings)");
    lengths.assign(static_cast<size_t>(a.batch), a.seq);
  }
  const auto B = static_cast<int64_t>(lengths.size());
  const int64_t S = *std::max_element(lengths.begin(), lengths.end());
  const int64_t real_tokens = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});

  // [CLS] random tokens [SEP], padded; ids from the "ordinary" part of the vocabulary.
  const Tokenizer& tok = model.tokenizer();
  std::mt19937_64 rng(1234);
  const int64_t lo = std::min<int64_t>(1000, cfg.vocab_size - 1);
  std::uniform_int_distribution<int64_t> dist(lo, cfg.vocab_size - 1);
  Batch batch;
  batch.input_ids = Tensor::empty(DType::I64, {B, S});
  batch.attention_mask = Tensor::zeros(DType::I64, {B, S});
  batch.token_type_ids = Tensor::zeros(DType::I64, {B, S});
  int64_t* ids = batch.input_ids.data<int64_t>();
  int64_t* mask = batch.attention_mask.data<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths[static_cast<size_t>(b)];
    for (int64_t s = 0; s < S; ++s) {
      ids[b * S + s] = s >= L ? tok.pad_token_id() : s == 0 ? tok.cls_token_id() : s == L - 1 ? tok.sep_token_id() : dist(rng);
      mask[b * S + s] = s < L ? 1 : 0;
    }
  }

  for (int i = 0; i < a.warmup; ++i) (void)model.forward(batch);
  std::vector<double> ms;
  for (int i = 0; i < a.iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const ModelOutput out = model.forward(batch);
    const auto t1 = std::chrono::steady_clock::now();
    if (!out.last_hidden_state.defined()) throw Error(ErrorKind::Internal, "forward returned no last_hidden_state");
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  const double peak_rss = rss_peak_mb();
  size_t weight_bytes = 0;  // as stored in the checkpoint (opened again after the peak is taken)
  const io::Checkpoint checkpoint = io::Checkpoint::open(model.directory());
  for (const auto& t : checkpoint.tensors()) weight_bytes += t.nbytes;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(n);
  const int threads = a.model.threads > 0 ? a.model.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  nlohmann::json j;
  j["model"] = model.name();
  j["batch"] = B;
  j["seq"] = S;
  j["dtype"] = a.model.dtype;
  j["threads"] = threads;
  j["iters"] = a.iters;
  j["median_ms"] = median;
  j["min_ms"] = sorted.front();
  j["mean_ms"] = mean;
  j["tokens_per_s"] = static_cast<double>(real_tokens) / (median / 1000.0);
  j["real_tokens"] = real_tokens;
  j["load_ms"] = load_ms;
  j["load_cpu_ms"] = load_cpu_ms;
  j["weight_bytes"] = weight_bytes;
  j["rss_after_load_mb"] = rss_after_load;
  j["peak_rss_mb"] = peak_rss;
  j["cpu_features"] = api::cpu_features();
  api::cli::write_output("", j.dump() + "\n");
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  app.footer(
      "Times Model::forward (no tokenization) after --warmup runs, on random valid ids ([CLS] ... [SEP]).\n"
      "Prints one JSON object: {\"model\",\"batch\",\"seq\",\"dtype\",\"threads\",\"iters\",\"median_ms\",\"min_ms\",\n"
      "\"mean_ms\",\"tokens_per_s\",\"real_tokens\",\"load_ms\",\"load_cpu_ms\",\"weight_bytes\",\"rss_after_load_mb\",\"peak_rss_mb\",\"cpu_features\"};\n"
      "tokens_per_s = real (non-padding) tokens / median. load_ms: wall time of loading the model (config,\n"
      "tokenizer, weights, GEMM weight packing); load_cpu_ms: its CPU time (all threads). weight_bytes: bytes\n"
      "of all tensors as stored in the checkpoint. rss_after_load_mb: resident set (VmRSS, MiB) right after\n"
      "loading; peak_rss_mb: peak resident set (ru_maxrss, MiB) of the whole process, loading included,\n"
      "after the timed runs.\n"
      "--lengths FILE: one sequence length per line = a ragged batch padded to the longest.\n"
      "Example: bertcpp bench -m ./bert-base-uncased --batch 8 --seq 128 --threads 2");
  api::cli::add_model_flags(app, a->model);
  app.add_option("-b,--batch", a->batch, "Sequences per batch")->default_val(1);
  app.add_option("-s,--seq", a->seq, "Tokens per sequence (including [CLS] and [SEP])")->default_val(128);
  app.add_option("--lengths", a->lengths_file, "File with one sequence length per line (overrides --batch/--seq)");
  app.add_option("--iters", a->iters, "Timed runs")->default_val(20);
  app.add_option("--warmup", a->warmup, "Untimed runs first")->default_val(3);
  return [a] { return run_bench(*a); };
}

const bool registered = register_command({"bench", "Time Model::forward in-process (JSON report)", 90, setup});

}  // namespace
}  // namespace bertcpp::cli
