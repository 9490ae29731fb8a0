//===- Passes.td - gate dialect transformations ---------------------------===//
#ifndef GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD
#define GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def GateRaiseGating : Pass<"gate-raise-gating", "mlir::func::FuncOp"> {
  let summary = "Raise x * sigmoid(g) and x * silu(g) written elementwise into gate.gate";
  let description = [{
    Recognizes the gating that the ONNX importer writes as elementwise ops on
    same-shaped tensors (`x * (1 / (1 + exp(-g)))` for Sigmoid, and
    `x * (g * sigmoid(g))` for SiLU) and rewrites it into `gate.gate`, which
    canonicalization then fuses into a preceding `gate.sdpa`. It runs before
    the elementwise ops are turned into `linalg.generic`.
  }];
  let dependentDialects = ["::gatec::gate::GateDialect"];
}

#endif
