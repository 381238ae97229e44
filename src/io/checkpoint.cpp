// Checkpoint::open: find the weights of a model folder and index every tensor, whatever the format.
#include "io/checkpoint.h"

#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "io/safetensors_reader.h"
#include "io/torch_reader.h"

namespace bertcpp::io {

namespace fs = std::filesystem;

struct Checkpoint::Impl {
  std::string format;
  std::vector<TensorInfo> infos;
  std::unordered_map<std::string, size_t> index;
  std::vector<std::function<Tensor()>> loaders;
  std::vector<std::shared_ptr<const MappedFile>> maps;  // of the safetensors files (release_pages)

  void add(TensorInfo info, std::function<Tensor()> loader, const std::string& source) {
    if (index.count(info.name))
      throw invalid_file(source, "tensor \"" + info.name + "\" is stored twice (also in " + infos[index[info.name]].file + ")");
    index.emplace(info.name, infos.size());
    infos.push_back(std::move(info));
    loaders.push_back(std::move(loader));
  }
};

namespace {

void add_safetensors(Checkpoint::Impl& impl, const fs::path& file, const std::string& rel,
                     const std::set<std::string>* only) {
  auto st = std::make_shared<SafetensorsFile>(read_safetensors(file));
  impl.maps.push_back(st->map);
  for (size_t i = 0; i < st->entries.size(); ++i) {
    const auto& e = st->entries[i];
    if (only && !only->count(e.name)) continue;
    impl.add({e.name, e.dtype, e.shape, static_cast<size_t>(e.end - e.begin), rel},
             [st, i] { return st->tensor(st->entries[i]); }, file.string());
  }
}

void add_torch(Checkpoint::Impl& impl, const fs::path& file, const std::string& rel, const std::set<std::string>* only) {
  auto ar = std::make_shared<TorchArchive>(TorchArchive::open(file));
  for (size_t i = 0; i < ar->tensors().size(); ++i) {
    const auto& d = ar->tensors()[i];
    if (only && !only->count(d.name)) continue;
    const size_t nbytes = static_cast<size_t>(shape_numel(d.shape)) * dtype_size(d.dtype);
    impl.add({d.name, d.dtype, d.shape, nbytes, rel}, [ar, i] { return ar->tensor(ar->tensors()[i]); }, file.string());
  }
}

bool plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

void add_sharded(Checkpoint::Impl& impl, const fs::path& index_file, bool safetensors) {
  const std::string src = index_file.string();
  const auto j = parse_json_strict(read_small_file(src, 64u << 20), src);
  if (!j.is_object()) throw invalid_file(src, "expected a JSON object");
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) throw invalid_file(src, "\"weight_map\" must be an object of name -> shard file");
  std::map<std::string, std::set<std::string>> by_shard;  // sorted: shard files in name order
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string()) throw invalid_file(src, "weight_map[\"" + name + "\"] must be a string");
    const std::string s = shard.get<std::string>();
    if (!plain_file_name(s))
      throw invalid_file(src, "weight_map[\"" + name + "\"] = \"" + s + "\" is not a plain file name in the model folder");
    by_shard[s].insert(name);
  }
  if (by_shard.empty()) throw invalid_file(src, "weight_map is empty");
  const fs::path dir = index_file.parent_path();
  for (const auto& [shard, names] : by_shard) {
    const fs::path f = dir / shard;
    const size_t before = impl.infos.size();
    if (safetensors) add_safetensors(impl, f, shard, &names);
    else add_torch(impl, f, shard, &names);
    if (impl.infos.size() - before != names.size()) {
      for (const auto& n : names)
        if (!impl.index.count(n)) throw invalid_file(src, "tensor \"" + n + "\" is not in shard " + shard);
    }
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& path) {
  auto impl = std::make_shared<Impl>();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw not_found(path.string() + ": no such file or directory");
  if (fs::is_directory(path, ec)) {
    const char* candidates[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                "pytorch_model.bin.index.json"};
    int found = -1;
    for (int i = 0; i < 4 && found < 0; ++i)
      if (fs::exists(path / candidates[i], ec)) found = i;
    switch (found) {
      case 0: impl->format = "safetensors"; add_safetensors(*impl, path / candidates[0], candidates[0], nullptr); break;
      case 1: impl->format = "safetensors"; add_sharded(*impl, path / candidates[1], true); break;
      case 2: impl->format = "pytorch"; add_torch(*impl, path / candidates[2], candidates[2], nullptr); break;
      case 3: impl->format = "pytorch"; add_sharded(*impl, path / candidates[3], false); break;
      default:
        throw not_found(path.string() + ": no model weights (looked for model.safetensors, "
                                        "model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json)");
    }
  } else {
    const std::string name = path.filename().string();
    if (ends_with(name, ".index.json")) {
      const bool st = ends_with(name, ".safetensors.index.json");
      impl->format = st ? "safetensors" : "pytorch";
      add_sharded(*impl, path, st);
    } else if (ends_with(name, ".bin") || ends_with(name, ".pt") || ends_with(name, ".pth")) {
      impl->format = "pytorch";
      add_torch(*impl, path, name, nullptr);
    } else {
      impl->format = "safetensors";
      add_safetensors(*impl, path, name, nullptr);
    }
  }
  Checkpoint c;
  c.impl_ = std::move(impl);
  return c;
}

static const Checkpoint::Impl& checked(const std::shared_ptr<Checkpoint::Impl>& impl) {
  if (!impl) throw Error(ErrorKind::Internal, "Checkpoint used before Checkpoint::open");
  return *impl;
}

const std::vector<TensorInfo>& Checkpoint::tensors() const { return checked(impl_).infos; }

bool Checkpoint::contains(const std::string& name) const { return impl_ && impl_->index.count(name) > 0; }

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = checked(impl_).index.find(name);
  if (it == impl_->index.end()) throw not_found("tensor \"" + name + "\" is not in the checkpoint");
  return impl_->infos[it->second];
}

Tensor Checkpoint::get(const std::string& name) const {
  auto it = checked(impl_).index.find(name);
  if (it == impl_->index.end()) throw not_found("tensor \"" + name + "\" is not in the checkpoint");
  return impl_->loaders[it->second]();
}

void Checkpoint::release_pages(const Tensor& t) const {
  if (!impl_ || !t.defined() || !t.is_borrowed()) return;
  for (const auto& m : impl_->maps)
    if (m && m->contains(t.raw(), t.nbytes())) m->release(t.raw(), t.nbytes());
}

Tensor Checkpoint::get_f32(const std::string& name) const {
  Tensor t = get(name);
  switch (t.dtype()) {
    case DType::F32: return t;
    case DType::F16: case DType::BF16: return t.to_f32();
    default:
      throw invalid_file(info(name).file, "tensor \"" + name + "\" has dtype " + std::string(dtype_name(t.dtype())) +
                                              ", expected a floating-point type");
  }
}

const std::string& Checkpoint::format() const { return checked(impl_).format; }

}  // namespace bertcpp::io
