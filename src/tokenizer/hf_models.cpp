// The models of tokenizer.json: WordPiece, BPE, Unigram, WordLevel.
#include <cmath>
#include <limits>
#include <queue>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "tokenizer/hf.hpp"

namespace bertcpp::hf {

namespace {

struct Vocab {
  tok::VocabMap map;
  std::vector<std::string> by_id;
  std::vector<bool> has;
  size_t count = 0;  // distinct tokens (the library's vocab size)

  void load_object(const json& v, const std::string& where) {
    if (!v.is_object()) throw invalid_file(where, "\"vocab\" must be an object {token: id}");
    map.reserve(v.size());
    int64_t max_id = -1;
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto id = io::json_int64(it.value());
      if (!id || *id < 0 || *id > static_cast<int64_t>(v.size()) * 4 + 1024 || *id >= (int64_t(1) << 31))
        throw invalid_file(where, "vocab[\"" + it.key() + "\"]: bad id " + io::json_brief(it.value()));
      map.insert(it.key(), *id);
      max_id = std::max(max_id, *id);
    }
    by_id.assign(static_cast<size_t>(max_id + 1), std::string());
    has.assign(static_cast<size_t>(max_id + 1), false);
    for (auto it = v.begin(); it != v.end(); ++it) {
      const int64_t id = map.find(it.key());
      if (id >= 0) {
        by_id[static_cast<size_t>(id)] = it.key();
        has[static_cast<size_t>(id)] = true;
      }
    }
    count = map.size();
  }
  std::optional<int64_t> find(std::string_view t) const {
    int64_t id = map.find(t);
    if (id < 0) return std::nullopt;
    return id;
  }
  std::optional<std::string> token(int64_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= by_id.size() || !has[static_cast<size_t>(id)]) return std::nullopt;
    return by_id[static_cast<size_t>(id)];
  }
};

std::optional<std::string> opt_str(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw invalid_file(where, std::string("\"") + key + "\" must be a string or null");
  return it->get<std::string>();
}

// ------------------------------------------------------------------ WordPiece

struct WordPiece : Model {
  Vocab vocab;
  tok::VocabMap cont;  // tokens starting with the prefix, keyed without it
  std::string unk = "[UNK]", prefix = "##";
  size_t max_chars = 100;

  void tokenize(std::string_view w, std::vector<Tok>& out) const override {
    size_t chars = 0;
    for (unsigned char c : w) chars += (c & 0xC0) != 0x80;
    auto unk_tok = [&] {
      auto id = vocab.find(unk);
      if (!id) throw invalid_argument("WordPiece: the unknown token \"" + unk + "\" is not in the vocabulary");
      out.push_back({*id, unk, 0, static_cast<uint32_t>(w.size())});
    };
    if (chars > max_chars) return unk_tok();
    const size_t first = out.size();
    size_t start = 0;
    while (start < w.size()) {
      size_t end = w.size();
      int64_t found = -1;
      while (start < end) {
        std::string_view sub = w.substr(start, end - start);
        found = start > 0 ? cont.find(sub) : vocab.map.find(sub);
        if (found >= 0) break;
        --end;
        while (end > start && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80) --end;
      }
      if (found < 0) {
        out.resize(first);
        return unk_tok();
      }
      std::string value = start > 0 ? prefix + std::string(w.substr(start, end - start)) : std::string(w.substr(start, end - start));
      out.push_back({found, std::move(value), static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
      start = end;
    }
  }
  std::optional<int64_t> token_to_id(std::string_view t) const override { return vocab.find(t); }
  std::optional<std::string> id_to_token(int64_t id) const override { return vocab.token(id); }
  size_t vocab_size() const override { return vocab.count; }
};

// ------------------------------------------------------------------ WordLevel

struct WordLevel : Model {
  Vocab vocab;
  std::string unk = "<unk>";
  void tokenize(std::string_view w, std::vector<Tok>& out) const override {
    if (auto id = vocab.find(w)) {
      out.push_back({*id, std::string(w), 0, static_cast<uint32_t>(w.size())});
      return;
    }
    auto id = vocab.find(unk);
    if (!id) throw invalid_argument("WordLevel: the unknown token \"" + unk + "\" is not in the vocabulary");
    out.push_back({*id, unk, 0, static_cast<uint32_t>(w.size())});
  }
  std::optional<int64_t> token_to_id(std::string_view t) const override { return vocab.find(t); }
  std::optional<std::string> id_to_token(int64_t id) const override { return vocab.token(id); }
  size_t vocab_size() const override { return vocab.count; }
};

// ------------------------------------------------------------------ BPE

struct BPE : Model {
  Vocab vocab;
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> merges;  // (a << 32 | b) -> (rank, new id)
  std::optional<std::string> unk, prefix, suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  int64_t byte_ids[256];

  struct Sym {
    int64_t id;
    long prev, next;
    size_t len;  // bytes
  };
  struct Cand {
    uint32_t rank;
    size_t pos;
    uint32_t new_id;
    bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };

  const std::pair<uint32_t, uint32_t>* merge_of(int64_t a, int64_t b) const {
    auto it = merges.find((static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b));
    return it == merges.end() ? nullptr : &it->second;
  }

  void tokenize(std::string_view w, std::vector<Tok>& out) const override {
    if (w.empty()) return;
    if (ignore_merges)
      if (auto id = vocab.find(w)) {
        out.push_back({*id, std::string(w), 0, static_cast<uint32_t>(w.size())});
        return;
      }
    std::vector<Sym> syms;
    syms.reserve(w.size());
    auto add = [&](int64_t id, size_t len) {
      long idx = static_cast<long>(syms.size());
      syms.push_back({id, idx - 1, idx + 1, len});
    };
    int64_t unk_pending = -1;  // a pending unknown symbol (id, byte length), fused when fuse_unk
    size_t unk_len = 0;
    std::string key;
    size_t i = 0;
    while (i < w.size()) {
      size_t n = 1;
      while (i + n < w.size() && (static_cast<unsigned char>(w[i + n]) & 0xC0) == 0x80) ++n;
      const bool first = i == 0, last = i + n == w.size();
      key.clear();
      if (!first && prefix) key += *prefix;
      key.append(w.substr(i, n));
      if (last && suffix) key += *suffix;
      if (auto id = vocab.find(key)) {
        if (unk_pending >= 0) {
          add(unk_pending, unk_len);
          unk_pending = -1;
        }
        add(*id, n);
      } else {
        bool done = false;
        if (byte_fallback) {
          bool all = true;
          for (unsigned char b : key)
            if (byte_ids[b] < 0) all = false;
          if (all) {
            for (unsigned char b : key) add(byte_ids[b], 1);
            done = true;
          }
        }
        if (!done && unk) {
          auto uid = vocab.find(*unk);
          if (!uid) throw invalid_argument("BPE: the unknown token \"" + *unk + "\" is not in the vocabulary");
          if (unk_pending >= 0 && fuse_unk) {
            unk_len += n;
          } else {
            if (unk_pending >= 0) add(unk_pending, unk_len);
            unk_pending = *uid;
            unk_len = n;
          }
        }
      }
      i += n;
    }
    if (unk_pending >= 0) add(unk_pending, unk_len);
    if (!syms.empty()) syms.back().next = -1;
    // Merge lowest rank first, leftmost among equal ranks.
    std::priority_queue<Cand> q;
    for (size_t k = 0; k + 1 < syms.size(); ++k)
      if (auto m = merge_of(syms[k].id, syms[k + 1].id)) q.push({m->first, k, m->second});
    while (!q.empty()) {
      Cand top = q.top();
      q.pop();
      Sym& s = syms[top.pos];
      if (s.len == 0 || s.next == -1) continue;
      const size_t next = static_cast<size_t>(s.next);
      const Sym right = syms[next];
      auto m = merge_of(s.id, right.id);
      if (!m || m->second != top.new_id) continue;
      s.id = top.new_id;
      s.len += right.len;
      s.next = right.next;
      syms[next].len = 0;
      if (right.next > -1 && static_cast<size_t>(right.next) < syms.size()) syms[static_cast<size_t>(right.next)].prev = static_cast<long>(top.pos);
      if (s.prev >= 0)
        if (auto pm = merge_of(syms[static_cast<size_t>(s.prev)].id, s.id)) q.push({pm->first, static_cast<size_t>(s.prev), pm->second});
      if (s.next >= 0 && static_cast<size_t>(s.next) < syms.size())
        if (auto nm = merge_of(s.id, syms[static_cast<size_t>(s.next)].id)) q.push({nm->first, top.pos, nm->second});
    }
    size_t off = 0;
    for (const auto& s : syms) {
      if (s.len == 0) continue;
      auto t = vocab.token(s.id);
      out.push_back({s.id, t ? *t : std::string(), static_cast<uint32_t>(off), static_cast<uint32_t>(off + s.len)});
      off += s.len;
    }
  }
  std::optional<int64_t> token_to_id(std::string_view t) const override { return vocab.find(t); }
  std::optional<std::string> id_to_token(int64_t id) const override { return vocab.token(id); }
  size_t vocab_size() const override { return vocab.count; }
};

// ------------------------------------------------------------------ Unigram

struct Unigram : Model {
  std::vector<std::pair<std::string, double>> pieces;
  tok::VocabMap ids;
  std::optional<int64_t> unk_id;
  bool byte_fallback = false;
  double min_score = std::numeric_limits<double>::infinity();
  // Byte trie: node -> sorted (byte, child); terminal flag.
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> kids;
    int64_t id = -1;
  };
  std::vector<Node> trie;
  std::vector<uint32_t> root_kid;  // 256 entries, 0 = none

  void build() {
    trie.assign(1, Node());
    for (size_t i = 0; i < pieces.size(); ++i) {
      uint32_t node = 0;
      for (unsigned char c : pieces[i].first) {
        auto& kids = trie[node].kids;
        auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(c, uint32_t(0)),
                                   [](const auto& a, const auto& b) { return a.first < b.first; });
        if (it != kids.end() && it->first == c) {
          node = it->second;
        } else {
          const uint32_t nn = static_cast<uint32_t>(trie.size());
          kids.insert(it, {c, nn});
          trie.emplace_back();
          node = nn;
        }
      }
      if (!pieces[i].first.empty()) trie[node].id = 1;  // terminal; the id is looked up (duplicates)
    }
    root_kid.assign(256, 0);
    for (auto [c, k] : trie[0].kids) root_kid[c] = k;
  }
  uint32_t step(uint32_t node, unsigned char c) const {
    if (node == 0) return root_kid[c];
    const auto& kids = trie[node].kids;
    auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(c, uint32_t(0)),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    return it != kids.end() && it->first == c ? it->second : 0;
  }

  void tokenize(std::string_view s, std::vector<Tok>& out) const override {
    if (s.empty()) return;
    struct Best {
      int64_t id = 0;
      double score = 0;
      long starts = -1;
    };
    const size_t n = s.size();
    const double unk_score = min_score - 10.0;
    std::vector<Best> best(n + 1);
    size_t pos = 0;
    while (pos < n) {
      const double here = best[pos].score;
      bool single = false;
      size_t mblen = 1;
      while (pos + mblen < n && (static_cast<unsigned char>(s[pos + mblen]) & 0xC0) == 0x80) ++mblen;
      uint32_t node = 0;
      for (size_t k = pos; k < n; ++k) {
        node = step(node, static_cast<unsigned char>(s[k]));
        if (!node) break;
        if (trie[node].id < 0) continue;
        const size_t end = k + 1;
        const int64_t id = ids.find(s.substr(pos, end - pos));
        const double cand = pieces[static_cast<size_t>(id)].second + here;
        Best& t = best[end];
        if (t.starts < 0 || cand > t.score) {
          t.score = cand;
          t.starts = static_cast<long>(pos);
          t.id = id;
        }
        if (end - pos == mblen) single = true;
      }
      if (!single) {
        if (!unk_id) throw invalid_argument("Unigram: a character is not in the vocabulary and the model has no unk_id");
        Best& t = best[pos + mblen];
        const double cand = unk_score + here;
        if (t.starts < 0 || cand > t.score) {
          t.score = cand;
          t.starts = static_cast<long>(pos);
          t.id = *unk_id;
        }
      }
      pos += mblen;
    }
    // Back-track; consecutive unknowns are fused.
    std::vector<std::pair<size_t, size_t>> spans;
    size_t end = n;
    size_t unk_end = 0;
    bool in_unk = false;
    while (end > 0) {
      const Best& b = best[end];
      const size_t start = static_cast<size_t>(b.starts);
      if (unk_id && b.id == *unk_id) {
        if (!in_unk) {
          unk_end = end;
          in_unk = true;
        }
      } else {
        if (in_unk) {
          spans.emplace_back(end, unk_end);
          in_unk = false;
        }
        spans.emplace_back(start, end);
      }
      end = start;
    }
    if (in_unk) spans.emplace_back(0, unk_end);
    std::reverse(spans.begin(), spans.end());
    for (auto [b, e] : spans) {
      std::string_view piece = s.substr(b, e - b);
      int64_t id = ids.find(piece);
      if (id < 0) {
        if (byte_fallback) {
          bool all = true;
          std::vector<int64_t> bids;
          char buf[8];
          for (unsigned char c : piece) {
            std::snprintf(buf, sizeof buf, "<0x%02X>", c);
            int64_t bid = ids.find(buf);
            if (bid < 0) {
              all = false;
              break;
            }
            bids.push_back(bid);
          }
          if (all) {
            size_t k = 0;
            for (unsigned char c : piece) {
              std::snprintf(buf, sizeof buf, "<0x%02X>", c);
              out.push_back({bids[k++], buf, static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
            }
            continue;
          }
        }
        if (!unk_id) throw invalid_argument("Unigram: no unk_id");
        id = *unk_id;
      }
      out.push_back({id, std::string(piece), static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
    }
  }
  std::optional<int64_t> token_to_id(std::string_view t) const override {
    int64_t id = ids.find(t);
    if (id < 0) return std::nullopt;
    return id;
  }
  std::optional<std::string> id_to_token(int64_t id) const override {
    if (id < 0 || static_cast<size_t>(id) >= pieces.size()) return std::nullopt;
    return pieces[static_cast<size_t>(id)].first;
  }
  size_t vocab_size() const override { return pieces.size(); }
};

}  // namespace

std::unique_ptr<Model> make_model(const json& j, const std::string& where) {
  if (!j.is_object()) throw invalid_file(where, "must be an object");
  std::string type;
  if (auto t = j.find("type"); t != j.end()) {
    if (!t->is_string()) throw invalid_file(where, "\"type\" must be a string");
    type = t->get<std::string>();
  } else if (j.contains("merges")) {
    type = "BPE";
  } else if (j.contains("vocab") && j["vocab"].is_array()) {
    type = "Unigram";
  } else if (j.contains("continuing_subword_prefix") || j.contains("max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    type = "WordLevel";
  }
  const std::string w = where + " (" + type + ")";
  if (type == "WordPiece") {
    auto m = std::make_unique<WordPiece>();
    m->vocab.load_object(field(j, "vocab", w), w);
    if (auto u = opt_str(j, "unk_token", w)) m->unk = *u;
    if (auto p = opt_str(j, "continuing_subword_prefix", w)) m->prefix = *p;
    if (auto x = j.find("max_input_chars_per_word"); x != j.end() && !x->is_null()) {
      auto v = io::json_int64(*x);
      if (!v || *v < 0) throw invalid_file(w, "\"max_input_chars_per_word\" must be a non-negative integer");
      m->max_chars = static_cast<size_t>(*v);
    }
    for (size_t id = 0; id < m->vocab.by_id.size(); ++id) {
      if (!m->vocab.has[id]) continue;
      const std::string& s = m->vocab.by_id[id];
      if (s.compare(0, m->prefix.size(), m->prefix) == 0) m->cont.insert(std::string_view(s).substr(m->prefix.size()), static_cast<int64_t>(id));
    }
    return m;
  }
  if (type == "WordLevel") {
    auto m = std::make_unique<WordLevel>();
    m->vocab.load_object(field(j, "vocab", w), w);
    if (auto u = opt_str(j, "unk_token", w)) m->unk = *u;
    return m;
  }
  if (type == "BPE") {
    auto m = std::make_unique<BPE>();
    m->vocab.load_object(field(j, "vocab", w), w);
    if (auto d = j.find("dropout"); d != j.end() && !d->is_null()) {
      if (!d->is_number() || d->get<double>() != 0.0)
        throw unsupported(w + ": BPE dropout " + io::json_brief(*d) + " is not supported (only null or 0: it makes encoding random)");
    }
    m->unk = opt_str(j, "unk_token", w);
    m->prefix = opt_str(j, "continuing_subword_prefix", w);
    m->suffix = opt_str(j, "end_of_word_suffix", w);
    m->fuse_unk = get_bool(j, "fuse_unk", w, false);
    m->byte_fallback = get_bool(j, "byte_fallback", w, false);
    m->ignore_merges = get_bool(j, "ignore_merges", w, false);
    char buf[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      auto id = m->vocab.find(buf);
      m->byte_ids[b] = id ? *id : -1;
    }
    const json& merges = field(j, "merges", w);
    if (!merges.is_array()) throw invalid_file(w, "\"merges\" must be a list");
    const size_t plen = m->prefix ? m->prefix->size() : 0;
    m->merges.reserve(merges.size() * 2);
    for (size_t r = 0; r < merges.size(); ++r) {
      const json& e = merges[r];
      std::string a, b;
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          throw invalid_file(w, "merges[" + std::to_string(r) + "] must be \"a b\", got \"" + s + "\"");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        throw invalid_file(w, "merges[" + std::to_string(r) + "] must be \"a b\" or [a, b], got " + io::json_brief(e));
      }
      auto ia = m->vocab.find(a), ib = m->vocab.find(b);
      if (!ia || !ib) throw invalid_file(w, "merges[" + std::to_string(r) + "]: \"" + (ia ? b : a) + "\" is not in the vocabulary");
      if (b.size() < plen) throw invalid_file(w, "merges[" + std::to_string(r) + "]: \"" + b + "\" is shorter than the prefix");
      const std::string merged = a + b.substr(plen);
      auto in = m->vocab.find(merged);
      if (!in) throw invalid_file(w, "merges[" + std::to_string(r) + "]: \"" + merged + "\" is not in the vocabulary");
      m->merges[(static_cast<uint64_t>(*ia) << 32) | static_cast<uint64_t>(*ib)] = {static_cast<uint32_t>(r), static_cast<uint32_t>(*in)};
    }
    return m;
  }
  if (type == "Unigram") {
    auto m = std::make_unique<Unigram>();
    const json& v = field(j, "vocab", w);
    if (!v.is_array() || v.empty()) throw invalid_file(w, "\"vocab\" must be a non-empty list of [piece, score]");
    m->pieces.reserve(v.size());
    m->ids.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const json& e = v[i];
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
        throw invalid_file(w, "vocab[" + std::to_string(i) + "] must be [piece, score], got " + io::json_brief(e));
      const double sc = e[1].get<double>();
      m->pieces.emplace_back(e[0].get<std::string>(), sc);
      m->ids.insert(m->pieces.back().first, static_cast<int64_t>(i));
      m->min_score = std::min(m->min_score, sc);
    }
    if (auto u = j.find("unk_id"); u != j.end() && !u->is_null()) {
      auto id = io::json_int64(*u);
      if (!id || *id < 0 || static_cast<size_t>(*id) >= m->pieces.size())
        throw invalid_file(w, "\"unk_id\" " + io::json_brief(*u) + " is not an index into the vocabulary");
      m->unk_id = *id;
    }
    m->byte_fallback = get_bool(j, "byte_fallback", w, false);
    m->build();
    return m;
  }
  throw unsupported(where + ": model type \"" + type + "\" is not supported");
}

}  // namespace bertcpp::hf
