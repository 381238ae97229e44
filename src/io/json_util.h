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

// Deepest nesting of arrays/objects any file or request may have. The parser is iterative but
// copy, dump() and the json -> ordered_json conversion recurse: deeper values would overflow the stack.
inline constexpr size_t kMaxJsonDepth = 128;

// Parses `text`; throws InvalidFile "<source>: ..." on invalid UTF-8, invalid JSON, nesting deeper
// than kMaxJsonDepth or a duplicate key (naming the key). (std::map objects: O(n log n) even for
// hostile headers with many keys.) Messages never quote the input (no "last read: '...'").
nlohmann::json parse_json_strict(std::string_view text, const std::string& source);

// nlohmann's exception text without its "[json.exception...] " prefix and without the
// "; last read: '...'" part, which quotes the input (request text must not reach the log).
std::string json_error_text(const nlohmann::json::exception& e);

// Short human description of a JSON value's type ("string", "integer", "array", ...).
std::string json_type_name(const nlohmann::json& j);

// The value as a non-negative/any int64 if it is a JSON integer (not a float, not a bool).
std::optional<int64_t> json_int64(const nlohmann::json& j);

// A short quoted rendering of a value for error messages (truncated; never walks more than a few
// levels or elements, so a huge or deep value costs nothing).
std::string json_brief(const nlohmann::json& j);

// `s` safe to print on a terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8
// become \xNN, so a hostile tensor name or file value cannot move the cursor or recolour output.
std::string printable(std::string_view s);

// Refuses `path` if it is a symbolic link whose target leaves the folder holding it (e.g.
// vocab.txt -> /etc/passwd). Allowed: targets inside that folder, and the Hugging Face cache's
// links from <repo>/snapshots/<rev>/... into <repo>/blobs/.
void check_link_stays_inside(const std::string& path);

// Reads a whole (small) file (checked with check_link_stays_inside); throws NotFound / InvalidFile, refuses files above `max_bytes` and
// anything that is not a regular file (a FIFO would block the open or the read forever).
std::string read_small_file(const std::string& path, size_t max_bytes);

}  // namespace bertcpp::io
