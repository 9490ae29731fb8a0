//===- Passes.td - lowering the gate dialect ------------------------------===//
#ifndef GATEC_CONVERSION_PASSES_TD
#define GATEC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def GateLowerToReference : Pass<"gate-lower-to-reference", "mlir::ModuleOp"> {
  let summary = "Lower gate ops to plain scalar loops (the reference semantics)";
  let description = [{
    Replaces every gate op by an obviously-correct loop nest over buffers:
    unfused softmax attention (scores row, max, exp-sum, weighted sum) and the
    token-recurrent form of linear attention, all in f32. Kept in the tree as
    the oracle that the fast kernels are tested against.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def GateTileCPU : Pass<"gate-tile-cpu", "mlir::ModuleOp"> {
  let summary = "Lower gate ops to tiled, vectorized, parallel CPU kernels";
  let description = [{
    Flash-style SDPA (query-row tiles covering a whole GQA group, online softmax,
    causal block skipping, fused gate epilogue, decode against long caches split
    over the keys and merged by log-sum-exp), linear attention in the chunked
    form (masked `QKᵀ`, per-channel decays in sub-blocks, the WY/UT form of the
    delta rules) for sequences longer than 64 tokens and token-recurrent with
    the state in L1 otherwise, vectorized causal_conv and gate. Vectors are
    `vector-width` f32 lanes; the outer tile loops are `scf.parallel`.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (16 = AVX-512, 8 = AVX2, 4 = SSE/NEON)">,
    Option<"linearAttention", "linear-attention", "std::string", /*default=*/"\"auto\"",
           "gate.linear_attention kernel: auto (chunked beyond 64 tokens where "
           "that is faster), chunked or recurrent (at every length)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def GateApproximateMath : Pass<"gate-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace math.exp/tanh/erf by vectorizable polynomial approximations";
  let description = [{
    LLVM scalarizes vector `exp` into libm calls; the polynomial forms stay in
    vector registers. Accurate to a few ulp in f32, which the fast kernels'
    tests (1e-4 relative to float64) check. `powf` by 1, 2, 3 or 0.5 (how
    exporters write squares and square roots) becomes multiplies or sqrt.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def GateResultsToOutParams : Pass<"gate-results-to-out-params", "mlir::ModuleOp"> {
  let summary = "Make the memref results of public functions caller-provided out-params";
  let description = [{
    The C ABI takes caller-allocated outputs. Every memref result of a public
    function that nothing in the module calls (a library entry point) becomes a trailing argument: when the result is a buffer the
    function allocates, the allocation is replaced by the argument (no copy);
    otherwise (an input returned as is, a result returned twice) it is copied
    into the argument. Unlike upstream `buffer-results-to-out-params`, dynamic
    shapes are fine: the runtime checks the caller's output shapes first.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def GateLegalizeMemRefs : Pass<"gate-legalize-memrefs", "mlir::ModuleOp"> {
  let summary = "Rewrite the memref ops LLVM 22's lowering handles badly";
  let description = [{
    - `memref.expand_shape` of a contiguous buffer becomes a
      `memref.reinterpret_cast` with row-major strides computed from the
      output sizes (`expand-strided-metadata` crashes on groups with several
      dynamic sizes, e.g. [B·S, 64] -> [B, S, 4, 16]).
    - `memref.copy` between buffers that are not both contiguous becomes a
      `linalg.copy` (loops), instead of a call to the `memrefCopy` runtime
      function of MLIR's C runner utils, which gatec libraries do not link.
    Runs before linalg is lowered to loops.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def GateOmpSchedule : Pass<"gate-omp-schedule", "mlir::ModuleOp"> {
  let summary = "Dynamic schedules for the work-sharing loops of kernel tiles";
  let description = [{
    Kernel tiles differ in cost (causal attention, ragged last blocks): the
    `omp.wsloop`s whose bodies carry the `gate.tile_task` marker (set by the
    gate lowerings) hand their iterations out dynamically. Other parallel
    loops (elementwise ops, transposes) keep the static schedule, which gives
    each thread one contiguous range.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def GateOmpThreads : Pass<"gate-omp-num-threads", "mlir::ModuleOp"> {
  let summary = "Take the thread count of every omp.parallel from a library global";
  let description = [{
    Each compiled library keeps its own thread count (`<lib>_set_num_threads`)
    instead of OpenMP's process-wide setting: every `omp.parallel` gets a
    `num_threads` read from the global `gatec_num_threads`, which the
    library's entry stub defines (default: the hardware threads).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::omp::OpenMPDialect"];
}

#endif
