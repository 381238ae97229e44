// resolve_model/download_model against the fake hub (tests/hub/fake_hub.h): downloads, the cache
// layout huggingface_hub writes, cache-only use, offline mode, redirects, auth, errors, resume,
// SHA-256 verification.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "bertcpp/error.h"
#include "fake_hub.h"
#include "hub/cache.h"
#include "hub/resolve.h"
#include "hub/sha256.h"
#include "test_util.h"

namespace bertcpp::hub {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeRepo;
using testing::read_file;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kCommit2 = "fedcba9876543210fedcba9876543210fedcba98";
const fs::path kTinyBert = fs::path(BERTCPP_TEST_DATA) / "models" / "tiny-bert";

// The file set the hub layer is expected to fetch from tiny-bert (no pytorch_model.bin: the repo
// has model.safetensors).
const std::set<std::string> kTinyFiles = {"config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"};

class HubResolve : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    hub_.add_repo("google-bert/tiny-bert", testing::repo_from_folder(kTinyBert, kCommit));
  }
  fs::path repo_dir(const std::string& id) const { return tmp_ / "hub" / repo_folder_name(id); }
  // Error thrown by f, or fails.
  template <class F>
  Error error_of(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no bertcpp::Error thrown";
    return Error(ErrorKind::Internal, "none");
  }
  static bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

  FakeHub hub_;
};

// The etag the fake hub announces for a file, independently of the code under test: the
// sha256 of its content for LFS files, else the git-like hash.
std::string expected_etag(const std::string& name, const std::string& content) {
  return testing::is_lfs_name(name) ? sha256_hex(content) : testing::git_like_etag(content);
}

TEST_F(HubResolve, DownloadWritesHuggingfaceHubCacheLayout) {
  HubOptions o = options(hub_.endpoint());
  const fs::path snap = resolve_model("google-bert/tiny-bert", o);
  const fs::path repo = repo_dir("google-bert/tiny-bert");
  EXPECT_EQ(repo.filename(), "models--google-bert--tiny-bert");
  EXPECT_EQ(snap, repo / "snapshots" / kCommit);
  // refs/main holds the commit, without newline.
  EXPECT_EQ(read_file(repo / "refs" / "main"), kCommit);
  // Every snapshot entry is a relative symlink ../../blobs/<etag> to the exact bytes.
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(snap)) {
    const std::string name = e.path().lexically_relative(snap).generic_string();
    files.insert(name);
    ASSERT_TRUE(fs::is_symlink(e.symlink_status())) << name;
    const std::string etag = expected_etag(name, read_file(kTinyBert / name));
    EXPECT_EQ(fs::read_symlink(e.path()), fs::path("../../blobs/" + etag)) << name;
    EXPECT_EQ(read_file(repo / "blobs" / etag), read_file(kTinyBert / name)) << name;
  }
  EXPECT_EQ(files, kTinyFiles);
  // Blobs: one per file, nothing partial left.
  std::size_t blobs = 0;
  for (const auto& b : fs::directory_iterator(repo / "blobs")) {
    EXPECT_NE(b.path().extension(), ".incomplete");
    ++blobs;
  }
  EXPECT_EQ(blobs, kTinyFiles.size());
  // Files the repo lacks are remembered like huggingface_hub does.
  for (const char* absent : {"special_tokens_map.json", "added_tokens.json", "tokenizer.json", "modules.json"})
    EXPECT_TRUE(fs::is_regular_file(repo / ".no_exist" / kCommit / absent)) << absent;
  EXPECT_TRUE(fs::is_directory(tmp_ / "hub" / ".locks" / "models--google-bert--tiny-bert"));
  // safetensors present → the .bin is never asked for.
  EXPECT_EQ(hub_.count("pytorch_model.bin"), 0u);
  // The LFS file came from the CDN.
  EXPECT_EQ(hub_.count("/cdn/", "GET"), 1u);
}

TEST_F(HubResolve, SecondResolveUsesTheCacheWithoutNetwork) {
  HubOptions o = options(hub_.endpoint());
  const fs::path first = resolve_model("google-bert/tiny-bert", o);
  const std::size_t n = hub_.requests().size();
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", o), first);
  EXPECT_EQ(hub_.requests().size(), n);
  hub_.stop();
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", o), first);
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(testing::unreachable_endpoint())), first);
}

// Writes a cache the way huggingface_hub does for `files`, plus .no_exist markers.
fs::path write_hf_cache(const fs::path& cache, const std::string& folder, const std::string& commit,
                        const std::set<std::string>& files, const std::set<std::string>& absent) {
  const fs::path repo = cache / folder;
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main", std::ios::binary) << commit;
  for (const auto& f : files) {
    const std::string content = read_file(kTinyBert / f);
    const std::string etag = expected_etag(f, content);
    std::ofstream(repo / "blobs" / etag, std::ios::binary) << content;
    fs::create_directories(repo / "snapshots" / commit);
    fs::create_symlink("../../blobs/" + etag, repo / "snapshots" / commit / f);
  }
  for (const auto& a : absent) {
    fs::create_directories(repo / ".no_exist" / commit);
    std::ofstream(repo / ".no_exist" / commit / a);
  }
  return repo / "snapshots" / commit;
}

TEST_F(HubResolve, HuggingfaceHubCacheIsUsedWithNoNetwork) {
  // As transformers leaves it after AutoModel + AutoTokenizer of a plain BERT repo.
  const fs::path snap = write_hf_cache(
      tmp_ / "hub", "models--google-bert--tiny-bert", kCommit, kTinyFiles,
      {"special_tokens_map.json", "added_tokens.json", "tokenizer.json", "modules.json", "sentence_bert_config.json",
       "config_sentence_transformers.json"});
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(hub_.endpoint())), snap);
  EXPECT_EQ(hub_.requests().size(), 0u);  // nothing left to ask: no request at all
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(testing::unreachable_endpoint())), snap);
}

TEST_F(HubResolve, CacheWithoutMarkersFallsBackWhenHubUnreachable) {
  // Only config + weights + vocab, no .no_exist markers: the hub would be asked about the
  // optional files, but it cannot be reached, so the snapshot is used as it is.
  const fs::path snap = write_hf_cache(tmp_ / "hub", "models--google-bert--tiny-bert", kCommit,
                                       {"config.json", "model.safetensors", "vocab.txt"}, {});
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(testing::unreachable_endpoint())), snap);
  // With the hub up, the missing optional files are completed, and nothing else downloaded.
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(hub_.endpoint())), snap);
  EXPECT_TRUE(fs::is_symlink(snap / "tokenizer_config.json"));
  EXPECT_EQ(hub_.count("model.safetensors", "GET"), 0u);
  EXPECT_EQ(hub_.count("/cdn/"), 0u);
}

TEST_F(HubResolve, OfflineModeUsesCacheOnly) {
  HubOptions o = options(hub_.endpoint());
  o.offline = true;
  Error e = error_of([&] { resolve_model("google-bert/tiny-bert", o); });
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  EXPECT_TRUE(contains(e.what(), "HF_HUB_OFFLINE")) << e.what();
  EXPECT_TRUE(contains(e.what(), "pass a local folder")) << e.what();
  EXPECT_EQ(hub_.requests().size(), 0u);

  const fs::path snap = resolve_model("google-bert/tiny-bert", options(hub_.endpoint()));
  const std::size_t n = hub_.requests().size();
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", o), snap);
  EXPECT_EQ(download_model("google-bert/tiny-bert", o), snap);
  EXPECT_EQ(hub_.requests().size(), n);
  // Offline with the HF_HUB_OFFLINE variable read the way the api layer reads it.
  HubOptions from_env = options_from_env([&](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "HF_HUB_OFFLINE") return "1";
    if (std::string(name) == "HF_HUB_CACHE") return (tmp_ / "hub").string();
    if (std::string(name) == "HF_ENDPOINT") return testing::unreachable_endpoint();
    return std::nullopt;
  });
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", from_env), snap);
}

TEST_F(HubResolve, LegacyIdFollowsRelativeRedirect) {
  FakeRepo legacy;
  legacy.renamed_to = "google-bert/tiny-bert";
  hub_.add_repo("tiny-bert", legacy);
  const fs::path snap = resolve_model("tiny-bert", options(hub_.endpoint()));
  // Cached under the id the user asked for, like huggingface_hub.
  EXPECT_EQ(snap, tmp_ / "hub" / "models--tiny-bert" / "snapshots" / kCommit);
  EXPECT_EQ(read_file(snap / "config.json"), read_file(kTinyBert / "config.json"));
  EXPECT_EQ(read_file(snap / "model.safetensors"), read_file(kTinyBert / "model.safetensors"));
  EXPECT_GT(hub_.count("/google-bert/tiny-bert/resolve/"), 0u);
}

TEST_F(HubResolve, GatedRepoNeedsToken) {
  FakeRepo gated = testing::repo_from_folder(kTinyBert, kCommit);
  gated.gated = true;
  hub_.add_repo("org/gated", gated);
  Error e = error_of([&] { resolve_model("org/gated", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::Unauthorized);
  EXPECT_TRUE(contains(e.what(), "gated")) << e.what();
  EXPECT_TRUE(contains(e.what(), "HF_TOKEN")) << e.what();
  EXPECT_TRUE(contains(e.what(), "set HF_ENDPOINT, or pass a local folder")) << e.what();

  HubOptions o = options(hub_.endpoint());
  o.token = "wrong";
  EXPECT_EQ(error_of([&] { resolve_model("org/gated", o); }).kind(), ErrorKind::Unauthorized);

  o.token = hub_.token;
  const fs::path snap = resolve_model("org/gated", o);
  EXPECT_EQ(read_file(snap / "model.safetensors"), read_file(kTinyBert / "model.safetensors"));
  // The token goes to the hub, never to the CDN (another host) of the signed LFS URL.
  bool hub_saw_token = false;
  for (const auto& r : hub_.requests()) {
    if (r.server == "cdn") {
      EXPECT_EQ(r.authorization, "") << r.path;
    }
    if (r.server == "hub" && r.authorization == "Bearer " + hub_.token) hub_saw_token = true;
  }
  EXPECT_TRUE(hub_saw_token);
}

TEST_F(HubResolve, MissingRepoFileAndRevisionAreNotFound) {
  Error e = error_of([&] { resolve_model("org/does-not-exist", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  EXPECT_TRUE(contains(e.what(), "org/does-not-exist")) << e.what();
  EXPECT_TRUE(contains(e.what(), "pass a local folder")) << e.what();

  FakeRepo no_config = testing::repo_from_folder(kTinyBert, kCommit);
  no_config.files.erase("config.json");
  hub_.add_repo("org/no-config", no_config);
  e = error_of([&] { resolve_model("org/no-config", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  EXPECT_TRUE(contains(e.what(), "config.json")) << e.what();

  FakeRepo no_weights = testing::repo_from_folder(kTinyBert, kCommit, {"expected.json", "expected.safetensors",
                                                                      "model.safetensors", "pytorch_model.bin"});
  hub_.add_repo("org/no-weights", no_weights);
  e = error_of([&] { resolve_model("org/no-weights", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  EXPECT_TRUE(contains(e.what(), "weights")) << e.what();

  HubOptions o = options(hub_.endpoint());
  o.revision = "v9.9";
  e = error_of([&] { resolve_model("google-bert/tiny-bert", o); });
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  EXPECT_TRUE(contains(e.what(), "v9.9")) << e.what();
}

TEST_F(HubResolve, UnreachableHubIsNetworkError) {
  Error e = error_of([&] { resolve_model("google-bert/tiny-bert", options(testing::unreachable_endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_EQ(e.exit_code(), 5);
  EXPECT_TRUE(contains(e.what(), "set HF_ENDPOINT, or pass a local folder")) << e.what();
  EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
}

TEST_F(HubResolve, CommitRevisionWritesNoRef) {
  HubOptions o = options(hub_.endpoint());
  o.revision = kCommit;
  const fs::path snap = resolve_model("google-bert/tiny-bert", o);
  EXPECT_EQ(snap, repo_dir("google-bert/tiny-bert") / "snapshots" / kCommit);
  EXPECT_FALSE(fs::exists(repo_dir("google-bert/tiny-bert") / "refs" / kCommit));
  EXPECT_FALSE(fs::exists(repo_dir("google-bert/tiny-bert") / "refs" / "main"));
  // Every request named the commit.
  for (const auto& r : hub_.requests())
    if (r.server == "hub") {
      EXPECT_TRUE(contains(r.path, "/resolve/" + kCommit + "/")) << r.path;
    }
}

TEST_F(HubResolve, DroppedConnectionIsResumedWithRange) {
  const long cut = 1000000;
  hub_.edit_repo("google-bert/tiny-bert", [&](FakeRepo& r) {
    r.files["model.safetensors"].drop_after = cut;
    r.files["model.safetensors"].drops = 1;
  });
  const fs::path snap = resolve_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "model.safetensors"), read_file(kTinyBert / "model.safetensors"));
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.server == "cdn") ranges.push_back(r.range);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(cut) + "-");
}

TEST_F(HubResolve, PartialDownloadOfAPreviousRunIsResumed) {
  const std::string content = read_file(kTinyBert / "model.safetensors");
  const std::string sha = sha256_hex(content);
  const fs::path blobs = repo_dir("google-bert/tiny-bert") / "blobs";
  fs::create_directories(blobs);
  std::ofstream(blobs / (sha + ".incomplete"), std::ios::binary) << content.substr(0, 12345);
  const fs::path snap = resolve_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "model.safetensors"), content);
  EXPECT_FALSE(fs::exists(blobs / (sha + ".incomplete")));
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.server == "cdn") ranges.push_back(r.range);
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=12345-"});
}

TEST_F(HubResolve, ServerIgnoringRangeRestartsTheFile) {
  const std::string content = read_file(kTinyBert / "model.safetensors");
  const std::string sha = sha256_hex(content);
  hub_.edit_repo("google-bert/tiny-bert", [&](FakeRepo& r) { r.files["model.safetensors"].ignore_range = true; });
  const fs::path blobs = repo_dir("google-bert/tiny-bert") / "blobs";
  fs::create_directories(blobs);
  std::ofstream(blobs / (sha + ".incomplete"), std::ios::binary) << content.substr(0, 777);
  const fs::path snap = resolve_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "model.safetensors"), content);
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.server == "cdn") ranges.push_back(r.range);
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=777-"});
}

TEST_F(HubResolve, ConnectionDroppedWithoutProgressFailsThenNextRunResumes) {
  hub_.edit_repo("google-bert/tiny-bert", [&](FakeRepo& r) {
    r.files["model.safetensors"].drop_after = 0;  // closes before any byte
    r.files["model.safetensors"].drops = 1;
  });
  Error e = error_of([&] { resolve_model("google-bert/tiny-bert", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_TRUE(contains(e.what(), "model.safetensors")) << e.what();
  EXPECT_TRUE(contains(e.what(), "set HF_ENDPOINT, or pass a local folder")) << e.what();
  // The next attempt succeeds.
  const fs::path snap = resolve_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "model.safetensors"), read_file(kTinyBert / "model.safetensors"));
}

TEST_F(HubResolve, WrongSha256IsRejectedAndRemoved) {
  const std::string bogus = sha256_hex("something else");
  hub_.edit_repo("google-bert/tiny-bert", [&](FakeRepo& r) { r.files["model.safetensors"].claimed_sha256 = bogus; });
  Error e = error_of([&] { resolve_model("google-bert/tiny-bert", options(hub_.endpoint())); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_TRUE(contains(e.what(), "SHA-256")) << e.what();
  const fs::path repo = repo_dir("google-bert/tiny-bert");
  EXPECT_FALSE(fs::exists(repo / "blobs" / bogus));
  EXPECT_FALSE(fs::exists(repo / "blobs" / (bogus + ".incomplete")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(repo / "snapshots" / kCommit / "model.safetensors")));
  // Not usable from the cache either.
  HubOptions off = options(hub_.endpoint());
  off.offline = true;
  EXPECT_THROW(resolve_model("google-bert/tiny-bert", off), Error);
}

TEST_F(HubResolve, BinOnlyWhenNoSafetensors) {
  hub_.add_repo("org/bin-only", testing::repo_from_folder(kTinyBert, kCommit, {"expected.json", "expected.safetensors",
                                                                               "model.safetensors"}));
  const fs::path snap = resolve_model("org/bin-only", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "pytorch_model.bin"), read_file(kTinyBert / "pytorch_model.bin"));
  EXPECT_FALSE(fs::exists(snap / "model.safetensors"));
  // Both safetensors forms were checked first.
  EXPECT_EQ(hub_.count("/model.safetensors", "HEAD", true), 1u);
  EXPECT_EQ(hub_.count("/model.safetensors.index.json", "HEAD", true), 1u);
}

TEST_F(HubResolve, ShardedSafetensorsViaIndex) {
  FakeRepo r = testing::repo_from_folder(kTinyBert, kCommit, {"expected.json", "expected.safetensors",
                                                              "model.safetensors", "pytorch_model.bin"});
  r.files["model.safetensors.index.json"].content =
      R"({"metadata": {"total_size": 8}, "weight_map": {"a": "model-00001-of-00002.safetensors",)"
      R"( "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}})";
  r.files["model-00001-of-00002.safetensors"] = {"shard one", true, "", -1, 0};
  r.files["model-00002-of-00002.safetensors"] = {"shard two!", true, "", -1, 0};
  r.files["pytorch_model.bin"] = {"never fetched", true, "", -1, 0};
  hub_.add_repo("org/sharded", r);
  const fs::path snap = resolve_model("org/sharded", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "model-00001-of-00002.safetensors"), "shard one");
  EXPECT_EQ(read_file(snap / "model-00002-of-00002.safetensors"), "shard two!");
  EXPECT_EQ(hub_.count("pytorch_model.bin"), 0u);
  EXPECT_EQ(resolve_model("org/sharded", options(testing::unreachable_endpoint())), snap);
}

TEST_F(HubResolve, SentenceTransformersFilesAndPoolingFolder) {
  FakeRepo r = testing::repo_from_folder(kTinyBert, kCommit);
  r.files["modules.json"].content =
      R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},)"
      R"( {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},)"
      R"( {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])";
  r.files["sentence_bert_config.json"].content = R"({"max_seq_length": 256, "do_lower_case": false})";
  r.files["1_Pooling/config.json"].content = R"({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true})";
  hub_.add_repo("sentence-transformers/tiny", r);
  const fs::path snap = resolve_model("sentence-transformers/tiny", options(hub_.endpoint()));
  const fs::path repo = repo_dir("sentence-transformers/tiny");
  EXPECT_EQ(read_file(snap / "1_Pooling" / "config.json"), r.files["1_Pooling/config.json"].content);
  // Nested files get one more "..".
  EXPECT_EQ(fs::read_symlink(snap / "1_Pooling" / "config.json"),
            fs::path("../../../blobs/" + testing::git_like_etag(r.files["1_Pooling/config.json"].content)));
  EXPECT_TRUE(fs::is_symlink(snap / "modules.json"));
  EXPECT_TRUE(fs::is_symlink(snap / "sentence_bert_config.json"));
  EXPECT_TRUE(fs::is_regular_file(repo / ".no_exist" / kCommit / "2_Normalize" / "config.json"));
  EXPECT_TRUE(fs::is_regular_file(repo / ".no_exist" / kCommit / "config_sentence_transformers.json"));
  // Everything known now: no request on the next resolve.
  const std::size_t n = hub_.requests().size();
  EXPECT_EQ(resolve_model("sentence-transformers/tiny", options(hub_.endpoint())), snap);
  EXPECT_EQ(hub_.requests().size(), n);
}

// A SentencePiece-only repo (older XLM-R, CamemBERT, ALBERT): no tokenizer.json, so the model file
// the tokenizer is converted from is fetched, the first of io::kSentencePieceFiles that exists.
TEST_F(HubResolve, SentencePieceModelWhenNoTokenizerJson) {
  const fs::path albert = fs::path(BERTCPP_TEST_DATA) / "sentencepiece" / "albert-unigram";
  FakeRepo r = testing::repo_from_folder(kTinyBert, kCommit, {"expected.json", "expected.safetensors", "vocab.txt"});
  r.files["spiece.model"] = {read_file(albert / "spiece.model"), true, "", -1, 0};
  r.files["tokenizer_config.json"].content = read_file(albert / "tokenizer_config.json");
  hub_.add_repo("albert/tiny", r);
  const fs::path snap = resolve_model("albert/tiny", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "spiece.model"), read_file(albert / "spiece.model"));
  EXPECT_FALSE(fs::exists(snap / "sentencepiece.bpe.model"));
  EXPECT_TRUE(fs::is_regular_file(repo_dir("albert/tiny") / ".no_exist" / kCommit / "sentencepiece.bpe.model"));
  EXPECT_TRUE(fs::is_regular_file(repo_dir("albert/tiny") / ".no_exist" / kCommit / "tokenizer.json"));
  EXPECT_EQ(hub_.count("/spiece.model", "HEAD", true), 1u);
  // Everything known now: no request on the next resolve, and it works with no hub at all.
  const std::size_t n = hub_.requests().size();
  EXPECT_EQ(resolve_model("albert/tiny", options(hub_.endpoint())), snap);
  EXPECT_EQ(hub_.requests().size(), n);
  EXPECT_EQ(resolve_model("albert/tiny", options(testing::unreachable_endpoint())), snap);

  // XLM-R's name is looked for first; once found, spiece.model is not asked for.
  FakeRepo x = testing::repo_from_folder(kTinyBert, kCommit2, {"expected.json", "expected.safetensors", "vocab.txt"});
  x.files["sentencepiece.bpe.model"] = {"xlmr model bytes", true, "", -1, 0};
  x.files["spiece.model"] = {"never fetched", true, "", -1, 0};
  hub_.add_repo("xlmr/tiny", x);
  hub_.clear_log();
  const fs::path xs = resolve_model("xlmr/tiny", options(hub_.endpoint()));
  EXPECT_EQ(read_file(xs / "sentencepiece.bpe.model"), "xlmr model bytes");
  EXPECT_EQ(hub_.count("spiece.model"), 0u);
}

// With tokenizer.json the SentencePiece model is not needed, so it is never asked for.
TEST_F(HubResolve, NoSentencePieceModelWhenTokenizerJsonExists) {
  FakeRepo r = testing::repo_from_folder(kTinyBert, kCommit);
  r.files["tokenizer.json"].content = "{}";
  r.files["sentencepiece.bpe.model"] = {"never fetched", true, "", -1, 0};
  r.files["spiece.model"] = {"never fetched", true, "", -1, 0};
  hub_.add_repo("org/with-json", r);
  const fs::path snap = resolve_model("org/with-json", options(hub_.endpoint()));
  EXPECT_EQ(read_file(snap / "tokenizer.json"), "{}");
  EXPECT_EQ(hub_.count(".model"), 0u);
  const std::size_t n = hub_.requests().size();
  EXPECT_EQ(resolve_model("org/with-json", options(hub_.endpoint())), snap);
  EXPECT_EQ(hub_.requests().size(), n);
}

TEST_F(HubResolve, DownloadFollowsAMovedBranchAndReusesBlobs) {
  const fs::path first = download_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(first.filename(), kCommit);
  hub_.edit_repo("google-bert/tiny-bert", [&](FakeRepo& r) {
    r.commit = kCommit2;
    r.files["config.json"].content += " ";  // config changed, weights did not
  });
  hub_.clear_log();
  // resolve_model trusts the cache; download_model asks the hub.
  EXPECT_EQ(resolve_model("google-bert/tiny-bert", options(hub_.endpoint())), first);
  EXPECT_EQ(hub_.requests().size(), 0u);
  const fs::path second = download_model("google-bert/tiny-bert", options(hub_.endpoint()));
  EXPECT_EQ(second.filename(), kCommit2);
  EXPECT_EQ(read_file(repo_dir("google-bert/tiny-bert") / "refs" / "main"), kCommit2);
  EXPECT_EQ(hub_.count("/cdn/"), 0u);  // same weights blob: not downloaded again
  EXPECT_EQ(read_file(second / "model.safetensors"), read_file(kTinyBert / "model.safetensors"));
  EXPECT_EQ(read_file(second / "config.json"), read_file(kTinyBert / "config.json") + " ");
  EXPECT_EQ(read_file(first / "config.json"), read_file(kTinyBert / "config.json"));
}

// `bertcpp download NAME` asks the hub even when a folder called NAME is in the working directory.
TEST_F(HubResolve, DownloadAsksTheHubEvenWhenALocalFolderHasTheIdsName) {
  const fs::path cwd = fs::current_path();
  fs::create_directories(tmp_ / "work" / "google-bert" / "tiny-bert");
  fs::current_path(tmp_ / "work");
  fs::path got;
  EXPECT_NO_THROW(got = download_model("google-bert/tiny-bert", options(hub_.endpoint())));
  const Error e = error_of([&] { download_model(".", options(hub_.endpoint())); });
  fs::current_path(cwd);
  EXPECT_EQ(got.filename(), kCommit);
  EXPECT_TRUE(fs::is_regular_file(got / "model.safetensors"));
  EXPECT_TRUE(contains(e.what(), "local folder")) << e.what();
}

}  // namespace
}  // namespace bertcpp::hub
