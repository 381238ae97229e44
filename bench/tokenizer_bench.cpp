// Tokenizer throughput: single-thread MB/s and tokens/s of Tokenizer::encode over a >= 50 MB corpus
// of real prose, then multi-threaded encode_batch throughput.
//
//   tokenizer_bench [--model DIR] [--corpus FILE] [--mb N] [--threads N] [--batch N] [--backend auto|slow|fast]
//
// --backend fast runs a folder's tokenizer.json through the tokenizers pipeline (the reference for
// it: tools/tokenizer_speed_ref.py, the Rust library through its Python binding, same texts).
//
// Without --corpus the corpus is /usr/share/common-licenses/* concatenated and repeated up to --mb
// megabytes (default 50), split into paragraphs (blank-line separated) as the texts to encode.
// --model defaults to tests/data/vocabs/bert-base-uncased (run from the source tree).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ctime>

#include "bertcpp/tokenizer.hpp"

// CPU time of the calling thread: on a shared, loaded machine wall-clock throughput understates
// what one core does, so both are printed.
static double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

namespace fs = std::filesystem;

static std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static std::vector<std::string> split_paragraphs(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t k = s.find("\n\n", start);
    if (k == std::string::npos) k = s.size();
    if (k > start) out.emplace_back(s.substr(start, k - start));
    start = k + 2;
  }
  return out;
}

int main(int argc, char** argv) {
  fs::path model = "tests/data/vocabs/bert-base-uncased";
  fs::path corpus_path;
  double mb = 50;
  int threads = 0;
  size_t batch = 512;
  std::string backend = "auto";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model = next();
    else if (a == "--corpus") corpus_path = next();
    else if (a == "--mb") mb = std::atof(next().c_str());
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--backend") backend = next();
    else if (a == "--batch") batch = static_cast<size_t>(std::max(1, std::atoi(next().c_str())));
    else {
      std::fprintf(stderr, "usage: tokenizer_bench [--model DIR] [--corpus FILE] [--mb N] [--threads N] [--batch N] [--backend auto|slow|fast]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::string base;
  if (!corpus_path.empty()) {
    base = read_file(corpus_path);
  } else {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator("/usr/share/common-licenses"))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) base += read_file(f) + "\n\n";
  }
  if (base.empty()) {
    std::fprintf(stderr, "empty corpus\n");
    return 2;
  }
  std::string corpus;
  const size_t target = static_cast<size_t>(mb * 1e6);
  while (corpus.size() < target) corpus += base;
  std::vector<std::string> texts = split_paragraphs(corpus);
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  bertcpp::TokenizerOptions topt;
  if (backend == "slow") topt.backend = bertcpp::TokenizerBackend::Slow;
  else if (backend == "fast") topt.backend = bertcpp::TokenizerBackend::Fast;
  bertcpp::Tokenizer tok = bertcpp::Tokenizer::from_dir(model, topt);
  tok.encode("warm up the unicode tables");
  std::printf("corpus: %.1f MB in %zu texts (model %s, %s backend)\n", bytes / 1e6, texts.size(), model.string().c_str(),
              tok.is_fast() ? "fast" : "slow");

  using clk = std::chrono::steady_clock;
  bertcpp::EncodeOptions opts;  // add_special_tokens, no truncation: every token of every text
  {
    size_t tokens = 0;
    auto t0 = clk::now();
    double c0 = thread_cpu_seconds();
    for (const auto& t : texts) tokens += tok.encode(t, opts).size();
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    double c = thread_cpu_seconds() - c0;
    std::printf("single-thread encode: %.2f MB/s, %.0f tokens/s wall (%zu tokens, %.2f s); per CPU-second: %.2f MB/s, %.0f tokens/s\n",
                bytes / 1e6 / s, tokens / s, tokens, s, bytes / 1e6 / c, tokens / c);
  }
  {
    size_t tokens = 0;
    auto t0 = clk::now();
    double c0 = thread_cpu_seconds();
    for (const auto& t : texts) tokens += tok.tokenize(t).size();
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    double c = thread_cpu_seconds() - c0;
    std::printf("single-thread tokenize: %.2f MB/s, %.0f tokens/s wall; per CPU-second: %.2f MB/s, %.0f tokens/s\n",
                bytes / 1e6 / s, tokens / s, bytes / 1e6 / c, tokens / c);
  }
  {
    const int nt = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    size_t tokens = 0;
    auto t0 = clk::now();
    for (size_t i = 0; i < texts.size(); i += batch) {
      std::span<const std::string> chunk(texts.data() + i, std::min(batch, texts.size() - i));
      for (const auto& e : tok.encode_batch(chunk, opts, nt)) tokens += e.size();
    }
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    std::printf("encode_batch (%d threads, batch %zu): %.2f MB/s, %.0f tokens/s\n", nt, batch, bytes / 1e6 / s,
                tokens / s);
  }
  return 0;
}
