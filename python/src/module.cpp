// bertcpp._bertcpp: the thin pybind11 layer under the `bertcpp` Python package.
// The transformers-shaped API (BertTokenizer, BertModel, ...) is pure Python on top of this
// module (python/bertcpp/*.py). Here: engine objects, numpy conversion (zero-copy outputs: the
// numpy array owns a shallow copy of the engine Tensor), the GIL released around engine work, and
// bertcpp::Error mapped onto Python exception classes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/resolve.h"
#include "bertcpp/bertcpp.hpp"

namespace py = pybind11;
using namespace bertcpp;

namespace {

// ---------------------------------------------------------------------------------------------
// Exceptions. Every class derives from bertcpp.BertcppError (a RuntimeError) and, where Python
// has a natural builtin, from that too: catching ValueError / FileNotFoundError works as usual.
PyObject* g_base_error = nullptr;
PyObject* g_invalid_argument = nullptr;
PyObject* g_invalid_file = nullptr;
PyObject* g_not_found = nullptr;
PyObject* g_network = nullptr;
PyObject* g_unsupported = nullptr;
PyObject* g_unauthorized = nullptr;

PyObject* new_exception(py::module_& m, const char* name, const char* doc, std::vector<PyObject*> bases) {
  const std::string qualified = std::string("bertcpp.") + name;
  py::tuple bases_tuple(bases.size());
  for (size_t i = 0; i < bases.size(); ++i) bases_tuple[i] = py::reinterpret_borrow<py::object>(bases[i]);
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases_tuple.ptr(), nullptr);
  if (!cls) throw py::error_already_set();
  // Intentionally leaked: the class must outlive every translated exception.
  m.attr(name) = py::reinterpret_borrow<py::object>(cls);
  return cls;
}

void register_exceptions(py::module_& m) {
  g_base_error = new_exception(m, "BertcppError", "An error reported by the bertcpp engine.", {PyExc_RuntimeError});
  g_invalid_argument = new_exception(m, "InvalidArgumentError", "A bad argument (also a ValueError).",
                                     {g_base_error, PyExc_ValueError});
  g_invalid_file = new_exception(m, "InvalidFileError",
                                 "A model or tokenizer file is malformed (also an OSError, like transformers).",
                                 {g_base_error, PyExc_OSError});
  g_not_found = new_exception(m, "NotFoundError",
                              "A file, model id, tensor or revision does not exist (also a FileNotFoundError).",
                              {g_base_error, PyExc_FileNotFoundError});
  g_network = new_exception(m, "NetworkError", "A download failed (also a ConnectionError).",
                            {g_base_error, PyExc_ConnectionError});
  g_unsupported = new_exception(m, "UnsupportedError",
                                "Valid but not supported by bertcpp (also a NotImplementedError).",
                                {g_base_error, PyExc_NotImplementedError});
  g_unauthorized = new_exception(m, "UnauthorizedError",
                                 "A gated or private repository without a valid token (also a PermissionError).",
                                 {g_base_error, PyExc_PermissionError});
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* cls = g_base_error;
      switch (e.kind()) {
        case ErrorKind::InvalidArgument: cls = g_invalid_argument; break;
        case ErrorKind::InvalidFile: cls = g_invalid_file; break;
        case ErrorKind::NotFound: cls = g_not_found; break;
        case ErrorKind::Network: cls = g_network; break;
        case ErrorKind::Unsupported: cls = g_unsupported; break;
        case ErrorKind::Unauthorized: cls = g_unauthorized; break;
        case ErrorKind::Internal: cls = g_base_error; break;
      }
      PyErr_SetString(cls, e.what());
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Tensor <-> numpy.

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::F32: return py::dtype::of<float>();
    case DType::F64: return py::dtype::of<double>();
    case DType::F16: return py::dtype("float16");
    case DType::I64: return py::dtype::of<int64_t>();
    case DType::I32: return py::dtype::of<int32_t>();
    case DType::I16: return py::dtype::of<int16_t>();
    case DType::I8: return py::dtype::of<int8_t>();
    case DType::U8: return py::dtype::of<uint8_t>();
    case DType::BOOL: return py::dtype("bool");
    case DType::BF16: break;
  }
  throw Error(ErrorKind::Internal, "no numpy dtype for " + std::string(dtype_name(t)));
}

// A numpy array viewing the tensor's memory; the array's base is a capsule owning a Tensor copy
// (copies share memory), so the memory lives as long as the array. BF16 (no numpy type) is
// converted to float32.
py::object to_numpy(Tensor t) {
  if (!t.defined()) return py::none();
  if (t.dtype() == DType::BF16) t = t.to_f32();
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = static_cast<py::ssize_t>(dtype_size(t.dtype()));
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<py::ssize_t>(shape[i], 1);
  }
  const bool read_only = t.is_borrowed();
  void* data = t.raw();
  auto* holder = new Tensor(std::move(t));
  py::capsule owner(holder, [](void* p) { delete static_cast<Tensor*>(p); });
  py::array arr(numpy_dtype(holder->dtype()), shape, strides, data, owner);
  if (read_only) arr.attr("setflags")(py::arg("write") = false);
  return arr;
}

py::tuple to_numpy_tuple(const std::vector<Tensor>& ts) {
  py::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = to_numpy(ts[i]);
  return out;
}

using I64Array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// Copies a [batch, seq] (or [seq], taken as batch 1) integer array into an owned I64 tensor.
Tensor to_i64_tensor(const I64Array& a, const char* name) {
  if (a.ndim() != 1 && a.ndim() != 2)
    throw invalid_argument(std::string(name) + " must have 2 dimensions [batch, sequence], got " +
                           std::to_string(a.ndim()));
  Shape shape = a.ndim() == 2 ? Shape{a.shape(0), a.shape(1)} : Shape{1, a.shape(0)};
  Tensor t = Tensor::empty(DType::I64, shape);
  if (t.nbytes()) std::memcpy(t.raw(), a.data(), t.nbytes());
  return t;
}

ComputeType parse_compute(const std::string& s) {
  if (s == "f32" || s == "float32" || s == "fp32") return ComputeType::F32;
  if (s == "bf16" || s == "bfloat16") return ComputeType::BF16;
  if (s == "int8") return ComputeType::Int8;
  throw invalid_argument("compute must be 'f32', 'bf16' or 'int8', got '" + s + "'");
}

Truncation parse_truncation(const std::string& s) {
  if (s == "none" || s == "do_not_truncate") return Truncation::None;
  if (s == "longest_first") return Truncation::LongestFirst;
  if (s == "only_first") return Truncation::OnlyFirst;
  if (s == "only_second") return Truncation::OnlySecond;
  throw invalid_argument("truncation must be one of 'longest_first', 'only_first', 'only_second', "
                         "'do_not_truncate', got '" + s + "'");
}

Padding parse_padding(const std::string& s) {
  if (s == "none" || s == "do_not_pad") return Padding::None;
  if (s == "longest") return Padding::Longest;
  if (s == "max_length") return Padding::MaxLength;
  throw invalid_argument("padding must be one of 'longest', 'max_length', 'do_not_pad', got '" + s + "'");
}

TruncationSide parse_side(const std::string& s) {
  if (s == "right") return TruncationSide::Right;
  if (s == "left") return TruncationSide::Left;
  throw invalid_argument("truncation_side must be 'right' or 'left', got '" + s + "'");
}

TokenizerOptions tokenizer_options(std::optional<bool> do_lower_case, std::optional<bool> strip_accents,
                                   std::optional<bool> tokenize_chinese_chars,
                                   std::optional<std::vector<std::string>> never_split,
                                   std::optional<int64_t> model_max_length) {
  TokenizerOptions o;
  o.do_lower_case = do_lower_case;
  o.strip_accents = strip_accents;
  o.tokenize_chinese_chars = tokenize_chinese_chars;
  o.never_split = std::move(never_split);
  o.model_max_length = model_max_length;
  return o;
}

py::list pairs_to_list(const std::vector<std::pair<int64_t, int64_t>>& v) {
  py::list out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = py::make_tuple(v[i].first, v[i].second);
  return out;
}

// Checks ids against the model's tables before the engine sees them (a clear ValueError instead
// of an out-of-bounds read, whatever the engine checks itself).
void check_range(const Tensor& t, int64_t limit, const char* name, const char* what) {
  if (!t.defined()) return;
  for (int64_t v : t.span<int64_t>())
    if (v < 0 || v >= limit)
      throw invalid_argument(std::string(name) + " contains " + std::to_string(v) + ", outside [0, " +
                             std::to_string(limit) + ") (" + what + ")");
}

void add_tensor(py::dict& d, const char* name, const Tensor& t) {
  if (t.defined()) d[name] = to_numpy(t);
}

// Encoding helpers for the tokenizers-style maps.
py::list optional_ids(const Encoding& e, const std::vector<int64_t>& v) {
  if (v.size() != e.size())
    throw unsupported("word ids are only available with the fast tokenizer (a folder's tokenizer.json)");
  py::list out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] < 0 ? py::none() : py::object(py::int_(v[i]));
  return out;
}

void need_words(const Encoding& e, const char* what) {
  if (e.word_ids.size() != e.size())
    throw unsupported(std::string(what) + "() is only available with the fast tokenizer (a folder's tokenizer.json)");
}

size_t token_index(const Encoding& e, int64_t token) {
  const int64_t n = static_cast<int64_t>(e.size());
  if (token < 0) token += n;  // Python indexing, as the tokenizers library accepts
  if (token < 0 || token >= n)
    throw py::index_error("token index " + std::to_string(token) + " out of range for an encoding of " +
                          std::to_string(n) + " tokens");
  return static_cast<size_t>(token);
}

// [first, last + 1) of the tokens of word `word` in sequence `seq`, as Encoding.word_to_tokens.
std::optional<std::pair<int64_t, int64_t>> word_tokens(const Encoding& e, int64_t word, int seq) {
  std::optional<std::pair<int64_t, int64_t>> r;
  for (size_t i = 0; i < e.size(); ++i) {
    if (e.word_ids[i] != word || e.sequence_ids[i] != seq) continue;
    if (!r) r = std::pair<int64_t, int64_t>(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1);
    r->second = static_cast<int64_t>(i) + 1;
  }
  return r;
}

}  // namespace

PYBIND11_MODULE(_bertcpp, m) {
  m.doc() = "bertcpp engine bindings (use the `bertcpp` package, not this module directly).";
  register_exceptions(m);

  // ------------------------------------------------------------------------------ Encoding
  py::class_<Encoding>(m, "Encoding", "One tokenized text (or text pair).")
      .def_property_readonly("input_ids", [](const Encoding& e) { return e.input_ids; })
      .def_property_readonly("token_type_ids", [](const Encoding& e) { return e.token_type_ids; })
      .def_property_readonly("attention_mask", [](const Encoding& e) { return e.attention_mask; })
      .def_property_readonly("tokens", [](const Encoding& e) { return e.tokens; })
      .def_property_readonly("offsets", [](const Encoding& e) { return pairs_to_list(e.offsets); },
                             "(begin, end) per token in code points of the original text; (0, 0) for special tokens")
      .def_property_readonly("byte_offsets", [](const Encoding& e) { return pairs_to_list(e.byte_offsets); })
      .def_property_readonly("sequence_ids", [](const Encoding& e) { return e.sequence_ids; },
                             "0 / 1 for the first / second text, -1 for special and padding tokens")
      .def_property_readonly("ids", [](const Encoding& e) { return e.input_ids; })
      .def_property_readonly("type_ids", [](const Encoding& e) { return e.token_type_ids; })
      .def_property_readonly("has_word_ids", [](const Encoding& e) { return e.word_ids.size() == e.size(); },
                             "True for the fast backend's encodings (word ids, character maps, overflowing)")
      .def_property_readonly("word_ids", [](const Encoding& e) { return optional_ids(e, e.word_ids); },
                             "per token the index of its word, None for special and padding tokens (fast backend)")
      .def_property_readonly("words", [](const Encoding& e) { return optional_ids(e, e.word_ids); })
      .def_property_readonly("special_tokens_mask",
                             [](const Encoding& e) {
                               if (e.special_tokens_mask.size() == e.size()) return e.special_tokens_mask;
                               std::vector<int64_t> m(e.size());
                               for (size_t i = 0; i < e.size(); ++i) m[i] = e.sequence_ids[i] < 0 ? 1 : 0;
                               return m;
                             })
      .def_property_readonly("overflowing", [](const Encoding& e) { return e.overflowing; },
                             "the windows truncation cut off (return_overflowing_tokens, fast backend)")
      .def_property_readonly("n_sequences",
                             [](const Encoding& e) {
                               int n = 1;
                               for (int s : e.sequence_ids) n = std::max(n, s + 1);
                               return n;
                             })
      // The tokenizers library's Encoding maps (None where it gives None).
      .def("token_to_sequence",
           [](const Encoding& e, int64_t token) -> std::optional<int> {
             const int s = e.sequence_ids.at(token_index(e, token));
             if (s < 0) return std::nullopt;
             return s;
           },
           py::arg("token_index"))
      .def("token_to_word",
           [](const Encoding& e, int64_t token) -> std::optional<int64_t> {
             need_words(e, "token_to_word");
             const int64_t w = e.word_ids[token_index(e, token)];
             if (w < 0) return std::nullopt;
             return w;
           },
           py::arg("token_index"))
      .def("token_to_chars",
           [](const Encoding& e, int64_t token) -> std::optional<std::pair<int64_t, int64_t>> {
             const size_t i = token_index(e, token);
             if (e.sequence_ids[i] < 0) return std::nullopt;
             return e.offsets[i];
           },
           py::arg("token_index"))
      .def("word_to_tokens",
           [](const Encoding& e, int64_t word, int seq) -> std::optional<std::pair<int64_t, int64_t>> {
             need_words(e, "word_to_tokens");
             return word_tokens(e, word, seq);
           },
           py::arg("word_index"), py::arg("sequence_index") = 0)
      .def("word_to_chars",
           [](const Encoding& e, int64_t word, int seq) -> std::optional<std::pair<int64_t, int64_t>> {
             need_words(e, "word_to_chars");
             auto span = word_tokens(e, word, seq);
             if (!span) return std::nullopt;
             return std::pair<int64_t, int64_t>(e.offsets[static_cast<size_t>(span->first)].first,
                                                e.offsets[static_cast<size_t>(span->second - 1)].second);
           },
           py::arg("word_index"), py::arg("sequence_index") = 0)
      .def("char_to_token",
           [](const Encoding& e, int64_t pos, int seq) -> std::optional<int64_t> {
             for (size_t i = 0; i < e.size(); ++i)
               if (e.sequence_ids[i] == seq && pos >= e.offsets[i].first && pos < e.offsets[i].second)
                 return static_cast<int64_t>(i);
             return std::nullopt;
           },
           py::arg("char_pos"), py::arg("sequence_index") = 0)
      .def("char_to_word",
           [](const Encoding& e, int64_t pos, int seq) -> std::optional<int64_t> {
             need_words(e, "char_to_word");
             for (size_t i = 0; i < e.size(); ++i)
               if (e.sequence_ids[i] == seq && pos >= e.offsets[i].first && pos < e.offsets[i].second)
                 return e.word_ids[i] < 0 ? std::nullopt : std::optional<int64_t>(e.word_ids[i]);
             return std::nullopt;
           },
           py::arg("char_pos"), py::arg("sequence_index") = 0)
      .def("__len__", [](const Encoding& e) { return e.size(); })
      .def("__repr__", [](const Encoding& e) { return "<bertcpp.Encoding of " + std::to_string(e.size()) + " tokens>"; });

  // ------------------------------------------------------------------------------ Tokenizer
  py::class_<Tokenizer>(m, "Tokenizer", "The engine's BertTokenizer (WordPiece, exact transformers parity).")
      .def_static(
          "from_pretrained",
          [](const std::string& id, std::optional<bool> lower, std::optional<bool> strip,
             std::optional<bool> chinese, std::optional<std::vector<std::string>> never_split,
             std::optional<int64_t> max_len, const std::string& backend) {
            auto o = tokenizer_options(lower, strip, chinese, std::move(never_split), max_len);
            if (backend == "slow")
              o.backend = bertcpp::TokenizerBackend::Slow;
            else if (backend == "fast")
              o.backend = bertcpp::TokenizerBackend::Fast;
            else if (backend != "auto")
              throw bertcpp::invalid_argument("backend must be \"auto\", \"slow\" or \"fast\", got \"" + backend + "\"");
            py::gil_scoped_release nogil;
            return Tokenizer::from_pretrained(id, o);
          },
          py::arg("id_or_path"), py::arg("do_lower_case") = py::none(), py::arg("strip_accents") = py::none(),
          py::arg("tokenize_chinese_chars") = py::none(), py::arg("never_split") = py::none(),
          py::arg("model_max_length") = py::none(), py::arg("backend") = "auto")
      .def_static(
          "from_vocab",
          [](const std::string& vocab, std::optional<bool> lower, std::optional<bool> strip,
             std::optional<bool> chinese, std::optional<std::vector<std::string>> never_split,
             std::optional<int64_t> max_len) {
            auto o = tokenizer_options(lower, strip, chinese, std::move(never_split), max_len);
            py::gil_scoped_release nogil;
            return Tokenizer::from_vocab(vocab, o);
          },
          py::arg("vocab_txt"), py::arg("do_lower_case") = py::none(), py::arg("strip_accents") = py::none(),
          py::arg("tokenize_chinese_chars") = py::none(), py::arg("never_split") = py::none(),
          py::arg("model_max_length") = py::none())
      .def(
          "tokenize",
          [](const Tokenizer& t, const std::string& text) {
            py::gil_scoped_release nogil;
            return t.tokenize(text);
          },
          py::arg("text"))
      .def(
          "encode_batch",
          [](const Tokenizer& t, std::vector<std::string> texts, std::optional<std::vector<std::string>> pairs,
             bool add_special_tokens, const std::string& truncation, std::optional<int64_t> max_length,
             const std::string& padding, const std::string& truncation_side, int threads, int64_t stride,
             std::optional<std::string> padding_side) {
            EncodeOptions o;
            o.stride = stride;
            if (padding_side) {
              if (*padding_side != "left" && *padding_side != "right")
                throw invalid_argument("padding_side must be 'right' or 'left', got '" + *padding_side + "'");
              o.padding_side = parse_side(*padding_side);
            }
            o.add_special_tokens = add_special_tokens;
            o.truncation = parse_truncation(truncation);
            o.truncation_side = parse_side(truncation_side);
            o.max_length = max_length;
            o.padding = parse_padding(padding);
            if (pairs && pairs->size() != texts.size())
              throw invalid_argument("text and text_pair must have the same number of elements (" +
                                     std::to_string(texts.size()) + " vs " + std::to_string(pairs->size()) + ")");
            py::gil_scoped_release nogil;
            if (!pairs) return t.encode_batch(texts, o, threads);
            std::vector<std::pair<std::string, std::string>> both(texts.size());
            for (size_t i = 0; i < texts.size(); ++i) both[i] = {std::move(texts[i]), std::move((*pairs)[i])};
            return t.encode_pair_batch(both, o, threads);
          },
          py::arg("texts"), py::arg("text_pairs") = py::none(), py::arg("add_special_tokens") = true,
          py::arg("truncation") = "none", py::arg("max_length") = py::none(), py::arg("padding") = "none",
          py::arg("truncation_side") = "right", py::arg("threads") = 0, py::arg("stride") = 0,
          py::arg("padding_side") = py::none())
      .def(
          "decode",
          [](const Tokenizer& t, const std::vector<int64_t>& ids, bool skip, bool cleanup) {
            py::gil_scoped_release nogil;
            return t.decode(ids, skip, cleanup);
          },
          py::arg("ids"), py::arg("skip_special_tokens") = false, py::arg("clean_up_tokenization_spaces") = true)
      .def("convert_ids_to_tokens",
           [](const Tokenizer& t, const std::vector<int64_t>& ids) { return t.convert_ids_to_tokens(ids); })
      .def("convert_tokens_to_string",
           [](const Tokenizer& t, const std::vector<std::string>& tokens) { return t.convert_tokens_to_string(tokens); })
      .def("token_to_id", &Tokenizer::token_to_id, py::arg("token"))
      .def("find_token", &Tokenizer::find_token, py::arg("token"))
      .def("is_special_id", &Tokenizer::is_special_id, py::arg("id"))
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("is_fast", &Tokenizer::is_fast)
      .def_property_readonly("converted_tokenizer_json", &Tokenizer::converted_tokenizer_json,
                             "tokenizer.json text converted from a SentencePiece model ('' when not converted)")
      .def_property_readonly("model_max_length", &Tokenizer::model_max_length)
      .def_property_readonly("cls_token_id", &Tokenizer::cls_token_id)
      .def_property_readonly("sep_token_id", &Tokenizer::sep_token_id)
      .def_property_readonly("pad_token_id", &Tokenizer::pad_token_id)
      .def_property_readonly("mask_token_id", &Tokenizer::mask_token_id)
      .def_property_readonly("unk_token_id", &Tokenizer::unk_token_id)
      .def_property_readonly("mask_token", &Tokenizer::mask_token);

  // ------------------------------------------------------------------------------ Model
  py::class_<Model>(m, "Model", "The engine's BERT model (+ the head config.architectures names).")
      .def_static(
          "from_pretrained",
          [](const std::string& id, int threads, const std::string& compute, const std::string& revision,
             std::optional<bool> lower, std::optional<bool> strip, std::optional<bool> chinese,
             std::optional<int64_t> max_len) {
            ModelOptions o;
            o.threads = threads;
            o.compute = parse_compute(compute);
            o.revision = revision;
            o.tokenizer = tokenizer_options(lower, strip, chinese, std::nullopt, max_len);
            py::gil_scoped_release nogil;
            return Model::from_pretrained(id, o);
          },
          py::arg("id_or_path"), py::arg("threads") = 0, py::arg("compute") = "f32", py::arg("revision") = "main",
          py::arg("do_lower_case") = py::none(), py::arg("strip_accents") = py::none(),
          py::arg("tokenize_chinese_chars") = py::none(), py::arg("model_max_length") = py::none())
      .def_property_readonly("tokenizer", [](const Model& m) { return m.tokenizer(); })
      .def_property_readonly("head", [](const Model& m) { return m.head(); })
      .def_property_readonly("name", [](const Model& m) { return m.name(); })
      .def_property_readonly("directory", [](const Model& m) { return m.directory(); },
                             "the local folder the model was loaded from (a hub id's cache snapshot)")
      .def_property_readonly("max_seq_length", [](const Model& m) { return m.max_seq_length(); })
      .def_property_readonly("default_pooling",
                             [](const Model& m) { return std::string(pooling_name(m.default_pooling())); })
      .def_property_readonly("default_normalize", [](const Model& m) { return m.default_normalize(); })
      .def_property_readonly("config",
                             [](const Model& m) {
                               const ModelConfigInfo& c = m.config();
                               py::dict d;
                               d["model_type"] = c.model_type;
                               d["family"] = c.family;
                               d["max_sequence_length"] = c.max_sequence_length;
                               d["vocab_size"] = c.vocab_size;
                               d["hidden_size"] = c.hidden_size;
                               d["num_hidden_layers"] = c.num_hidden_layers;
                               d["num_attention_heads"] = c.num_attention_heads;
                               d["intermediate_size"] = c.intermediate_size;
                               d["max_position_embeddings"] = c.max_position_embeddings;
                               d["type_vocab_size"] = c.type_vocab_size;
                               d["hidden_act"] = c.hidden_act;
                               d["architectures"] = c.architectures;
                               d["labels"] = c.labels;
                               return d;
                             })
      .def(
          "forward",
          [](const Model& m, const I64Array& input_ids, std::optional<I64Array> attention_mask,
             std::optional<I64Array> token_type_ids, bool hidden_states, bool attentions, bool head_outputs) {
            Batch b;
            b.input_ids = to_i64_tensor(input_ids, "input_ids");
            const Shape& shape = b.input_ids.shape();
            if (attention_mask) {
              b.attention_mask = to_i64_tensor(*attention_mask, "attention_mask");
              if (b.attention_mask.shape() != shape)
                throw invalid_argument("attention_mask has shape " + shape_to_string(b.attention_mask.shape()) +
                                       " but input_ids has shape " + shape_to_string(shape));
            } else {
              b.attention_mask = Tensor::empty(DType::I64, shape);
              std::fill(b.attention_mask.span<int64_t>().begin(), b.attention_mask.span<int64_t>().end(), 1);
            }
            if (token_type_ids) {
              b.token_type_ids = to_i64_tensor(*token_type_ids, "token_type_ids");
              if (b.token_type_ids.shape() != shape)
                throw invalid_argument("token_type_ids has shape " + shape_to_string(b.token_type_ids.shape()) +
                                       " but input_ids has shape " + shape_to_string(shape));
            }
            const ModelConfigInfo& c = m.config();
            check_range(b.input_ids, c.vocab_size, "input_ids", "the model's vocab_size");
            check_range(b.token_type_ids, std::max<int64_t>(c.type_vocab_size, 1), "token_type_ids", "the model's type_vocab_size");
            if (shape[1] > c.max_sequence_length)
              throw invalid_argument("sequence length " + std::to_string(shape[1]) +
                                     " exceeds the model's longest input (" + std::to_string(c.max_sequence_length) +
                                     ", max_position_embeddings " + std::to_string(c.max_position_embeddings) + ")");
            OutputRequest req;
            req.hidden_states = hidden_states;
            req.attentions = attentions;
            req.head_outputs = head_outputs;  // BertModel(...) runs no head, whatever the checkpoint's
            ModelOutput out;
            {
              py::gil_scoped_release nogil;
              out = m.forward(b, req);
            }
            py::dict d;
            add_tensor(d, "last_hidden_state", out.last_hidden_state);
            add_tensor(d, "pooler_output", out.pooler_output);
            add_tensor(d, "logits", out.logits);
            add_tensor(d, "prediction_logits", out.prediction_logits);
            add_tensor(d, "seq_relationship_logits", out.seq_relationship_logits);
            add_tensor(d, "start_logits", out.start_logits);
            add_tensor(d, "end_logits", out.end_logits);
            if (!out.hidden_states.empty()) d["hidden_states"] = to_numpy_tuple(out.hidden_states);
            if (!out.attentions.empty()) d["attentions"] = to_numpy_tuple(out.attentions);
            return d;
          },
          py::arg("input_ids"), py::arg("attention_mask") = py::none(), py::arg("token_type_ids") = py::none(),
          py::arg("output_hidden_states") = false, py::arg("output_attentions") = false,
          py::arg("head_outputs") = true)
      .def(
          "embed",
          [](const Model& m, const std::vector<std::string>& texts, std::optional<std::string> pooling,
             std::optional<bool> normalize, std::optional<std::string> prompt_name, std::optional<std::string> prompt) {
            EmbedOptions o;
            if (pooling) o.pooling = parse_pooling(*pooling);
            o.normalize = normalize;
            o.prompt_name = prompt_name;
            o.prompt = prompt;
            Tensor t;
            {
              py::gil_scoped_release nogil;
              t = m.embed(texts, o);
            }
            return to_numpy(t);
          },
          py::arg("texts"), py::arg("pooling") = py::none(), py::arg("normalize") = py::none(),
          py::arg("prompt_name") = py::none(), py::arg("prompt") = py::none())
      .def_property_readonly("embedding_dimension", [](const Model& m) { return m.embedding_dimension(); })
      .def_property_readonly("prompts", [](const Model& m) { return m.prompts(); })
      .def_property_readonly("default_prompt_name", [](const Model& m) { return m.default_prompt_name(); })
      .def("prompt_length", [](const Model& m, const std::string& prompt) { return m.prompt_length(prompt); },
           py::arg("prompt"))
      .def(
          "pool_embeddings",
          [](const Model& m, const py::array_t<float, py::array::c_style | py::array::forcecast>& hidden,
             const I64Array& mask, std::optional<std::string> pooling, std::optional<bool> normalize, int64_t prompt_length) {
            if (hidden.ndim() != 3) throw invalid_argument("last_hidden_state must be [batch, seq, hidden]");
            Tensor h = Tensor::empty(DType::F32, {hidden.shape(0), hidden.shape(1), hidden.shape(2)});
            if (h.nbytes()) std::memcpy(h.raw(), hidden.data(), h.nbytes());
            Tensor am = to_i64_tensor(mask, "attention_mask");
            if (am.rank() != 2 || am.dim(0) != h.dim(0) || am.dim(1) != h.dim(1))
              throw invalid_argument("attention_mask shape " + shape_to_string(am.shape()) +
                                     " does not match last_hidden_state " + shape_to_string(h.shape()));
            EmbedOptions o;
            if (pooling) o.pooling = parse_pooling(*pooling);
            o.normalize = normalize;
            const std::vector<int64_t> plens(prompt_length > 0 ? static_cast<size_t>(h.dim(0)) : 0, prompt_length);
            Tensor r;
            {
              py::gil_scoped_release nogil;
              r = m.pool_embeddings(h, am, o, plens);
            }
            return to_numpy(r);
          },
          py::arg("last_hidden_state"), py::arg("attention_mask"), py::arg("pooling") = py::none(),
          py::arg("normalize") = py::none(), py::arg("prompt_length") = 0,
          "embed()'s last steps on a computed batch: pooling (the first prompt_length tokens left out when the "
          "Pooling config says include_prompt false), then the Dense and Normalize modules")
      .def(
          "fill_mask",
          [](const Model& m, const std::string& text, int top_k) {
            std::vector<FillMaskCandidate> r;
            {
              py::gil_scoped_release nogil;
              r = m.fill_mask(text, top_k);
            }
            py::list out;
            for (auto& c : r)
              out.append(py::dict(py::arg("score") = c.score, py::arg("token") = c.token_id,
                                  py::arg("token_str") = c.token, py::arg("sequence") = c.sequence));
            return out;
          },
          py::arg("text"), py::arg("top_k") = 5)
      .def(
          "classify",
          [](const Model& m, const std::string& text, std::optional<std::string> pair) {
            std::vector<LabelScore> r;
            {
              py::gil_scoped_release nogil;
              r = m.classify(text, pair);
            }
            py::list out;
            for (auto& c : r) out.append(py::dict(py::arg("label") = c.label, py::arg("score") = c.score, py::arg("id") = c.id));
            return out;
          },
          py::arg("text"), py::arg("text_pair") = py::none())
      .def(
          "rerank",
          [](const Model& m, const std::string& query, const std::vector<std::string>& docs) {
            py::gil_scoped_release nogil;
            return m.rerank(query, docs);
          },
          py::arg("query"), py::arg("documents"))
      .def(
          "classify_tokens",
          [](const Model& m, const std::string& text) {
            std::vector<TokenPrediction> r;
            {
              py::gil_scoped_release nogil;
              r = m.classify_tokens(text);
            }
            py::list out;
            for (auto& c : r)
              out.append(py::dict(py::arg("entity") = c.label, py::arg("score") = c.score, py::arg("word") = c.token,
                                  py::arg("start") = c.start, py::arg("end") = c.end));
            return out;
          },
          py::arg("text"))
      .def(
          "token_entities",
          [](const Model& m, const std::string& text, const std::string& aggregation_strategy,
             const std::optional<std::vector<std::string>>& ignore_labels) {
            TokenClassificationOptions o;
            o.aggregation = parse_aggregation(aggregation_strategy);
            if (ignore_labels) o.ignore_labels = *ignore_labels;
            std::vector<TokenEntity> r;
            {
              py::gil_scoped_release nogil;
              r = m.token_entities(text, o);
            }
            // transformers' keys: entity + index per token, entity_group per group.
            const bool grouped = o.aggregation != Aggregation::None;
            py::list out;
            for (auto& e : r) {
              py::dict d;
              d[grouped ? "entity_group" : "entity"] = e.label;
              d["score"] = e.score;
              if (e.index) d["index"] = *e.index;
              d["word"] = e.word;
              d["start"] = e.start;
              d["end"] = e.end;
              out.append(d);
            }
            return out;
          },
          py::arg("text"), py::arg("aggregation_strategy") = "none", py::arg("ignore_labels") = py::none(),
          "transformers' token-classification pipeline for one text (aggregation_strategy, ignore_labels)")
      .def(
          "answers",
          [](const Model& m, const std::string& question, const std::string& context, int64_t top_k,
             int64_t max_answer_len, bool handle_impossible_answer, bool align_to_words,
             std::optional<int64_t> max_seq_len, std::optional<int64_t> doc_stride, std::optional<bool> question_first) {
            AnswerOptions o;
            o.top_k = top_k;
            o.max_answer_len = max_answer_len;
            o.handle_impossible_answer = handle_impossible_answer;
            o.align_to_words = align_to_words;
            o.max_seq_len = max_seq_len;
            o.doc_stride = doc_stride;
            o.question_first = question_first;
            std::vector<Answer> r;
            {
              py::gil_scoped_release nogil;
              r = m.answers(question, context, o);
            }
            py::list out;
            for (auto& a : r)
              out.append(py::dict(py::arg("score") = a.score, py::arg("start") = a.start,
                                  py::arg("end") = a.end, py::arg("answer") = a.text));
            return out;
          },
          py::arg("question"), py::arg("context"), py::arg("top_k") = 1, py::arg("max_answer_len") = 15,
          py::arg("handle_impossible_answer") = false, py::arg("align_to_words") = true,
          py::arg("max_seq_len") = py::none(), py::arg("doc_stride") = py::none(), py::arg("question_first") = py::none(),
          "transformers 4's question-answering pipeline for one (question, context): the best top_k answers, best first");

  m.def(
      "pool",
      [](const py::array_t<float, py::array::c_style | py::array::forcecast>& hidden, const I64Array& mask,
         const std::string& pooling, bool normalize) {
        if (hidden.ndim() != 3) throw invalid_argument("last_hidden_state must be [batch, seq, hidden]");
        Tensor h = Tensor::empty(DType::F32, {hidden.shape(0), hidden.shape(1), hidden.shape(2)});
        if (h.nbytes()) std::memcpy(h.raw(), hidden.data(), h.nbytes());
        Tensor am = to_i64_tensor(mask, "attention_mask");
        if (am.dim(0) != h.dim(0) || am.dim(1) != h.dim(1))
          throw invalid_argument("attention_mask shape " + shape_to_string(am.shape()) +
                                 " does not match last_hidden_state " + shape_to_string(h.shape()));
        const Pooling p = parse_pooling(pooling);
        Tensor r;
        {
          py::gil_scoped_release nogil;
          r = Model::pool(h, am, p, normalize);
        }
        return to_numpy(r);
      },
      py::arg("last_hidden_state"), py::arg("attention_mask"), py::arg("pooling") = "mean",
      py::arg("normalize") = false, "Pools [batch, seq, hidden] into [batch, hidden] (padding excluded).");

  m.def(
      "stack",
      [](const std::vector<const Encoding*>& encs, const std::string& field) -> py::object {
        // [batch, seq] int64 (offsets: [batch, seq, 2]) of one field; None when lengths differ.
        const size_t n = encs.size();
        const size_t len = n ? encs[0]->size() : 0;
        for (const Encoding* e : encs)
          if (e->size() != len) return py::none();
        const bool offsets = field == "offset_mapping";
        std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(len)};
        if (offsets) shape.push_back(2);
        py::array_t<int64_t> out(shape);
        int64_t* dst = out.mutable_data();
        for (const Encoding* e : encs) {
          if (field == "input_ids") dst = std::copy(e->input_ids.begin(), e->input_ids.end(), dst);
          else if (field == "token_type_ids") dst = std::copy(e->token_type_ids.begin(), e->token_type_ids.end(), dst);
          else if (field == "attention_mask") dst = std::copy(e->attention_mask.begin(), e->attention_mask.end(), dst);
          else if (field == "special_tokens_mask")
            for (int s : e->sequence_ids) *dst++ = s < 0 ? 1 : 0;
          else if (offsets)
            for (const auto& [b, en] : e->offsets) { *dst++ = b; *dst++ = en; }
          else throw invalid_argument("stack: unknown field '" + field + "'");
        }
        return out;
      },
      py::arg("encodings"), py::arg("field"), "Stacks one field of equally long encodings into a numpy array.");

  m.def(
      "resolve_dir",
      [](const std::string& id, const std::string& revision) {
        py::gil_scoped_release nogil;
        return api::resolve_model_dir(id, revision).string();
      },
      py::arg("id_or_path"), py::arg("revision") = "main",
      "The local folder of a model id (the Hugging Face cache, downloading when missing) or a folder as is.");

  m.def("_test_tensor_roundtrip", [](int64_t n) {
    // A fresh engine tensor 0..n-1 exposed zero-copy (used by the tests of the numpy bridge).
    Tensor t = Tensor::empty(DType::F32, {n});
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(i);
    return to_numpy(t);
  });
  m.attr("__version__") = "0.1.0";
}
