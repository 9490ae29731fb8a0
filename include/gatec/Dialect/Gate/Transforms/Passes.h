//===- Passes.h - gate dialect transformations ----------------------------===//
#ifndef GATEC_DIALECT_GATE_TRANSFORMS_PASSES_H
#define GATEC_DIALECT_GATE_TRANSFORMS_PASSES_H

#include "gatec/Dialect/Gate/IR/GateDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace gatec::gate {
#define GEN_PASS_DECL
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
} // namespace gatec::gate

#endif
