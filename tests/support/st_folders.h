// The sentence-transformers folders of tests/data/st_dense/expected.json (tools/make_st_dense.py
// records each folder's small files), rebuilt around tests/data/models/tiny-bert for the C++ tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace bertcpp::testsupport {

inline const std::filesystem::path& st_dense_dir() {
  static const std::filesystem::path d = std::filesystem::path(BERTCPP_TEST_DATA) / "st_dense";
  return d;
}

inline const nlohmann::json& st_dense_expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(st_dense_dir() / "expected.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  }();
  return j;
}

// Writes the folder of `variant` under root and returns it: tiny-bert, the recorded files, the Dense modules.
inline std::filesystem::path build_st_folder(const std::string& variant, const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  const fs::path dir = root / variant;
  const fs::path tiny = fs::path(BERTCPP_TEST_DATA) / "models" / "tiny-bert";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"}) fs::copy_file(tiny / f, dir / f);
  const nlohmann::json& files = st_dense_expected()["cases"][variant]["files"];
  for (const auto& [name, content] : files.items()) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << content.dump();
  }
  for (const auto& m : files["modules.json"]) {
    const std::string path = m["path"].get<std::string>();
    if (path.empty()) continue;
    if (fs::is_directory(st_dense_dir() / path)) fs::copy(st_dense_dir() / path, dir / path, fs::copy_options::recursive);
    fs::create_directories(dir / path);  // Normalize has no files
  }
  return dir;
}

}  // namespace bertcpp::testsupport
