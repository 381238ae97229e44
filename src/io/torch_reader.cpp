// The zip side of pytorch_model.bin: libzip, with every entry name and size checked first.
#include "io/torch_reader.h"

#include <zip.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::io {

struct TorchArchive::Zip {
  zip_t* za = nullptr;
  std::mutex mu;
  ~Zip() {
    if (za) zip_discard(za);
  }
};

namespace {

// Deflate cannot compress better than about 1032:1; a larger declared ratio is a lie (zip bomb).
constexpr uint64_t kMaxDeflateRatio = 1032;

bool unsafe_name(const std::string& name) {
  if (name.empty() || name[0] == '/' || name[0] == '\\') return true;
  if (name.size() >= 2 && name[1] == ':') return true;  // C:...
  if (name.find('\\') != std::string::npos) return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return true;
    start = end + 1;
  }
  return false;
}

std::string zip_err(zip_t* za) { return zip_error_strerror(zip_get_error(za)); }

// Reads exactly `want` bytes of entry `index` into `out` (never inflating more), then checks
// that the entry ends there (which also makes libzip verify the CRC).
void read_entry(zip_t* za, zip_uint64_t index, void* out, uint64_t want, const std::string& where) {
  zip_file_t* zf = zip_fopen_index(za, index, 0);
  if (!zf) throw invalid_file(where, "cannot open entry: " + zip_err(za));
  uint64_t got = 0;
  auto* dst = static_cast<uint8_t*>(out);
  while (got < want) {
    const zip_int64_t r = zip_fread(zf, dst + got, want - got);
    if (r <= 0) {
      std::string msg = r < 0 ? std::string(zip_error_strerror(zip_file_get_error(zf))) : "unexpected end of data";
      zip_fclose(zf);
      throw invalid_file(where, "read failed after " + std::to_string(got) + " of " + std::to_string(want) + " bytes: " + msg);
    }
    got += static_cast<uint64_t>(r);
  }
  uint8_t extra;
  const zip_int64_t r = zip_fread(zf, &extra, 1);
  std::string msg = r < 0 ? std::string(zip_error_strerror(zip_file_get_error(zf))) : "";
  zip_fclose(zf);
  if (r > 0) throw invalid_file(where, "entry holds more than the " + std::to_string(want) + " bytes it declares");
  if (r < 0) throw invalid_file(where, msg);
}

struct EntryInfo {
  zip_uint64_t index;
  uint64_t size;
};

EntryInfo check_entry(zip_t* za, zip_uint64_t index, const std::string& where, uint64_t file_size) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za, index, 0, &st) != 0) throw invalid_file(where, "cannot stat entry: " + zip_err(za));
  const uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  if ((st.valid & need) != need) throw invalid_file(where, "entry lacks size or compression information");
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
    throw invalid_file(where, "encrypted entries are not supported");
  if (st.comp_size > file_size)
    throw invalid_file(where, "compressed size " + std::to_string(st.comp_size) + " is larger than the file");
  if (st.comp_method == ZIP_CM_STORE) {
    if (st.size != st.comp_size)
      throw invalid_file(where, "stored entry declares " + std::to_string(st.size) + " bytes but holds " +
                                    std::to_string(st.comp_size));
  } else if (st.comp_method == ZIP_CM_DEFLATE) {
    if (st.size / kMaxDeflateRatio > st.comp_size + 1)
      throw invalid_file(where, "declares " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size) +
                                    " compressed bytes, an impossible ratio (zip bomb)");
  } else {
    throw invalid_file(where, "unsupported compression method " + std::to_string(st.comp_method));
  }
  return {index, st.size};
}

std::string first_bytes(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

}  // namespace

TorchArchive TorchArchive::open(const std::filesystem::path& path) {
  TorchArchive a;
  a.path_ = path.string();
  const std::string& src = a.path_;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw not_found(src + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw invalid_file(src, "not a regular file");
  check_link_stays_inside(src);
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  const std::string head = first_bytes(src, 4);
  if (head.size() < 4 || head.compare(0, 4, "PK\x03\x04") != 0) {
    if (!head.empty() && static_cast<uint8_t>(head[0]) == 0x80)
      throw unsupported(src + ": legacy (pre-1.6) torch.save format is not supported; re-save it with a recent "
                              "torch or convert it to safetensors");
    throw invalid_file(src, "not a zip archive (torch.save format) and not safetensors");
  }
  int err = 0;
  zip_t* za = zip_open(src.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw invalid_file(src, "invalid zip archive: " + msg);
  }
  a.zip_ = std::make_shared<Zip>();
  a.zip_->za = za;

  const zip_int64_t count = zip_get_num_entries(za, 0);
  if (count < 0 || count > 1000000) throw invalid_file(src, "bad zip entry count " + std::to_string(count));
  std::set<std::string> names;
  std::vector<std::string> pickles;
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* raw = zip_get_name(za, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!raw) throw invalid_file(src, "zip entry " + std::to_string(i) + " has no name");
    const std::string name = raw;
    if (unsafe_name(name)) throw invalid_file(src, "zip entry '" + name + "' has an unsafe name (absolute or '..')");
    if (!names.insert(name).second) throw invalid_file(src, "zip entry '" + name + "' appears twice");
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) pickles.push_back(name);
  }
  if (pickles.empty())
    throw invalid_file(src, "no <archive>/data.pkl entry: not a torch.save state dict archive");
  if (pickles.size() > 1) throw invalid_file(src, "more than one data.pkl entry ('" + pickles[0] + "', '" + pickles[1] + "')");
  a.prefix_ = pickles[0].substr(0, pickles[0].size() - std::strlen("data.pkl"));

  const std::string bo_name = a.prefix_ + "byteorder";
  if (names.count(bo_name)) {
    const zip_int64_t idx = zip_name_locate(za, bo_name.c_str(), ZIP_FL_ENC_RAW);
    const EntryInfo e = check_entry(za, static_cast<zip_uint64_t>(idx), src + ": " + bo_name, file_size);
    if (e.size > 16) throw invalid_file(src + ": " + bo_name, "unexpected size");
    std::string bo(e.size, '\0');
    read_entry(za, e.index, bo.data(), e.size, src + ": " + bo_name);
    if (bo != "little") throw unsupported(src + ": byte order '" + bo + "' is not supported (only little-endian)");
  }

  const std::string pkl_where = src + ": " + pickles[0];
  const zip_int64_t pidx = zip_name_locate(za, pickles[0].c_str(), ZIP_FL_ENC_RAW);
  const EntryInfo pe = check_entry(za, static_cast<zip_uint64_t>(pidx), pkl_where, file_size);
  if (pe.size > kMaxPickleBytes)
    throw invalid_file(pkl_where, "declares " + std::to_string(pe.size) + " bytes, more than the " +
                                      std::to_string(kMaxPickleBytes) + "-byte limit");
  std::vector<uint8_t> pkl(pe.size);
  read_entry(za, pe.index, pkl.data(), pe.size, pkl_where);
  a.tensors_ = parse_torch_pickle(pkl.data(), pkl.size(), src + ": data.pkl");

  // Every storage the tensors use must be an entry of exactly the declared size.
  std::set<std::string> checked;
  for (const auto& t : a.tensors_) {
    if (!checked.insert(t.storage_key).second) continue;
    const std::string entry = a.prefix_ + "data/" + t.storage_key;
    if (!names.count(entry)) throw invalid_file(src, "storage entry '" + entry + "' (tensor '" + t.name + "') is missing");
    const zip_int64_t idx = zip_name_locate(za, entry.c_str(), ZIP_FL_ENC_RAW);
    const EntryInfo e = check_entry(za, static_cast<zip_uint64_t>(idx), src + ": " + entry, file_size);
    const uint64_t want = static_cast<uint64_t>(t.storage_numel) * dtype_size(t.dtype);
    if (e.size != want)
      throw invalid_file(src + ": " + entry, "holds " + std::to_string(e.size) + " bytes but the pickle declares " +
                                                 std::to_string(t.storage_numel) + " " + std::string(dtype_name(t.dtype)) +
                                                 " elements (" + std::to_string(want) + " bytes)");
  }
  return a;
}

Tensor TorchArchive::tensor(const TorchTensorDesc& d) const {
  const std::string entry = prefix_ + "data/" + d.storage_key;
  Tensor storage = Tensor::empty(d.dtype, {d.storage_numel});
  {
    std::lock_guard<std::mutex> lock(zip_->mu);
    const zip_int64_t idx = zip_name_locate(zip_->za, entry.c_str(), ZIP_FL_ENC_RAW);
    if (idx < 0) throw invalid_file(path_, "storage entry '" + entry + "' is missing");
    read_entry(zip_->za, static_cast<zip_uint64_t>(idx), storage.raw(), storage.nbytes(), path_ + ": " + entry);
  }
  const int64_t numel = shape_numel(d.shape);
  if (d.storage_offset == 0 && numel == d.storage_numel && d.contiguous()) return storage.reshape(d.shape);
  Tensor out = Tensor::empty(d.dtype, d.shape);
  if (numel == 0) return out;
  const size_t es = dtype_size(d.dtype);
  const auto* src = static_cast<const uint8_t*>(storage.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  if (d.contiguous()) {
    std::memcpy(dst, src + static_cast<size_t>(d.storage_offset) * es, static_cast<size_t>(numel) * es);
    return out;
  }
  // Strided gather (extent was checked against the storage when the pickle was read).
  const size_t rank = d.shape.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t n = 0; n < numel; ++n) {
    int64_t off = d.storage_offset;
    for (size_t k = 0; k < rank; ++k) off += idx[k] * d.stride[k];
    std::memcpy(dst + static_cast<size_t>(n) * es, src + static_cast<size_t>(off) * es, es);
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < d.shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

}  // namespace bertcpp::io
