//===- Passes.td - gate dialect transformations ---------------------------===//
#ifndef GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD
#define GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def GateRaiseGating : Pass<"gate-raise-gating", "mlir::func::FuncOp"> {
  let summary = "Raise x * sigmoid(g) and x * silu(g) written elementwise into gate.gate";
  let description = [{
    Recognizes the gating that exporters write as elementwise ops
    (`linalg.generic` bodies computing `x * sigmoid(g)`, `x * g * sigmoid(g)`)
    and rewrites them into `gate.gate`, which canonicalization then fuses into a
    preceding `gate.sdpa`.
  }];
  let dependentDialects = ["::gatec::gate::GateDialect"];
}

#endif
