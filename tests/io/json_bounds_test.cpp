// Hostile JSON and hostile file types: nesting depth is bounded at parse time, error messages and
// json_brief never walk (or quote) a whole value, and non-regular files are refused, not waited on.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "bertcpp/error.h"
#include "builders.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "io/json_util.h"

using namespace bertcpp;
using namespace bertcpp::io;
namespace fs = std::filesystem;

namespace {

std::string nested(size_t depth, const std::string& open = "[", const std::string& close = "]",
                   const std::string& inner = "1") {
  std::string s;
  s.reserve(depth * (open.size() + close.size()) + inner.size());
  for (size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  for (size_t i = 0; i < depth; ++i) s += close;
  return s;
}

std::string error_of(const std::function<void()>& f, ErrorKind want = ErrorKind::InvalidFile) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), want) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

class JsonBounds : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bertcpp-json-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

}  // namespace

TEST(JsonDepth, LimitIsExactAndDeepValuesAreRefused) {
  EXPECT_NO_THROW(parse_json_strict(nested(kMaxJsonDepth), "ok.json"));
  EXPECT_NO_THROW(parse_json_strict(nested(kMaxJsonDepth - 1, "{\"a\":", "}", "[1]"), "ok.json"));
  const std::string one_more = error_of([] { parse_json_strict(nested(kMaxJsonDepth + 1), "deep.json"); });
  EXPECT_NE(one_more.find("deep.json"), std::string::npos) << one_more;
  EXPECT_NE(one_more.find("deeper than 128"), std::string::npos) << one_more;
  // 150,000 levels (the size of the crashing /similarity request) of arrays and of objects.
  EXPECT_NE(error_of([] { parse_json_strict(nested(150000), "a.json"); }).find("deeper"), std::string::npos);
  EXPECT_NE(error_of([] { parse_json_strict(nested(150000, "{\"k\":", "}"), "o.json"); }).find("deeper"),
            std::string::npos);
}

TEST(JsonDepth, ParseErrorsDoNotQuoteTheInput) {
  const std::string secret = "my private text that must not be logged";
  const std::string msg = error_of([&] { parse_json_strict("{\"inputs\": " + secret + "}", "body"); });
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("private"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("last read"), std::string::npos) << msg;
}

TEST(JsonBrief, DeepAndHugeValuesStayShortAndCheap) {
  // Built in code (the parser refuses such depth): json_brief used to dump() it recursively.
  nlohmann::json deep = 1;
  for (int i = 0; i < 200000; ++i) {
    nlohmann::json outer = nlohmann::json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  const std::string b = json_brief(deep);
  EXPECT_LE(b.size(), 60u) << b;
  EXPECT_EQ(b.rfind("[[[", 0), 0u) << b;
  nlohmann::json wide = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(std::string(100, 'x'));
  EXPECT_LE(json_brief(wide).size(), 60u);
  EXPECT_EQ(json_brief(nlohmann::json("abc")), "\"abc\"");
  EXPECT_EQ(json_brief(nlohmann::json::parse(R"({"a":[1,2]})")), R"({"a":[1,2]})");
}

TEST_F(JsonBounds, DeepModelFilesAreRefused) {
  // config.json
  iotest::write_file(dir_ / "config.json", nested(70000, "{\"hidden_size\":", "}"));
  EXPECT_NE(error_of([&] { load_config_json(dir_ / "config.json"); }).find("deeper"), std::string::npos);
  // a safetensors header whose `shape` nests
  iotest::write_file(dir_ / "model.safetensors",
                     iotest::safetensors(R"({"a":{"dtype":"F32","shape":)" + nested(70000) +
                                             R"(,"data_offsets":[0,4]}})",
                                         std::string(4, '\0')));
  const std::string st = error_of([&] { Checkpoint::open(dir_ / "model.safetensors"); });
  EXPECT_NE(st.find("model.safetensors"), std::string::npos) << st;
  EXPECT_NE(st.find("deeper"), std::string::npos) << st;
}

TEST_F(JsonBounds, FifoIsRefusedNotWaitedOn) {
  const fs::path fifo = dir_ / "config.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::promise<std::string> done;
  auto result = done.get_future();
  std::thread reader([&] {
    try {
      read_small_file(fifo.string(), 1 << 20);
      done.set_value("accepted");
    } catch (const Error& e) {
      done.set_value(e.what());
    }
  });
  const bool finished = result.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!finished) {  // unblock the open() so the test can end
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  }
  reader.join();
  ASSERT_TRUE(finished) << "read_small_file blocked on a FIFO";
  const std::string msg = result.get();
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
}

// Finding 11: vocab.txt -> /etc/passwd was followed, and POST /decode printed the file.
TEST_F(JsonBounds, LinksLeavingTheModelFolderAreRefused) {
  fs::create_directories(dir_ / "model");
  fs::create_symlink("/etc/passwd", dir_ / "model" / "vocab.txt");
  const std::string msg = error_of([&] { read_small_file((dir_ / "model" / "vocab.txt").string(), 1 << 20); });
  EXPECT_NE(msg.find("outside the model folder"), std::string::npos) << msg;
  iotest::write_file(dir_ / "secret.safetensors", iotest::safetensors("{}", ""));
  fs::create_symlink("../secret.safetensors", dir_ / "model" / "model.safetensors");
  EXPECT_NE(error_of([&] { Checkpoint::open(dir_ / "model"); }).find("outside the model folder"), std::string::npos);
  // Inside the folder, and the Hugging Face cache's snapshot -> blobs links, stay allowed.
  iotest::write_file(dir_ / "model" / "real.txt", "[PAD]\n");
  fs::create_symlink("real.txt", dir_ / "model" / "alias.txt");
  EXPECT_EQ(read_small_file((dir_ / "model" / "alias.txt").string(), 100), "[PAD]\n");
  const fs::path repo = dir_ / "models--org--name";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "snapshots" / "abc123" / "1_Pooling");
  iotest::write_file(repo / "blobs" / "deadbeef", "{}");
  fs::create_symlink("../../blobs/deadbeef", repo / "snapshots" / "abc123" / "config.json");
  fs::create_symlink("../../../blobs/deadbeef", repo / "snapshots" / "abc123" / "1_Pooling" / "config.json");
  EXPECT_EQ(read_small_file((repo / "snapshots" / "abc123" / "config.json").string(), 100), "{}");
  EXPECT_EQ(read_small_file((repo / "snapshots" / "abc123" / "1_Pooling" / "config.json").string(), 100), "{}");
}
