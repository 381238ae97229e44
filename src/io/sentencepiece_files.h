// The SentencePiece model file names a folder without tokenizer.json is loaded from, in the order
// they are looked for (the tokenizer reads them, the hub layer downloads them).
#pragma once

namespace bertcpp::io {

inline constexpr const char* kSentencePieceFiles[] = {"sentencepiece.bpe.model", "spiece.model", "spm.model"};

}  // namespace bertcpp::io
