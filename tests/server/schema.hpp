// A small JSON-schema checker for the subset of OpenAPI 3 that TEI's openapi.json uses: $ref, type,
// nullable, properties, required, additionalProperties, items, oneOf, anyOf, allOf, enum, minimum,
// minItems, maxItems, format int32. check() returns the list of violations (empty = valid).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace schema {

using nlohmann::json;

class Checker {
 public:
  explicit Checker(json spec) : spec_(std::move(spec)) {}

  const json& resolve(const json& s) const {
    const json* cur = &s;
    for (int depth = 0; cur->is_object() && cur->contains("$ref") && depth < 32; ++depth) {
      const std::string ref = (*cur)["$ref"].get<std::string>();
      if (ref.rfind("#/", 0) != 0) throw std::runtime_error("unsupported $ref " + ref);
      cur = &spec_.at(json::json_pointer(ref.substr(1)));
    }
    return *cur;
  }

  std::vector<std::string> check(const json& value, const json& schema, const std::string& path = "$") const {
    std::vector<std::string> errors;
    check_into(value, schema, path, errors);
    return errors;
  }

  // The schema of a response: paths[route][method].responses[status].content["application/json"].
  const json& response_schema(const std::string& route, const std::string& method, int status) const {
    return spec_.at("paths").at(route).at(method).at("responses").at(std::to_string(status)).at("content").at(
        "application/json").at("schema");
  }
  const json& request_schema(const std::string& route) const {
    return spec_.at("paths").at(route).at("post").at("requestBody").at("content").at("application/json").at("schema");
  }
  bool has_response(const std::string& route, const std::string& method, int status) const {
    const auto& r = spec_.at("paths").at(route).at(method).at("responses");
    return r.contains(std::to_string(status));
  }

 private:
  static bool type_matches(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return false;
  }

  void check_into(const json& v, const json& raw, const std::string& path, std::vector<std::string>& errors) const {
    const json& s = resolve(raw);
    if (!s.is_object()) return;
    if (v.is_null() && s.value("nullable", false)) return;
    if (s.contains("allOf"))
      for (const auto& sub : s["allOf"]) check_into(v, sub, path, errors);
    if (s.contains("oneOf")) {
      int matches = 0;
      std::vector<std::string> all;
      for (const auto& sub : s["oneOf"]) {
        auto e = check(v, sub, path);
        if (e.empty()) ++matches;
        else all.insert(all.end(), e.begin(), e.end());
      }
      // Exactly one must match; an empty array matches every array alternative and is accepted.
      if (matches == 0)
        errors.push_back(path + ": matches no oneOf alternative (" + (all.empty() ? "" : all.front()) + ")");
      else if (matches > 1 && !(v.is_array() && v.empty()))
        errors.push_back(path + ": matches " + std::to_string(matches) + " oneOf alternatives");
    }
    if (s.contains("anyOf")) {
      bool any = false;
      for (const auto& sub : s["anyOf"]) any |= check(v, sub, path).empty();
      if (!any) errors.push_back(path + ": matches no anyOf alternative");
    }
    if (s.contains("type")) {
      const std::string type = s["type"].get<std::string>();
      if (!type_matches(v, type)) {
        errors.push_back(path + ": expected " + type + ", got " + v.dump().substr(0, 80));
        return;
      }
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found |= e == v;
      if (!found) errors.push_back(path + ": " + v.dump() + " is not one of " + s["enum"].dump());
    }
    if (s.contains("minimum") && v.is_number()) {
      if (v.get<double>() < s["minimum"].get<double>())
        errors.push_back(path + ": " + v.dump() + " < minimum " + s["minimum"].dump());
    }
    if (s.value("format", "") == "int32" && v.is_number_integer()) {
      const auto x = v.get<int64_t>();
      if (x < INT32_MIN || x > static_cast<int64_t>(UINT32_MAX)) errors.push_back(path + ": not a 32-bit integer");
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>())
        errors.push_back(path + ": fewer than minItems");
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>())
        errors.push_back(path + ": more than maxItems");
      if (s.contains("items"))
        for (size_t i = 0; i < v.size(); ++i) check_into(v[i], s["items"], path + "[" + std::to_string(i) + "]", errors);
    }
    if (v.is_object()) {
      if (s.contains("required"))
        for (const auto& r : s["required"])
          if (!v.contains(r.get<std::string>())) errors.push_back(path + ": missing required `" + r.get<std::string>() + "`");
      const json props = s.value("properties", json::object());
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (props.contains(it.key())) check_into(it.value(), props[it.key()], path + "." + it.key(), errors);
        else if (s.contains("additionalProperties") && s["additionalProperties"].is_object())
          check_into(it.value(), s["additionalProperties"], path + "." + it.key(), errors);
        else if (s.contains("additionalProperties") && s["additionalProperties"] == false)
          errors.push_back(path + ": unexpected property `" + it.key() + "`");
      }
    }
  }

  json spec_;
};

}  // namespace schema
