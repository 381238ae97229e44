// What the CPU can do, from cpuid (x86-64) — for `bertcpp bench` reports and diagnostics.
#pragma once
#include <string>
#include <vector>

namespace bertcpp::api {

// Names of the supported features among: avx2, fma, avx512f, avx512bw, avx512_vnni, avx512_bf16,
// amx (AMX tiles), amx_int8, amx_bf16. AVX/AVX-512/AMX count only when the OS saves their state
// (xgetbv). Empty on non-x86 CPUs.
std::vector<std::string> cpu_features();

}  // namespace bertcpp::api
