//===- GateLowerings.h - rewrite patterns lowering gate ops ---------------===//
#ifndef GATEC_CONVERSION_GATELOWERINGS_H
#define GATEC_CONVERSION_GATELOWERINGS_H

#include "mlir/IR/PatternMatch.h"

namespace gatec {
/// Plain scalar loop nests for every gate op (the reference semantics). With
/// `parallel`, the outermost (batch, head / channel) loops are scf.parallel.
void populateGateReferencePatterns(mlir::RewritePatternSet &patterns,
                                   bool parallel);
/// Which form gate.linear_attention's CPU kernel takes.
enum class LinearAttentionKernel {
  Auto,      // chunked for longer sequences where that is faster, else recurrent
  Chunked,   // chunked at every length
  Recurrent, // token-recurrent at every length
};

/// Tiled, vectorized, parallel kernels. Ops without a fast kernel use the
/// reference pattern (at a lower benefit).
void populateGateCPUPatterns(mlir::RewritePatternSet &patterns,
                             int64_t vectorWidth,
                             LinearAttentionKernel linearAttention = LinearAttentionKernel::Auto);
/// Token-major gate.causal_conv, vectorized over the channels (part of
/// populateGateCPUPatterns).
void populateCausalConvCPUPatterns(mlir::RewritePatternSet &patterns, int64_t vectorWidth);
/// CUDA kernels: tensor-core attention for MMA operands (f16/bf16 tensors,
/// or f32 with `precision` bf16|f16|tf32), SIMT loop nests otherwise; with
/// `wgmma`, also the sm_90a attention kernel, chosen at run time.
void populateGateGPUPatterns(mlir::RewritePatternSet &patterns,
                             llvm::StringRef precision, bool wgmma = false);
/// gate.sdpa on sm_90a (TMA + wgmma), falling back at run time to the
/// portable kernel: the op re-emitted with kPortableAttr.
void populateGateWgmmaPatterns(mlir::RewritePatternSet &patterns);
inline constexpr llvm::StringLiteral kPortableAttr = "gate.portable_kernel";
/// Chunked linear attention on tensor cores (16-bit or tf32 operands).
void populateLinearAttentionMmaPatterns(mlir::RewritePatternSet &patterns,
                                        llvm::StringRef precision);
} // namespace gatec

#endif
