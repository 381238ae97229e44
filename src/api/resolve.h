// Where the api layer turns "a model id or a local folder" into a local folder.
#pragma once
#include <filesystem>
#include <string>

namespace bertcpp::api {

// A local folder as is; otherwise a hub id resolved (and downloaded when missing) through the hub
// layer. Throws NotFound / Network / Unauthorized errors that name the id.
std::filesystem::path resolve_model_dir(const std::string& id_or_path, const std::string& revision);

}  // namespace bertcpp::api
