//===- GateLowerings.h - rewrite patterns lowering gate ops ---------------===//
#ifndef GATEC_CONVERSION_GATELOWERINGS_H
#define GATEC_CONVERSION_GATELOWERINGS_H

#include "mlir/IR/PatternMatch.h"

namespace gatec {
/// Plain scalar loop nests for every gate op (the reference semantics).
void populateGateReferencePatterns(mlir::RewritePatternSet &patterns);
/// Tiled, vectorized, parallel kernels. Ops without a fast kernel use the
/// reference pattern (at a lower benefit).
void populateGateCPUPatterns(mlir::RewritePatternSet &patterns,
                             int64_t vectorWidth);
} // namespace gatec

#endif
