// The fast backend of bertcpp::Tokenizer: the tokenizers library's encode (truncation before the
// post-processor, the post-processor, padding) mapped onto EncodeOptions, and conversion of its
// Encoding (with overflowing windows) to bertcpp::Encoding.
#include <algorithm>

#include "bertcpp/error.h"
#include "tokenizer/hf.hpp"
#include "tokenizer/hf_backend.hpp"
#include "io/json_util.h"
#include "tokenizer/unicode.hpp"

namespace bertcpp::hf {

namespace {

struct Trunc {
  bool on = false;
  Truncation strategy = Truncation::LongestFirst;
  size_t max_length = 0;
  size_t stride = 0;
  bool left = false;
};

struct Plan {
  Trunc trunc;
  Padding pad = Padding::None;
  std::optional<size_t> pad_length;
};

// transformers' _get_padding_truncation_strategies, then the tokenizers parameters.
Plan plan_of(const Tokenizer::Impl& t, const EncodeOptions& o) {
  if (o.max_length && *o.max_length < 0) throw invalid_argument("max_length must be >= 0, got " + std::to_string(*o.max_length));
  if (o.stride < 0) throw invalid_argument("stride must be >= 0, got " + std::to_string(o.stride));
  Plan p;
  Truncation tr = o.truncation;
  Padding pad = o.padding;
  std::optional<int64_t> max_length = o.max_length;
  if (max_length && pad == Padding::None && tr == Truncation::None) tr = Truncation::LongestFirst;
  if (!max_length) {
    if (pad == Padding::MaxLength) {
      if (t.model_max_unbounded)
        pad = Padding::None;
      else
        max_length = t.model_max;
    }
    if (tr != Truncation::None) {
      if (t.model_max_unbounded)
        tr = Truncation::None;
      else
        max_length = t.model_max;
    }
  }
  if (tr != Truncation::None) {
    p.trunc.on = true;
    p.trunc.strategy = tr;
    p.trunc.max_length = static_cast<size_t>(*max_length);
    p.trunc.stride = static_cast<size_t>(o.stride);
    p.trunc.left = o.truncation_side == TruncationSide::Left;
  }
  p.pad = pad;
  if (pad == Padding::MaxLength && max_length) p.pad_length = static_cast<size_t>(*max_length);
  if (pad != Padding::None && !t.pad_id) throw invalid_argument("padding requested but the tokenizer has no pad token");
  return p;
}

void truncate_encodings(Enc& a, Enc* b, const Trunc& tr, size_t max_length) {
  if (max_length == 0) {
    a.truncate(0, tr.stride, tr.left);
    if (b) b->truncate(0, tr.stride, tr.left);
    return;
  }
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_length) return;
  const size_t to_remove = total - max_length;
  if (tr.strategy == Truncation::LongestFirst) {
    if (b) {
      size_t n1 = a.size(), n2 = b->size();
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      if (n1 > max_length)
        n2 = n1;
      else
        n2 = std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      a.truncate(n1, tr.stride, tr.left);
      b->truncate(n2, tr.stride, tr.left);
    } else {
      a.truncate(total - to_remove, tr.stride, tr.left);
    }
    return;
  }
  Enc* target = tr.strategy == Truncation::OnlyFirst ? &a : b;
  if (!target) throw invalid_argument("Truncation error: Second sequence not provided");
  if (target->size() > to_remove)
    target->truncate(target->size() - to_remove, tr.stride, tr.left);
  else
    throw invalid_argument("Truncation error: Sequence to truncate too short to respect the provided max_length");
}

Enc encode_enc(const Pipeline& p, const std::u32string& a, const std::u32string* b, bool add_special, const Trunc& tr) {
  // The library's newer early stop at max_length tokens (tokenize_with_limit) is not what the
  // released Python binding does (measured on the goldens: every pre-token is tokenized).
  const std::optional<std::pair<size_t, bool>> limit;
  Enc ea = p.encode_sequence(a, 0, tr.on && tr.strategy != Truncation::OnlySecond ? limit : std::nullopt);
  Enc eb;
  if (b) eb = p.encode_sequence(*b, 1, limit);
  if (tr.on) {
    const size_t added = p.post ? p.post->added_tokens(b != nullptr) : 0;
    size_t max_length = tr.max_length;
    if (add_special && added > 0) {
      if (max_length < added)
        throw invalid_argument("truncation: max_length " + std::to_string(max_length) + " is smaller than the " +
                               std::to_string(added) + " special tokens the post-processor adds");
      max_length -= added;
    }
    truncate_encodings(ea, b ? &eb : nullptr, tr, max_length);
  }
  std::vector<Enc> encs;
  encs.push_back(std::move(ea));
  if (b) encs.push_back(std::move(eb));
  if (p.post) p.post->process(encs, add_special);
  // Merging into an empty encoding gives the first one as it is.
  Enc out = std::move(encs.at(0));
  if (encs.size() > 1) {
    size_t n = 0;
    for (const auto& e : encs) n += e.size();
    out.reserve(n);
  }
  for (size_t i = 1; i < encs.size(); ++i) out.merge_with(std::move(encs[i]));
  return out;
}

struct Text {
  std::u32string u;
  std::vector<uint32_t> byte_pos;
  explicit Text(std::string_view s) {
    thread_local std::vector<char32_t> cps;
    tok::decode_utf8(s, cps, byte_pos);
    u.assign(cps.begin(), cps.end());
    trim_scratch(cps);
  }
};

Encoding convert(Enc&& e, const Text& a, const Text* b) {
  Encoding r;
  r.input_ids = std::move(e.ids);
  r.token_type_ids = std::move(e.type_ids);
  r.attention_mask = std::move(e.attn);
  r.tokens = std::move(e.tokens);
  r.offsets = std::move(e.offsets);
  r.word_ids = std::move(e.words);
  r.special_tokens_mask = std::move(e.special);
  r.sequence_ids = std::move(e.seq);
  r.byte_offsets.reserve(r.input_ids.size());
  for (size_t i = 0; i < r.input_ids.size(); ++i) {
    const Text* t = r.sequence_ids[i] == 0 ? &a : r.sequence_ids[i] == 1 ? b : nullptr;
    auto [s, f] = r.offsets[i];
    if (!t || s < 0 || f < s || static_cast<size_t>(f) >= t->byte_pos.size()) {
      r.byte_offsets.emplace_back(0, 0);
    } else {
      r.byte_offsets.emplace_back(t->byte_pos[static_cast<size_t>(s)], t->byte_pos[static_cast<size_t>(f)]);
    }
  }
  for (auto& o : e.overflowing) r.overflowing.push_back(convert(std::move(o), a, b));
  return r;
}

}  // namespace

std::vector<Encoding> encode_fast(const Tokenizer::Impl& t, std::span<const std::string_view> first,
                                  std::span<const std::string_view> second, const EncodeOptions& o, bool batch,
                                  const std::function<void(size_t, const std::function<void(size_t)>&)>& parallel) {
  const Pipeline& p = *t.fast;
  const Plan plan = plan_of(t, o);
  const bool pair = !second.empty();
  std::vector<Enc> encs(first.size());
  std::vector<Text> ta, tb;
  ta.reserve(first.size());
  for (auto s : first) ta.emplace_back(s);
  if (pair) {
    tb.reserve(second.size());
    for (auto s : second) tb.emplace_back(s);
  }
  parallel(first.size(), [&](size_t i) {
    encs[i] = encode_enc(p, ta[i].u, pair ? &tb[i].u : nullptr, o.add_special_tokens, plan.trunc);
  });
  std::optional<size_t> pad_len = plan.pad_length;
  if (plan.pad == Padding::Longest) {
    if (batch) {
      size_t m = 0;
      for (const auto& e : encs) m = std::max(m, e.size());
      pad_len = m;
    } else {
      pad_len.reset();  // one sequence: already the longest
    }
  }
  if (plan.pad != Padding::None && pad_len) {
    const bool left = o.padding_side ? *o.padding_side == TruncationSide::Left : t.cfg.padding_left;
    for (auto& e : encs) e.pad(*pad_len, *t.pad_id, 0, t.pad_token, left);
  }
  std::vector<Encoding> out;
  out.reserve(encs.size());
  for (size_t i = 0; i < encs.size(); ++i) out.push_back(convert(std::move(encs[i]), ta[i], pair ? &tb[i] : nullptr));
  return out;
}

void finish_fast(Tokenizer::Impl& t) {
  const Pipeline& p = *t.fast;
  t.model_max_unbounded = !t.cfg.model_max_length.has_value();
  t.model_max = t.cfg.model_max_length.value_or(INT64_MAX);
  auto pick = [&](const char* attr, std::initializer_list<const char*> guesses, std::optional<int64_t>& id, std::string& s) {
    if (auto it = t.cfg.specials.find(attr); it != t.cfg.specials.end() && !it->second.content.empty())
      if (auto x = p.token_to_id(it->second.content)) {
        id = *x;
        s = it->second.content;
        return;
      }
    for (const char* g : guesses)
      if (auto x = p.token_to_id(g)) {
        id = *x;
        s = g;
        return;
      }
  };
  pick("cls_token", {"[CLS]", "<s>"}, t.cls_id, t.cls_token);
  pick("sep_token", {"[SEP]", "</s>"}, t.sep_id, t.sep_token);
  pick("pad_token", {"[PAD]", "<pad>"}, t.pad_id, t.pad_token);
  pick("mask_token", {"[MASK]", "<mask>"}, t.mask_id, t.mask_token);
  std::optional<int64_t> unk;
  pick("unk_token", {"[UNK]", "<unk>"}, unk, t.unk_token);
  t.unk_id = unk.value_or(0);
  t.all_special_ids.clear();
  t.all_special_tokens.clear();
  for (const auto& a : p.added)
    if (a.special) {
      t.all_special_ids.push_back(a.id);
      t.all_special_tokens.push_back(a.content);
    }
}

}  // namespace bertcpp::hf

namespace bertcpp::hf {

void load_fast(Tokenizer::Impl& t, const std::string& tokenizer_json) {
  constexpr size_t kMaxBytes = size_t(512) << 20;
  std::string text = io::read_small_file(tokenizer_json, kMaxBytes);
  t.fast = Pipeline::load(io::parse_json_strict(text, tokenizer_json), tokenizer_json);
}

void load_sentencepiece(Tokenizer::Impl& t, const std::string& model_file, sp::Family family, const sp::Options& o) {
  constexpr size_t kMaxBytes = size_t(512) << 20;
  const std::string bytes = io::read_small_file(model_file, kMaxBytes);
  const auto j = sp::to_tokenizer_json(sp::parse_model(bytes, model_file), family, o, model_file);
  t.fast = Pipeline::load(j, model_file);
  t.converted_json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // a corrupt piece must not throw here
}

std::string decode_fast(const Tokenizer::Impl& t, std::span<const int64_t> ids, bool skip_special) {
  return t.fast->decode(ids, skip_special);
}

std::vector<std::string> ids_to_tokens_fast(const Tokenizer::Impl& t, std::span<const int64_t> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto s = t.fast->id_to_token(id);
    out.push_back(s ? *s : t.unk_token);
  }
  return out;
}

std::string tokens_to_string_fast(const Tokenizer::Impl& t, std::span<const std::string> tokens) {
  std::vector<std::string> v(tokens.begin(), tokens.end());
  if (!t.fast->decoder) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
    return s;
  }
  t.fast->decoder->decode_chain(v);
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

std::optional<int64_t> find_token_fast(const Tokenizer::Impl& t, std::string_view token) { return t.fast->token_to_id(token); }
size_t vocab_size_fast(const Tokenizer::Impl& t) { return t.fast->vocab_size(); }

}  // namespace bertcpp::hf
