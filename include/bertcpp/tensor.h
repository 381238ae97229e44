// Tensor: the one tensor type that crosses every layer boundary. A dtype, a shape (row-major,
// contiguous) and a pointer to memory that is either owned (64-byte aligned) or borrowed from
// something kept alive by a shared handle (e.g. a memory-mapped safetensors file: zero-copy).
// Copies are shallow (they share memory); clone() makes a deep copy.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bertcpp/dtype.h"
#include "bertcpp/error.h"

namespace bertcpp {

using Shape = std::vector<int64_t>;

std::string shape_to_string(const Shape& shape);  // "[2, 3, 4]"
// Number of elements, or throws InvalidArgument on a negative dim or on overflow of int64.
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // New owned, zero-initialised, 64-byte aligned memory.
  static Tensor zeros(DType dtype, Shape shape);
  // New owned, uninitialised memory (for outputs that are fully overwritten).
  static Tensor empty(DType dtype, Shape shape);
  // A view of memory owned elsewhere; `keepalive` keeps that memory valid as long as any view lives.
  static Tensor borrow(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> keepalive);

  bool defined() const { return data_ != nullptr || storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(static_cast<size_t>(i < 0 ? i + rank() : i)); }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  // Typed access; throws Internal if T does not match dtype().
  template <class T> T* data() { check_type<T>(); return static_cast<T*>(data_); }
  template <class T> const T* data() const { check_type<T>(); return static_cast<const T*>(data_); }
  template <class T> std::span<T> span() { return {data<T>(), static_cast<size_t>(numel())}; }
  template <class T> std::span<const T> span() const { return {data<T>(), static_cast<size_t>(numel())}; }
  void* raw() { return data_; }
  const void* raw() const { return data_; }

  // Same memory, new shape with the same number of elements.
  Tensor reshape(Shape shape) const;
  Tensor clone() const;
  // Converts to F32 (F16/BF16/F64/I* exactly where representable); returns *this if already F32.
  Tensor to_f32() const;
  // True if this tensor's memory is a view of memory it does not own (e.g. mmap).
  bool is_borrowed() const { return borrowed_; }

 private:
  template <class T> void check_type() const;
  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<const void> storage_;
  void* data_ = nullptr;
  bool borrowed_ = false;
};

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::I16; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::I8; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::F16; };  // raw F16/BF16 bits
template <> struct DTypeOf<bool> { static constexpr DType value = DType::BOOL; };

template <class T> void Tensor::check_type() const {
  constexpr DType want = DTypeOf<T>::value;
  const bool ok = dtype_ == want || (want == DType::F16 && dtype_ == DType::BF16);
  if (!ok)
    throw Error(ErrorKind::Internal, "tensor of dtype " + std::string(dtype_name(dtype_)) +
                                         " accessed as " + std::string(dtype_name(want)));
}

}  // namespace bertcpp
