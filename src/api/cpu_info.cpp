#include "api/cpu_info.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <cstdint>
#endif

namespace bertcpp::api {

#if defined(__x86_64__) || defined(__i386__)
namespace {
uint64_t xgetbv0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
}  // namespace

std::vector<std::string> cpu_features() {
  std::vector<std::string> out;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return out;
  const bool osxsave = (c >> 27) & 1u;
  const bool fma = (c >> 12) & 1u;
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                  // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;   // opmask + ZMM state
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;          // XTILECFG + XTILEDATA
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return out;
  __cpuid_count(7, 0, a, b, c, d);
  const unsigned ebx7 = b, ecx7 = c, edx7 = d, max_sub7 = a;
  unsigned eax71 = 0;
  if (max_sub7 >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    eax71 = a;
  }
  if (os_avx && ((ebx7 >> 5) & 1u)) out.push_back("avx2");
  if (os_avx && fma) out.push_back("fma");
  if (os_avx512 && ((ebx7 >> 16) & 1u)) out.push_back("avx512f");
  if (os_avx512 && ((ebx7 >> 30) & 1u)) out.push_back("avx512bw");
  if (os_avx512 && ((ecx7 >> 11) & 1u)) out.push_back("avx512_vnni");
  if (os_avx512 && ((eax71 >> 5) & 1u)) out.push_back("avx512_bf16");
  if (os_amx && ((edx7 >> 24) & 1u)) out.push_back("amx");
  if (os_amx && ((edx7 >> 25) & 1u)) out.push_back("amx_int8");
  if (os_amx && ((edx7 >> 22) & 1u)) out.push_back("amx_bf16");
  return out;
}
#else
std::vector<std::string> cpu_features() { return {}; }
#endif

}  // namespace bertcpp::api
