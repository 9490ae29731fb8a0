//===- ConstantData.h - reading float constants at compile time -*- C++ -*-===//
#ifndef GATEC_DIALECT_GATE_IR_CONSTANTDATA_H
#define GATEC_DIALECT_GATE_IR_CONSTANTDATA_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"

#include <optional>
#include <vector>

namespace gatec {
/// The elements of an f32, f16 or bf16 constant (dense or a resource blob) as
/// f32, row-major; nothing for other element types or attributes.
std::optional<std::vector<float>> constantAsF32(mlir::ElementsAttr attr);
} // namespace gatec

#endif
