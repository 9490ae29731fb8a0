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
} // namespace gatec

#endif
