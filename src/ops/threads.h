// How many threads the ops use. Ops run on OpenMP (oneDNN is built on the OpenMP runtime too);
// the setting is per calling thread (OpenMP's nthreads-var), so concurrent callers may differ.
#pragma once

namespace bertcpp::ops {

// Number of logical cores available to this process.
int available_cores();
// Sets the thread count for ops called from the calling thread. n <= 0 = all cores.
void set_num_threads(int n);
int num_threads();

}  // namespace bertcpp::ops
