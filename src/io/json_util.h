// Strict JSON parsing for files we do not trust (safetensors headers, config.json, index files):
// valid UTF-8, one JSON value, and no duplicate object keys (nlohmann::json would silently keep
// the last one, which would let two readers of the same file see different tensors).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bertcpp::io {

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Parses `text`; throws InvalidFile "<source>: ..." on invalid UTF-8, invalid JSON or a duplicate
// key (naming the key). (std::map objects: O(n log n) even for hostile headers with many keys.)
nlohmann::json parse_json_strict(std::string_view text, const std::string& source);

// Short human description of a JSON value's type ("string", "integer", "array", ...).
std::string json_type_name(const nlohmann::json& j);

// The value as a non-negative/any int64 if it is a JSON integer (not a float, not a bool).
std::optional<int64_t> json_int64(const nlohmann::json& j);

// A short quoted rendering of a value for error messages (truncated).
std::string json_brief(const nlohmann::json& j);

// Reads a whole (small) file; throws NotFound / InvalidFile, refuses files above `max_bytes`.
std::string read_small_file(const std::string& path, size_t max_bytes);

}  // namespace bertcpp::io
