/* Embeds a gatec library in C: checks the signature, asks for the output
 * shape, runs the kernel, compares with a naive C computation, and shows that
 * a wrong-shaped input is rejected with a message instead of a crash. */
#include "attention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { B = 2, HQ = 4, HKV = 2, S = 37, D = 32 };

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return ((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

int main(void) {
  const gatec_library *lib = attention_library();
  if (lib->abi_version != GATEC_ABI_VERSION) {
    fprintf(stderr, "ABI mismatch\n");
    return 1;
  }
  const gatec_function *fn = &lib->functions[0];
  printf("library %s: %s(%d inputs) -> %d outputs\n", lib->name, fn->name,
         fn->num_inputs, fn->num_outputs);

  static float q[B][HQ][S][D], k[B][HKV][S][D], v[B][HKV][S][D], g[B][HQ][S][1];
  static float out[B][HQ][S][D];
  unsigned seed = 7;
  for (float *p = &q[0][0][0][0]; p < &q[0][0][0][0] + sizeof q / 4; ++p) *p = frand(&seed);
  for (float *p = &k[0][0][0][0]; p < &k[0][0][0][0] + sizeof k / 4; ++p) *p = frand(&seed);
  for (float *p = &v[0][0][0][0]; p < &v[0][0][0][0] + sizeof v / 4; ++p) *p = frand(&seed);
  for (float *p = &g[0][0][0][0]; p < &g[0][0][0][0] + sizeof g / 4; ++p) *p = 4 * frand(&seed);

  int64_t qs[4] = {B, HQ, S, D}, ks[4] = {B, HKV, S, D}, gs[4] = {B, HQ, S, 1};
  gatec_tensor in[4] = {{q, GATEC_DTYPE_F32, 4, qs, NULL},
                        {k, GATEC_DTYPE_F32, 4, ks, NULL},
                        {v, GATEC_DTYPE_F32, 4, ks, NULL},
                        {g, GATEC_DTYPE_F32, 4, gs, NULL}};
  int64_t oshape[4];
  int64_t *rows[1] = {oshape};
  if (attention_output_shapes(in, 4, rows) != GATEC_OK) {
    fprintf(stderr, "shape query failed: %s\n", attention_last_error());
    return 1;
  }
  gatec_tensor o = {out, GATEC_DTYPE_F32, 4, oshape, NULL};
  if (attention_run(in, 4, &o, 1) != GATEC_OK) {
    fprintf(stderr, "run failed: %s\n", attention_last_error());
    return 1;
  }

  double worst = 0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < HQ; ++h)
      for (int i = 0; i < S; ++i) {
        int hk = h / (HQ / HKV);
        double s[S], m = -INFINITY, sum = 0;
        for (int j = 0; j <= i; ++j) {
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += (double)q[b][h][i][d] * k[b][hk][j][d];
          s[j] = dot / sqrt((double)D);
          if (s[j] > m) m = s[j];
        }
        for (int j = 0; j <= i; ++j) sum += s[j] = exp(s[j] - m);
        double gate = 1 / (1 + exp(-(double)g[b][h][i][0]));
        for (int d = 0; d < D; ++d) {
          double acc = 0;
          for (int j = 0; j <= i; ++j) acc += s[j] * v[b][hk][j][d];
          double err = fabs(acc / sum * gate - out[b][h][i][d]);
          if (err > worst) worst = err;
        }
      }
  printf("max abs error vs naive C: %.3g\n", worst);
  if (!(worst < 1e-5)) {
    fprintf(stderr, "FAIL: result differs\n");
    return 1;
  }

  /* A wrong head count must be rejected before any work. */
  int64_t bad[4] = {B, 3, S, D};
  in[0].shape = bad;
  int st = attention_run(in, 4, &o, 1);
  printf("wrong shape -> status %d: %s\n", st, attention_last_error());
  if (st != GATEC_ERROR_SHAPE)
    return 1;
  printf("OK\n");
  return 0;
}
