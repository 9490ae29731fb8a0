/*===- cuda.c - the CUDA driver glue of gatec's CUDA libraries ------------===*
 *
 * The host code of a CUDA library (MLIR's gpu-to-llvm lowering) calls the
 * `mgpu*` functions below. They reach the CUDA driver through dlopen, on
 * first use, so a library loads on a host without a GPU or driver and a call
 * there fails with a status and a message instead of a crash. Linked only
 * into CUDA libraries, hidden like the rest of the runtime.
 *
 * Semantics: a call runs on the stream set with <lib>_set_stream (per
 * thread; default: the legacy default stream) and returns once its work is
 * queued, like cuBLAS. Temporaries are stream-ordered allocations. The first
 * failing driver call of a call records its error; everything after it in
 * that call is skipped and the call returns GATEC_ERROR_DEVICE.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "gatec-c/runtime.h"
#include "runtime_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The few driver types and entry points used (cuda.h is not needed to build). */
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;
typedef unsigned long long CUdeviceptr;

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*GetErrorString)(CUresult, const char **);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*CtxGetCurrent)(CUcontext *);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*ModuleLoadData)(CUmodule *, const void *);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **, void **);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*MemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*MemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*MemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*MemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*CtxGetDevice)(CUdevice *);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*FuncSetAttribute)(CUfunction, int, int);
  CUresult (*TensorMapEncodeTiled)(void *, int, unsigned, void *, const uint64_t *,
                                   const uint64_t *, const unsigned *, const unsigned *,
                                   int, int, int, int);
} cu;
static char driver_error[512];
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void load_driver(void) {
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    snprintf(driver_error, sizeof driver_error,
             "the CUDA driver (libcuda.so.1) is not available on this host: %s",
             why ? why : "not found");
    return;
  }
  struct {
    void **slot;
    const char *name;
    int optional;
  } syms[] = {
      {(void **)&cu.Init, "cuInit", 0},
      {(void **)&cu.GetErrorString, "cuGetErrorString", 0},
      {(void **)&cu.DeviceGet, "cuDeviceGet", 0},
      {(void **)&cu.DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", 0},
      {(void **)&cu.CtxGetCurrent, "cuCtxGetCurrent", 0},
      {(void **)&cu.CtxSetCurrent, "cuCtxSetCurrent", 0},
      {(void **)&cu.ModuleLoadData, "cuModuleLoadData", 0},
      {(void **)&cu.ModuleUnload, "cuModuleUnload", 0},
      {(void **)&cu.ModuleGetFunction, "cuModuleGetFunction", 0},
      {(void **)&cu.LaunchKernel, "cuLaunchKernel", 0},
      {(void **)&cu.MemAlloc, "cuMemAlloc_v2", 0},
      {(void **)&cu.MemFree, "cuMemFree_v2", 0},
      {(void **)&cu.MemAllocAsync, "cuMemAllocAsync", 1},
      {(void **)&cu.MemFreeAsync, "cuMemFreeAsync", 1},
      {(void **)&cu.MemcpyAsync, "cuMemcpyAsync", 0},
      {(void **)&cu.MemsetD32Async, "cuMemsetD32Async", 0},
      {(void **)&cu.MemsetD16Async, "cuMemsetD16Async", 0},
      {(void **)&cu.MemcpyHtoD, "cuMemcpyHtoD_v2", 0},
      {(void **)&cu.CtxGetDevice, "cuCtxGetDevice", 0},
      {(void **)&cu.DeviceGetAttribute, "cuDeviceGetAttribute", 0},
      {(void **)&cu.FuncSetAttribute, "cuFuncSetAttribute", 0},
      {(void **)&cu.TensorMapEncodeTiled, "cuTensorMapEncodeTiled", 1},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i) {
    *syms[i].slot = dlsym(h, syms[i].name);
    if (!*syms[i].slot && !syms[i].optional) {
      snprintf(driver_error, sizeof driver_error,
               "the CUDA driver (libcuda.so.1) lacks %s", syms[i].name);
      cu.Init = NULL;
      return;
    }
  }
  CUresult r = cu.Init(0);
  if (r != 0) {
    const char *msg = NULL;
    cu.GetErrorString(r, &msg);
    snprintf(driver_error, sizeof driver_error,
             "cuInit failed: %s (no usable GPU on this host?)",
             msg ? msg : "unknown error");
    cu.Init = NULL;
  }
}

/* Per call: the stream, and the first error. */
static _Thread_local CUstream call_stream;
static _Thread_local int call_failed;
/* Per call: the device copies of its TMA descriptors, freed at its end. */
#define GATEC_RT_MAX_TENSOR_MAPS 1024
static _Thread_local CUdeviceptr call_maps[GATEC_RT_MAX_TENSOR_MAPS];
static _Thread_local int call_map_count;

void gatec_rt_cuda_set_stream(void *stream) { call_stream = (CUstream)stream; }

static int check(CUresult r, const char *what) {
  if (r == 0)
    return 0;
  if (!call_failed) {
    const char *msg = NULL;
    if (cu.GetErrorString)
      cu.GetErrorString(r, &msg);
    gatec_rt_fail(GATEC_ERROR_DEVICE, "CUDA error in %s: %s (%d)", what,
                  msg ? msg : "unknown error", r);
  }
  call_failed = 1;
  return 1;
}

int gatec_rt_cuda_begin(void) {
  pthread_once(&driver_once, load_driver);
  call_failed = 0;
  call_map_count = 0;
  if (!cu.Init) {
    call_failed = 1;
    return gatec_rt_fail(GATEC_ERROR_DEVICE, "%s", driver_error);
  }
  CUcontext ctx = NULL;
  if (check(cu.CtxGetCurrent(&ctx), "cuCtxGetCurrent"))
    return GATEC_ERROR_DEVICE;
  if (!ctx) {
    /* No current context: use the primary one of device 0, as the CUDA
     * runtime (and so PyTorch) does. */
    CUdevice dev;
    if (check(cu.DeviceGet(&dev, 0), "cuDeviceGet") ||
        check(cu.DevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain") ||
        check(cu.CtxSetCurrent(ctx), "cuCtxSetCurrent"))
      return GATEC_ERROR_DEVICE;
  }
  return GATEC_OK;
}

void mgpuMemFree(void *ptr, void *stream);

int gatec_rt_cuda_end(void) {
  for (int i = 0; i < call_map_count; ++i)
    mgpuMemFree((void *)(uintptr_t)call_maps[i], call_stream);
  call_map_count = 0;
  return call_failed ? GATEC_ERROR_DEVICE : GATEC_OK;
}

/*===----------------------------------------------------------------------===*
 * The functions MLIR's gpu-to-llvm lowering calls.
 *===----------------------------------------------------------------------===*/

/* A kernel image; loaded into the driver on the first launch in each
 * context (library constructors run at dlopen, before any driver may
 * exist; a process may use several GPUs). */
#define GATEC_RT_MAX_CONTEXTS 16
typedef struct {
  const void *image;
  CUcontext contexts[GATEC_RT_MAX_CONTEXTS];
  CUmodule modules[GATEC_RT_MAX_CONTEXTS];
  int count;
  pthread_mutex_t lock;
} gatec_module;

static void *new_module(const void *image) {
  gatec_module *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->image = image;
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void *mgpuModuleLoad(void *data, size_t size) {
  (void)size;
  return new_module(data);
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  return new_module(data);
}

void mgpuModuleUnload(void *handle) {
  gatec_module *m = handle;
  if (!m)
    return;
  /* At process exit the driver may be gone already; the module dies with
   * the context anyway. */
  free(m);
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  gatec_module *m = handle;
  if (call_failed || !m)
    return NULL;
  CUcontext ctx = NULL;
  if (check(cu.CtxGetCurrent(&ctx), "cuCtxGetCurrent"))
    return NULL;
  CUmodule module = NULL;
  pthread_mutex_lock(&m->lock);
  for (int i = 0; i < m->count; ++i)
    if (m->contexts[i] == ctx)
      module = m->modules[i];
  if (!module) {
    if (m->count == GATEC_RT_MAX_CONTEXTS) {
      if (!call_failed)
        gatec_rt_fail(GATEC_ERROR_DEVICE, "more than %d CUDA contexts used one library",
                      GATEC_RT_MAX_CONTEXTS);
      call_failed = 1;
    } else if (!check(cu.ModuleLoadData(&module, m->image),
                      "cuModuleLoadData (loading the kernels)")) {
      m->contexts[m->count] = ctx;
      m->modules[m->count++] = module;
    } else {
      module = NULL;
    }
  }
  pthread_mutex_unlock(&m->lock);
  if (!module)
    return NULL;
  CUfunction f = NULL;
  if (check(cu.ModuleGetFunction(&f, module, name), "cuModuleGetFunction"))
    return NULL;
  return f;
}

void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *stream, void **params, void **extra, size_t nparams) {
  (void)nparams;
  if (call_failed || !function)
    return;
  /* Empty grids (a zero-sized batch or sequence) launch nothing. */
  if (gx <= 0 || gy <= 0 || gz <= 0)
    return;
  /* Dynamic shared memory beyond 48 KiB (the wgmma kernels) is opt-in, once
   * per function (its size is fixed at compile time); remembered per thread. */
  if (smem > 48 * 1024) {
    static _Thread_local void *opted_in[16];
    static _Thread_local unsigned opted_next;
    int known = 0;
    for (unsigned i = 0; i < 16 && !known; ++i)
      known = opted_in[i] == function;
    if (!known) {
      if (check(cu.FuncSetAttribute(function, 8 /* MAX_DYNAMIC_SHARED_SIZE_BYTES */, smem),
                "cuFuncSetAttribute (dynamic shared memory)"))
        return;
      opted_in[opted_next++ % 16] = function;
    }
  }
  check(cu.LaunchKernel(function, (unsigned)gx, (unsigned)gy, (unsigned)gz,
                        (unsigned)bx, (unsigned)by, (unsigned)bz, (unsigned)smem,
                        stream, params, extra),
        "cuLaunchKernel");
}

void *mgpuStreamCreate(void) { return call_stream; }
void mgpuStreamDestroy(void *stream) { (void)stream; }
/* Work stays queued on the caller's stream; the caller synchronizes. */
void mgpuStreamSynchronize(void *stream) { (void)stream; }
void mgpuStreamWaitEvent(void *stream, void *event) { (void)stream, (void)event; }
/* One stream per call: events order nothing that is not ordered already. */
void *mgpuEventCreate(void) { return &call_stream; }
void mgpuEventDestroy(void *event) { (void)event; }
void mgpuEventSynchronize(void *event) { (void)event; }
void mgpuEventRecord(void *event, void *stream) { (void)event, (void)stream; }

/* Stream-ordered allocation unless the device has no memory pools
 * (CUDA_ERROR_NOT_SUPPORTED, 801), then plain cuMemAlloc from there on. */
static int use_async_alloc = 1;

void *mgpuMemAlloc(uint64_t size, void *stream, _Bool hostShared) {
  (void)hostShared;
  if (call_failed)
    return NULL;
  CUdeviceptr p = 0;
  if (size == 0)
    size = 1;
  if (cu.MemAllocAsync && use_async_alloc) {
    CUresult r = cu.MemAllocAsync(&p, size, stream);
    if (r == 801)
      use_async_alloc = 0;
    else if (!check(r, "cuMemAllocAsync"))
      return (void *)(uintptr_t)p;
    else
      return NULL;
  }
  check(cu.MemAlloc(&p, size), "cuMemAlloc");
  return (void *)(uintptr_t)p;
}

void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr || !cu.Init)
    return;
  /* Freed even after an error, so a failed call leaks nothing. */
  if (cu.MemFreeAsync && use_async_alloc)
    cu.MemFreeAsync((CUdeviceptr)(uintptr_t)ptr, stream);
  else
    cu.MemFree((CUdeviceptr)(uintptr_t)ptr);
}

void mgpuMemcpy(void *dst, void *src, size_t size, void *stream) {
  if (call_failed || size == 0)
    return;
  check(cu.MemcpyAsync((CUdeviceptr)(uintptr_t)dst, (CUdeviceptr)(uintptr_t)src,
                       size, stream),
        "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  if (call_failed || count == 0)
    return;
  check(cu.MemsetD32Async((CUdeviceptr)(uintptr_t)dst, value, count, stream),
        "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  if (call_failed || count == 0)
    return;
  check(cu.MemsetD16Async((CUdeviceptr)(uintptr_t)dst, value, count, stream),
        "cuMemsetD16Async");
}

/*===----------------------------------------------------------------------===*
 * TMA descriptors of the sm_90a kernels.
 *===----------------------------------------------------------------------===*/

/* Whether the current device runs sm_90a code (compute capability 9.0). */
static int current_device_is_sm90(void) {
  static _Thread_local CUcontext cached_ctx;
  static _Thread_local int cached;
  CUcontext ctx = NULL;
  if (cu.CtxGetCurrent(&ctx) != 0 || !ctx)
    return 0;
  if (ctx != cached_ctx) {
    CUdevice dev;
    int major = 0, minor = 0;
    cached = cu.CtxGetDevice(&dev) == 0 &&
             cu.DeviceGetAttribute(&major, 75 /* COMPUTE_CAPABILITY_MAJOR */, dev) == 0 &&
             cu.DeviceGetAttribute(&minor, 76 /* COMPUTE_CAPABILITY_MINOR */, dev) == 0 &&
             major == 9 && minor == 0;
    cached_ctx = ctx;
  }
  return cached;
}

/* A TMA descriptor in device memory for a contiguous row-major tensor of
 * 16-bit elements with dims (innermost first) d0..d3, read in boxes of
 * box0 x box1 x 1 x 1 elements into 128B-swizzled shared memory. Returns
 * its device address, or 0 when the sm_90a kernels cannot be used for it
 * (another GPU, a driver without TMA, a misaligned tensor): the caller then
 * runs the portable kernel. Freed when the call ends. */
uint64_t gatec_rt_cuda_tma_map(uint64_t ptr, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                               int64_t box0, int64_t box1) {
  if (call_failed || !cu.TensorMapEncodeTiled || !current_device_is_sm90())
    return 0;
  /* GATEC_CUDA_VERBOSE=1 says why an sm_90 device runs the portable kernel. */
  const char *verbose = getenv("GATEC_CUDA_VERBOSE");
  if (ptr % 16 || d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0 || (d0 * 2) % 16 ||
      call_map_count == GATEC_RT_MAX_TENSOR_MAPS) {
    if (verbose && *verbose == '1')
      fprintf(stderr, "gatec: no TMA for a tensor at %p of %lld x %lld x %lld x %lld: "
              "unaligned or empty; the portable kernel runs\n", (void *)(uintptr_t)ptr,
              (long long)d3, (long long)d2, (long long)d1, (long long)d0);
    return 0;
  }
  uint64_t dims[4] = {(uint64_t)d0, (uint64_t)d1, (uint64_t)d2, (uint64_t)d3};
  uint64_t strides[3] = {dims[0] * 2, dims[0] * dims[1] * 2, dims[0] * dims[1] * dims[2] * 2};
  unsigned box[4] = {(unsigned)box0, (unsigned)box1, 1, 1}, unit[4] = {1, 1, 1, 1};
  _Alignas(64) uint64_t map[16];
  if (cu.TensorMapEncodeTiled(map, 1 /* UINT16 */, 4, (void *)(uintptr_t)ptr, dims, strides, box,
                              unit, 0 /* INTERLEAVE_NONE */, 3 /* SWIZZLE_128B */,
                              3 /* L2_PROMOTION_256B */, 0 /* OOB_FILL_NONE: zeros */) != 0) {
    if (verbose && *verbose == '1')
      fprintf(stderr, "gatec: cuTensorMapEncodeTiled rejected a tensor; the portable kernel runs\n");
    return 0;
  }
  void *dev = mgpuMemAlloc(sizeof map, call_stream, 0);
  if (!dev)
    return 0;
  call_maps[call_map_count++] = (CUdeviceptr)(uintptr_t)dev;
  /* From pageable memory: staged before the call returns. */
  mgpuMemcpy(dev, map, sizeof map, call_stream);
  return call_failed ? 0 : (uint64_t)(uintptr_t)dev;
}

/*===----------------------------------------------------------------------===*
 * Constants (weights): one device copy per CUDA context, made at first use.
 *===----------------------------------------------------------------------===*/

typedef struct {
  CUcontext ctx;
  uint64_t host;
  CUdeviceptr dev;
} constant_copy;
/* Open addressing by (context, host address); capacity a power of two, at
 * most half full. Every call looks its constants up: no linear scans. */
static constant_copy *constants;
static size_t constant_count, constant_capacity;
static pthread_mutex_t constants_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t constant_slot(constant_copy *table, size_t capacity, CUcontext ctx,
                            uint64_t host) {
  uint64_t h = (host ^ ((uint64_t)(uintptr_t)ctx * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  size_t i = (size_t)(h >> 32) & (capacity - 1);
  while (table[i].host && !(table[i].ctx == ctx && table[i].host == host))
    i = (i + 1) & (capacity - 1);
  return i;
}

/* Room for one more entry; 0 when out of memory. */
static int constants_reserve(void) {
  if (2 * (constant_count + 1) <= constant_capacity)
    return 1;
  size_t cap = constant_capacity ? 2 * constant_capacity : 64;
  constant_copy *grown = calloc(cap, sizeof *grown);
  if (!grown)
    return 0;
  for (size_t i = 0; i < constant_capacity; ++i)
    if (constants[i].host)
      grown[constant_slot(grown, cap, constants[i].ctx, constants[i].host)] = constants[i];
  free(constants);
  constants = grown;
  constant_capacity = cap;
  return 1;
}

/* The device address of the `bytes` of constant data at `host` (a global of
 * the library, never written), uploaded synchronously the first time a
 * context asks; 0 after an error (recorded for the call). The copies live
 * as long as the process: a library's weights, once per GPU. */
uint64_t gatec_rt_cuda_constant(uint64_t host, uint64_t bytes) {
  if (call_failed)
    return 0;
  CUcontext ctx = NULL;
  if (check(cu.CtxGetCurrent(&ctx), "cuCtxGetCurrent"))
    return 0;
  pthread_mutex_lock(&constants_lock);
  CUdeviceptr dev = 0;
  if (!constants_reserve()) {
    gatec_rt_fail(GATEC_ERROR_DEVICE, "out of host memory for the constants' table");
    call_failed = 1;
  } else {
    constant_copy *slot = &constants[constant_slot(constants, constant_capacity, ctx, host)];
    if (slot->host) {
      dev = slot->dev;
    } else if (!check(cu.MemAlloc(&dev, bytes ? bytes : 1), "cuMemAlloc (constants)")) {
      if (bytes && check(cu.MemcpyHtoD(dev, (const void *)(uintptr_t)host, bytes),
                         "cuMemcpyHtoD (constants)")) {
        cu.MemFree(dev);
        dev = 0;
      } else {
        *slot = (constant_copy){ctx, host, dev};
        ++constant_count;
      }
    } else {
      dev = 0;
    }
  }
  pthread_mutex_unlock(&constants_lock);
  return (uint64_t)dev;
}
