//===- CausalMask.h - proving that an attention mask is causal --*- C++ -*-===//
#ifndef GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H
#define GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H

#include "mlir/IR/Value.h"

namespace gatec::gate::raise {

/// True when `mask` [B,H,Sq,Skv] is, provably, the upper-left causal pattern:
/// additive 0 / -inf (or a fill at or below -2^126), or bool true / false,
/// keeping key j for query i iff j <= i, at every position and for every
/// dynamic size.
bool isCausalMask(mlir::Value mask, bool additive);

} // namespace gatec::gate::raise

#endif // GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H
