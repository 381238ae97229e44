#include "bertcpp/tensor.h"

#include <cstdlib>
#include <cstring>

namespace bertcpp {

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw invalid_argument("negative dimension in shape " + shape_to_string(shape));
    if (d != 0 && n > INT64_MAX / d) throw invalid_argument("element count of shape " + shape_to_string(shape) + " overflows");
    n *= d;
  }
  return n;
}

int64_t Tensor::numel() const { return shape_numel(shape_); }

namespace {
std::shared_ptr<void> aligned_alloc64(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw Error(ErrorKind::Internal, "out of memory allocating " + std::to_string(bytes) + " bytes");
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}
}  // namespace

Tensor Tensor::empty(DType dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  const int64_t n = shape_numel(t.shape_);
  if (static_cast<uint64_t>(n) > SIZE_MAX / dtype_size(dtype))
    throw invalid_argument("tensor of shape " + shape_to_string(t.shape_) + " is too large");
  auto mem = aligned_alloc64(t.nbytes());
  t.data_ = mem.get();
  t.storage_ = std::move(mem);
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::borrow(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> keepalive) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  shape_numel(t.shape_);
  t.data_ = const_cast<void*>(data);
  t.storage_ = std::move(keepalive);
  t.borrowed_ = true;
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  if (shape_numel(shape) != numel())
    throw invalid_argument("cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::to_f32() const {
  if (dtype_ == DType::F32) return *this;
  Tensor out = empty(DType::F32, shape_);
  float* dst = static_cast<float*>(out.data_);
  const size_t n = static_cast<size_t>(numel());
  const void* src = data_;
  switch (dtype_) {
    case DType::F16: for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(static_cast<const uint16_t*>(src)[i]); break;
    case DType::BF16: for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(static_cast<const uint16_t*>(src)[i]); break;
    case DType::F64: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const double*>(src)[i]); break;
    case DType::I64: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const int64_t*>(src)[i]); break;
    case DType::I32: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const int32_t*>(src)[i]); break;
    case DType::I16: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const int16_t*>(src)[i]); break;
    case DType::I8: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const int8_t*>(src)[i]); break;
    case DType::U8: case DType::BOOL: for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<const uint8_t*>(src)[i]); break;
    case DType::F32: break;
  }
  return out;
}

}  // namespace bertcpp
