//===- RaiseUtils.h - matching helpers shared by the gate-raise-* passes --===//
#ifndef GATEC_LIB_DIALECT_GATE_TRANSFORMS_RAISEUTILS_H
#define GATEC_LIB_DIALECT_GATE_TRANSFORMS_RAISEUTILS_H

#include "gatec/Dialect/Gate/IR/Broadcast.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace gatec::gate::raise {

inline mlir::RankedTensorType rtt(mlir::Value v) {
  return llvm::dyn_cast<mlir::RankedTensorType>(v.getType());
}

/// The value of a splat float constant (dense splat, scalar, tensor.splat).
std::optional<double> splatValue(mlir::Value v);

/// Strips multiplications / divisions by splat constants, folding them into
/// `scale`.
mlir::Value stripScale(mlir::Value v, double &scale);

using gatec::broadcastSource; // gatec/Dialect/Gate/IR/Broadcast.h


/// Looks through tensor.expand_shape / tensor.collapse_shape.
mlir::Value stripReshapes(mlir::Value v);

} // namespace gatec::gate::raise

#endif
