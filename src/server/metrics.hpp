// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format for GET /metrics. Thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bertcpp::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void counter_add(const std::string& name, const Labels& labels, double value = 1.0);
  void gauge_set(const std::string& name, const Labels& labels, double value);
  // Histograms use `buckets` given at first observation of `name` (upper bounds, ascending).
  void observe(const std::string& name, const Labels& labels, double value, const std::vector<double>& buckets);
  std::string render() const;
  // The current value of a counter or gauge (0 when absent); for tests.
  double value(const std::string& name, const Labels& labels) const;

  static const std::vector<double>& latency_buckets();  // seconds
  static const std::vector<double>& size_buckets();     // counts (batch sizes, tokens)

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // per bucket (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  enum class Type { Counter, Gauge, Histogram };
  struct Family {
    Type type;
    std::map<std::string, double> values;        // label string -> value
    std::map<std::string, Histogram> histograms;  // label string -> histogram
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

std::string format_labels(const Labels& labels);

}  // namespace bertcpp::server
