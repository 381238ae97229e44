/* A C user of an installed bertcpp: mean-pooled embedding of argv[2] with the model in argv[1]. */
#include <bertcpp/bertcpp.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL TEXT\n", argv[0]);
    return 2;
  }
  bertcpp_model* model = NULL;
  struct bertcpp_model_params params = bertcpp_model_default_params();
  params.n_threads = 1;
  int rc = bertcpp_model_load(argv[1], &params, &model);
  if (rc != BERTCPP_OK) {
    fprintf(stderr, "load: %s\n", bertcpp_last_error());
    return rc;
  }
  const size_t dim = (size_t)bertcpp_model_hidden_size(model);
  float* emb = malloc(dim * sizeof(float));
  const char* texts[1] = {argv[2]};
  rc = bertcpp_embed(model, texts, 1, BERTCPP_POOLING_MEAN, 0, emb, dim);
  if (rc == BERTCPP_OK) {
    printf("c %s", bertcpp_version());
    for (size_t k = 0; k < dim; ++k) printf(" %.9g", emb[k]);
    printf("\n");
  } else {
    fprintf(stderr, "embed: %s\n", bertcpp_last_error());
  }
  free(emb);
  bertcpp_model_free(model);
  return rc;
}
