// The restricted unpickler for torch.save's data.pkl. See io/torch_reader.h for the policy.
#include <cstring>
#include <map>
#include <unordered_map>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "io/torch_reader.h"

namespace bertcpp::io {

namespace {

enum class K { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

struct Value;
using VP = std::shared_ptr<Value>;

struct StorageRef {
  std::string key;
  DType dtype = DType::F32;
  int64_t numel = 0;
};

struct Value {
  K k = K::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                          // Str, Bytes, Global ("module.name")
  std::vector<VP> items;                  // Tuple, List
  std::vector<std::pair<VP, VP>> dict;    // Dict (insertion order)
  std::unordered_map<std::string, size_t> dict_index;  // key -> position in `dict` (SETITEMS stays linear)
  StorageRef storage;                     // Storage
  TorchTensorDesc tensor;                 // Tensor (name unset)
  bool frozen = false;                    // inserted into a container: no longer mutable
  int depth = 0;
};

const char* kind_name(K k) {
  switch (k) {
    case K::None: return "None";
    case K::Bool: return "bool";
    case K::Int: return "int";
    case K::Float: return "float";
    case K::Str: return "str";
    case K::Bytes: return "bytes";
    case K::Tuple: return "tuple";
    case K::List: return "list";
    case K::Dict: return "dict";
    case K::Global: return "global";
    case K::Storage: return "storage";
    case K::Tensor: return "tensor";
  }
  return "?";
}

struct StorageType {
  const char* name;
  DType dtype;
};
constexpr StorageType kStorages[] = {
    {"FloatStorage", DType::F32}, {"HalfStorage", DType::F16},  {"BFloat16Storage", DType::BF16},
    {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16}, {"CharStorage", DType::I8},   {"ByteStorage", DType::U8},
    {"BoolStorage", DType::BOOL},
};

bool allowed_global(const std::string& g) {
  if (g == "collections.OrderedDict" || g == "torch._utils._rebuild_tensor_v2" ||
      g == "torch._utils._rebuild_tensor" || g == "torch._utils._rebuild_parameter")
    return true;
  for (const auto& s : kStorages)
    if (g == std::string("torch.") + s.name) return true;
  return false;
}

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, std::string source) : p_(data), n_(size), src_(std::move(source)) {}

  VP run() {
    while (true) {
      if (pos_ >= n_) fail("truncated pickle: no STOP opcode before the end of the data");
      op_pos_ = pos_;
      const uint8_t op = p_[pos_++];
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t v = u8();
          if (v > 5) fail("unsupported pickle protocol " + std::to_string(v));
          break;
        }
        case 0x95: take(8); break;  // FRAME: a length hint only
        case '}': push(make(K::Dict)); break;
        case ']': push(make(K::List)); break;
        case ')': push(make(K::Tuple)); break;
        case '(': marks_.push_back(stack_.size()); break;
        case 'X': push_str(K::Str, u32()); break;
        case 0x8c: push_str(K::Str, u8()); break;
        case 0x8d: push_str(K::Str, u64()); break;
        case 'B': push_str(K::Bytes, u32()); break;
        case 'C': push_str(K::Bytes, u8()); break;
        case 'J': { int32_t v; std::memcpy(&v, take(4), 4); push_int(v); break; }
        case 'K': push_int(u8()); break;
        case 'M': { const uint8_t* q = take(2); push_int(q[0] | (q[1] << 8)); break; }
        case 0x8a: {  // LONG1
          const uint8_t len = u8();
          if (len > 8) fail("integer of " + std::to_string(len) + " bytes is too large");
          const uint8_t* q = take(len);
          uint64_t u = 0;
          for (int k = len - 1; k >= 0; --k) u = (u << 8) | q[k];
          if (len > 0 && len < 8 && (q[len - 1] & 0x80)) u |= ~uint64_t{0} << (8 * len);  // sign-extend
          push_int(static_cast<int64_t>(u));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian double
          const uint8_t* q = take(8);
          uint64_t u = 0;
          for (int k = 0; k < 8; ++k) u = (u << 8) | q[k];
          auto v = make(K::Float);
          std::memcpy(&v->f, &u, 8);
          push(v);
          break;
        }
        case 0x88: case 0x89: { auto v = make(K::Bool); v->b = op == 0x88; push(v); break; }
        case 'N': push(make(K::None)); break;
        case 0x85: case 0x86: case 0x87: {  // TUPLE1/2/3
          const size_t cnt = op - 0x84u;
          if (stack_.size() < cnt + floor()) fail("stack underflow");
          std::vector<VP> items(stack_.end() - static_cast<long>(cnt), stack_.end());
          stack_.resize(stack_.size() - cnt);
          push(container(K::Tuple, std::move(items)));
          break;
        }
        case 't': push(container(K::Tuple, pop_mark())); break;
        case 'l': push(container(K::List, pop_mark())); break;
        case 'd': {
          auto items = pop_mark();
          auto d = make(K::Dict);
          set_items(d, items);
          push(d);
          break;
        }
        case 's': {
          VP v = pop(), key = pop();
          set_items(top(), {key, v});
          break;
        }
        case 'u': {
          auto items = pop_mark();
          set_items(top(), items);
          break;
        }
        case 'a': {
          VP v = pop();
          append(top(), {v});
          break;
        }
        case 'e': {
          auto items = pop_mark();
          append(top(), items);
          break;
        }
        case 'q': memo_[u8()] = top(); break;
        case 'r': memo_[u32()] = top(); break;
        case 0x94: { const uint64_t idx = memo_.size(); memo_[idx] = top(); break; }
        case 'h': push(get(u8())); break;
        case 'j': push(get(u32())); break;
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': push(top()); break;
        case 'c': {  // GLOBAL "module\nname\n"
          const std::string module = line(), name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          VP name = pop(), module = pop();
          if (module->k != K::Str || name->k != K::Str) fail("STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'R': {
          VP args = pop(), fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': {
          VP state = pop();
          VP target = top();
          if (target->k != K::Dict)
            fail(std::string("refused BUILD on a ") + kind_name(target->k) +
                 ": only the state dict's metadata may be set");
          if (state->k != K::Dict && state->k != K::None && state->k != K::Tuple)
            fail(std::string("refused BUILD with a ") + kind_name(state->k) + " state");
          break;  // OrderedDict._metadata: ignored
        }
        case 'Q': {
          VP pid = pop();
          push(persistent(pid));
          break;
        }
        case '.': {
          if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        }
        case 'i': {
          const std::string module = line(), name = line();
          fail("refused INST '" + module + "." + name + "': only state-dict types are allowed");
        }
        case 'o': fail("refused opcode OBJ: creating arbitrary objects is not allowed");
        case 0x81: fail("refused opcode NEWOBJ: creating arbitrary objects is not allowed");
        case 0x92: fail("refused opcode NEWOBJ_EX: creating arbitrary objects is not allowed");
        case 0x82: case 0x83: case 0x84: fail("refused opcode EXT: extension registry lookups are not allowed");
        case 'P': fail("refused opcode PERSID: only binary persistent ids are allowed");
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02x", op);
          fail(std::string("unsupported pickle opcode ") + buf + " (torch.save does not emit it)");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorKind::InvalidFile, src_ + ": " + what + " (at byte " + std::to_string(op_pos_) + ")");
  }
  const uint8_t* take(uint64_t len) {
    if (len > n_ - pos_) fail("truncated pickle: opcode needs " + std::to_string(len) + " bytes, " +
                              std::to_string(n_ - pos_) + " left");
    const uint8_t* q = p_ + pos_;
    pos_ += static_cast<size_t>(len);
    return q;
  }
  uint8_t u8() { return *take(1); }
  uint32_t u32() { const uint8_t* q = take(4); return q[0] | (q[1] << 8) | (q[2] << 16) | (uint32_t{q[3]} << 24); }
  uint64_t u64() {
    const uint8_t* q = take(8);
    uint64_t u = 0;
    for (int k = 7; k >= 0; --k) u = (u << 8) | q[k];
    return u;
  }
  std::string line() {
    const size_t start = pos_;
    while (pos_ < n_ && p_[pos_] != '\n') {
      if (pos_ - start > 256) fail("GLOBAL name longer than 256 bytes");
      ++pos_;
    }
    if (pos_ >= n_) fail("truncated pickle: unterminated GLOBAL name");
    std::string s(reinterpret_cast<const char*>(p_ + start), pos_ - start);
    ++pos_;
    if (!is_valid_utf8(s)) fail("GLOBAL name is not valid UTF-8");
    return s;
  }
  VP make(K k) {
    auto v = std::make_shared<Value>();
    v->k = k;
    return v;
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(VP v) { stack_.push_back(std::move(v)); }
  VP pop() {
    if (stack_.size() <= floor()) fail(stack_.empty() ? "stack underflow" : "stack underflow (value taken across a MARK)");
    VP v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const VP& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<VP> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<VP> items(stack_.begin() + static_cast<long>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  VP get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " was never stored");
    return it->second;
  }
  void push_int(int64_t x) {
    auto v = make(K::Int);
    v->i = x;
    push(v);
  }
  void push_str(K k, uint64_t len) {
    auto v = make(k);
    const uint8_t* q = take(len);
    v->s.assign(reinterpret_cast<const char*>(q), static_cast<size_t>(len));
    if (k == K::Str && !is_valid_utf8(v->s)) fail("string is not valid UTF-8");
    push(v);
  }
  // Children are frozen when they enter a container; a frozen container can never change, so no
  // cycle can form and depth is final.
  void adopt(Value& parent, const VP& child) {
    child->frozen = true;
    if (child->depth + 1 > parent.depth) parent.depth = child->depth + 1;
    if (parent.depth > kMaxPickleDepth) fail("objects nested deeper than " + std::to_string(kMaxPickleDepth));
  }
  VP container(K k, std::vector<VP> items) {
    auto v = make(k);
    for (const auto& c : items) adopt(*v, c);
    v->items = std::move(items);
    return v;
  }
  void check_mutable(const VP& target, const char* what, K want) {
    if (target->k != want) fail(std::string(what) + " on a " + kind_name(target->k));
    if (target->frozen) fail(std::string(what) + " on a container that is already part of another object");
  }
  void set_items(const VP& target, const std::vector<VP>& kv) {
    if (kv.size() % 2) fail("SETITEMS with an odd number of values");
    for (const auto& c : kv) adopt(*target, c);
    check_mutable(target, "SETITEM", K::Dict);
    for (size_t k = 0; k < kv.size(); k += 2) {
      const VP& key = kv[k];
      if (key->k != K::Str && key->k != K::Int) fail(std::string("dict key of type ") + kind_name(key->k));
      std::string id(1, key->k == K::Str ? 's' : 'i');
      id.append(key->k == K::Str ? key->s : std::to_string(key->i));
      const auto [it, fresh] = target->dict_index.try_emplace(id, target->dict.size());
      if (fresh) target->dict.emplace_back(key, kv[k + 1]);
      else target->dict[it->second].second = kv[k + 1];
    }
  }
  void append(const VP& target, const std::vector<VP>& items) {
    for (const auto& c : items) adopt(*target, c);
    check_mutable(target, "APPEND", K::List);
    target->items.insert(target->items.end(), items.begin(), items.end());
  }
  VP global(const std::string& module, const std::string& name) {
    const std::string g = module + "." + name;
    if (!allowed_global(g)) fail("refused global '" + g + "': only state-dict types are allowed");
    auto v = make(K::Global);
    v->s = g;
    return v;
  }
  int64_t as_int(const VP& v, const char* what) {
    if (v->k != K::Int) fail(std::string(what) + " must be an int, got " + kind_name(v->k));
    return v->i;
  }
  std::vector<int64_t> as_ints(const VP& v, const char* what) {
    if (v->k != K::Tuple && v->k != K::List) fail(std::string(what) + " must be a tuple of ints, got " + kind_name(v->k));
    if (v->items.size() > 64) fail(std::string(what) + " has too many dimensions");
    std::vector<int64_t> out;
    for (const auto& x : v->items) out.push_back(as_int(x, what));
    return out;
  }
  VP persistent(const VP& pid) {
    if (pid->k != K::Tuple || pid->items.size() != 5 || pid->items[0]->k != K::Str || pid->items[0]->s != "storage")
      fail("persistent id must be ('storage', type, key, location, numel)");
    const VP& type = pid->items[1];
    if (type->k != K::Global) fail("persistent id storage type must be a torch storage class");
    StorageRef ref;
    bool found = false;
    for (const auto& s : kStorages)
      if (type->s == std::string("torch.") + s.name) {
        ref.dtype = s.dtype;
        found = true;
      }
    if (!found) fail("'" + type->s + "' is not a storage type");
    const VP& key = pid->items[2];
    if (key->k != K::Str || key->s.empty() || key->s.size() > 64 ||
        key->s.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos)
      fail("storage key must be a short alphanumeric name");
    ref.key = key->s;
    if (pid->items[3]->k != K::Str) fail("storage location must be a string");
    ref.numel = as_int(pid->items[4], "storage numel");
    if (ref.numel < 0) fail("negative storage size");
    if (static_cast<uint64_t>(ref.numel) > (uint64_t{1} << 62) / dtype_size(ref.dtype)) fail("storage size overflows");
    auto [it, inserted] = storages_.emplace(ref.key, ref);
    if (!inserted && (it->second.dtype != ref.dtype || it->second.numel != ref.numel))
      fail("storage '" + ref.key + "' is declared twice with different types or sizes");
    auto v = make(K::Storage);
    v->storage = ref;
    return v;
  }
  VP reduce(const VP& fn, const VP& args) {
    if (fn->k != K::Global) fail(std::string("REDUCE on a ") + kind_name(fn->k) + ", not a callable");
    if (args->k != K::Tuple) fail("REDUCE arguments must be a tuple");
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) fail("OrderedDict() with arguments");
      return make(K::Dict);
    }
    if (fn->s == "torch._utils._rebuild_parameter") {
      if (a.size() != 3 || a[0]->k != K::Tensor) fail("_rebuild_parameter expects (tensor, requires_grad, hooks)");
      return a[0];
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2" || fn->s == "torch._utils._rebuild_tensor") {
      const bool v2 = fn->s == "torch._utils._rebuild_tensor_v2";
      if (v2 ? (a.size() != 6 && a.size() != 7) : a.size() != 4)
        fail(fn->s + " with " + std::to_string(a.size()) + " arguments");
      if (a[0]->k != K::Storage) fail(fn->s + ": first argument must be a storage");
      if (v2) {
        if (a[4]->k != K::Bool) fail("_rebuild_tensor_v2: requires_grad must be a bool");
        if ((a[5]->k != K::Dict && a[5]->k != K::None) || !a[5]->dict.empty())
          fail("_rebuild_tensor_v2: backward hooks are not allowed");
        if (a.size() == 7 && a[6]->k != K::None && !(a[6]->k == K::Dict && a[6]->dict.empty()))
          fail("_rebuild_tensor_v2: tensor metadata is not supported");
      }
      auto v = make(K::Tensor);
      TorchTensorDesc& d = v->tensor;
      const StorageRef& s = a[0]->storage;
      d.dtype = s.dtype;
      d.storage_key = s.key;
      d.storage_numel = s.numel;
      d.storage_offset = as_int(a[1], "storage offset");
      d.shape = as_ints(a[2], "size");
      d.stride = as_ints(a[3], "stride");
      if (d.shape.size() != d.stride.size()) fail("size and stride have different lengths");
      check_extent(d);
      return v;
    }
    fail("refused call of '" + fn->s + "'");
  }
  void check_extent(const TorchTensorDesc& d) {
    if (d.storage_offset < 0) fail("negative storage offset");
    bool empty = false;
    for (size_t k = 0; k < d.shape.size(); ++k) {
      if (d.shape[k] < 0) fail("negative size " + shape_to_string(d.shape));
      if (d.stride[k] < 0) fail("negative stride");
      if (d.shape[k] == 0) empty = true;
    }
    if (empty) return;
    // last element index = offset + sum (size-1)*stride, computed without overflow.
    uint64_t last = static_cast<uint64_t>(d.storage_offset);
    uint64_t numel = 1;
    const uint64_t lim = uint64_t{1} << 62;
    for (size_t k = 0; k < d.shape.size(); ++k) {
      const uint64_t sz = static_cast<uint64_t>(d.shape[k]), st = static_cast<uint64_t>(d.stride[k]);
      if (sz > lim / numel) fail("element count of " + shape_to_string(d.shape) + " overflows");
      numel *= sz;
      if (st != 0 && sz - 1 > (lim - last) / st) fail("tensor extent overflows");
      last += (sz - 1) * st;
    }
    if (last >= static_cast<uint64_t>(d.storage_numel))
      fail("tensor of size " + shape_to_string(d.shape) + " at offset " + std::to_string(d.storage_offset) +
           " reaches past the end of storage '" + d.storage_key + "' (" + std::to_string(d.storage_numel) + " elements)");
    // A stride-0 or overlapping view would materialize more bytes than the file holds.
    if (numel > static_cast<uint64_t>(d.storage_numel))
      fail("tensor of size " + shape_to_string(d.shape) + " has more elements than its storage '" + d.storage_key +
           "' (" + std::to_string(d.storage_numel) + "): stride-0 or overlapping views are not allowed");
  }

  const uint8_t* p_;
  size_t n_;
  std::string src_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<VP> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, VP> memo_;
  std::map<std::string, StorageRef> storages_;
};

}  // namespace

bool TorchTensorDesc::contiguous() const {
  for (int64_t s : shape)
    if (s == 0) return true;
  int64_t expect = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] != 1 && stride[k] != expect) return false;
    expect *= shape[k];
  }
  return true;
}

std::vector<TorchTensorDesc> parse_torch_pickle(const uint8_t* data, size_t size, const std::string& source) {
  if (size > kMaxPickleBytes)
    throw invalid_file(source, "pickle of " + std::to_string(size) + " bytes exceeds the limit of " +
                                   std::to_string(kMaxPickleBytes));
  VP root = Unpickler(data, size, source).run();
  if (root->k != K::Dict)
    throw invalid_file(source, std::string("expected a state dict (OrderedDict of tensors), got a ") + kind_name(root->k));
  std::vector<TorchTensorDesc> out;
  for (const auto& [key, value] : root->dict) {
    if (value->k != K::Tensor) continue;  // non-tensor extras (rare) are not weights
    if (key->k != K::Str) throw invalid_file(source, "state dict key is not a string");
    TorchTensorDesc d = value->tensor;
    d.name = key->s;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace bertcpp::io
