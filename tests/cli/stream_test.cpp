// `bertcpp embed/tokenize/classify` at corpus scale (src/cli/stream.*): flat memory, resume after
// SIGKILL or a full disk to a byte-identical output, ids and blank lines carried, npy == jsonl.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bertcpp/model.hpp"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTiny = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert";

const bertcpp::Model& tiny() {
  static const bertcpp::Model m = bertcpp::Model::from_pretrained(kTiny);
  return m;
}

std::string slurp(const fs::path& f) {
  std::ifstream s(f, std::ios::binary);
  std::stringstream ss;
  ss << s.rdbuf();
  return ss.str();
}

// A scratch directory per test.
class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("bertcpp_stream_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() { fs::remove_all(dir_); }
  fs::path operator/(const std::string& name) const { return dir_ / name; }
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

struct Limits {
  rlim_t file_size = RLIM_INFINITY;  // RLIMIT_FSIZE: writes past it fail with EFBIG, like a full disk
};

// Starts `bertcpp args...` with stdin from `in` and stdout/stderr to files; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& in, const fs::path& out, const fs::path& err, Limits lim = {}) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  auto redirect = [](const fs::path& p, int fd, int flags) {
    const int f = ::open(p.c_str(), flags, 0644);
    if (f < 0 || ::dup2(f, fd) < 0) ::_exit(127);
    ::close(f);
  };
  redirect(in.empty() ? fs::path("/dev/null") : in, STDIN_FILENO, O_RDONLY);
  redirect(out, STDOUT_FILENO, O_WRONLY | O_CREAT | O_TRUNC);
  redirect(err, STDERR_FILENO, O_WRONLY | O_CREAT | O_TRUNC);
  ::unsetenv("BERTCPP_MODEL");
  // ASan's quarantine would count freed memory as resident; the RSS test measures the program.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string opts = std::string(asan ? asan : "") + ":quarantine_size_mb=1:thread_local_quarantine_size_kb=64";
  ::setenv("ASAN_OPTIONS", opts.c_str(), 1);
  if (lim.file_size != RLIM_INFINITY) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing
    const rlimit r{lim.file_size, lim.file_size};
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  std::vector<char*> argv;
  std::string cli = BERTCPP_CLI;
  argv.push_back(cli.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(cli.c_str(), argv.data());
  ::_exit(127);
}

struct Exit {
  int code = -1;        // exit code, -1 when killed by a signal
  int signal = 0;
  long peak_rss_kb = 0;  // the child's peak resident set (getrusage via wait4)
  std::string out, err;
};

Exit wait_for(pid_t pid, const fs::path& out, const fs::path& err) {
  int status = 0;
  rusage ru{};
  EXPECT_EQ(::wait4(pid, &status, 0, &ru), pid);
  Exit e;
  if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  e.peak_rss_kb = ru.ru_maxrss;
  e.out = slurp(out);
  e.err = slurp(err);
  return e;
}

Exit run(const Scratch& s, const std::vector<std::string>& args, const std::string& stdin_text = "", Limits lim = {}) {
  const fs::path in = s / "stdin", out = s / "stdout", err = s / "stderr";
  std::ofstream(in, std::ios::binary) << stdin_text;
  return wait_for(spawn(args, in, out, err, lim), out, err);
}

// Deterministic sentences of 1..`max_words` words (some blank), one per line.
std::string corpus(size_t lines, size_t max_words, unsigned seed = 18) {
  static const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "panda", "bear",
                                "eats", "bamboo", "in", "china", "hello", "world", "good", "morning", "café", "naïve"};
  std::string s;
  uint64_t x = seed;
  auto next = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull, static_cast<size_t>(x >> 33); };
  for (size_t i = 0; i < lines; ++i) {
    const size_t n = next() % 13 == 0 ? 0 : 1 + next() % max_words;
    for (size_t w = 0; w < n; ++w) s += std::string(w ? " " : "") + words[next() % 20];
    s += '\n';
  }
  return s;
}

// Lines of exactly `words` single-token words: every batch has the same token count, so the
// engine's per-shape GEMM plans (a bounded cache of its own) stay the same for both input sizes
// and the comparison measures what the streaming holds.
// Lines of `words` words each, or with mixed = true of 0 to `words` words (every token count).
std::string uniform_corpus(size_t lines, size_t words, bool mixed = false) {
  static const char* vocab[] = {"the", "quick", "brown", "fox", "over", "lazy", "dog", "bear", "in", "china",
                                "hello", "world", "good", "morning", "red", "blue", "green", "house", "car", "tree"};
  std::string s;
  uint64_t x = 1;
  for (size_t i = 0; i < lines; ++i) {
    if (mixed) x = x * 6364136223846793005ull + 1442695040888963407ull;
    const size_t n = mixed ? (x >> 40) % (words + 1) : words;
    for (size_t w = 0; w < n; ++w) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      s += std::string(w ? " " : "") + vocab[(x >> 33) % 20];
    }
    s += '\n';
  }
  return s;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) v.push_back(l);
  return v;
}

void expect_rows_equal_api(const std::vector<json>& rows, const std::vector<std::string>& texts) {
  const bertcpp::Tensor ref = tiny().embed(texts);
  ASSERT_EQ(rows.size(), texts.size());
  const int64_t H = ref.dim(1);
  for (size_t r = 0; r < rows.size(); ++r) {
    const json& e = rows[r]["embedding"];
    ASSERT_EQ(e.size(), static_cast<size_t>(H)) << r;
    for (int64_t k = 0; k < H; ++k)
      ASSERT_EQ(static_cast<float>(e[k].get<double>()), ref.data<float>()[static_cast<int64_t>(r) * H + k]) << r << "," << k;
  }
}

std::vector<json> jsonl(const std::string& s) {
  std::vector<json> v;
  for (const auto& l : lines_of(s)) v.push_back(json::parse(l));
  return v;
}

TEST(CliStream, PeakMemoryDoesNotGrowWithTheInput) {
  Scratch s;
  // Both inputs span many windows of 256 (at most three are alive: computing, handed over,
  // being prepared), so both runs are in their steady state.
  std::ofstream(s / "small.txt") << uniform_corpus(2560, 120);
  std::ofstream(s / "big.txt") << uniform_corpus(25600, 120);  // 10x
  long rss[2];
  int i = 0;
  for (const char* name : {"small", "big"}) {
    const Exit e = run(s, {"embed", "-m", kTiny, "-t", "1", "-i", (s / (std::string(name) + ".txt")).string(), "-f", "npy", "-o",
                           (s / (std::string(name) + ".npy")).string(), "--window", "256"});
    ASSERT_EQ(e.code, 0) << e.err;
    rss[i++] = e.peak_rss_kb;
  }
  // Holding every text and every row (the embed before streaming) grows by ~20 MB here.
  EXPECT_LE(rss[1], rss[0] + 8 * 1024) << "peak RSS " << rss[0] << " KB for 2,560 lines, " << rss[1] << " KB for 25,600";
  EXPECT_EQ(fs::file_size(s / "big.npy"), 128 + 25600 * 32 * sizeof(float));
}

// Mixed lengths: a packed batch's GEMM row count is its number of real tokens, so a corpus brings
// thousands of distinct counts; the Linears' compiled GEMMs must stay a bounded set (one oneDNN
// primitive per count grew this run by ~60 MB).
TEST(CliStream, PeakMemoryDoesNotGrowWithMixedLengths) {
  Scratch s;
  std::ofstream(s / "small.txt") << uniform_corpus(2000, 120, true);
  std::ofstream(s / "big.txt") << uniform_corpus(20000, 120, true);  // 10x
  long rss[2];
  int i = 0;
  for (const char* name : {"small", "big"}) {
    const Exit e = run(s, {"embed", "-m", kTiny, "-t", "2", "-i", (s / (std::string(name) + ".txt")).string(), "-f", "npy", "-o",
                           (s / (std::string(name) + ".npy")).string(), "--window", "256"});
    ASSERT_EQ(e.code, 0) << e.err;
    rss[i++] = e.peak_rss_kb;
  }
  EXPECT_LE(rss[1], rss[0] + 8 * 1024) << "peak RSS " << rss[0] << " KB for 2,000 lines, " << rss[1] << " KB for 20,000";
  EXPECT_EQ(fs::file_size(s / "big.npy"), 128 + 20000 * 32 * sizeof(float));
}

TEST(CliStream, BlankLinesGlobsAndWindowsKeepRowsAligned) {
  Scratch s;
  std::ofstream(s / "a.txt") << "x y\n\n{not json\n";
  std::ofstream(s / "b.txt") << "z\r\n  \n";
  const std::vector<std::string> texts{"x y", "", "{not json", "z", "  "};
  const std::string glob = (s.path() / "*.txt").string();
  const Exit e = run(s, {"embed", "-m", kTiny, "-i", glob, "-f", "jsonl"});
  ASSERT_EQ(e.code, 0) << e.err;
  const std::vector<json> rows = jsonl(e.out);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i]["index"], i);
  expect_rows_equal_api(rows, texts);
  // Windows of one text, batches of one: other length buckets, the same bytes.
  const Exit small = run(s, {"embed", "-m", kTiny, "-i", (s / "a.txt").string(), "-i", (s / "b.txt").string(), "-f", "jsonl",
                             "--window", "1", "--batch-size", "1"});
  ASSERT_EQ(small.code, 0) << small.err;
  EXPECT_EQ(small.out, e.out);
  const Exit missing = run(s, {"embed", "-m", kTiny, "-i", (s / "nope.txt").string()});
  EXPECT_EQ(missing.code, 4);
  EXPECT_NE(missing.err.find("nope.txt"), std::string::npos) << missing.err;
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "-i", (s / "*.none").string()}).code, 4);
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "--id-field", "id", "x"}).code, 2);  // ids need jsonl
}

TEST(CliStream, IdsAreCarriedAndNpyEqualsJsonl) {
  Scratch s;
  std::ofstream(s / "in.jsonl") << "{\"key\": \"doc-1\", \"body\": \"Hello, world!\"}\n\n{\"key\": 7, \"body\": \"\"}\n"
                                   "{\"body\": \"café\", \"key\": \"x\\\"y\"}\n";
  const std::vector<std::string> args{"embed", "-m", kTiny, "-i", (s / "in.jsonl").string(), "--input-format", "jsonl",
                                      "--text-field", "body", "--id-field", "key"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const Exit j = run(s, with({"-f", "jsonl", "-o", (s / "e.jsonl").string()}));
  ASSERT_EQ(j.code, 0) << j.err;
  const std::vector<json> rows = jsonl(slurp(s / "e.jsonl"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["id"], "doc-1");
  EXPECT_EQ(rows[1]["id"], 7);
  EXPECT_EQ(rows[2]["id"], "x\"y");
  expect_rows_equal_api(rows, {"Hello, world!", "", "café"});

  const Exit n = run(s, with({"-f", "npy", "-o", (s / "e.npy").string()}));
  ASSERT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(slurp(s / "e.ids.jsonl"), "\"doc-1\"\n7\n\"x\\\"y\"\n");
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no numpy";
  const std::string py = "/usr/bin/python3 -c \"import json, numpy as n; a = n.load('" + (s / "e.npy").string() +
                         "'); r = n.array([json.loads(l)['embedding'] for l in open('" + (s / "e.jsonl").string() +
                         "')], dtype=n.float32); assert a.dtype == n.float32 and a.shape == (3, 32), a.shape; "
                         "assert (a == r).all()\"";
  EXPECT_EQ(std::system(py.c_str()), 0);
  const Exit no_id = run(s, {"embed", "-m", kTiny, "--input-format", "jsonl", "--id-field", "key"}, "{\"text\": \"a\"}\n");
  EXPECT_EQ(no_id.code, 2);
  EXPECT_NE(no_id.err.find("\"key\""), std::string::npos) << no_id.err;
}

// Waits until `file` has more than `bytes` bytes (the child is writing), then SIGKILLs it.
Exit kill_after(pid_t pid, const fs::path& file, uintmax_t bytes, const fs::path& out, const fs::path& err) {
  for (int i = 0; i < 600000; ++i) {
    std::error_code ec;
    if (fs::exists(file, ec) && fs::file_size(file, ec) > bytes) break;
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ADD_FAILURE() << "bertcpp finished before it could be killed";
      return {};
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  return wait_for(pid, out, err);
}

std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::directory_iterator(dir)) m[e.path().filename().string()] = slurp(e.path());
  return m;
}

TEST(CliStream, ResumeAfterSigkillIsByteIdentical) {
  Scratch s;
  std::ofstream(s / "in.txt") << corpus(20000, 40);
  for (const std::string fmt : {"jsonl", "npy", "shards"}) {
    SCOPED_TRACE(fmt);
    const bool shards = fmt == "shards";
    const std::string ext = shards ? "" : "." + fmt;
    const fs::path ref = s / ("ref" + ext), out = s / ("out" + ext);
    std::vector<std::string> args{"embed", "-m", kTiny, "-t", "1", "-i", (s / "in.txt").string(), "-f", shards ? "npy" : fmt};
    // Windows of 2048 rows: part-00001 (rows 10000..19999) passes 200 kB at row 12288, mid-shard.
    if (shards) args.insert(args.end(), {"--shard-size", "10000"});
    auto with_out = [&](const fs::path& o, bool resume) {
      std::vector<std::string> a = args;
      a.insert(a.end(), {"-o", o.string()});
      if (resume) a.push_back("--resume");
      return a;
    };
    const Exit full = run(s, with_out(ref, false));
    ASSERT_EQ(full.code, 0) << full.err;

    const pid_t pid = spawn(with_out(out, false), "", s / "o", s / "e");
    const Exit killed = kill_after(pid, shards ? out / "part-00001.npy.partial" : out, 200000, s / "o", s / "e");
    ASSERT_EQ(killed.signal, SIGKILL) << killed.err;
    // Whatever the kill cut, a torn last record too: it is dropped, not kept.
    const fs::path torn = shards ? out / "part-00001.npy.partial" : out;
    ASSERT_TRUE(fs::exists(torn));
    std::ofstream(torn, std::ios::app | std::ios::binary) << (fmt == "jsonl" ? "{\"index\":99999,\"embed" : "\x01\x02\x03");

    const Exit resumed = run(s, with_out(out, true));
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    if (shards) {
      EXPECT_EQ(files_of(out), files_of(ref));
    } else {
      EXPECT_TRUE(slurp(out) == slurp(ref)) << "resumed output differs from the uninterrupted run's";
      EXPECT_EQ(slurp(out.string() + ".resume.json"), slurp(ref.string() + ".resume.json"));
    }
    // Resuming a complete output changes nothing.
    const Exit again = run(s, with_out(out, true));
    EXPECT_EQ(again.code, 0) << again.err;
    EXPECT_NE(again.err.find("already complete"), std::string::npos) << again.err;
    if (!shards) {
      EXPECT_TRUE(slurp(out) == slurp(ref));
    }
  }
}

TEST(CliStream, ResumeAfterAFullDiskIsByteIdentical) {
  Scratch s;
  std::ofstream(s / "in.txt") << corpus(3000, 30);
  const std::vector<std::string> args{"embed", "-m", kTiny, "-i", (s / "in.txt").string(), "-f", "jsonl", "-o", (s / "out.jsonl").string()};
  const Exit full = run(s, {"embed", "-m", kTiny, "-i", (s / "in.txt").string(), "-f", "jsonl"});
  ASSERT_EQ(full.code, 0) << full.err;
  const Exit cut = run(s, args, "", Limits{.file_size = 300000});  // writes past 300 kB fail with EFBIG
  EXPECT_EQ(cut.code, 3) << cut.err;
  EXPECT_NE(cut.err.find("out.jsonl"), std::string::npos) << cut.err;
  EXPECT_NE(cut.err.find("--resume"), std::string::npos) << cut.err;
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const Exit resumed = run(s, resume);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_TRUE(slurp(s / "out.jsonl") == full.out);
}

TEST(CliStream, ResumeRefusesAnotherRun) {
  Scratch s;
  std::ofstream(s / "in.txt") << corpus(50, 10);
  std::ofstream(s / "other.txt") << corpus(50, 10, 7);
  auto args = [&](const std::string& in, std::vector<std::string> extra) {
    std::vector<std::string> a{"embed", "-m", kTiny, "-i", (s / in).string(), "-f", "jsonl", "-o", (s / "out.jsonl").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ASSERT_EQ(run(s, args("in.txt", {})).code, 0);
  const std::string before = slurp(s / "out.jsonl");
  const Exit pooling = run(s, args("in.txt", {"--pooling", "cls", "--resume"}));
  EXPECT_EQ(pooling.code, 2);
  EXPECT_NE(pooling.err.find("pooling: \"mean\" then, \"cls\" now"), std::string::npos) << pooling.err;
  const Exit input = run(s, args("other.txt", {"--resume"}));
  EXPECT_EQ(input.code, 2);
  EXPECT_NE(input.err.find("input.files"), std::string::npos) << input.err;
  const Exit model = run(s, args("in.txt", {"--resume", "--dtype", "int8"}));  // int8 runs on every CPU, bf16 does not
  EXPECT_EQ(model.code, 2);
  EXPECT_NE(model.err.find("dtype"), std::string::npos) << model.err;
  EXPECT_EQ(slurp(s / "out.jsonl"), before);  // a refused resume leaves the output alone
  // Output that no streaming run wrote, stdout and json documents cannot be resumed.
  std::ofstream(s / "foreign.jsonl") << "{}\n";
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "-o", (s / "foreign.jsonl").string(), "-f", "jsonl", "--resume", "x"}).code, 2);
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "-f", "jsonl", "--resume", "x"}).code, 2);
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "-o", (s / "d.json").string(), "--resume", "x"}).code, 2);
  // --resume without any previous output simply starts.
  EXPECT_EQ(run(s, {"embed", "-m", kTiny, "-o", (s / "new.jsonl").string(), "-f", "jsonl", "--resume", "x"}).code, 0);
}

TEST(CliStream, ProgressLinesAndThroughput) {
  Scratch s;
  const Exit quiet = run(s, {"embed", "-m", kTiny, "-f", "jsonl"}, corpus(100, 10));
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");  // stderr is no terminal and --progress was not given
  std::ofstream(s / "in.txt") << corpus(3000, 30);
  const Exit e = run(s, {"embed", "-m", kTiny, "-i", (s / "in.txt").string(), "-f", "jsonl", "--window", "64", "--progress",
                         "--progress-interval", "0.001"});
  ASSERT_EQ(e.code, 0) << e.err;
  const std::vector<std::string> lines = lines_of(e.err);
  ASSERT_GE(lines.size(), 2u) << e.err;
  EXPECT_NE(lines[0].find("/3000 texts"), std::string::npos) << lines[0];  // done/total: the input is a file
  EXPECT_NE(lines[0].find("ETA"), std::string::npos) << lines[0];
  EXPECT_EQ(lines.back().rfind("bertcpp embed: 3000 texts, ", 0), 0u) << lines.back();
  for (const char* k : {"texts/s", "tokens/s"}) EXPECT_NE(lines.back().find(k), std::string::npos) << lines.back();
}

TEST(CliStream, TokenizeAndClassifyStreamTheSameWay) {
  Scratch s;
  std::ofstream(s / "in.jsonl") << "{\"id\": \"a\", \"text\": \"Hello world\"}\n{\"id\": \"b\", \"text\": \"I loved it\", \"text_pair\": \"yes\"}\n";
  const Exit t = run(s, {"tokenize", "-m", kTiny, "-i", (s / "in.jsonl").string(), "--id-field", "id", "-o", (s / "t.jsonl").string()});
  ASSERT_EQ(t.code, 0) << t.err;
  const std::vector<json> toks = jsonl(slurp(s / "t.jsonl"));
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0]["id"], "a");
  EXPECT_EQ(toks[1]["id"], "b");
  EXPECT_EQ(toks[1]["input_ids"], json(tiny().tokenizer().encode_pair("I loved it", "yes").input_ids));
  // Cut the second line short: --resume writes it again.
  const std::string full = slurp(s / "t.jsonl");
  fs::resize_file(s / "t.jsonl", full.find('\n') + 5);
  ASSERT_EQ(run(s, {"tokenize", "-m", kTiny, "-i", (s / "in.jsonl").string(), "--id-field", "id", "-o", (s / "t.jsonl").string(), "--resume"}).code, 0);
  EXPECT_EQ(slurp(s / "t.jsonl"), full);

  const std::string clf = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert-classifier-bf16";
  const Exit c = run(s, {"classify", "-m", clf, "--input-format", "jsonl", "--id-field", "id", "--pair-field", "text_pair", "-f", "jsonl",
                         "-i", (s / "in.jsonl").string()});
  ASSERT_EQ(c.code, 0) << c.err;
  const std::vector<json> rows = jsonl(c.out);
  ASSERT_EQ(rows.size(), 2u);
  const auto model = bertcpp::Model::from_pretrained(clf);
  const auto ref = model.classify("I loved it", std::string("yes"));
  EXPECT_EQ(rows[1]["id"], "b");
  EXPECT_EQ(rows[1]["index"], 1);
  ASSERT_EQ(rows[1]["labels"].size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(rows[1]["labels"][i]["label"], ref[i].label);
    EXPECT_EQ(static_cast<float>(rows[1]["labels"][i]["score"].get<double>()), ref[i].score);
  }
}

}  // namespace
