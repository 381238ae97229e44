// Pure functions of the hub layer: etag/repo-folder naming (as huggingface_hub), env → options,
// repo id validation, listing the cache.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "bertcpp/error.h"
#include "hub/cache.h"
#include "hub/resolve.h"
#include "test_util.h"

namespace bertcpp::hub {
namespace {

namespace fs = std::filesystem;
using testing::TempDirTest;

TEST(HubNames, NormalizeEtagLikeHuggingfaceHub) {
  EXPECT_EQ(normalize_etag("\"a16a55fda99d2f2e7b69cce5cf93ff4ad3049930\""), "a16a55fda99d2f2e7b69cce5cf93ff4ad3049930");
  EXPECT_EQ(normalize_etag("W/\"a16a55fda99d2f2e7b69cce5cf93ff4ad3049930\""), "a16a55fda99d2f2e7b69cce5cf93ff4ad3049930");
  EXPECT_EQ(normalize_etag("abc"), "abc");
}

TEST(HubNames, RepoFolderName) {
  EXPECT_EQ(repo_folder_name("google-bert/bert-base-uncased"), "models--google-bert--bert-base-uncased");
  EXPECT_EQ(repo_folder_name("bert-base-uncased"), "models--bert-base-uncased");
}

TEST(HubNames, RepoIdValidation) {
  for (const char* ok : {"bert-base-uncased", "google-bert/bert-base-uncased", "BAAI/bge-small-en-v1.5",
                         "sentence-transformers/all-MiniLM-L6-v2", "intfloat/e5_small"})
    EXPECT_TRUE(is_valid_repo_id(ok)) << ok;
  for (const char* bad : {"", "a/b/c", "org/-name", "org/name-", "a--b", "a..b", "org/name.git", "/abs", "org/", "sp ace"})
    EXPECT_FALSE(is_valid_repo_id(bad)) << bad;
}

TEST(HubNames, RelativeNameChecks) {
  EXPECT_NO_THROW(check_relative_name("1_Pooling/config.json", "file"));
  for (const char* bad : {"../x", "a/../b", "/etc/passwd", "a//b", "./a", "a\\b", ""})
    EXPECT_THROW(check_relative_name(bad, "file"), Error) << bad;
}

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars](const char* n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_F(TempDirTest, OptionsFromEnvDefaults) {
  HubOptions o = options_from_env(env({{"HOME", "/home/u"}}));
  EXPECT_EQ(o.endpoint, "https://huggingface.co");
  EXPECT_EQ(o.cache_dir, fs::path("/home/u/.cache/huggingface/hub"));
  EXPECT_EQ(o.revision, "main");
  EXPECT_FALSE(o.token);
  EXPECT_FALSE(o.offline);
}

TEST_F(TempDirTest, OptionsFromEnvPrecedence) {
  EXPECT_EQ(options_from_env(env({{"HOME", "/h"}, {"XDG_CACHE_HOME", "/x"}})).cache_dir, fs::path("/x/huggingface/hub"));
  EXPECT_EQ(options_from_env(env({{"HOME", "/h"}, {"XDG_CACHE_HOME", "/x"}, {"HF_HOME", "/hf"}})).cache_dir,
            fs::path("/hf/hub"));
  EXPECT_EQ(options_from_env(env({{"HOME", "/h"}, {"HF_HOME", "/hf"}, {"HF_HUB_CACHE", "/c"}})).cache_dir, fs::path("/c"));
  EXPECT_EQ(options_from_env(env({{"HOME", "/h"}, {"HF_HOME", "~/hf"}})).cache_dir, fs::path("/h/hf/hub"));
  EXPECT_EQ(options_from_env(env({{"HF_ENDPOINT", "http://mirror:8080/"}})).endpoint, "http://mirror:8080");
  // Tokens: HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file in HF_HOME.
  EXPECT_EQ(*options_from_env(env({{"HF_TOKEN", "hf_a\n"}, {"HUGGING_FACE_HUB_TOKEN", "hf_b"}})).token, "hf_a");
  EXPECT_EQ(*options_from_env(env({{"HUGGING_FACE_HUB_TOKEN", "hf_b"}})).token, "hf_b");
  fs::create_directories(tmp_ / "hfhome");
  std::ofstream(tmp_ / "hfhome" / "token") << "hf_from_file\n";
  EXPECT_EQ(*options_from_env(env({{"HF_HOME", (tmp_ / "hfhome").string()}})).token, "hf_from_file");
  // Offline: HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE; "1", "true", "ON", "yes".
  EXPECT_TRUE(options_from_env(env({{"HF_HUB_OFFLINE", "1"}})).offline);
  EXPECT_TRUE(options_from_env(env({{"HF_HUB_OFFLINE", "true"}})).offline);
  EXPECT_TRUE(options_from_env(env({{"TRANSFORMERS_OFFLINE", "ON"}})).offline);
  EXPECT_FALSE(options_from_env(env({{"HF_HUB_OFFLINE", "0"}, {"TRANSFORMERS_OFFLINE", "1"}})).offline);
  EXPECT_FALSE(options_from_env(env({{"HF_HUB_DISABLE_PROGRESS_BARS", "1"}})).progress);
}

TEST_F(TempDirTest, LocalFolderIsReturnedAsIs) {
  const std::string dir = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert";
  EXPECT_EQ(resolve_model(dir, options(testing::unreachable_endpoint())), fs::path(dir));
}

TEST_F(TempDirTest, BadArgumentsAreClearErrors) {
  try {
    resolve_model("./no/such/folder", options(testing::unreachable_endpoint()));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("./no/such/folder"), std::string::npos);
  }
  try {
    resolve_model("not a valid id", options(testing::unreachable_endpoint()));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("pass a local folder"), std::string::npos);
  }
  const std::string file = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert/config.json";
  EXPECT_THROW(resolve_model(file, options(testing::unreachable_endpoint())), Error);
}

TEST_F(TempDirTest, ScanCacheListsReposRefsAndSize) {
  const fs::path repo = tmp_ / "hub" / "models--org--m";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / std::string(40, 'a'));
  std::ofstream(repo / "blobs" / "e1") << "12345";
  std::ofstream(repo / "blobs" / "e2.incomplete") << "123";
  std::ofstream(repo / "refs" / "main") << std::string(40, 'a');
  fs::create_symlink("../../blobs/e1", repo / "snapshots" / std::string(40, 'a') / "config.json");
  auto repos = scan_cache(tmp_ / "hub");
  ASSERT_EQ(repos.size(), 1u);
  EXPECT_EQ(repos[0].repo_id, "org/m");
  EXPECT_EQ(repos[0].size_on_disk, 5u);
  ASSERT_EQ(repos[0].revisions.size(), 1u);
  EXPECT_EQ(repos[0].revisions[0].commit, std::string(40, 'a'));
  EXPECT_EQ(repos[0].revisions[0].refs, std::vector<std::string>{"main"});
  EXPECT_EQ(repos[0].revisions[0].files, 1u);
  EXPECT_TRUE(scan_cache(tmp_ / "missing").empty());
}

}  // namespace
}  // namespace bertcpp::hub
