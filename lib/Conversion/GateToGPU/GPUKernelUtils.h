//===- GPUKernelUtils.h - building blocks of the CUDA kernels -------------===//
#ifndef GATEC_LIB_CONVERSION_GATETOGPU_GPUKERNELUTILS_H
#define GATEC_LIB_CONVERSION_GATETOGPU_GPUKERNELUTILS_H

#include "gatec/Conversion/KernelBuilder.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace gatec::gpu_kernels {
int64_t roundUp(int64_t a, int64_t m);
mlir::Value ceilDivIdx(KernelBuilder &b, mlir::Value a, int64_t d);
/// The MMA operand type for an op's element type: f16 or bf16, f32 for tf32
/// operands, or null when the op runs on SIMT f32 math.
mlir::Type mmaOperandType(mlir::Type elem, llvm::StringRef precision);
/// Operand elements per 32-bit register: 2 (16-bit), 1 (tf32).
int64_t regElems(mlir::Type e);
/// The K of one MMA: m16n8k16 for 16-bit operands, m16n8k8 for tf32.
int64_t mmaK(mlir::Type e);
/// An f32 value as an operand of type `e`: truncated to 16 bits, or rounded
/// to tf32 (still an f32; nvvm.convert.float.to.tf32, see deferNVVMOps).
mlir::Value toOperand(KernelBuilder &b, mlir::Type e, mlir::Value x);
/// buffer[idx] as f32, or 0 where `inBounds` is false, without a branch:
/// indices in `clamp` (index position -> size) are clamped into the buffer,
/// so the load is always legal, and the value is then selected.
mlir::Value maskedLoad(KernelBuilder &b, mlir::Value buf, mlir::ValueRange idx,
                       llvm::ArrayRef<std::pair<unsigned, mlir::Value>> clamp,
                       mlir::Value inBounds);
/// x && y where either may be null (true).
mlir::Value andI(KernelBuilder &b, mlir::Value x, mlir::Value y);
/// regElems(e) operand elements as one 32-bit register (vector<NxE>).
mlir::Value packReg(KernelBuilder &b, mlir::Type e, mlir::ValueRange xs);
/// d = a·b + c for one m16n8k16 (16-bit) or m16n8k8 (tf32) tile
/// (nvgpu.mma.sync). `a`: the lane's 4 operand registers, `bm`: 2, c and the
/// result: the lane's 4 f32 values.
llvm::SmallVector<mlir::Value> mmaSync(KernelBuilder &b, mlir::Type e,
                                       llvm::ArrayRef<mlir::Value> a,
                                       llvm::ArrayRef<mlir::Value> bm,
                                       llvm::ArrayRef<mlir::Value> c);
/// A block-wide barrier (gpu.barrier, deferred like the NVVM ops below).
void barrier(KernelBuilder &b, mlir::Operation *anchor);
/// The private function `name` of `module`, declared with `type` if absent.
mlir::func::FuncOp declarePrivateFunc(mlir::ModuleOp module, llvm::StringRef name,
                                      mlir::FunctionType type);
/// Buffer deallocation (after gate-tile-gpu) rejects ops that declare no
/// memory effects, as gpu.barrier and NVVM's intrinsics (mbarrier, TMA,
/// wgmma) do: each one under `root` becomes a call to a private marker
/// function carrying its name and properties, which gate-gpu-device-buffers
/// turns back into the op (restoreDeferredOps).
void deferNVVMOps(mlir::RewriterBase &rw, mlir::Operation *root);
/// Rebuilds the ops of deferNVVMOps in `module` and drops the markers.
void restoreDeferredOps(mlir::ModuleOp module);
/// A workgroup-memory buffer as a module-level global; returns its name.
mlir::StringAttr sharedBuffer(KernelBuilder &b, mlir::Operation *anchor,
                              mlir::MemRefType type);
/// Combines a value over the 4 lanes of a quad (lanes 4g..4g+3).
mlir::Value quadReduce(KernelBuilder &b, mlir::Value v, bool isMax);
} // namespace gatec::gpu_kernels

#endif
