// The post-processing of transformers' question-answering and token-classification pipelines, on
// logits already computed: Model::answers() and Model::token_entities() run them after forward(),
// the server and the Python pipeline() call the same functions.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/tokenizer.hpp"

namespace bertcpp {

// ---------------------------------------------------------------------------------------------
// Question answering: transformers 4's QuestionAnsweringPipeline (transformers 5 removed it).

struct Answer {
  std::string text;    // context[start, end)
  int64_t start, end;  // code-point offsets into the context ((0, 0) for the impossible answer)
  double score;        // p_start * p_end, summed over candidates giving the same text
};

struct AnswerOptions {
  int64_t top_k = 1;                      // answers returned (fewer when there are fewer candidates)
  int64_t max_answer_len = 15;            // tokens in a span, at most
  bool handle_impossible_answer = false;  // also rank the empty answer, scored p_start[CLS] * p_end[CLS]
  bool align_to_words = true;             // widen a span to the whole words of its first and last tokens
  std::optional<int64_t> max_seq_len;     // window length in tokens; unset = min(the model's maximum, 384)
  std::optional<int64_t> doc_stride;      // tokens shared by consecutive windows; unset = min(max_seq_len / 2, 128)
  // The question as the first sequence (transformers: when the tokenizer pads on the right);
  // unset = the tokenizer's padding side.
  std::optional<bool> question_first;
};

// The (question, context) encoding cut into the pipeline's windows: each is the question (and
// special tokens) plus a slice of at most max_seq_len - (question and special tokens) context
// tokens, consecutive slices sharing doc_stride tokens (the tokenizers library's overflowing
// windows, for either tokenizer backend). Throws InvalidArgument when the question leaves no room.
std::vector<Encoding> answer_windows(const Tokenizer& tokenizer, std::string_view question, std::string_view context,
                                     int64_t max_seq_len, int64_t doc_stride, bool question_first);

// One window's encoding with the model's start/end logits (one per token of the window).
struct AnswerWindow {
  const Encoding* encoding;
  std::span<const float> start_logits, end_logits;
};

// transformers' QA post-processing over all windows of one context: per window the logits of
// tokens outside the context ([CLS] excepted) are masked, start and end softmaxed, spans scored
// p_start(i) * p_end(j) for i <= j < i + max_answer_len ([CLS] itself scored 0: never a span), the best
// (top_k * 2 + 10 when aligning to words, else top_k) kept and mapped to characters (whole words
// with align_to_words); candidates with the same text, case-insensitively, add their scores.
// Returns the best top_k, best first. cls_token_id: the token kept unmasked (none: every
// non-context token is masked).
std::vector<Answer> decode_answers(std::span<const AnswerWindow> windows, std::string_view context,
                                   std::optional<int64_t> cls_token_id, const AnswerOptions& options);

// ---------------------------------------------------------------------------------------------
// Token classification: transformers' TokenClassificationPipeline aggregation.

enum class Aggregation { None, Simple, First, Average, Max };
// "none" | "simple" | "first" | "average" | "max" (any case); anything else throws InvalidArgument.
Aggregation parse_aggregation(std::string_view name);
const char* aggregation_name(Aggregation a);

struct TokenClassificationOptions {
  Aggregation aggregation = Aggregation::None;
  std::vector<std::string> ignore_labels = {"O"};  // entities (or groups) with these labels are dropped
};

// One entity of the pipeline's output. Aggregation::None: one per token, `label` is transformers'
// "entity" and `index` the token's position; otherwise one per group, `label` its "entity_group"
// (the B-/I- prefix dropped) and no index.
struct TokenEntity {
  std::string label;
  float score;
  std::optional<int64_t> index;
  std::string word;
  int64_t start, end;  // code-point offsets into the text
};

// transformers' gather_pre_entities + aggregate + group_entities + the ignore_labels filter, on
// softmax probabilities [encoding.size(), labels] (row-major) of `encoding` (the text's encoding).
// Special tokens are skipped ([UNK] is not: it is a token of the text, its word the text's slice);
// a token is a word's continuation when its text is longer than its slice of the text (WordPiece's
// "##") and it is not the unknown token. Words: first takes the first token's scores, average the
// mean of its tokens', max those of the token with the highest score. Words and groups are joined
// as transformers' fast tokenizer decodes tokens (a vocab.txt folder: its converted WordPiece
// decoder, cleanup on). labels: id2label in id order (LABEL_<i> past its end).
std::vector<TokenEntity> aggregate_tokens(const Tokenizer& tokenizer, const Encoding& encoding, std::string_view text,
                                          std::span<const float> probabilities, std::span<const std::string> labels,
                                          const TokenClassificationOptions& options);

}  // namespace bertcpp
