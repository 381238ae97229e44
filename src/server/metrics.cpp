#include "server/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace bertcpp::server {

static std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (!s.empty()) s += ',';
    s += k + "=\"" + escape_label(v) + "\"";
  }
  return s;
}

static std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void Metrics::counter_add(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = families_.try_emplace(name, Family{Type::Counter, {}, {}}).first->second;
  f.values[format_labels(labels)] += value;
}

void Metrics::gauge_set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = families_.try_emplace(name, Family{Type::Gauge, {}, {}}).first->second;
  f.values[format_labels(labels)] = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double value,
                      const std::vector<double>& buckets) {
  std::lock_guard lock(mutex_);
  auto& f = families_.try_emplace(name, Family{Type::Histogram, {}, {}}).first->second;
  auto [it, fresh] = f.histograms.try_emplace(format_labels(labels));
  Histogram& h = it->second;
  if (fresh) {
    h.bounds = buckets;
    h.counts.assign(buckets.size() + 1, 0);
  }
  size_t b = 0;
  while (b < h.bounds.size() && value > h.bounds[b]) ++b;
  h.counts[b]++;
  h.count++;
  h.sum += value;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto v = f->second.values.find(format_labels(labels));
  return v == f->second.values.end() ? 0 : v->second;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::Counter ? "counter" : f.type == Type::Gauge ? "gauge" : "histogram";
    out += "# TYPE " + name + " " + type + "\n";
    if (f.type != Type::Histogram) {
      for (const auto& [labels, v] : f.values)
        out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + num(v) + "\n";
      continue;
    }
    for (const auto& [labels, h] : f.histograms) {
      const std::string sep = labels.empty() ? "" : labels + ",";
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= h.bounds.size(); ++b) {
        cumulative += h.counts[b];
        const std::string le = b < h.bounds.size() ? num(h.bounds[b]) : "+Inf";
        out += name + "_bucket{" + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
      }
      const std::string l = labels.empty() ? "" : "{" + labels + "}";
      out += name + "_sum" + l + " " + num(h.sum) + "\n";
      out += name + "_count" + l + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

const std::vector<double>& Metrics::latency_buckets() {
  static const std::vector<double> b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,   0.5,   1,      2.5,   5,    10,    30};
  return b;
}

const std::vector<double>& Metrics::size_buckets() {
  static const std::vector<double> b{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  return b;
}

}  // namespace bertcpp::server
