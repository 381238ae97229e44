// The hostile corpus, generated at run time: malformed or malicious safetensors, zips and pickles.
// Each must be refused with a one-line Error naming the file and the fault; nothing may execute.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <cmath>
#include <cstring>
#include <random>

#include "bertcpp/error.h"
#include "builders.h"
#include "io/checkpoint.h"
#include "io/safetensors_reader.h"
#include "io/torch_reader.h"

using namespace bertcpp;
using namespace bertcpp::io;
using namespace iotest;
namespace fs = std::filesystem;

namespace {

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bertcpp-io-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `bytes` as <dir>/<case>/<file> and returns the file's path.
  fs::path put(const std::string& name, const std::string& file, const std::string& bytes) {
    fs::create_directories(dir_ / name);
    write_file(dir_ / name / file, bytes);
    return dir_ / name / file;
  }

  // Opening the checkpoint (and reading every tensor) must throw Error(kind) with a one-line
  // message that names the file and contains every `needles`.
  void expect_rejected(const fs::path& path, const std::vector<std::string>& needles,
                       ErrorKind kind = ErrorKind::InvalidFile, const std::string& file_name = "") {
    SCOPED_TRACE(path.string());
    try {
      Checkpoint c = Checkpoint::open(path);
      for (const auto& t : c.tensors()) c.get(t.name);
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.kind(), kind) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      const std::string fname = file_name.empty() ? path.filename().string() : file_name;
      EXPECT_NE(msg.find(fname), std::string::npos) << "message does not name the file: " << msg;
      for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
    }
  }

  fs::path dir_;
};

const std::string kF32x4 = std::string(16, '\0');
std::string st_entry(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& off) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + off + "}";
}

}  // namespace

// ---------------------------------------------------------------- safetensors

TEST_F(Hostile, SafetensorsValidSyntheticLoads) {
  const std::string h = "{" + st_entry("a", "F32", "[2,2]", "[0,16]") + "," + st_entry("b", "F16", "[2]", "[16,20]") +
                        ",\"__metadata__\":{\"format\":\"pt\"}}";
  std::string data(20, '\0');
  const float v[4] = {1.5f, -2.f, 0.25f, 1e-3f};
  std::memcpy(data.data(), v, 16);
  data[16] = 0x00; data[17] = 0x3c;                       // 1.0 in half
  data[18] = 0x01; data[19] = static_cast<char>(0x80);    // -smallest subnormal half
  Checkpoint c = Checkpoint::open(put("ok", "model.safetensors", safetensors(h, data)));
  ASSERT_EQ(c.tensors().size(), 2u);
  Tensor a = c.get_f32("a");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.data<float>()[i], v[i]);
  Tensor b = c.get_f32("b");
  EXPECT_EQ(b.data<float>()[0], 1.0f);
  EXPECT_EQ(b.data<float>()[1], -std::ldexp(1.0f, -24));
}

TEST_F(Hostile, SafetensorsTruncatedAndBadLengths) {
  expect_rejected(put("empty", "model.safetensors", ""), {"too short"});
  expect_rejected(put("five", "model.safetensors", "\x10\x00\x00\x00\x00"), {"too short"});
  const std::string good = "{" + st_entry("a", "F32", "[4]", "[0,16]") + "}";
  expect_rejected(put("len-past-eof", "model.safetensors", safetensors(good, kF32x4, 1000)), {"header length 1000", "past the end"});
  expect_rejected(put("len-huge", "model.safetensors", safetensors(good, kF32x4, UINT64_MAX)), {"past the end"});
  // Valid header, data cut short.
  expect_rejected(put("data-cut", "model.safetensors", safetensors(good, kF32x4.substr(0, 10))), {"\"a\"", "past the end"});
  // Every truncation of a valid file is rejected (or, for the full file, accepted).
  const std::string full = safetensors(good, kF32x4);
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_THROW(parse_safetensors(reinterpret_cast<const uint8_t*>(full.data()), n, "t"), Error) << n;
}

TEST_F(Hostile, SafetensorsBadHeaders) {
  auto bad = [&](const std::string& name, const std::string& header, const std::vector<std::string>& needles,
                 const std::string& data = kF32x4) {
    expect_rejected(put(name, "model.safetensors", safetensors(header, data)), needles);
  };
  bad("not-json", "{\"a\": [1, 2", {"invalid JSON"});
  bad("json-array", "[1,2,3]", {"expected a JSON object"});
  bad("non-utf8", "{\"a\xff\xfe\":{}}", {"UTF-8"});
  bad("overlong-utf8", "{\"\xc0\xaf\":{}}", {"UTF-8"});
  bad("duplicate", "{" + st_entry("w", "F32", "[2]", "[0,8]") + "," + st_entry("w", "F32", "[2]", "[8,16]") + "}",
      {"duplicate", "\"w\""});
  bad("no-dtype", "{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}", {"\"a\"", "dtype"});
  bad("dtype-number", "{\"a\":{\"dtype\":4,\"shape\":[4],\"data_offsets\":[0,16]}}", {"dtype must be a string"});
  bad("dtype-unknown", "{" + st_entry("a", "F8_E4M3", "[16]", "[0,16]") + "}", {"unknown dtype", "F8_E4M3"});
  bad("shape-string", "{\"a\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,16]}}", {"shape must be an array"});
  bad("shape-negative", "{" + st_entry("a", "F32", "[-4]", "[0,16]") + "}", {"non-negative"});
  bad("shape-float", "{" + st_entry("a", "F32", "[4.0]", "[0,16]") + "}", {"non-negative integers"});
  bad("offsets-one", "{" + st_entry("a", "F32", "[4]", "[16]") + "}", {"data_offsets"});
  bad("offsets-strings", "{" + st_entry("a", "F32", "[4]", "[\"0\",\"16\"]") + "}", {"data_offsets"});
  bad("offsets-negative", "{" + st_entry("a", "F32", "[4]", "[-16,0]") + "}", {"data_offsets"});
  bad("offsets-out-of-range", "{" + st_entry("a", "F32", "[4]", "[16,32]") + "}", {"past the end of the data"});
  bad("offsets-huge", "{" + st_entry("a", "F32", "[4]", "[18446744073709551600,18446744073709551615]") + "}",
      {"data_offsets"});
  bad("offsets-reversed", "{" + st_entry("a", "F32", "[0]", "[16,0]") + "}", {"end before they begin"});
  bad("overlap", "{" + st_entry("a", "F32", "[3]", "[0,12]") + "," + st_entry("b", "F32", "[2]", "[8,16]") + "}",
      {"overlap", "\"a\"", "\"b\""});
  bad("alias", "{" + st_entry("a", "F32", "[4]", "[0,16]") + "," + st_entry("b", "F32", "[4]", "[0,16]") + "}",
      {"overlap"});
  bad("size-mismatch", "{" + st_entry("a", "F32", "[5]", "[0,16]") + "}", {"needs 20 bytes", "span 16"});
  bad("size-mismatch-dtype", "{" + st_entry("a", "F16", "[4]", "[0,16]") + "}", {"needs 8 bytes"});
  bad("product-overflow", "{" + st_entry("a", "F32", "[4294967296,4294967296,4294967296]", "[0,16]") + "}",
      {"overflows"});
  bad("bytes-overflow", "{" + st_entry("a", "F64", "[4611686018427387904]", "[0,16]") + "}", {"overflows"});
  bad("metadata-not-strings", "{\"__metadata__\":{\"format\":1}," + st_entry("a", "F32", "[4]", "[0,16]") + "}",
      {"__metadata__", "must be a string"});
  bad("extra-field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"exec\":\"x\"}}",
      {"unknown field \"exec\""});
  bad("entry-not-object", "{\"a\":[1]}", {"must be an object"});
}

TEST_F(Hostile, SafetensorsMutationsNeverCrash) {
  const std::string h = "{" + st_entry("alpha", "F32", "[2,2]", "[0,16]") + "," + st_entry("beta", "BF16", "[4]", "[16,24]") + "}";
  const std::string base = safetensors(h, std::string(24, '\x01'));
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int it = 0; it < 3000; ++it) {
    std::string s = base;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<char>(rng() & 0xff);
    try {
      auto entries = parse_safetensors(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "m");
      for (const auto& e : entries) {
        ASSERT_LE(e.begin, e.end);
        ASSERT_LE(e.end, s.size());
      }
      ++accepted;
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::InvalidFile) << e.what();
    }
  }
  EXPECT_GT(accepted, 0);  // data-byte flips keep the file valid
}

TEST_F(Hostile, ShardedIndexRejectsPathsOutsideTheFolder) {
  const std::string shard = safetensors("{" + st_entry("a", "F32", "[4]", "[0,16]") + "}", kF32x4);
  put("sharded", "model-00001-of-00001.safetensors", shard);
  put("sharded", "model.safetensors.index.json",
      R"({"metadata":{},"weight_map":{"a":"model-00001-of-00001.safetensors"}})");
  Checkpoint ok = Checkpoint::open(dir_ / "sharded");
  ASSERT_TRUE(ok.contains("a"));
  EXPECT_EQ(ok.info("a").file, "model-00001-of-00001.safetensors");

  for (const std::string evil : {"../sharded/model-00001-of-00001.safetensors", "/etc/passwd", "..", "a/b.safetensors"}) {
    const std::string name = "evil" + std::to_string(std::hash<std::string>{}(evil) % 1000);
    put(name, "model.safetensors.index.json", R"({"weight_map":{"a":")" + evil + R"("}})");
    expect_rejected(dir_ / name, {"not a plain file name"}, ErrorKind::InvalidFile, "model.safetensors.index.json");
  }
  put("missing-in-shard", "s1.safetensors", shard);
  put("missing-in-shard", "model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","zzz":"s1.safetensors"}})");
  expect_rejected(dir_ / "missing-in-shard", {"\"zzz\"", "not in shard"}, ErrorKind::InvalidFile, "model.safetensors.index.json");
  put("dup-index", "model.safetensors.index.json", R"({"weight_map":{"a":"x.safetensors","a":"y.safetensors"}})");
  expect_rejected(dir_ / "dup-index", {"duplicate"}, ErrorKind::InvalidFile, "model.safetensors.index.json");
  put("no-shard", "model.safetensors.index.json", R"({"weight_map":{"a":"absent.safetensors"}})");
  expect_rejected(dir_ / "no-shard", {"absent.safetensors"}, ErrorKind::NotFound);
}

// ---------------------------------------------------------------- torch zip

namespace {
std::string floats(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}
const std::vector<float> kStorage0 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
}  // namespace

TEST_F(Hostile, SyntheticTorchZipLoads) {
  // Offsets, a transposed (non-contiguous) view, storage sharing, a Parameter, F16.
  std::vector<TensorSpec> specs = {
      {"whole", "FloatStorage", "0", 12, 0, {3, 4}, {4, 1}},
      {"tail", "FloatStorage", "0", 12, 8, {4}, {1}},
      {"transposed", "FloatStorage", "0", 12, 0, {4, 3}, {1, 4}, true},
      {"half", "HalfStorage", "1", 2, 0, {2}, {1}},
      {"ids", "LongStorage", "2", 3, 0, {1, 3}, {3, 1}},
  };
  const std::string half("\x00\x3c\x00\xc0", 4);  // 1.0, -2.0
  std::string ids = le(5, 8) + le(7, 8) + le(static_cast<uint64_t>(-1), 8);
  const fs::path f = put("synthetic", "pytorch_model.bin",
                         torch_zip(state_dict_pickle(specs), {{"0", floats(kStorage0)}, {"1", half}, {"2", ids}}));
  Checkpoint c = Checkpoint::open(dir_ / "synthetic");
  EXPECT_EQ(c.format(), "pytorch");
  ASSERT_EQ(c.tensors().size(), 5u);
  EXPECT_EQ(c.tensors()[0].name, "whole");  // file order
  Tensor whole = c.get("whole");
  for (int i = 0; i < 12; ++i) EXPECT_EQ(whole.data<float>()[i], static_cast<float>(i));
  Tensor tail = c.get("tail");
  ASSERT_EQ(tail.shape(), (Shape{4}));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(tail.data<float>()[i], static_cast<float>(8 + i));
  Tensor tr = c.get("transposed");
  ASSERT_EQ(tr.shape(), (Shape{4, 3}));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(tr.data<float>()[i * 3 + j], static_cast<float>(j * 4 + i));
  Tensor h = c.get_f32("half");
  EXPECT_EQ(h.data<float>()[0], 1.0f);
  EXPECT_EQ(h.data<float>()[1], -2.0f);
  Tensor l = c.get("ids");
  EXPECT_EQ(l.data<int64_t>()[2], -1);
  EXPECT_EQ(c.info("ids").nbytes, 24u);
}

TEST_F(Hostile, ZipStructure) {
  const std::vector<TensorSpec> one = {{"w", "FloatStorage", "0", 4, 0, {4}, {1}}};
  const std::string pkl = state_dict_pickle(one);
  auto bin = [&](const std::string& name, const std::string& bytes, const std::vector<std::string>& needles,
                 ErrorKind kind = ErrorKind::InvalidFile) {
    expect_rejected(put(name, "pytorch_model.bin", bytes), needles, kind);
  };
  bin("dotdot", make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", kF32x4}, {"archive/../../evil", "x"}}),
      {"'archive/../../evil'", "unsafe name"});
  bin("absolute", make_zip({{"/etc/cron.d/evil", "x"}, {"archive/data.pkl", pkl}, {"archive/data/0", kF32x4}}),
      {"'/etc/cron.d/evil'", "unsafe name"});
  bin("backslash", make_zip({{"archive\\..\\evil", "x"}, {"archive/data.pkl", pkl}, {"archive/data/0", kF32x4}}),
      {"unsafe name"});
  bin("no-pkl", make_zip({{"archive/data/0", kF32x4}, {"archive/version", "3\n"}}), {"data.pkl"});
  bin("two-pkl", make_zip({{"a/data.pkl", pkl}, {"b/data.pkl", pkl}}), {"more than one data.pkl"});
  bin("dup-entry", make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", kF32x4}, {"archive/data/0", kF32x4}}),
      {"zip"});  // libzip's consistency check or ours ("appears twice")
  bin("missing-storage", make_zip({{"archive/data.pkl", pkl}}), {"archive/data/0", "missing"});
  bin("storage-short", make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", kF32x4.substr(0, 12)}}),
      {"holds 12 bytes", "16 bytes"});
  // The pickle claims a 4 GB storage; the entry is 16 bytes: refused before anything is read.
  bin("storage-claims-huge",
      torch_zip(state_dict_pickle({{"w", "FloatStorage", "0", 1LL << 30, 0, {4}, {1}}}), {{"0", kF32x4}}),
      {"holds 16 bytes", "4294967296 bytes"});
  // Zip bombs: an entry that claims 10 GB from 2 bytes of deflate; a stored entry whose sizes disagree.
  bin("bomb-pkl", make_zip({{"archive/data.pkl", std::string("\x03\x00", 2), 8, 10ull << 30}}), {"data.pkl", "zip bomb"});
  bin("bomb-storage", make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", std::string("\x03\x00", 2), 8, 16ull << 20}}),
      {"archive/data/0", "zip bomb"});
  bin("stored-size-lie", make_zip({{"archive/data.pkl", pkl, 0, 1ull << 20}, {"archive/data/0", kF32x4}}), {"data.pkl"});
  bin("bad-crc", make_zip({{"archive/data.pkl", pkl, 0, {}, 1234u}, {"archive/data/0", kF32x4}}), {"data.pkl"});
  bin("bzip2", make_zip({{"archive/data.pkl", pkl, 12}, {"archive/data/0", kF32x4}}), {"compression method 12"});
  const std::string good = torch_zip(pkl, {{"0", kF32x4}});
  bin("zip-truncated", good.substr(0, good.size() / 2), {"invalid zip"});
  bin("not-zip", "this is not a checkpoint at all", {"not a zip"});
  bin("legacy", std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14), {"legacy"},
      ErrorKind::Unsupported);
  bin("big-endian", make_zip({{"archive/data.pkl", pkl}, {"archive/byteorder", "big"}, {"archive/data/0", kF32x4}}),
      {"byte order"}, ErrorKind::Unsupported);
  // Sanity: the good one loads.
  Checkpoint c = Checkpoint::open(put("good", "pytorch_model.bin", good));
  EXPECT_EQ(c.get("w").numel(), 4);
}

TEST_F(Hostile, RealDeflateBombIsNeverInflated) {
  // 65 MB of zeros deflates to ~65 KB (a ratio deflate really achieves): data.pkl above the
  // pickle limit is refused from its declared size, before inflating.
  const fs::path p = dir_ / "pytorch_model.bin";
  int err = 0;
  zip_t* za = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(za, nullptr);
  std::vector<char> zeros(65u << 20, 0);
  zip_source_t* src = zip_source_buffer(za, zeros.data(), zeros.size(), 0);
  const zip_int64_t idx = zip_file_add(za, "archive/data.pkl", src, ZIP_FL_OVERWRITE);
  ASSERT_GE(idx, 0);
  ASSERT_EQ(zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 1), 0);
  ASSERT_EQ(zip_close(za), 0);
  ASSERT_LT(fs::file_size(p), 1u << 20);
  expect_rejected(p, {"data.pkl", "68157440 bytes", "limit"});
}

// ---------------------------------------------------------------- pickles

namespace {
// A pickle inside an otherwise valid torch zip.
std::string bin_with(const std::string& pickle) { return torch_zip(pickle, {{"0", kF32x4}}); }
}  // namespace

TEST_F(Hostile, PicklesThatReachForCodeAreRefusedAndNothingRuns) {
  const fs::path witness = dir_ / "pwned";
  const std::string touch = "touch " + witness.string();
  struct Case { std::string name; std::string pickle; std::string needle; };
  std::vector<Case> cases;
  auto call = [](const std::string& m, const std::string& f, const std::string& arg) {
    return Pickle().proto().global(m, f).str(arg).tuple1().reduce().stop().b;
  };
  cases.push_back({"os-system", call("os", "system", touch), "refused global 'os.system'"});
  cases.push_back({"posix-system", call("posix", "system", touch), "refused global 'posix.system'"});
  cases.push_back({"nt-system", call("nt", "system", touch), "refused global 'nt.system'"});
  cases.push_back({"eval", call("builtins", "eval", "__import__('os').system('" + touch + "')"),
                   "refused global 'builtins.eval'"});
  cases.push_back({"exec", call("builtins", "exec", "open('" + witness.string() + "','w')"),
                   "refused global 'builtins.exec'"});
  cases.push_back({"py2-builtin", call("__builtin__", "eval", "1"), "refused global '__builtin__.eval'"});
  cases.push_back({"open", Pickle().proto().global("builtins", "open").str(witness.string()).str("w").tuple2().reduce().stop().b,
                   "refused global 'builtins.open'"});
  cases.push_back({"popen", Pickle().proto().global("subprocess", "Popen").mark().str("touch").str(witness.string()).raw("l").tuple1().reduce().stop().b,
                   "refused global 'subprocess.Popen'"});
  cases.push_back({"stack-global", Pickle().proto().short_str("os").short_str("system").stack_global().str(touch).tuple1().reduce().stop().b,
                   "refused global 'os.system'"});
  cases.push_back({"getattr", call("builtins", "getattr", "x"), "refused global 'builtins.getattr'"});
  cases.push_back({"main-class-reduce", Pickle().proto().global("__main__", "Exploit").empty_tuple().reduce().stop().b,
                   "refused global '__main__.Exploit'"});
  cases.push_back({"torch-load", call("torch", "load", "x"), "refused global 'torch.load'"});
  cases.push_back({"torch-rebuild-from-type", call("torch._tensor", "_rebuild_from_type_v2", "x"),
                   "refused global 'torch._tensor._rebuild_from_type_v2'"});
  cases.push_back({"numpy", call("numpy.core.multiarray", "_reconstruct", "x"), "refused global 'numpy.core.multiarray._reconstruct'"});
  // The payload hidden as a value inside a real-looking state dict.
  cases.push_back({"inside-state-dict",
                   Pickle().proto().ordered_dict().mark().str("w").global("os", "system").str(touch).tuple1().reduce()
                       .setitems().stop().b,
                   "refused global 'os.system'"});
  // Opcodes that build arbitrary objects.
  cases.push_back({"inst", Pickle().proto().mark().str(touch).raw("ios\nsystem\n").stop().b, "refused INST 'os.system'"});
  cases.push_back({"obj", Pickle().proto().mark().ordered_dict().raw("o").stop().b, "refused opcode OBJ"});
  cases.push_back({"newobj", Pickle().proto().ordered_dict().empty_tuple().raw("\x81").stop().b, "refused opcode NEWOBJ"});
  cases.push_back({"ext1", Pickle().proto().raw("\x82\x01").stop().b, "refused opcode EXT"});
  // BUILD (setstate) on things that are not the state dict.
  cases.push_back({"build-on-list", Pickle().proto().empty_list().empty_dict().build().stop().b, "refused BUILD on a list"});
  cases.push_back({"build-on-tensor",
                   Pickle().proto().global("torch._utils", "_rebuild_tensor_v2").mark().mark().str("storage")
                       .global("torch", "FloatStorage").str("0").str("cpu").integer(4).tuple().persid().integer(0)
                       .ints({4}).ints({1}).newfalse().ordered_dict().tuple().reduce().empty_dict().build().stop().b,
                   "refused BUILD on a tensor"});
  cases.push_back({"build-on-global", Pickle().proto().global("collections", "OrderedDict").empty_dict().build().stop().b,
                   "refused BUILD on a global"});
  // Calling an allowed global that is not a function.
  cases.push_back({"storage-call", Pickle().proto().global("torch", "FloatStorage").str("x").tuple1().reduce().stop().b,
                   "refused call of 'torch.FloatStorage'"});
  cases.push_back({"odict-args", Pickle().proto().global("collections", "OrderedDict").str("x").tuple1().reduce().stop().b,
                   "OrderedDict() with arguments"});
  cases.push_back({"storage-type-not-allowed",
                   Pickle().proto().mark().str("storage").global("torch", "ComplexFloatStorage").stop().b,
                   "refused global 'torch.ComplexFloatStorage'"});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    // As a file through Checkpoint::open, and straight through the unpickler.
    expect_rejected(put(c.name, "pytorch_model.bin", bin_with(c.pickle)), {"data.pkl", c.needle});
    try {
      parse_torch_pickle(reinterpret_cast<const uint8_t*>(c.pickle.data()), c.pickle.size(), "x.bin: data.pkl");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
    ASSERT_FALSE(fs::exists(witness)) << "a pickle payload executed!";
  }
}

TEST_F(Hostile, TheOsSystemPayloadIsLiveUnderPython) {
  // Proof that the payload above is a working exploit: Python's own pickle runs it. (Skipped when
  // /usr/bin/python3 is absent.) bertcpp refuses the very same bytes and the file never appears.
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const fs::path witness = dir_ / "python-ran-it";
  const std::string payload =
      Pickle().proto().global("os", "system").str("touch " + witness.string()).tuple1().reduce().stop().b;
  const fs::path pf = put("live", "payload.pkl", payload);
  EXPECT_THROW(parse_torch_pickle(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), "p"), Error);
  EXPECT_THROW(Checkpoint::open(put("live", "pytorch_model.bin", bin_with(payload))), Error);
  ASSERT_FALSE(fs::exists(witness));
  const std::string cmd = "/usr/bin/python3 -c \"import pickle,sys; pickle.loads(open(sys.argv[1],'rb').read())\" " +
                          pf.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(witness)) << "the payload did not run under Python: the test would prove nothing";
}

TEST_F(Hostile, StackAndMemoMisuse) {
  struct Case { const char* name; std::string pickle; const char* needle; };
  const std::vector<Case> cases = {
      {"empty", "", "truncated"},
      {"no-stop", Pickle().proto().empty_dict().b, "no STOP"},
      {"reduce-empty-stack", Pickle().proto().reduce().stop().b, "stack underflow"},
      {"setitem-empty", Pickle().proto().setitem().stop().b, "stack underflow"},
      {"pop-across-mark", Pickle().proto().empty_dict().mark().str("a").str("b").tuple2().setitem().stop().b, "stack underflow"},
      {"setitems-no-mark", Pickle().proto().empty_dict().setitems().stop().b, "no MARK"},
      {"setitems-odd", Pickle().proto().empty_dict().mark().str("a").setitems().stop().b, "odd"},
      {"get-unset", Pickle().proto().get(7).stop().b, "memo index 7"},
      {"long-get-unset", Pickle().proto().raw("j\xff\xff\xff\xff").stop().b, "memo index 4294967295"},
      {"put-empty", Pickle().proto().put(0).stop().b, "stack underflow"},
      {"setitem-on-list", Pickle().proto().empty_list().str("k").str("v").setitem().stop().b, "SETITEM on a list"},
      {"append-on-dict", Pickle().proto().empty_dict().str("v").append().stop().b, "APPEND on a dict"},
      {"self-append", Pickle().proto().empty_list().dup().append().stop().b, "already part of another object"},
      {"cycle", Pickle().proto().empty_list().put(0).empty_list().put(1).get(0).append().get(1).append().stop().b,
       "already part of another object"},
      {"stop-two", Pickle().proto().empty_dict().empty_dict().stop().b, "STOP with 2 values"},
      {"stop-mark", Pickle().proto().mark().empty_dict().stop().b, "STOP with 1 values"},
      {"not-dict", Pickle().proto().empty_list().stop().b, "expected a state dict"},
      {"bad-proto", Pickle().proto(9).empty_dict().stop().b, "protocol 9"},
      {"unknown-op", Pickle().proto().raw("\xff").stop().b, "opcode 0xff"},
      {"text-int", Pickle().proto().raw("I1\n").stop().b, "opcode 0x49"},
      {"long4", Pickle().proto().raw("\x8b\xff\xff\xff\xff").stop().b, "opcode 0x8b"},
      {"long1-huge", Pickle().proto().raw("\x8a\x09").raw(std::string(9, '\x01')).stop().b, "too large"},
      {"binunicode-past-end", Pickle().proto().raw("X\xff\xff\xff\x7f").stop().b, "truncated"},
      {"binunicode8-huge", Pickle().proto().raw("\x8d\xff\xff\xff\xff\xff\xff\xff\xff").stop().b, "truncated"},
      {"bad-utf8", Pickle().proto().raw(std::string("X\x02\x00\x00\x00\xc3\x28", 7)).stop().b, "UTF-8"},
      {"global-unterminated", Pickle().proto().raw("cos\nsyst").b, "unterminated"},
      {"global-long", Pickle().proto().raw("c" + std::string(1000, 'a') + "\nb\n").stop().b, "longer than 256"},
      {"persid-not-storage", Pickle().proto().str("x").persid().stop().b, "persistent id"},
      {"persid-key-path", Pickle().proto().mark().str("storage").global("torch", "FloatStorage").str("../../x")
           .str("cpu").integer(4).tuple().persid().stop().b, "storage key"},
      {"negative-numel", Pickle().proto().mark().str("storage").global("torch", "FloatStorage").str("0")
           .str("cpu").integer(-4).tuple().persid().stop().b, "negative storage size"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      parse_torch_pickle(reinterpret_cast<const uint8_t*>(c.pickle.data()), c.pickle.size(), "m.bin: data.pkl");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
      EXPECT_EQ(msg.find('\n'), std::string::npos);
      EXPECT_EQ(msg.rfind("m.bin: data.pkl: ", 0), 0u) << msg;
      EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
    }
  }
}

TEST_F(Hostile, DeepNestingIsBounded) {
  Pickle p;
  p.proto();
  for (int i = 0; i < 100000; ++i) p.empty_list();
  for (int i = 0; i < 99999; ++i) p.append();
  p.stop();
  try {
    parse_torch_pickle(reinterpret_cast<const uint8_t*>(p.b.data()), p.b.size(), "deep");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper"), std::string::npos) << e.what();
  }
}

TEST_F(Hostile, TensorsOutsideTheirStorage) {
  auto one = [](TensorSpec t) { return state_dict_pickle({t}); };
  struct Case { const char* name; std::string pickle; const char* needle; };
  const std::vector<Case> cases = {
      {"past-end", one({"w", "FloatStorage", "0", 4, 1, {4}, {1}}), "reaches past the end of storage '0'"},
      {"stride-past-end", one({"w", "FloatStorage", "0", 4, 0, {2, 2}, {4, 1}}), "reaches past the end"},
      {"negative-size", one({"w", "FloatStorage", "0", 4, 0, {-4}, {1}}), "negative size"},
      {"negative-offset", one({"w", "FloatStorage", "0", 4, -1, {4}, {1}}), "negative storage offset"},
      {"negative-stride", one({"w", "FloatStorage", "0", 4, 3, {4}, {-1}}), "negative stride"},
      {"rank-mismatch", one({"w", "FloatStorage", "0", 4, 0, {4}, {1, 1}}), "different lengths"},
      {"overflow", one({"w", "FloatStorage", "0", 4, 0, {1LL << 40, 1LL << 40}, {0, 0}}), "overflows"},
      {"extent-overflow", one({"w", "FloatStorage", "0", 4, 0, {3}, {INT64_MAX / 2}}), "overflows"},
      // Finding 8: stride-0 / overlapping views (4 floats of storage materialized as 2 GB).
      {"stride-0", one({"w", "FloatStorage", "0", 4, 0, {1 << 27, 4}, {0, 1}}), "more elements than its storage"},
      {"overlapping", one({"w", "FloatStorage", "0", 4, 0, {3, 2}, {1, 1}}), "stride-0 or overlapping"},
      {"storage-retyped",
       state_dict_pickle({{"a", "FloatStorage", "0", 4, 0, {4}, {1}}, {"b", "HalfStorage", "0", 8, 0, {8}, {1}}}),
       "declared twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expect_rejected(put(c.name, "pytorch_model.bin", bin_with(c.pickle)), {"data.pkl", c.needle});
  }
  // Zero-size tensors are fine anywhere in range.
  Checkpoint ok = Checkpoint::open(put("empty-ok", "pytorch_model.bin", bin_with(one({"w", "FloatStorage", "0", 4, 0, {0, 5}, {5, 1}}))));
  EXPECT_EQ(ok.get("w").numel(), 0);
}

TEST_F(Hostile, TruncatedAndMutatedPicklesNeverCrash) {
  const std::string good = state_dict_pickle({{"a", "FloatStorage", "0", 12, 0, {3, 4}, {4, 1}},
                                              {"b", "FloatStorage", "0", 12, 2, {2, 2}, {1, 4}, true},
                                              {"c", "HalfStorage", "1", 6, 0, {6}, {1}}});
  ASSERT_EQ(parse_torch_pickle(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "g").size(), 3u);
  for (size_t n = 0; n < good.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_THROW(parse_torch_pickle(reinterpret_cast<const uint8_t*>(good.data()), n, "t"), Error);
  }
  // A truncated pickle inside a zip names the file.
  expect_rejected(put("trunc", "pytorch_model.bin", bin_with(good.substr(0, good.size() / 2))), {"data.pkl", "truncated"});
  std::mt19937 rng(42);
  int accepted = 0;
  for (int it = 0; it < 5000; ++it) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<char>(rng() & 0xff);
    try {
      parse_torch_pickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "m");
      ++accepted;
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::InvalidFile) << e.what();
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST_F(Hostile, ShardedBinAndLegacyRebuildTensor) {
  // Two .bin shards + index; the second uses the older torch._utils._rebuild_tensor.
  put("binshards", "pytorch_model-00001-of-00002.bin",
      torch_zip(state_dict_pickle({{"a", "FloatStorage", "0", 4, 0, {4}, {1}}}), {{"0", floats({1, 2, 3, 4})}}));
  Pickle p;
  p.proto().ordered_dict().mark().str("b").global("torch._utils", "_rebuild_tensor").mark().mark().str("storage")
      .global("torch", "FloatStorage").str("7").str("cpu").integer(2).tuple().persid().integer(0).ints({2}).ints({1})
      .tuple().reduce().setitems().stop();
  put("binshards", "pytorch_model-00002-of-00002.bin", torch_zip(p.b, {{"7", floats({5, 6})}}));
  put("binshards", "pytorch_model.bin.index.json",
      R"({"weight_map":{"a":"pytorch_model-00001-of-00002.bin","b":"pytorch_model-00002-of-00002.bin"}})");
  Checkpoint c = Checkpoint::open(dir_ / "binshards");
  EXPECT_EQ(c.format(), "pytorch");
  EXPECT_EQ(c.info("b").file, "pytorch_model-00002-of-00002.bin");
  EXPECT_EQ(c.get("a").data<float>()[3], 4.0f);
  EXPECT_EQ(c.get("b").data<float>()[1], 6.0f);
  put("binshards-evil", "pytorch_model.bin.index.json", R"({"weight_map":{"a":"../binshards/pytorch_model-00001-of-00002.bin"}})");
  expect_rejected(dir_ / "binshards-evil", {"not a plain file name"}, ErrorKind::InvalidFile, "pytorch_model.bin.index.json");
}

// Finding 9: SETITEMS looked every key up linearly (20k/40k/80k keys took 1.1/5.2/23.5 s). The
// structure must survive the indexed lookup: 80,000 tensors, and a repeated key replaces in place.
TEST_F(Hostile, ManySetitemsKeysWithARepeatedKey) {
  const int n = 80000;
  auto entry = [](Pickle& p, const std::string& name, int offset, bool first) {
    p.str(name).global("torch._utils", "_rebuild_tensor_v2").mark();
    if (first) p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).tuple().persid().put(1);
    else p.get(1);
    p.integer(offset).ints({1}).ints({1}).newfalse().ordered_dict().tuple().reduce();
  };
  Pickle p;
  p.proto().ordered_dict().mark();
  for (int i = 0; i < n; ++i) {
    std::string name = "t";
    name += std::to_string(i);  // (not "t" + to_string: GCC 12 -Wrestrict false positive)
    entry(p, name, i % 4, i == 0);
  }
  entry(p, "t0", 3, false);  // replaces t0's value (offset 0 -> 3)
  p.setitems().stop();
  const fs::path f = put("many-keys", "pytorch_model.bin", torch_zip(p.b, {{"0", floats({1, 2, 3, 4})}}));
  Checkpoint c = Checkpoint::open(f);
  ASSERT_EQ(c.tensors().size(), static_cast<size_t>(n));
  EXPECT_EQ(c.get("t0").data<float>()[0], 4.0f);
  EXPECT_EQ(c.get("t1").data<float>()[0], 2.0f);
  EXPECT_EQ(c.get("t79999").data<float>()[0], 4.0f);
}
