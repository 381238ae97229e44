// `bertcpp download` and `bertcpp cache ls` end to end: the built CLI (BERTCPP_CLI) with
// HF_ENDPOINT pointing at the fake hub in this process.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <algorithm>
#include <memory>

#include "fake_hub.h"
#include "hub/cache.h"
#include "test_util.h"

namespace bertcpp::hub {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

const std::string kCommit = "89abcdef0123456789abcdef0123456789abcdef";
const fs::path kTinyBert = fs::path(BERTCPP_TEST_DATA) / "models" / "tiny-bert";

struct CliRun {
  int code = -1;
  std::string out, err;
};

class HubCli : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    hub_.add_repo("google-bert/tiny-bert", testing::repo_from_folder(kTinyBert, kCommit));
  }
  // Runs the CLI with a clean hub environment (no token, no offline, cache in the temp dir).
  CliRun run(const std::string& endpoint, const std::string& args, const std::string& extra_env = "") {
    const fs::path err = tmp_ / "stderr.txt";
    std::string cmd = "env -u HF_TOKEN -u HUGGING_FACE_HUB_TOKEN -u HF_HUB_OFFLINE -u TRANSFORMERS_OFFLINE"
                      " HF_HOME='" + (tmp_ / "home").string() + "' HF_HUB_CACHE='" + (tmp_ / "hub").string() +
                      "' HF_ENDPOINT='" + endpoint + "' " + extra_env + " '" + BERTCPP_CLI + "' " + args + " 2>'" +
                      err.string() + "'";
    CliRun r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_file(err);
    return r;
  }
  testing::FakeHub hub_;
};

TEST_F(HubCli, DownloadPrintsSnapshotAndWritesHfCache) {
  CliRun r = run(hub_.endpoint(), "download google-bert/tiny-bert");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path repo = tmp_ / "hub" / "models--google-bert--tiny-bert";
  EXPECT_EQ(r.out, (repo / "snapshots" / kCommit).string() + "\n");
  EXPECT_EQ(read_file(repo / "refs" / "main"), kCommit);
  EXPECT_EQ(fs::read_symlink(repo / "snapshots" / kCommit / "model.safetensors"),
            fs::path("../../blobs/" + sha256_hex(read_file(kTinyBert / "model.safetensors"))));
  EXPECT_EQ(read_file(repo / "snapshots" / kCommit / "vocab.txt"), read_file(kTinyBert / "vocab.txt"));
  EXPECT_EQ(r.err, "");  // no progress bar when stderr is not a terminal

  // --cache-dir and --revision (a commit sha).
  CliRun r2 = run(hub_.endpoint(), "download google-bert/tiny-bert --revision " + kCommit + " --cache-dir '" +
                                    (tmp_ / "other").string() + "'");
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_EQ(r2.out, (tmp_ / "other" / "models--google-bert--tiny-bert" / "snapshots" / kCommit).string() + "\n");

  CliRun ls = run(hub_.endpoint(), "cache ls");
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find("google-bert/tiny-bert"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(kCommit.substr(0, 12)), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("main"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find((repo / "snapshots" / kCommit).string()), std::string::npos) << ls.out;

  // Offline: the cache answers, even with the hub gone.
  hub_.stop();
  CliRun off = run("http://127.0.0.1:9", "download google-bert/tiny-bert", "HF_HUB_OFFLINE=1");
  EXPECT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(off.out, r.out);
}

TEST_F(HubCli, NetworkFailureExitsWith5AndOneLine) {
  CliRun r = run("http://127.0.0.1:9", "download google-bert/tiny-bert");
  EXPECT_EQ(r.code, 5);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("bertcpp: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("set HF_ENDPOINT, or pass a local folder"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(HubCli, NotFoundAndOfflineMissExitWith4) {
  EXPECT_EQ(run(hub_.endpoint(), "download org/missing").code, 4);
  hub_.clear_log();
  CliRun off = run(hub_.endpoint(), "download google-bert/tiny-bert", "HF_HUB_OFFLINE=1");
  EXPECT_EQ(off.code, 4);
  EXPECT_NE(off.err.find("HF_HUB_OFFLINE"), std::string::npos) << off.err;
  EXPECT_EQ(hub_.requests().size(), 0u);
}

TEST_F(HubCli, CacheLsOnEmptyCache) {
  CliRun r = run(hub_.endpoint(), "cache ls");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("no models"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bertcpp::hub
