// safetensors header + data: Checkpoint::open and every tensor materialized. Only bertcpp::Error
// may come out; anything else (a crash, another exception, a leak) is a finding.
#include "bertcpp/error.h"
#include "fuzz_util.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = bertcpp::fuzz::write_file("model.safetensors", data, size);
  try {
    const bertcpp::io::Checkpoint ck = bertcpp::io::Checkpoint::open(path);
    for (const auto& t : ck.tensors()) (void)ck.get_f32(t.name);
  } catch (const bertcpp::Error&) {
  }
  return 0;
}
