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

void registerPipelines();
} // namespace gatec

#endif
