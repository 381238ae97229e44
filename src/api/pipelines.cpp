// transformers' question-answering and token-classification post-processing (bertcpp/pipelines.hpp).
#include "bertcpp/pipelines.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "bertcpp/error.h"
#include "ops/softmax.h"
#include "tokenizer/unicode.hpp"

namespace bertcpp {

namespace {

// The window's tokens at `keep` (every per-token field; no overflowing).
Encoding pick(const Encoding& e, const std::vector<size_t>& keep) {
  Encoding r;
  auto copy = [&](const auto& from, auto& to) {
    if (from.size() != e.size()) return;
    to.reserve(keep.size());
    for (size_t i : keep) to.push_back(from[i]);
  };
  copy(e.input_ids, r.input_ids);
  copy(e.token_type_ids, r.token_type_ids);
  copy(e.attention_mask, r.attention_mask);
  copy(e.tokens, r.tokens);
  copy(e.offsets, r.offsets);
  copy(e.byte_offsets, r.byte_offsets);
  copy(e.sequence_ids, r.sequence_ids);
  copy(e.word_ids, r.word_ids);
  copy(e.special_tokens_mask, r.special_tokens_mask);
  return r;
}

// Per token its word: the fast backend's word ids, else WordPiece's rule (a "##" token continues
// the previous word of its sequence); -1 for special tokens.
std::vector<int64_t> words_of(const Encoding& e) {
  if (e.word_ids.size() == e.size()) return e.word_ids;
  std::vector<int64_t> w(e.size(), -1);
  int64_t next[2] = {0, 0};
  for (size_t i = 0; i < e.size(); ++i) {
    const int s = i < e.sequence_ids.size() ? e.sequence_ids[i] : -1;
    if (s < 0 || s > 1) continue;
    const bool continues = i < e.tokens.size() && e.tokens[i].rfind("##", 0) == 0 && next[s] > 0;
    w[i] = continues ? next[s] - 1 : next[s]++;
  }
  return w;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string lower(std::string_view s) { return tok::u32_to_utf8(tok::py_lower(tok::utf8_to_u32(s))); }

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// Tokens joined as transformers' pipeline joins them: its AutoTokenizer is the fast one, so a
// vocab.txt folder (the slow backend here) gets the converted WordPiece decoder ("##" glued, a
// space before other tokens, cleanup on), not the slow tokenizer's join.
std::string join_tokens(const Tokenizer& tokenizer, std::span<const std::string> tokens) {
  if (tokenizer.is_fast()) return tokenizer.convert_tokens_to_string(tokens);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (i > 0) t = t.rfind("##", 0) == 0 ? t.substr(2) : " " + t;
    for (auto [a, b] : {std::pair<std::string_view, std::string_view>{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","},
                        {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"},
                        {" 've", "'ve"}, {" 're", "'re"}})
      t = replaced(std::move(t), a, b);
    out += t;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Question answering

std::vector<Encoding> answer_windows(const Tokenizer& tokenizer, std::string_view question, std::string_view context,
                                     int64_t max_seq_len, int64_t doc_stride, bool question_first) {
  if (max_seq_len < 1) throw invalid_argument("question answering: max_seq_len must be >= 1, got " + std::to_string(max_seq_len));
  if (doc_stride < 0) throw invalid_argument("question answering: doc_stride must be >= 0, got " + std::to_string(doc_stride));
  if (doc_stride > max_seq_len)
    throw invalid_argument("question answering: doc_stride (" + std::to_string(doc_stride) + ") is larger than max_seq_len (" +
                           std::to_string(max_seq_len) + ")");
  EncodeOptions eo;  // whole, then cut: the windows are slices of the context's tokens
  const Encoding whole = question_first ? tokenizer.encode_pair(question, context, eo) : tokenizer.encode_pair(context, question, eo);
  const int cseq = question_first ? 1 : 0;
  size_t c0 = whole.size(), c1 = 0;
  for (size_t i = 0; i < whole.sequence_ids.size(); ++i)
    if (whole.sequence_ids[i] == cseq) c0 = std::min(c0, i), c1 = i + 1;
  if (c0 >= c1) throw invalid_argument("question answering: the context has no tokens");
  if (static_cast<int64_t>(whole.size()) <= max_seq_len) return {whole};
  const int64_t fixed = static_cast<int64_t>(whole.size() - (c1 - c0));
  const int64_t room = max_seq_len - fixed;
  if (room <= doc_stride)
    throw invalid_argument("question answering: the question and special tokens take " + std::to_string(fixed) +
                           " of max_seq_len " + std::to_string(max_seq_len) + " tokens, leaving " +
                           std::to_string(std::max<int64_t>(room, 0)) + " for the context; it must be more than doc_stride (" +
                           std::to_string(doc_stride) + ")");
  const size_t n = c1 - c0, len = static_cast<size_t>(room), step = static_cast<size_t>(room - doc_stride);
  std::vector<Encoding> windows;
  bool end = false;
  for (size_t start = 0; start < n && !end; start += step) {
    const size_t stop = std::min(start + len, n);
    end = stop == n;
    std::vector<size_t> keep;
    for (size_t i = 0; i < c0; ++i) keep.push_back(i);
    for (size_t i = c0 + start; i < c0 + stop; ++i) keep.push_back(i);
    for (size_t i = c1; i < whole.size(); ++i) keep.push_back(i);
    windows.push_back(pick(whole, keep));
  }
  return windows;
}

std::vector<Answer> decode_answers(std::span<const AnswerWindow> windows, std::string_view context,
                                   std::optional<int64_t> cls_token_id, const AnswerOptions& o) {
  if (o.top_k < 1) throw invalid_argument("question answering: top_k must be >= 1, got " + std::to_string(o.top_k));
  if (o.max_answer_len < 1)
    throw invalid_argument("question answering: max_answer_len must be >= 1, got " + std::to_string(o.max_answer_len));
  const bool question_first = o.question_first.value_or(true);
  const int cseq = question_first ? 1 : 0;
  // transformers asks for more candidates when aligning to words: several may become one answer.
  const size_t pre_top_k = static_cast<size_t>(o.align_to_words ? o.top_k * 2 + 10 : o.top_k);
  double min_null = 1e6;
  struct Found {
    Answer a;
    double score;
    std::string key;  // the text lower-cased: candidates with the same key add up
  };
  std::vector<Found> found;
  for (size_t w = 0; w < windows.size(); ++w) {
    const Encoding& e = *windows[w].encoding;
    const size_t n = e.size();
    if (windows[w].start_logits.size() != n || windows[w].end_logits.size() != n)
      throw invalid_argument("question answering: window " + std::to_string(w) + " has " + std::to_string(n) +
                             " tokens but " + std::to_string(windows[w].start_logits.size()) + " start and " +
                             std::to_string(windows[w].end_logits.size()) + " end logits");
    if (n == 0) continue;
    // transformers' p_mask: everything but the context (question first only), [CLS] kept; padding out.
    std::vector<char> allowed(n);
    for (size_t i = 0; i < n; ++i) {
      const bool masked = question_first && (i >= e.sequence_ids.size() || e.sequence_ids[i] != 1);
      const bool cls = cls_token_id && e.input_ids[i] == *cls_token_id;
      const bool attended = e.attention_mask.size() != n || e.attention_mask[i] != 0;
      allowed[i] = (!masked || cls) && attended;
    }
    auto probabilities = [&](std::span<const float> logits) {
      std::vector<float> masked(n);
      for (size_t i = 0; i < n; ++i) masked[i] = allowed[i] ? logits[i] : -10000.0f;
      return ops::probabilities(masked.data(), n);
    };
    std::vector<double> ps = probabilities(windows[w].start_logits), pe = probabilities(windows[w].end_logits);
    if (o.handle_impossible_answer) min_null = std::min(min_null, ps[0] * pe[0]);
    ps[0] = pe[0] = 0;
    struct Span {
      double score;
      size_t s, e;
    };
    std::vector<Span> spans;
    const auto max_len = static_cast<size_t>(o.max_answer_len);
    for (size_t s = 0; s < n; ++s) {
      if (!allowed[s]) continue;
      for (size_t t = s; t < n && t - s < max_len; ++t)
        if (allowed[t] && ps[s] * pe[t] > 0) spans.push_back({ps[s] * pe[t], s, t});  // [CLS] (scored 0) never a span
    }
    const size_t keep = std::min(pre_top_k, spans.size());
    std::partial_sort(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(keep), spans.end(),
                      [](const Span& a, const Span& b) { return a.score != b.score ? a.score > b.score : a.s != b.s ? a.s < b.s : a.e < b.e; });
    spans.resize(keep);
    const std::vector<int64_t> words = o.align_to_words ? words_of(e) : std::vector<int64_t>();
    // transformers' word_to_chars: the window's first and last token of that word in the context.
    auto word_tokens = [&](int64_t word) -> std::optional<std::pair<size_t, size_t>> {
      std::optional<std::pair<size_t, size_t>> r;
      for (size_t i = 0; i < n; ++i)
        if (words[i] == word && e.sequence_ids[i] == cseq) r = r ? std::pair(r->first, i) : std::pair(i, i);
      return r;
    };
    for (const Span& sp : spans) {
      size_t first = sp.s, last = sp.e;
      if (o.align_to_words && words[sp.s] >= 0 && words[sp.e] >= 0) {
        const auto a = word_tokens(words[sp.s]), b = word_tokens(words[sp.e]);
        if (a && b) first = a->first, last = b->second;  // else: the token offsets, as transformers' fallback
      }
      Answer ans;
      ans.start = e.offsets.at(first).first;
      ans.end = e.offsets.at(last).second;
      const auto b0 = static_cast<size_t>(e.byte_offsets.at(first).first), b1 = static_cast<size_t>(e.byte_offsets.at(last).second);
      if (ans.end > ans.start && b0 < b1 && b1 <= context.size()) ans.text = std::string(context.substr(b0, b1 - b0));
      std::string key = lower(ans.text);
      const auto same = std::find_if(found.begin(), found.end(), [&](const Found& f) { return f.key == key; });
      if (same != found.end()) {
        same->score += sp.score;
      } else {
        found.push_back({std::move(ans), sp.score, std::move(key)});
      }
    }
  }
  if (o.handle_impossible_answer) found.push_back({Answer{"", 0, 0, 0.0}, min_null, "\x01"});
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.score > b.score; });
  if (found.size() > static_cast<size_t>(o.top_k)) found.resize(static_cast<size_t>(o.top_k));
  std::vector<Answer> out;
  for (auto& f : found) {
    f.a.score = f.score;
    out.push_back(std::move(f.a));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Token classification

Aggregation parse_aggregation(std::string_view name) {
  const std::string n = lower(name);
  for (Aggregation a : {Aggregation::None, Aggregation::Simple, Aggregation::First, Aggregation::Average, Aggregation::Max})
    if (n == aggregation_name(a)) return a;
  throw invalid_argument("aggregation_strategy must be one of none, simple, first, average, max; got '" + std::string(name) + "'");
}

const char* aggregation_name(Aggregation a) {
  switch (a) {
    case Aggregation::None: return "none";
    case Aggregation::Simple: return "simple";
    case Aggregation::First: return "first";
    case Aggregation::Average: return "average";
    case Aggregation::Max: return "max";
  }
  return "none";
}

namespace {

struct PreEntity {
  std::string word;
  const float* scores;
  int64_t start, end, index;
  bool is_subword;
};

struct Scored {
  std::string label;
  double score;
  std::optional<int64_t> index;
  std::string word;
  int64_t start, end;
};

// transformers' get_tag: ("B" or "I", type); a label without a B-/I- prefix counts as "I".
std::pair<char, std::string> bi_tag(const std::string& label) {
  if (label.rfind("B-", 0) == 0 || label.rfind("I-", 0) == 0) return {label[0], label.substr(2)};
  return {'I', label};
}

}  // namespace

std::vector<TokenEntity> aggregate_tokens(const Tokenizer& tokenizer, const Encoding& enc, std::string_view text,
                                          std::span<const float> probabilities, std::span<const std::string> labels,
                                          const TokenClassificationOptions& options) {
  const size_t n = enc.size();
  if (n == 0) return {};
  if (probabilities.size() % n != 0 || probabilities.empty())
    throw invalid_argument("token classification: " + std::to_string(probabilities.size()) +
                           " probabilities for " + std::to_string(n) + " tokens");
  const size_t L = probabilities.size() / n;
  auto label_name = [&](size_t k) { return k < labels.size() ? labels[k] : "LABEL_" + std::to_string(k); };
  auto argmax = [&](const float* p) { return static_cast<size_t>(std::max_element(p, p + L) - p); };
  std::optional<int64_t> unk;
  try {
    unk = tokenizer.unk_token_id();
  } catch (const Error&) {  // a vocabulary without one
  }
  std::vector<PreEntity> pre;
  for (size_t i = 0; i < n; ++i) {
    const int64_t id = enc.input_ids[i];
    // transformers' special_tokens_mask: the template's tokens and special tokens in the text, not [UNK].
    const bool special = (i < enc.sequence_ids.size() && enc.sequence_ids[i] < 0) ||
                         (enc.special_tokens_mask.size() == n ? enc.special_tokens_mask[i] != 0
                                                              : tokenizer.is_special_id(id) && id != unk);
    if (special) continue;
    if (i < enc.attention_mask.size() && enc.attention_mask[i] == 0) continue;
    PreEntity p;
    p.start = enc.offsets.at(i).first;
    p.end = enc.offsets.at(i).second;
    const auto b0 = static_cast<size_t>(enc.byte_offsets.at(i).first), b1 = static_cast<size_t>(enc.byte_offsets.at(i).second);
    const std::string_view ref = b0 <= b1 && b1 <= text.size() ? text.substr(b0, b1 - b0) : std::string_view();
    p.word = i < enc.tokens.size() ? enc.tokens[i] : std::string(ref);
    p.is_subword = code_points(p.word) != code_points(ref);  // WordPiece's "##": a continuation
    if (id == unk) p.word = std::string(ref), p.is_subword = false;
    p.scores = probabilities.data() + i * L;
    p.index = static_cast<int64_t>(i);
    pre.push_back(std::move(p));
  }
  std::vector<Scored> entities;
  if (options.aggregation == Aggregation::None || options.aggregation == Aggregation::Simple) {
    for (const auto& p : pre) {
      const size_t k = argmax(p.scores);
      entities.push_back({label_name(k), p.scores[k], p.index, p.word, p.start, p.end});
    }
  } else {
    std::vector<std::vector<const PreEntity*>> words;
    for (const auto& p : pre) {
      if (!words.empty() && p.is_subword) {
        words.back().push_back(&p);
      } else {
        words.push_back({&p});
      }
    }
    for (const auto& w : words) {
      std::vector<double> scores(L);
      if (options.aggregation == Aggregation::First) {
        std::copy(w[0]->scores, w[0]->scores + L, scores.begin());
      } else if (options.aggregation == Aggregation::Max) {
        const PreEntity* best = w[0];
        for (const auto* p : w)
          if (*std::max_element(p->scores, p->scores + L) > *std::max_element(best->scores, best->scores + L)) best = p;
        std::copy(best->scores, best->scores + L, scores.begin());
      } else {
        for (const auto* p : w)
          for (size_t k = 0; k < L; ++k) scores[k] += p->scores[k];
        for (double& s : scores) s /= static_cast<double>(w.size());
      }
      const size_t k = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
      std::vector<std::string> tokens;
      for (const auto* p : w) tokens.push_back(p->word);
      entities.push_back({label_name(k), scores[k], std::nullopt, join_tokens(tokenizer, tokens),
                          w.front()->start, w.back()->end});
    }
  }
  std::vector<TokenEntity> out;
  auto ignored = [&](const std::string& label) {
    return std::find(options.ignore_labels.begin(), options.ignore_labels.end(), label) != options.ignore_labels.end();
  };
  if (options.aggregation == Aggregation::None) {
    for (auto& x : entities)
      if (!ignored(x.label)) out.push_back({std::move(x.label), static_cast<float>(x.score), x.index, std::move(x.word), x.start, x.end});
    return out;
  }
  // transformers' group_entities: a run of the same type whose later members are not B- is one group.
  auto close = [&](std::span<const Scored> group) {
    const std::string& first = group[0].label;
    const size_t dash = first.find('-');
    TokenEntity g;
    g.label = dash == std::string::npos ? first : first.substr(dash + 1);
    double sum = 0;
    std::vector<std::string> words;
    for (const auto& x : group) sum += x.score, words.push_back(x.word);
    g.score = static_cast<float>(sum / static_cast<double>(group.size()));
    g.word = join_tokens(tokenizer, words);
    g.start = group.front().start;
    g.end = group.back().end;
    if (!ignored(g.label)) out.push_back(std::move(g));
  };
  size_t begin = 0;
  for (size_t i = 1; i <= entities.size(); ++i) {
    if (i < entities.size()) {
      const auto [bi, tag] = bi_tag(entities[i].label);
      if (tag == bi_tag(entities[i - 1].label).second && bi != 'B') continue;
    }
    if (begin < i) close(std::span<const Scored>(entities).subspan(begin, i - begin));
    begin = i;
  }
  return out;
}

}  // namespace bertcpp
