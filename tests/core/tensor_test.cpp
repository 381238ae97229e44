#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bertcpp/dtype.h"
#include "bertcpp/tensor.h"

using namespace bertcpp;

TEST(DType, F16DecodesEveryClassExactly) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  // Every finite half equals sign * mantissa * 2^exp computed independently.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) continue;
    const float mag = e == 0 ? std::ldexp(static_cast<float>(m), -24) : std::ldexp(1.0f + m / 1024.0f, static_cast<int>(e) - 15);
    ASSERT_EQ(f16_to_f32(static_cast<uint16_t>(h)), (h & 0x8000) ? -mag : mag) << h;
  }
}

TEST(DType, BF16RoundTripsAndRoundsToNearestEven) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), h);
  }
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
}

TEST(Tensor, OwnedAlignedAndShallowCopies) {
  Tensor t = Tensor::zeros(DType::F32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  Tensor view = t.reshape({3, 2});
  view.data<float>()[5] = 7.0f;
  EXPECT_EQ(t.data<float>()[5], 7.0f);
  Tensor deep = t.clone();
  deep.data<float>()[5] = 1.0f;
  EXPECT_EQ(t.data<float>()[5], 7.0f);
  EXPECT_THROW(t.data<int64_t>(), Error);
  EXPECT_THROW(t.reshape({4}), Error);
}

TEST(Tensor, ShapeOverflowIsAnError) {
  const int64_t big = int64_t{1} << 40;
  EXPECT_THROW(shape_numel({big, big}), Error);
  EXPECT_THROW(shape_numel({-1, 2}), Error);
  EXPECT_EQ(shape_numel({}), 1);
}

TEST(Tensor, ToF32ConvertsHalfTypes) {
  Tensor h = Tensor::empty(DType::BF16, {2});
  h.data<uint16_t>()[0] = 0x3f80;
  h.data<uint16_t>()[1] = 0xc000;
  Tensor f = h.to_f32();
  EXPECT_EQ(f.data<float>()[0], 1.0f);
  EXPECT_EQ(f.data<float>()[1], -2.0f);
}
