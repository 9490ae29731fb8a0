//===- GateDialect.h - the gate dialect -----------------------------------===//
#ifndef GATEC_DIALECT_GATE_IR_GATEDIALECT_H
#define GATEC_DIALECT_GATE_IR_GATEDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h.inc"
#include "gatec/Dialect/Gate/IR/GateEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "gatec/Dialect/Gate/IR/GateAttrs.h.inc"

#define GET_OP_CLASSES
#include "gatec/Dialect/Gate/IR/GateOps.h.inc"

#endif // GATEC_DIALECT_GATE_IR_GATEDIALECT_H
