//===- Importer.h - ONNX models to gate-level MLIR ------------------------===//
//
// The ONNX frontend: reads a model (protobuf, with external data next to it)
// and builds one func.func whose body uses the gate dialect for the attention
// operators (Attention, LinearAttention, CausalConvWithState) and upstream
// tensor/arith/math/linalg/scf ops for everything else.
//
//===----------------------------------------------------------------------===//
#ifndef GATEC_FRONTEND_ONNX_IMPORTER_H
#define GATEC_FRONTEND_ONNX_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace gatec::onnx_frontend {

struct ImportOptions {
  std::string funcName = "main";
};

/// Imports the model at `path` into a new module holding one public
/// func.func `funcName`. The function's arguments are the graph inputs that
/// are not initializers, in graph order; its results are the graph outputs in
/// order. Every argument and result carries `gatec.name` (the ONNX name) and
/// `gatec.dims` (one string per dimension: the dim_param of a symbolic
/// dimension, "" otherwise).
/// On failure returns null and sets `error` to one or more lines, each
/// "<file>: <node name> (<op type>): <what>" (graph-level problems have no
/// node part). Never crashes or asserts on any file content.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &ctx,
                                              llvm::StringRef path,
                                              const ImportOptions &opts,
                                              std::string &error);

/// Counts of op types in the model (with domain), and which of them the
/// importer supports: for `gatec --onnx-op-stats`.
struct OpStat {
  std::string opType;
  std::string domain;
  int count;
  bool supported;
  std::vector<std::string> nodeNames;
};
bool collectOpStats(llvm::StringRef path, std::vector<OpStat> &stats,
                    std::string &error);

} // namespace gatec::onnx_frontend

#endif // GATEC_FRONTEND_ONNX_IMPORTER_H
