//===- CausalMask.h - proving that an attention mask is causal --*- C++ -*-===//
#ifndef GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H
#define GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>

namespace gatec::gate::raise {

/// The keys a mask keeps as a band of d = j - i: key j kept for query i iff
/// lo <= j - i <= hi. `toFirst` / `toLast`: the band reaches the least /
/// greatest d of the mask (that side is unbounded for every size).
/// `everyRowKeeps`: each query row keeps at least one key, for every size (a
/// row that keeps none is NaN or a uniform average in the decomposed graph,
/// 0 in gate.sdpa).
struct KeyBand {
  int64_t lo = 0, hi = 0;
  bool toFirst = false, toLast = false, everyRowKeeps = false;
  /// d is j - i - (Skv - Sq): the band aligned to the last key.
  bool bottomRight = false;
  /// The causal band (-inf, 0].
  bool isCausal() const { return toFirst && (hi == 0 || (toLast && hi < 0)); }
};

/// The band `mask` [B,H,Sq,Skv] provably is: additive 0 / -inf (or a fill at
/// or below -2^126), or bool true / false (with `dropMask`, true marks the
/// keys dropped: masked_fill(mask, -inf)), the same band at every position
/// and for every dynamic size; std::nullopt for anything else. With
/// `bottomRight`, the band of d = j - i - (Skv - Sq) instead (a mask over a
/// cache: query i at key position i + Skv - Sq).
std::optional<KeyBand> maskBand(mlir::Value mask, bool additive, bool dropMask = false,
                                bool bottomRight = false);

/// True when `mask` [B,H,Sq,Skv] is, provably, the upper-left causal pattern:
/// keeping key j for query i iff j <= i (the band (-inf, 0]).
bool isCausalMask(mlir::Value mask, bool additive);

} // namespace gatec::gate::raise

#endif // GATEC_LIB_DIALECT_GATE_TRANSFORMS_CAUSALMASK_H
