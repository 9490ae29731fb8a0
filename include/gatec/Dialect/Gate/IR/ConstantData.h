//===- ConstantData.h - reading float constants at compile time -*- C++ -*-===//
#ifndef GATEC_DIALECT_GATE_IR_CONSTANTDATA_H
#define GATEC_DIALECT_GATE_IR_CONSTANTDATA_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace gatec {
/// On a linalg.matmul whose B is an f32 constant dequantized from 2- or 4-bit
/// blocks (MatMulNBits): {block_size, values (i8 [N, K], one per byte),
/// scales and zero_points (f32 [N, K / block_size])}, with
/// B[k, n] = (values[n, k] - zero_points[n, k / bs]) · scales[n, k / bs].
/// Kernels may read the quantized form instead of B; others ignore it.
constexpr llvm::StringLiteral kQuantizedWeightAttr = "gate.quantized_weight";

/// The storage of a dense or resource-blob constant (one element when splat).
struct ConstantBytes {
  llvm::ArrayRef<char> data;
  bool splat;
};
std::optional<ConstantBytes> constantBytes(mlir::ElementsAttr attr);

/// The elements of an 8-bit integer constant, row-major.
std::optional<std::vector<uint8_t>> constantAsU8(mlir::ElementsAttr attr);

/// The elements of an f32, f16 or bf16 constant (dense or a resource blob) as
/// f32, row-major; nothing for other element types or attributes.
std::optional<std::vector<float>> constantAsF32(mlir::ElementsAttr attr);
} // namespace gatec

#endif
