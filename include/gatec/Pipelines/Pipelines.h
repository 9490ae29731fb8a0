//===- Pipelines.h - gatec's named pass pipelines -------------------------===//
#ifndef GATEC_PIPELINES_PIPELINES_H
#define GATEC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace gatec {

struct CPUPipelineOptions : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<std::string> kernels{*this, "kernels",
                              llvm::cl::desc("fast | reference"),
                              llvm::cl::init("fast")};
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("f32 lanes per vector"),
                              llvm::cl::init(16)};
  Option<std::string> linearAttention{
      *this, "linear-attention",
      llvm::cl::desc("gate.linear_attention kernel: auto | chunked | recurrent"),
      llvm::cl::init("auto")};
  Option<bool> runtimeAllocator{
      *this, "runtime-allocator",
      llvm::cl::desc("allocate buffers through the gatec runtime (libraries) "
                     "instead of malloc/free (any runner)"),
      llvm::cl::init(false)};
  Option<bool> expandBF16{
      *this, "expand-bf16",
      llvm::cl::desc("expand f32<->bf16 conversions in IR (targets without "
                     "AVX512-BF16: no __truncsfbf2 call)"),
      llvm::cl::init(true)};
  Option<bool> parallel{*this, "parallel",
                        llvm::cl::desc("run tile loops on OpenMP threads"),
                        llvm::cl::init(true)};
};

/// The stages of the CPU pipeline, in order; `--compile-to=<stage>` stops
/// after the named one.
enum class CPUStage { Gate, Kernels, Buffers, LLVM };

/// gate-level clean-up: canonicalize, raise gating, fuse gates into sdpa.
void buildGateOptPipeline(mlir::OpPassManager &pm);
/// Lower gate ops (and the upstream ops around them) to loops over buffers.
void buildCPUKernelPipeline(mlir::OpPassManager &pm,
                            const CPUPipelineOptions &options);
/// Bufferize and make outputs caller-provided.
void buildCPUBufferPipeline(mlir::OpPassManager &pm);
/// Lower to the LLVM dialect.
void buildCPULLVMPipeline(mlir::OpPassManager &pm,
                          const CPUPipelineOptions &options);
/// Everything, gate level to the LLVM dialect.
void buildCPUPipeline(mlir::OpPassManager &pm, const CPUPipelineOptions &options,
                      CPUStage stopAfter = CPUStage::LLVM);

struct CUDAPipelineOptions : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("operands of f32 attention: f32 (SIMT) | bf16 | f16 | tf32 (tensor cores)"),
      llvm::cl::init("f32")};
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("GPU architectures of the PTX, comma-separated (sm_80,sm_90a, ...)"),
      llvm::cl::init("sm_80")};
  Option<int64_t> optLevel{*this, "opt-level",
                           llvm::cl::desc("NVPTX optimization level"), llvm::cl::init(3)};
};
/// The stages of the CUDA pipeline after the kernels: device buffers and
/// outlined kernels (`gpu`), then LLVM + PTX (`llvm`).
enum class CUDAStage { Gate, Kernels, Buffers, GPU, LLVM };
/// Lower gate ops to GPU kernels (plus the upstream ops around them).
void buildCUDAKernelPipeline(mlir::OpPassManager &pm,
                             const CUDAPipelineOptions &options);
/// Parallel loops to kernels, host buffers to device buffers, outlining.
void buildCUDADevicePipeline(mlir::OpPassManager &pm, const CUDAPipelineOptions &options);
/// The architectures of `options.chip`.
llvm::SmallVector<std::string> cudaArchs(const CUDAPipelineOptions &options);
/// Host code to the LLVM dialect, kernels to PTX (gpu.binary).
void buildCUDALLVMPipeline(mlir::OpPassManager &pm,
                           const CUDAPipelineOptions &options);
void buildCUDAPipeline(mlir::OpPassManager &pm, const CUDAPipelineOptions &options,
                       CUDAStage stopAfter = CUDAStage::LLVM);
/// PTX ISA version feature for an architecture ("+ptx80", ...).
std::string ptxFeaturesFor(llvm::StringRef chip);

void registerPipelines();
} // namespace gatec

#endif
