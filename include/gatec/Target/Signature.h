//===- Signature.h - the ABI signature of compiled functions --------------===//
#ifndef GATEC_TARGET_SIGNATURE_H
#define GATEC_TARGET_SIGNATURE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace gatec {

/// A static size, or a symbolic one. Output dims that are not static are
/// `constant + Σ input dims` (at most two terms).
struct DimInfo {
  int64_t size = -1;
  std::string symbol;
  int64_t constant = 0;
  int input[2] = {-1, -1};
  int inputDim[2] = {-1, -1};
};

struct ArgInfo {
  std::string name;
  std::string dtype; // gatec_dtype enumerator suffix: F32, F16, BF16, BOOL, ...
  std::vector<DimInfo> dims;
};

struct FunctionSignature {
  std::string name;   // func name
  std::string symbol; // C entry point prefix
  std::vector<ArgInfo> inputs, outputs;
};

/// Reads the signatures of the public functions of a tensor-level module
/// (argument attributes `gatec.name`, `gatec.dims`), and expresses every
/// dynamic output dimension in terms of input dimensions. Fails with a
/// message naming the function and output when one cannot be expressed.
mlir::LogicalResult extractSignatures(mlir::ModuleOp module,
                                      llvm::StringRef libName,
                                      std::vector<FunctionSignature> &sigs,
                                      std::string &error);

} // namespace gatec

#endif
