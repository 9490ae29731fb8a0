//===- GateLowerings.h - rewrite patterns lowering gate ops ---------------===//
#ifndef GATEC_CONVERSION_GATELOWERINGS_H
#define GATEC_CONVERSION_GATELOWERINGS_H

#include "mlir/IR/PatternMatch.h"

namespace gatec {
/// Plain scalar loop nests for every gate op (the reference semantics). With
/// `parallel`, the outermost (batch, head / channel) loops are scf.parallel.
void populateGateReferencePatterns(mlir::RewritePatternSet &patterns,
                                   bool parallel);
/// Tiled, vectorized, parallel kernels. Ops without a fast kernel use the
/// reference pattern (at a lower benefit).
void populateGateCPUPatterns(mlir::RewritePatternSet &patterns,
                             int64_t vectorWidth);
} // namespace gatec

#endif
