#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "hub/sha256.h"

namespace bertcpp::hub {
namespace {

// FIPS 180-2 appendix B test vectors.
TEST(Sha256, FipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);  // one million 'a'
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitUpdatesMatchOneShot) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>(i * 7 + 3);
  for (std::size_t split : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 127u, 200u}) {
    Sha256 h;
    h.update(data.substr(0, split));
    h.update(data.substr(split));
    EXPECT_EQ(h.hex_digest(), sha256_hex(data)) << split;
  }
}

// Against coreutils' sha256sum on a real model file (the same check the hub's LFS etag implies).
TEST(Sha256, MatchesSha256sumOnModelFile) {
  const std::string path = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert/model.safetensors";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(("sha256sum '" + path + "'").c_str(), "r"), &::pclose);
  ASSERT_TRUE(p);
  char buf[65] = {0};
  ASSERT_EQ(std::fread(buf, 1, 64, p.get()), 64u);
  EXPECT_EQ(sha256_file(path), std::string(buf, 64));
}

}  // namespace
}  // namespace bertcpp::hub
