/*===- gatec-c/runtime.h - the C ABI of gatec-compiled libraries ----------===*
 *
 * A library compiled by gatec (lib<name>.so) exports one symbol,
 * `<name>_library`, returning a description of its functions, plus, per
 * function, `<name>[_<fn>]_run` and friends declared in the generated <name>.h.
 * Inputs are checked against the embedded signature before any work; a
 * violation returns a non-zero status and a message naming the argument, and
 * leaves every output untouched.
 *===----------------------------------------------------------------------===*/
#ifndef GATEC_C_RUNTIME_H
#define GATEC_C_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: gatec_library gained set_stream (CUDA libraries). A library and a
 * caller agree only when their versions are equal. */
#define GATEC_ABI_VERSION 2

typedef enum gatec_dtype {
  GATEC_DTYPE_F32 = 1,
  GATEC_DTYPE_F16 = 2,
  GATEC_DTYPE_BF16 = 3,
  GATEC_DTYPE_BOOL = 4, /* one byte per element, 0 or 1 */
  GATEC_DTYPE_I64 = 5,
  GATEC_DTYPE_I32 = 6,
  GATEC_DTYPE_F64 = 7,
} gatec_dtype;

typedef enum gatec_status {
  GATEC_OK = 0,
  GATEC_ERROR_ARGUMENT_COUNT = 1,
  GATEC_ERROR_NULL_POINTER = 2,
  GATEC_ERROR_DTYPE = 3,
  GATEC_ERROR_RANK = 4,
  GATEC_ERROR_SHAPE = 5,
  GATEC_ERROR_OUTPUT = 6,
  GATEC_ERROR_DEVICE = 7,
  GATEC_ERROR_INTERNAL = 8,
} gatec_status;

/* A dense tensor. `strides` (in elements) may be NULL for row-major
 * contiguous data; other strides are rejected. */
typedef struct gatec_tensor {
  void *data;
  int32_t dtype; /* gatec_dtype */
  int32_t rank;
  const int64_t *shape;
  const int64_t *strides;
} gatec_tensor;

/* One dimension of an argument: a static size, or a symbol. Output
 * dimensions that are not static are `constant + Σ input dims` (at most two
 * terms, input index -1 when unused), e.g. past_len + seq_len. */
typedef struct gatec_dim {
  int64_t size;       /* >= 0 static, -1 dynamic */
  const char *symbol; /* name of a dynamic dim ("" when unnamed) */
  int64_t constant;
  int32_t input[2];
  int32_t input_dim[2];
} gatec_dim;

typedef struct gatec_arg_info {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const gatec_dim *dims;
} gatec_arg_info;

typedef struct gatec_function {
  const char *name;   /* function name in the source (ONNX graph: "main") */
  const char *symbol; /* prefix of its C entry points */
  int32_t num_inputs, num_outputs;
  const gatec_arg_info *inputs, *outputs;
  /* Output shapes for these inputs, written to shapes[o][0..rank). */
  int (*output_shapes)(const gatec_tensor *inputs, int32_t num_inputs,
                       int64_t **shapes);
  /* Runs the function; outputs are caller-allocated with shapes from
   * output_shapes. */
  int (*run)(const gatec_tensor *inputs, int32_t num_inputs,
             gatec_tensor *outputs, int32_t num_outputs);
} gatec_function;

typedef struct gatec_library {
  int32_t abi_version; /* GATEC_ABI_VERSION */
  const char *name;
  const char *target; /* "cpu" | "cuda" */
  int32_t num_functions;
  const gatec_function *functions;
  /* The message of the last failed call on this thread ("" if none). */
  const char *(*last_error)(void);
  /* Threads used by this library's kernels (<= 0: hardware threads). */
  void (*set_num_threads)(int32_t n);
  /* CUDA libraries ("cuda" target; NULL otherwise): the CUstream the calls
   * of this thread run on (NULL: the legacy default stream). Tensor data
   * are then device pointers; a call returns once its work is queued on the
   * stream. Without a CUDA driver a call fails with GATEC_ERROR_DEVICE. */
  void (*set_stream)(void *cu_stream);
} gatec_library;

#ifdef __cplusplus
}
#endif
#endif /* GATEC_C_RUNTIME_H */
