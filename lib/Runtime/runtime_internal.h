/*===- runtime_internal.h - runtime entry points used by library stubs ----===*/
#ifndef GATEC_RUNTIME_INTERNAL_H
#define GATEC_RUNTIME_INTERNAL_H

#include "gatec-c/runtime.h"

#define GATEC_RT_MAX_RANK 16
/* The largest tensor a call accepts: 2^47 bytes, x86-64's user address space. */
#define GATEC_RT_MAX_BYTES (INT64_C(1) << 47)

extern int32_t gatec_num_threads;
void gatec_rt_set_num_threads(int32_t n);
const char *gatec_rt_last_error(void);
int gatec_rt_fail(int status, const char *fmt, ...);
int gatec_rt_output_shapes(const gatec_function *fn, const gatec_tensor *in,
                           int32_t nin, int64_t **shapes);
int gatec_rt_check_call(const gatec_function *fn, const gatec_tensor *in,
                        int32_t nin, gatec_tensor *out, int32_t nout);
void gatec_rt_descriptor(int64_t *desc, const gatec_tensor *t);

/* CPU libraries only (omp.c): the OpenMP wait policy for the duration of a
 * call; enter returns what exit restores. */
int gatec_rt_omp_enter(void);
void gatec_rt_omp_exit(int saved);

/* CUDA libraries only (cuda.c): driver and context before a call, the
 * call's status after it, and the per-thread stream. */
int gatec_rt_cuda_begin(void);
int gatec_rt_cuda_end(void);
void gatec_rt_cuda_set_stream(void *stream);

#endif
