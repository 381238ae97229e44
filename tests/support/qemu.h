// Helpers for the tests that re-run code under qemu-user with an older CPU model
// (tests/ops/dispatch_test.cpp, tests/cli/dispatch_cli_test.cpp).
#pragma once
#include <unistd.h>

#include <string>

namespace bertcpp::testing {

// Path of an executable qemu-x86_64, or "" when qemu-user is not installed.
inline std::string find_qemu() {
  for (const char* p : {"/usr/bin/qemu-x86_64", "/usr/local/bin/qemu-x86_64", "/usr/bin/qemu-x86_64-static"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// True in an AddressSanitizer build (ASan under qemu-user exhausts memory: those tests skip).
constexpr bool asan_build() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace bertcpp::testing
