// tokenizer.json loading, added tokens, one sequence through the pipeline, the library's Encoding
// operations (truncate with stride, merge with overflowing, pad) and decode.
#include <algorithm>
#include <atomic>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "tokenizer/hf.hpp"
#include "tokenizer/unicode.hpp"

namespace bertcpp::hf {

namespace {
std::atomic<uint64_t> g_next_cache_id{1};  // word caches are keyed by pipeline, not by address
}

// ------------------------------------------------------------------ Enc

namespace {
Enc slice_enc(const Enc& e, size_t a, size_t b) {
  Enc r;
  auto cp = [&](auto& dst, const auto& src) { dst.assign(src.begin() + static_cast<std::ptrdiff_t>(a), src.begin() + static_cast<std::ptrdiff_t>(b)); };
  cp(r.ids, e.ids);
  cp(r.type_ids, e.type_ids);
  cp(r.tokens, e.tokens);
  cp(r.words, e.words);
  cp(r.offsets, e.offsets);
  cp(r.special, e.special);
  cp(r.attn, e.attn);
  cp(r.seq, e.seq);
  return r;
}
}  // namespace

void Enc::reserve(size_t n) {
  ids.reserve(n);
  type_ids.reserve(n);
  tokens.reserve(n);
  words.reserve(n);
  offsets.reserve(n);
  special.reserve(n);
  attn.reserve(n);
  seq.reserve(n);
}

void Enc::truncate(size_t max_len, size_t stride, bool left) {
  const size_t n = ids.size();
  if (max_len >= n) return;
  if (max_len == 0) {
    Enc old = std::move(*this);
    *this = Enc();
    overflowing.push_back(std::move(old));
    return;
  }
  if (stride >= max_len)
    throw invalid_argument("truncation: stride (" + std::to_string(stride) + ") must be strictly less than max_len=" +
                           std::to_string(max_len) + " (the maximum length minus the special tokens)");
  const size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  bool end = false;
  if (!left) {
    for (size_t start = 0; start < n && !end; start += step) {
      const size_t stop = std::min(start + max_len, n);
      end = stop == n;
      parts.emplace_back(start, stop);
    }
  } else {
    for (size_t k = 0; k < n && !end; k += step) {
      const size_t stop = n - k;  // (0..n).rev().step_by(step) gives n-1-k; +1
      const size_t start = stop > max_len ? stop - max_len : 0;
      if (start < stop) {
        end = start == 0;
        parts.emplace_back(start, stop);
      }
    }
  }
  Enc out = slice_enc(*this, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) out.overflowing.push_back(slice_enc(*this, parts[i].first, parts[i].second));
  *this = std::move(out);
}

void Enc::merge_with(Enc pair) {
  std::vector<Enc> ov;
  for (const auto& so : overflowing) {
    Enc n = so;
    n.merge_with(pair);
    ov.push_back(std::move(n));
    for (const auto& po : pair.overflowing) {
      Enc m = so;
      m.merge_with(po);
      ov.push_back(std::move(m));
    }
  }
  for (const auto& po : pair.overflowing) {
    Enc n = *this;
    n.overflowing.clear();
    n.merge_with(po);
    ov.push_back(std::move(n));
  }
  append(std::move(pair));
  overflowing = std::move(ov);
}

void Enc::append(Enc&& o) {
  auto app = [](auto& a, auto& b) { a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end())); };
  app(ids, o.ids);
  app(type_ids, o.type_ids);
  app(tokens, o.tokens);
  app(words, o.words);
  app(offsets, o.offsets);
  app(special, o.special);
  app(attn, o.attn);
  app(seq, o.seq);
}

void Enc::pad(size_t len, int64_t pad_id, int64_t pad_type, const std::string& pad_tok, bool left) {
  for (auto& o : overflowing) o.pad(len, pad_id, pad_type, pad_tok, left);
  if (ids.size() >= len) return;
  const size_t k = len - ids.size();
  auto ins = [&](auto& v, const auto& val) { v.insert(left ? v.begin() : v.end(), k, val); };
  ins(ids, pad_id);
  ins(type_ids, pad_type);
  ins(tokens, pad_tok);
  ins(words, int64_t(-1));
  ins(attn, int64_t(0));
  ins(special, int64_t(1));
  ins(offsets, std::pair<int64_t, int64_t>(0, 0));
  ins(seq, -1);
}

// ------------------------------------------------------------------ loading

std::shared_ptr<Pipeline> Pipeline::load(const json& j, const std::string& file) {
  if (!j.is_object()) throw invalid_file(file, "expected a JSON object");
  auto p = std::make_shared<Pipeline>();
  p->cache_id = g_next_cache_id.fetch_add(1);
  p->model = make_model(field(j, "model", file), file + ": model");
  if (auto n = j.find("normalizer"); n != j.end() && !n->is_null()) p->normalizer = make_normalizer(*n, file + ": normalizer");
  if (auto n = j.find("pre_tokenizer"); n != j.end() && !n->is_null())
    p->pre_tokenizer = make_pre_tokenizer(*n, file + ": pre_tokenizer");
  if (auto n = j.find("decoder"); n != j.end() && !n->is_null()) p->decoder = make_decoder(*n, file + ": decoder");
  // Added tokens get ids as the library gives them when it reads the file (add_tokens).
  if (auto a = j.find("added_tokens"); a != j.end() && !a->is_null()) {
    if (!a->is_array()) throw invalid_file(file, "\"added_tokens\" must be a list");
    for (size_t i = 0; i < a->size(); ++i) {
      const json& e = (*a)[i];
      const std::string w = file + ": added_tokens[" + std::to_string(i) + "]";
      if (!e.is_object()) throw invalid_file(w, "must be an object");
      AddedToken t;
      t.content = get_str(e, "content", w);
      t.special = get_bool(e, "special", w, false);
      t.single_word = get_bool(e, "single_word", w, false);
      t.lstrip = get_bool(e, "lstrip", w, false);
      t.rstrip = get_bool(e, "rstrip", w, false);
      t.normalized = get_bool(e, "normalized", w, !t.special);
      if (t.content.empty()) continue;
      if (!io::is_valid_utf8(t.content)) throw invalid_file(w, "content is not valid UTF-8");
      int64_t id;
      if (auto it = p->added_by_content.find(t.content); it != p->added_by_content.end()) {
        id = it->second;
      } else if (auto mid = p->model->token_to_id(t.content)) {
        id = *mid;
      } else {
        const int64_t vs = static_cast<int64_t>(p->model->vocab_size());
        int64_t max = -1;
        for (const auto& x : p->added) max = std::max(max, x.id);
        id = max < 0 ? vs : ((max >= vs || vs == 0) ? max + 1 : vs);
      }
      t.id = id;
      t.pattern = to_u32(t.content);
      if (t.normalized && p->normalizer) {
        NStr n;
        n.s = t.pattern;
        for (uint32_t k = 0; k < n.s.size(); ++k) n.al.emplace_back(k, k + 1);
        p->normalizer->normalize(n);
        t.pattern = n.s;
      }
      p->added_by_content[t.content] = id;
      if (t.special) p->special_contents.insert(t.content);
      if (auto it = p->added_by_id.find(id); it != p->added_by_id.end()) {
        p->added[it->second] = t;
      } else {
        p->added_by_id[id] = p->added.size();
        p->added.push_back(t);
      }
    }
  }
  for (size_t i = 0; i < p->added.size(); ++i) {
    if (p->added[i].pattern.empty()) continue;
    (p->added[i].normalized ? p->norm_matchers : p->raw_matchers).push_back(i);
    (p->added[i].normalized ? p->norm_first : p->raw_first).push_back(p->added[i].pattern[0]);
  }
  for (auto* v : {&p->norm_first, &p->raw_first}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  for (char32_t c : p->raw_first)
    if (c < 128) p->raw_first_ascii[c] = true;
  for (char32_t c : p->norm_first)
    if (c < 128) p->norm_first_ascii[c] = true;
  if (auto n = j.find("post_processor"); n != j.end() && !n->is_null()) {
    Pipeline* raw = p.get();
    p->post = make_post_processor(*n, file + ": post_processor", [raw](const std::string& t) { return raw->token_to_id(t); });
  }
  return p;
}

std::optional<int64_t> Pipeline::token_to_id(std::string_view t) const {
  if (auto it = added_by_content.find(std::string(t)); it != added_by_content.end()) return it->second;
  return model->token_to_id(t);
}

std::optional<std::string> Pipeline::id_to_token(int64_t id) const {
  if (auto it = added_by_id.find(id); it != added_by_id.end()) return added[it->second].content;
  return model->id_to_token(id);
}

size_t Pipeline::vocab_size() const {
  size_t n = model->vocab_size();
  for (const auto& a : added)
    if (!model->id_to_token(a.id)) ++n;
  return n;
}

// ------------------------------------------------------------------ encoding one sequence

namespace {

// One per thread, for the pipeline that used it last.
WordCache& word_cache(uint64_t id) {
  thread_local WordCache c;
  if (c.owner != id || c.toks.size() >= WordCache::kMaxEntries) {
    c.index.clear();
    c.index.reserve(WordCache::kMaxEntries);
    c.toks.clear();
    c.toks.reserve(WordCache::kMaxEntries);
    c.owner = id;
  }
  return c;
}

// AddedVocabulary::find_matches: leftmost-longest over the patterns, then single_word / lstrip /
// rstrip. (added index or -1, begin, end) covering the text.
void find_added(const Pipeline& p, const std::vector<size_t>& matchers, const std::vector<char32_t>& first,
                const std::array<bool, 128>& first_ascii, const std::u32string& s,
                std::vector<std::tuple<long, size_t, size_t>>& out) {
  out.clear();
  if (s.empty()) {
    out.emplace_back(-1, 0, 0);
    return;
  }
  if (matchers.empty()) {
    out.emplace_back(-1, 0, s.size());
    return;
  }
  size_t start_offset = 0, i = 0;
  while (i < s.size()) {
    if (s[i] < 128 ? !first_ascii[s[i]] : !std::binary_search(first.begin(), first.end(), s[i])) {
      ++i;
      continue;
    }
    long best = -1;
    size_t best_len = 0;
    for (size_t m : matchers) {
      const std::u32string& pat = p.added[m].pattern;
      if (pat.size() > best_len && pat.size() <= s.size() - i && s.compare(i, pat.size(), pat) == 0) {
        best = static_cast<long>(m);
        best_len = pat.size();
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + best_len;
    const AddedToken& t = p.added[static_cast<size_t>(best)];
    i = stop;
    if (t.single_word) {
      const bool start_space = start == 0 || !is_word_char(s[start - 1]);
      const bool stop_space = stop == s.size() || !is_word_char(s[stop]);
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t ns = start;
      while (ns > 0 && is_rust_whitespace(s[ns - 1])) --ns;
      start = std::max(ns, start_offset);
    }
    if (t.rstrip) {
      while (stop < s.size() && is_rust_whitespace(s[stop])) ++stop;
      i = std::max(i, stop);
    }
    if (start_offset < start) out.emplace_back(-1, start_offset, start);
    out.emplace_back(best, start, stop);
    start_offset = stop;
  }
  if (start_offset != s.size()) out.emplace_back(-1, start_offset, s.size());
}

void split_added(const Pipeline& p, bool normalized, std::vector<Split>& splits) {
  const auto& matchers = normalized ? p.norm_matchers : p.raw_matchers;
  const auto& first = normalized ? p.norm_first : p.raw_first;
  const auto& first_ascii = normalized ? p.norm_first_ascii : p.raw_first_ascii;
  thread_local std::vector<Split> out;  // swapped with `splits`: its capacity is kept
  thread_local std::vector<std::tuple<long, size_t, size_t>> found;
  out.clear();
  for (auto& sp : splits) {
    if (sp.done) {
      out.push_back(std::move(sp));
      continue;
    }
    if (normalized && p.normalizer) p.normalizer->normalize(sp.n);
    find_added(p, matchers, first, first_ascii, sp.n.s, found);
    if (found.size() == 1 && std::get<0>(found[0]) < 0) {
      if (!sp.n.s.empty()) out.push_back(std::move(sp));
      continue;
    }
    for (auto [idx, b, e] : found) {
      Split x;
      x.n = sp.n.slice(b, e);
      if (x.n.s.empty()) continue;
      if (idx >= 0) {
        x.done = true;
        std::string value = to_utf8(x.n.s);
        const uint32_t len = static_cast<uint32_t>(value.size());
        x.toks.push_back({p.added[static_cast<size_t>(idx)].id, std::move(value), 0, len});
      }
      out.push_back(std::move(x));
    }
    recycle(std::move(sp.n));
  }
  splits.swap(out);
  trim_scratch(out);
  trim_scratch(found);
}

}  // namespace

Enc Pipeline::encode_sequence(const std::u32string& text, int type_id, std::optional<std::pair<size_t, bool>> limit) const {
  thread_local std::vector<Split> splits;  // this thread's pieces of the sequence being encoded
  splits.clear();
  splits.emplace_back();
  splits[0].n.s = text;
  splits[0].n.al.resize(text.size());
  for (uint32_t k = 0; k < text.size(); ++k) splits[0].n.al[k] = Align(k, k + 1);
  split_added(*this, false, splits);
  split_added(*this, true, splits);
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(splits);
  // The model's output for a word depends on the word only, so it is cached per thread (bounded;
  // emptied when full at the start of a sequence, so pointers into it stay valid for this one).
  WordCache& cache = word_cache(cache_id);
  thread_local std::vector<const std::vector<Tok>*> toks_of;
  toks_of.assign(splits.size(), nullptr);
  thread_local std::string utf8;
  auto tokenize = [&](size_t i) {
    Split& sp = splits[i];
    utf8.clear();
    tok::append_utf8(utf8, sp.n.s);
    sp.done = true;
    if (utf8.size() <= WordCache::kMaxKeyBytes) {
      if (const int64_t k = cache.index.find(utf8); k >= 0) {
        toks_of[i] = &cache.toks[static_cast<size_t>(k)];
        return;
      }
      model->tokenize(utf8, sp.toks);
      if (cache.toks.size() < WordCache::kMaxEntries) {
        cache.index.insert(utf8, static_cast<int64_t>(cache.toks.size()));
        cache.toks.push_back(sp.toks);
        toks_of[i] = &cache.toks.back();
      }
      return;
    }
    model->tokenize(utf8, sp.toks);
  };
  auto toks = [&](size_t i) -> const std::vector<Tok>& { return toks_of[i] ? *toks_of[i] : splits[i].toks; };
  size_t first = 0, last = splits.size();
  if (!limit) {
    for (size_t i = 0; i < splits.size(); ++i)
      if (!splits[i].done) tokenize(i);
  } else if (limit->second) {  // from the left: keep the last pieces
    size_t total = 0;
    first = splits.size();
    for (size_t i = splits.size(); i-- > 0;) {
      const bool had = splits[i].done;
      if (!had) tokenize(i);
      total += toks(i).size();
      first = i;
      if (!had && total >= limit->first) break;  // the library checks only after tokenizing
    }
  } else {
    size_t total = 0;
    last = 0;
    for (size_t i = 0; i < splits.size(); ++i) {
      if (!splits[i].done) {
        tokenize(i);
        total += toks(i).size();
        last = i + 1;
        if (total >= limit->first) break;
      } else {
        total += toks(i).size();
        last = i + 1;
      }
    }
  }
  Enc e;
  size_t ntok = 0;
  for (size_t w = first; w < last; ++w) ntok += toks(w).size();
  e.reserve(ntok);
  thread_local std::vector<uint32_t> byte_to_char;
  for (size_t w = first; w < last; ++w) {
    const Split& sp = splits[w];
    const std::vector<Tok>& tv = toks(w);
    if (tv.empty()) continue;
    const bool ascii = std::all_of(sp.n.s.begin(), sp.n.s.end(), [](char32_t c) { return c < 0x80; });
    size_t nbytes = sp.n.s.size();
    if (!ascii) {
      byte_to_char.clear();
      for (size_t k = 0; k < sp.n.s.size(); ++k) {
        const char32_t c = sp.n.s[k];
        const size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        for (size_t b = 0; b < len; ++b) byte_to_char.push_back(static_cast<uint32_t>(k));
      }
      nbytes = byte_to_char.size();
    }
    for (const Tok& t : tv) {
      std::pair<int64_t, int64_t> off;
      if (t.b >= t.e || t.e > nbytes || sp.n.al.empty()) {
        off = {sp.n.shift, sp.n.shift};
      } else if (ascii) {
        off = {sp.n.al[t.b].first, sp.n.al[t.e - 1].second};
      } else {
        off = {sp.n.al[byte_to_char[t.b]].first, sp.n.al[byte_to_char[t.e - 1]].second};
      }
      e.ids.push_back(t.id);
      e.tokens.push_back(t.value);
      e.words.push_back(static_cast<int64_t>(w - first));
      e.offsets.push_back(off);
    }
  }
  const size_t n = e.ids.size();
  e.type_ids.assign(n, type_id);
  e.special.assign(n, 0);
  e.attn.assign(n, 1);
  e.seq.assign(n, type_id);
  for (auto& sp : splits) recycle(std::move(sp.n));
  trim_scratch(splits);
  trim_scratch(toks_of);
  trim_scratch(byte_to_char);
  trim_scratch(utf8);
  return e;
}

// ------------------------------------------------------------------ decoding

std::string Pipeline::decode(std::span<const int64_t> ids, bool skip_special) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int64_t id : ids) {
    std::optional<std::string> t;
    bool special = false;
    if (auto it = added_by_id.find(id); it != added_by_id.end()) {
      const AddedToken& a = added[it->second];
      t = (a.normalized && normalizer && to_utf8(a.pattern) != a.content) ? to_utf8(a.pattern) : a.content;
      special = special_contents.count(*t) > 0;
    } else {
      t = model->id_to_token(id);
      if (t) special = special_contents.count(*t) > 0;
    }
    if (!t || (skip_special && special)) continue;
    toks.push_back(std::move(*t));
  }
  if (!decoder) {
    std::string s;
    for (size_t i = 0; i < toks.size(); ++i) {
      if (i) s.push_back(' ');
      s += toks[i];
    }
    return s;
  }
  decoder->decode_chain(toks);
  std::string s;
  for (const auto& t : toks) s += t;
  return s;
}

}  // namespace bertcpp::hf
