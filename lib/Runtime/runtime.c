/*===- runtime.c - the code linked into every gatec library ---------------===*
 *
 * ABI checks against the embedded signature, output-shape computation, the
 * per-library error message and thread count. Compiled with hidden
 * visibility: each library keeps its own copy, so two libraries in one
 * process never share state. No kernel code lives here.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L /* posix_memalign, sysconf */
#include "gatec-c/runtime.h"
#include "runtime_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Read by the generated code at every parallel region (an atomic monotonic
 * load), written by set_num_threads, possibly while other threads call. */
int32_t gatec_num_threads = 1;
static _Thread_local char gatec_error[1024];

__attribute__((constructor)) static void gatec_rt_init(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  __atomic_store_n(&gatec_num_threads, n > 0 ? (int32_t)n : 1, __ATOMIC_RELAXED);
}

void gatec_rt_set_num_threads(int32_t n) {
  if (n <= 0) {
    long hw = sysconf(_SC_NPROCESSORS_ONLN);
    n = hw > 0 ? (int32_t)hw : 1;
  }
  __atomic_store_n(&gatec_num_threads, n, __ATOMIC_RELAXED);
}

const char *gatec_rt_last_error(void) { return gatec_error; }

int gatec_rt_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(gatec_error, sizeof gatec_error, fmt, ap);
  va_end(ap);
  return status;
}

static const char *dtype_name(int32_t d) {
  switch (d) {
  case GATEC_DTYPE_F32: return "float32";
  case GATEC_DTYPE_F16: return "float16";
  case GATEC_DTYPE_BF16: return "bfloat16";
  case GATEC_DTYPE_BOOL: return "bool";
  case GATEC_DTYPE_I64: return "int64";
  case GATEC_DTYPE_I32: return "int32";
  case GATEC_DTYPE_F64: return "float64";
  default: return "unknown";
  }
}

static int64_t dtype_bytes(int32_t d) {
  switch (d) {
  case GATEC_DTYPE_F16: case GATEC_DTYPE_BF16: return 2;
  case GATEC_DTYPE_BOOL: return 1;
  case GATEC_DTYPE_I32: case GATEC_DTYPE_F32: return 4;
  default: return 8;
  }
}

static int check_tensor(const gatec_function *fn, const char *kind, int index,
                        const gatec_arg_info *info, const gatec_tensor *t) {
  if (!t)
    return gatec_rt_fail(GATEC_ERROR_NULL_POINTER, "%s: %s %d ('%s') is NULL",
                         fn->name, kind, index, info->name);
  if (t->dtype != info->dtype)
    return gatec_rt_fail(GATEC_ERROR_DTYPE,
                         "%s: %s %d ('%s') has dtype %s, expected %s", fn->name,
                         kind, index, info->name, dtype_name(t->dtype),
                         dtype_name(info->dtype));
  if (t->rank != info->rank)
    return gatec_rt_fail(GATEC_ERROR_RANK,
                         "%s: %s %d ('%s') has rank %d, expected %d", fn->name,
                         kind, index, info->name, t->rank, info->rank);
  if (t->rank > 0 && !t->shape)
    return gatec_rt_fail(GATEC_ERROR_NULL_POINTER,
                         "%s: %s %d ('%s') has a NULL shape", fn->name, kind,
                         index, info->name);
  int64_t numel = 1;
  int huge = 0;
  for (int d = 0; d < t->rank; ++d) {
    if (t->shape[d] < 0)
      return gatec_rt_fail(GATEC_ERROR_SHAPE,
                           "%s: %s %d ('%s') dimension %d is negative (%lld)",
                           fn->name, kind, index, info->name, d,
                           (long long)t->shape[d]);
    if (__builtin_mul_overflow(numel, t->shape[d], &numel))
      huge = 1;
  }
  for (int d = 0; d < t->rank; ++d)
    if (t->shape[d] == 0) /* empty, whatever the other dimensions */
      numel = 0, huge = 0;
  /* No tensor can hold more bytes than a 64-bit address space (the user half
   * of x86-64's 48-bit one): the kernels' index arithmetic would overflow. */
  int64_t bytes;
  if (huge || (numel > 0 && (__builtin_mul_overflow(numel, dtype_bytes(t->dtype), &bytes) ||
                             bytes > GATEC_RT_MAX_BYTES)))
    return gatec_rt_fail(GATEC_ERROR_SHAPE,
                         "%s: %s %d ('%s') has more elements than memory can hold "
                         "(rank %d, the product of its dimensions overflows or "
                         "exceeds %lld bytes)",
                         fn->name, kind, index, info->name, t->rank,
                         (long long)GATEC_RT_MAX_BYTES);
  if (t->strides) {
    int64_t expect = 1;
    for (int d = t->rank - 1; d >= 0; --d) {
      if (t->shape[d] != 1 && t->strides[d] != expect)
        return gatec_rt_fail(GATEC_ERROR_SHAPE,
                             "%s: %s %d ('%s') is not contiguous (stride %lld "
                             "in dimension %d); pass a row-major copy",
                             fn->name, kind, index, info->name,
                             (long long)t->strides[d], d);
      expect *= t->shape[d];
    }
  }
  if (!t->data && numel > 0)
    return gatec_rt_fail(GATEC_ERROR_NULL_POINTER,
                         "%s: %s %d ('%s') has NULL data", fn->name, kind,
                         index, info->name);
  return GATEC_OK;
}

int gatec_rt_output_shapes(const gatec_function *fn, const gatec_tensor *in,
                           int32_t nin, int64_t **shapes) {
  if (nin != fn->num_inputs)
    return gatec_rt_fail(GATEC_ERROR_ARGUMENT_COUNT,
                         "%s: expected %d inputs, got %d", fn->name,
                         fn->num_inputs, nin);
  if (nin > 0 && !in)
    return gatec_rt_fail(GATEC_ERROR_NULL_POINTER, "%s: inputs array is NULL",
                         fn->name);
  for (int i = 0; i < nin; ++i) {
    const gatec_arg_info *info = &fn->inputs[i];
    int st = check_tensor(fn, "input", i, info, &in[i]);
    if (st)
      return st;
    for (int d = 0; d < info->rank; ++d) {
      const gatec_dim *dim = &info->dims[d];
      if (dim->size >= 0 && in[i].shape[d] != dim->size)
        return gatec_rt_fail(GATEC_ERROR_SHAPE,
                             "%s: input %d ('%s') dimension %d is %lld, "
                             "expected %lld",
                             fn->name, i, info->name, d,
                             (long long)in[i].shape[d], (long long)dim->size);
      if (dim->size >= 0 || !dim->symbol[0])
        continue;
      /* Every earlier use of the same symbol must agree. */
      for (int j = 0; j <= i; ++j)
        for (int e = 0; e < fn->inputs[j].rank && (j < i || e < d); ++e) {
          const gatec_dim *other = &fn->inputs[j].dims[e];
          if (other->size < 0 && strcmp(other->symbol, dim->symbol) == 0 &&
              in[j].shape[e] != in[i].shape[d])
            return gatec_rt_fail(
                GATEC_ERROR_SHAPE,
                "%s: input %d ('%s') dimension %d ('%s') is %lld but input %d "
                "('%s') dimension %d ('%s') is %lld",
                fn->name, i, info->name, d, dim->symbol,
                (long long)in[i].shape[d], j, fn->inputs[j].name, e,
                other->symbol, (long long)in[j].shape[e]);
        }
    }
  }
  if (!shapes)
    return GATEC_OK;
  for (int o = 0; o < fn->num_outputs; ++o) {
    const gatec_arg_info *info = &fn->outputs[o];
    for (int d = 0; d < info->rank; ++d) {
      const gatec_dim *dim = &info->dims[d];
      int64_t v = dim->size;
      if (v < 0) {
        v = dim->constant;
        for (int t = 0; t < 2; ++t)
          if (dim->input[t] >= 0)
            v += in[dim->input[t]].shape[dim->input_dim[t]];
      }
      shapes[o][d] = v;
    }
  }
  return GATEC_OK;
}

int gatec_rt_check_call(const gatec_function *fn, const gatec_tensor *in,
                        int32_t nin, gatec_tensor *out, int32_t nout) {
  int st = gatec_rt_output_shapes(fn, in, nin, NULL);
  if (st)
    return st;
  if (nout != fn->num_outputs)
    return gatec_rt_fail(GATEC_ERROR_ARGUMENT_COUNT,
                         "%s: expected %d outputs, got %d", fn->name,
                         fn->num_outputs, nout);
  if (nout > 0 && !out)
    return gatec_rt_fail(GATEC_ERROR_NULL_POINTER, "%s: outputs array is NULL",
                         fn->name);
  int64_t expect[GATEC_RT_MAX_RANK];
  for (int o = 0; o < nout; ++o) {
    const gatec_arg_info *info = &fn->outputs[o];
    st = check_tensor(fn, "output", o, info, &out[o]);
    if (st)
      return st;
    int64_t *rows[1] = {expect};
    gatec_function one = *fn;
    one.num_outputs = 1;
    one.outputs = info;
    gatec_rt_output_shapes(&one, in, nin, rows);
    for (int d = 0; d < info->rank; ++d)
      if (out[o].shape[d] != expect[d])
        return gatec_rt_fail(GATEC_ERROR_OUTPUT,
                             "%s: output %d ('%s') dimension %d is %lld, "
                             "expected %lld",
                             fn->name, o, info->name, d,
                             (long long)out[o].shape[d], (long long)expect[d]);
  }
  return GATEC_OK;
}

void gatec_rt_descriptor(int64_t *desc, const gatec_tensor *t) {
  /* MLIR's memref descriptor: allocated, aligned, offset, sizes, strides. */
  desc[0] = (int64_t)(intptr_t)t->data;
  desc[1] = (int64_t)(intptr_t)t->data;
  desc[2] = 0;
  int64_t stride = 1;
  for (int d = t->rank - 1; d >= 0; --d) {
    desc[3 + d] = t->shape[d];
    desc[3 + t->rank + d] = stride;
    stride *= t->shape[d];
  }
}

/*===----------------------------------------------------------------------===*
 * Buffers of the generated code (memref.alloc / dealloc). Large temporaries
 * are kept for reuse: a fresh multi-megabyte malloc is a new mmap whose pages
 * the kernel zeroes on first touch, which costs more than many kernels. Each
 * library keeps its own small cache (hidden symbols).
 *===----------------------------------------------------------------------===*/
#include <pthread.h>
#include <stdlib.h>

#include <unistd.h>

/* A whole model's temporaries (tens of buffers of tens of MB at long
 * sequences, hundreds of small ones in graphs of many small ops) must fit,
 * or every call pays page faults again: from 64 KiB up (glibc serves larger
 * blocks by mmap, fresh pages each time). */
#define GATEC_RT_CACHE_SLOTS 256
#define GATEC_RT_CACHE_MIN ((size_t)1 << 16)
#define GATEC_RT_HEADER 64 /* keeps 64-byte alignment */

/* Total bytes kept: a quarter of the physical memory, at most 8 GiB. */
static size_t gatec_cache_max(void) {
  static size_t max;
  if (!max) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t phys = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)1 << 32;
    size_t cap = (size_t)8 << 30;
    max = phys / 4 < cap ? phys / 4 : cap;
  }
  return max;
}

static struct {
  void *block;
  size_t size;
} gatec_cache[GATEC_RT_CACHE_SLOTS];
static size_t gatec_cache_bytes;
static pthread_mutex_t gatec_cache_lock = PTHREAD_MUTEX_INITIALIZER;

void *_mlir_memref_to_llvm_alloc(size_t size) {
  if (size >= GATEC_RT_CACHE_MIN) {
    int best = -1;
    pthread_mutex_lock(&gatec_cache_lock);
    for (int i = 0; i < GATEC_RT_CACHE_SLOTS; ++i)
      if (gatec_cache[i].block && gatec_cache[i].size >= size &&
          gatec_cache[i].size <= 2 * size &&
          (best < 0 || gatec_cache[i].size < gatec_cache[best].size))
        best = i;
    void *block = NULL;
    if (best >= 0) {
      block = gatec_cache[best].block;
      gatec_cache_bytes -= gatec_cache[best].size;
      gatec_cache[best].block = NULL;
    }
    pthread_mutex_unlock(&gatec_cache_lock);
    if (block)
      return (char *)block + GATEC_RT_HEADER;
  }
  void *block = NULL;
  if (posix_memalign(&block, GATEC_RT_HEADER, size + GATEC_RT_HEADER) != 0)
    return NULL;
  *(size_t *)block = size;
  return (char *)block + GATEC_RT_HEADER;
}

/* Blocks aligned beyond the header's 64 bytes: the pointer is `alignment`
 * bytes into its block, the word before it records the block, and the
 * header's size word says GATEC_RT_OVERALIGNED (never cached). */
#define GATEC_RT_OVERALIGNED ((size_t)-1)

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  if (alignment <= GATEC_RT_HEADER)
    return _mlir_memref_to_llvm_alloc(size);
  if (alignment & (alignment - 1))
    return NULL;
  void *block = NULL;
  if (posix_memalign(&block, alignment, size + alignment) != 0)
    return NULL;
  char *ptr = (char *)block + alignment;
  ((void **)ptr)[-1] = block;
  *(size_t *)((char *)ptr - GATEC_RT_HEADER) = GATEC_RT_OVERALIGNED;
  return ptr;
}

void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  void *block = (char *)ptr - GATEC_RT_HEADER;
  size_t size = *(size_t *)block;
  if (size == GATEC_RT_OVERALIGNED) {
    free(((void **)ptr)[-1]);
    return;
  }
  if (size >= GATEC_RT_CACHE_MIN) {
    pthread_mutex_lock(&gatec_cache_lock);
    for (int i = 0; i < GATEC_RT_CACHE_SLOTS; ++i)
      if (!gatec_cache[i].block && gatec_cache_bytes + size <= gatec_cache_max()) {
        gatec_cache[i].block = block;
        gatec_cache[i].size = size;
        gatec_cache_bytes += size;
        block = NULL;
        break;
      }
    pthread_mutex_unlock(&gatec_cache_lock);
  }
  free(block);
}
