// Runtime CPU dispatch for our own elementwise kernels. A function marked BERTCPP_MULTIVERSION is
// compiled three times (AVX-512 = x86-64-v4, AVX2+FMA = x86-64-v3, baseline x86-64) and the
// loader picks the best clone for the CPU it runs on (GNU ifunc), so one binary runs on AVX2-only
// machines and uses AVX-512 where present. Write the body as plain loops (`#pragma omp simd`
// for reductions) with no libm calls in the hot loop, so each clone vectorizes for its ISA.
// oneDNN (GEMMs) does its own runtime dispatch (JIT), including VNNI, AMX and BF16.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BERTCPP_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BERTCPP_MULTIVERSION
#endif
