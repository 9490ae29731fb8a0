//===- Broadcast.h - recognizing broadcasts of tensors ----------*- C++ -*-===//
#ifndef GATEC_DIALECT_GATE_IR_BROADCAST_H
#define GATEC_DIALECT_GATE_IR_BROADCAST_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

namespace gatec {
/// The input of a broadcast (linalg.broadcast, or a linalg.generic that only
/// copies its one input, possibly reading unit dims at 0); `dims` receives
/// the broadcast output dims. Null when `v` is not one. Shared by the
/// raising passes and the lowerings that fold a broadcast operand (a bias).
mlir::Value broadcastSource(mlir::Value v, llvm::SmallVectorImpl<int64_t> *dims = nullptr);
} // namespace gatec

#endif
