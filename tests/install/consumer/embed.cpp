// A C++ user of an installed bertcpp: mean-pooled embedding of argv[2] with the model in argv[1].
#include <bertcpp/bertcpp.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL TEXT\n", argv[0]);
    return 2;
  }
  try {
    bertcpp::ModelOptions options;
    options.threads = 1;
    const bertcpp::Model model = bertcpp::Model::from_pretrained(argv[1], options);
    const bertcpp::Tensor emb = model.embed(std::vector<std::string>{argv[2]}, bertcpp::Pooling::Mean, false);
    std::printf("cxx %lld", static_cast<long long>(model.tokenizer().encode(argv[2]).input_ids.size()));
    for (int64_t k = 0; k < emb.dim(1); ++k) std::printf(" %.9g", emb.data<float>()[k]);
    std::printf("\n");
    return 0;
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
