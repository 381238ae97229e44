// sentence-transformers Dense modules, prompts and include_prompt in the engine's embed(), against the
// real sentence-transformers: tests/data/st_dense/expected.json (tools/make_st_dense.py) holds its
// encode() outputs and the small files of each folder, which these tests rebuild around tiny-bert.
#include <unistd.h>

#include <fstream>

#include "api_test_util.h"
#include "bertcpp/bertcpp.h"
#include "support/st_folders.h"

namespace bertcpp::apitest {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDense = testsupport::st_dense_dir();
constexpr double kTol = 1e-5;  // sentence-transformers' float32 torch vs the engine's loops

const json& expected() { return testsupport::st_dense_expected(); }
std::vector<std::string> texts() { return expected()["texts"].get<std::vector<std::string>>(); }
fs::path build_folder(const std::string& variant, const fs::path& root) { return testsupport::build_st_folder(variant, root); }

void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

double max_diff(const Tensor& got, const json& want) {
  const auto ref = want["data"].get<std::vector<double>>();
  EXPECT_EQ(static_cast<size_t>(got.numel()), ref.size());
  double worst = 0;
  for (size_t i = 0; i < ref.size() && i < static_cast<size_t>(got.numel()); ++i)
    worst = std::max(worst, std::abs(ref[i] - got.data<float>()[i]));
  return worst;
}

class Folders : public ::testing::Test {
 protected:
  static fs::path root() { return fs::temp_directory_path() / ("bertcpp_st_modules_" + std::to_string(::getpid())); }
  static void TearDownTestSuite() { fs::remove_all(root()); }
};

class StModules : public Folders, public ::testing::WithParamInterface<std::string> {};

TEST_P(StModules, EmbedEqualsSentenceTransformersEncode) {
  const std::string variant = GetParam();
  const json& cases = expected()["cases"];
  const Model m = Model::from_pretrained(build_folder(variant, root()).string());
  EXPECT_EQ(m.embedding_dimension(), cases[variant].contains("dimension") ? cases[variant]["dimension"].get<int64_t>() : 32);
  const std::vector<std::string> t = texts();
  EXPECT_LE(max_diff(m.embed(t, EmbedOptions{}), cases[variant]), kTol) << variant;
  EXPECT_LE(max_diff(m.embed(std::vector<std::string>{t[0]}, EmbedOptions{}), cases[variant + "/single"]), kTol);
  for (const char* name : {"query", "long"}) {
    EmbedOptions o;
    o.prompt_name = name;
    EXPECT_LE(max_diff(m.embed(t, o), cases[variant + "/prompt_name_" + name]), kTol) << variant << " " << name;
  }
  EmbedOptions literal;
  literal.prompt = "Hello, ";
  EXPECT_LE(max_diff(m.embed(t, literal), cases[variant + "/prompt"]), kTol) << variant;
  // The C API runs the same path.
  bertcpp_model* cm = nullptr;
  ASSERT_EQ(bertcpp_model_load(m.directory().c_str(), nullptr, &cm), BERTCPP_OK);
  const auto D = static_cast<size_t>(bertcpp_model_embedding_dimension(cm));
  EXPECT_EQ(static_cast<int64_t>(D), m.embedding_dimension());
  std::vector<const char*> ptrs;
  for (const auto& s : t) ptrs.push_back(s.c_str());
  std::vector<float> out(t.size() * D);
  ASSERT_EQ(bertcpp_embed_with_prompt(cm, ptrs.data(), ptrs.size(), BERTCPP_POOLING_DEFAULT, -1, "long", nullptr, out.data(),
                                      out.size()),
            BERTCPP_OK);
  Tensor got = Tensor::empty(DType::F32, {static_cast<int64_t>(t.size()), static_cast<int64_t>(D)});
  std::memcpy(got.raw(), out.data(), out.size() * sizeof(float));
  EXPECT_LE(max_diff(got, cases[variant + "/prompt_name_long"]), kTol);
  EXPECT_EQ(bertcpp_embed_with_prompt(cm, ptrs.data(), ptrs.size(), BERTCPP_POOLING_DEFAULT, -1, "nope", nullptr, out.data(),
                                      out.size()),
            BERTCPP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(bertcpp_last_error()).find("nope"), std::string::npos);
  bertcpp_model_free(cm);
}

std::vector<std::string> variants() {
  std::vector<std::string> v;
  for (const auto& [k, c] : expected()["cases"].items())
    if (c.contains("files")) v.push_back(k);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Api, StModules, ::testing::ValuesIn(variants()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST_F(Folders, NormalizeFalseSkipsTheNormalizeModuleAndTrueAddsOne) {
  const Model m = Model::from_pretrained(build_folder("dense-tanh-identity-normalize", root()).string());
  EXPECT_TRUE(m.default_normalize());
  EmbedOptions off;
  off.normalize = false;
  const Tensor raw = m.embed(texts(), off);
  double norm0 = 0;
  for (int64_t k = 0; k < raw.dim(1); ++k) norm0 += double(raw.data<float>()[k]) * raw.data<float>()[k];
  EXPECT_GT(std::abs(std::sqrt(norm0) - 1.0), 1e-3);  // not normalized
  const Model plain = Model::from_pretrained(build_folder("dense-gelu", root()).string());
  EmbedOptions on;
  on.normalize = true;
  const Tensor n = plain.embed(texts(), on);
  double norm1 = 0;
  for (int64_t k = 0; k < n.dim(1); ++k) norm1 += double(n.data<float>()[k]) * n.data<float>()[k];
  EXPECT_NEAR(std::sqrt(norm1), 1.0, 1e-6);
}

TEST_F(Folders, UnknownPromptNameListsThePrompts) {
  const Model m = Model::from_pretrained(build_folder("dense-tanh", root()).string());
  EmbedOptions o;
  o.prompt_name = "passage";
  expect_error([&] { m.embed(texts(), o); }, ErrorKind::InvalidArgument, "'passage' is not one of the prompts");
  expect_error([&] { m.embed(texts(), o); }, ErrorKind::InvalidArgument, "long, query");
  EXPECT_EQ(m.prompts().at("query"), "query: ");
  EXPECT_EQ(m.prompt_length("query: "), 3);  // [CLS] query : (the trailing [SEP] not counted)
}

// A Dense module saved as pytorch_model.bin (tools/make_st_dense.py: the 2_Dense weights, torch zip)
// reads through the torch reader to the same outputs.
TEST_F(Folders, DenseWeightsFromPytorchModelBin) {
  const fs::path dir = build_folder("dense-tanh", root());
  fs::remove_all(dir / "2_Dense");
  fs::copy(kDense / "2_Dense_bin", dir / "2_Dense", fs::copy_options::recursive);
  ASSERT_FALSE(fs::exists(dir / "2_Dense" / "model.safetensors"));
  const Model m = Model::from_pretrained(dir.string());
  EXPECT_LE(max_diff(m.embed(texts(), EmbedOptions{}), expected()["cases"]["dense-tanh"]), kTol);
}

// Bad Dense modules fail at load with an error naming the file and the fault.
TEST_F(Folders, BadDenseModulesNameTheFile) {
  const fs::path dir = build_folder("dense-tanh", root());
  const fs::path cfg = dir / "2_Dense" / "config.json";
  json c;
  {
    std::ifstream in(cfg);
    in >> c;
  }
  auto with = [&](const json& patch) {
    json x = c;
    x.merge_patch(patch);
    write(cfg, x.dump());
  };
  with({{"activation_function", "my.module.Swish"}});
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "2_Dense/config.json");
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "my.module.Swish");
  with({{"activation_function", "torch.nn.modules.activation.Softmax"}});
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "Softmax' is not supported");
  with({{"in_features", 31}});
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "linear.weight has shape [16, 32], config.json says [16, 31]");
  with({{"out_features", 0}});
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "out_features");
  with({{"use_residual", true}});
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::Unsupported, "use_residual");
  // A Dense whose in_features is not the hidden size (shapes consistent with its own weights).
  write(cfg, c.dump());
  fs::copy_file(kDense / "3_Dense" / "config.json", cfg, fs::copy_options::overwrite_existing);
  fs::copy_file(kDense / "3_Dense" / "model.safetensors", dir / "2_Dense" / "model.safetensors", fs::copy_options::overwrite_existing);
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::InvalidFile, "does not match the model's hidden_size 32");
  fs::remove(dir / "2_Dense" / "model.safetensors");
  expect_error([&] { Model::from_pretrained(dir.string()); }, ErrorKind::NotFound, "2_Dense");
}

}  // namespace
}  // namespace bertcpp::apitest
