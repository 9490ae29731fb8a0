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

def GateMatmulCPU : Pass<"gate-matmul-cpu", "mlir::ModuleOp"> {
  let summary = "Lower linalg matmuls to packed, register-blocked, parallel CPU kernels";
  let description = [{
    `linalg.matmul` and `linalg.batch_matmul` on tensors (f32, f16 or bf16
    operands, f32 accumulator) become GotoBLAS-style kernels: B packed into
    panels of `nr-vectors`·W columns (at compile time when it is a constant,
    transposed or not; else once per call), tasks of `mc-tiles`·MR rows ×
    `nc-panels` panels run in parallel, each walks K in blocks of `kc` and runs
    an MR × NR micro-kernel (the task's rows of A copied per K block and
    broadcast, B prefetched `prefetch` steps ahead) whose accumulators stay
    in vector registers, then 4- and 1-row kernels for the rows left over.
    A `gate.gate` that multiplies the result (directly or through one
    expand_shape, then a bias broadcast along N, each optional) by another
    tensor of its shape through a sigmoid or SiLU,
    with the matmul computing either the gate (SwiGLU, SambaY's gated memory
    unit) or the gated value, becomes the kernel's epilogue: applied as C is
    stored after the last K block. Run it before `gate-tile-cpu`, which lowers
    the remaining gates. Matmuls with other indexing maps are left alone.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (16 = AVX-512, 8 = AVX2, 4 = SSE/NEON)">,
    Option<"mr", "mr", "int64_t", /*default=*/"0",
           "rows per micro tile (0: 12 with 16 lanes, else 6)">,
    Option<"nrVectors", "nr-vectors", "int64_t", /*default=*/"0",
           "vectors per micro tile row (0: 2)">,
    Option<"kc", "kc", "int64_t", /*default=*/"0", "K block (0: 256)">,
    Option<"mcTiles", "mc-tiles", "int64_t", /*default=*/"0",
           "micro tiles of rows per task (0: 8)">,
    Option<"prefetch", "prefetch", "int64_t", /*default=*/"16",
           "K steps ahead that the micro-kernel prefetches B (0: none)">,
    Option<"ncPanelsOpt", "nc-panels", "int64_t", /*default=*/"0",
           "column panels per task (0: 256 columns; fewer when M is small)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def GateFuseElementwise : Pass<"gate-fuse-elementwise", "mlir::ModuleOp"> {
  let summary = "Fuse elementwise linalg ops, broadcasts into every consumer";
  let description = [{
    Upstream's elementwise fusion (`linalg-fuse-elementwise-ops`: producer
    generics into consumer generics, reshapes folded by expansion, linalg
    canonicalizations) with two differences for the graphs exporters write:

    - A producer that only broadcasts (a `linalg.generic` whose body yields
      its one input, read through a projected permutation that keeps the
      order of dims) is fused into each of its consumers even when it has
      several: the consumer reads the smaller tensor through the broadcast
      map instead of a materialized copy (RoPE's cos/sin tables, shared by
      every layer, were written out as [B, H, T, D] tensors). Other
      producers fuse only into their single consumer, as upstream.
    - Fusion and every canonicalization run together until nothing changes
      (upstream's pass followed by the canonicalizer left a tenth of the
      fusable pairs of a transformers Qwen3 export unfused: the
      canonicalizations expose more).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def GateApproximateMath : Pass<"gate-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace math.exp/tanh/erf by vectorizable polynomial approximations";
  let description = [{
    LLVM scalarizes vector `exp` into libm calls; the polynomial forms stay in
    vector registers. Accurate to a few ulp in f32, which the fast kernels'
    tests (1e-4 relative to float64) check. `powf` by 1, 2, 3 or 0.5 (how
    exporters write squares and square roots) becomes multiplies or sqrt;
    with `pow-only`, only that, on tensors too (before the elementwise ops
    become loops, where a splat exponent is no longer a constant).
  }];
  let options = [
    Option<"powOnly", "pow-only", "bool", /*default=*/"false",
           "only rewrite powf by small constants">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def GateExpandBF16 : Pass<"gate-expand-bf16", "mlir::ModuleOp"> {
  let summary = "Expand f32 <-> bf16 conversions into integer arithmetic";
  let description = [{
    Without AVX512-BF16, LLVM lowers `fptrunc float to bfloat` to a call to
    `__truncsfbf2`, which Debian 12's libgcc (GCC 12) does not have: the
    library would not link. The upstream expansion (round to nearest even,
    NaN kept quiet) is exact and stays in vector registers. Arithmetic on bf16
    values is computed in f32 between such conversions (what LLVM's
    promotion would do, minus the call). The driver runs
    this pass unless the target CPU converts natively.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
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

def GateVectorizableLoops : Pass<"gate-vectorizable-loops", "mlir::ModuleOp"> {
  let summary = "Shape the loops of linalg ops so that LLVM vectorizes them";
  let description = [{
    The loops that linalg ops around the kernels lower to (elementwise
    chains, transposes, broadcasts, reductions such as RMSNorm's sum of
    squares) reach LLVM in forms its loop vectorizer rejects. Two rewrites:

    - **Innermost dim sequential** (`split-parallel`): an `scf.parallel` keeps
      its outer dims parallel and iterates its innermost dim with a nested
      `scf.for`. OpenMP collapses the dims of a parallel loop into one linear
      index that it delinearizes with a division per element, so such bodies
      ran scalar; the inner `scf.for` is a unit-stride loop. Kernel task
      loops (`gate.tile_task`), loops with reductions, and loops whose outer
      dims are statically fewer than `min-outer` iterations are left alone.
    - **Accumulators in registers**: an `scf.for` whose flat body loads one
      element at loop-invariant indices and stores back to the same element
      (the loop of a linalg reduction: `acc[i] += f(x[i, k])`) carries the
      value in an `iter_args` instead: one load before the loop, one store
      after. The body must write no other memory and touch the buffer
      nowhere else (buffers of distinct tensors do not overlap after
      bufferization). With `reassociate`, the add or mul that combines into
      the accumulator gets the `reassoc` fast-math flag so that LLVM sums
      with vector partial sums (a different rounding order, as in every BLAS;
      the reference lowering leaves it off).

    Example: `scf.parallel (%i, %j) = (0, 0) to (%T, 1024)` becomes
    `scf.parallel (%i) = (0) to (%T) { scf.for %j = 0 to 1024 { ... } }`.
  }];
  let options = [
    Option<"splitParallel", "split-parallel", "bool", /*default=*/"true",
           "run the innermost dim of scf.parallel loops as an scf.for">,
    Option<"minOuter", "min-outer", "int64_t", /*default=*/"8",
           "fewest static outer iterations that are still split off">,
    Option<"reassociate", "reassociate", "bool", /*default=*/"false",
           "let reductions' accumulation reassociate (fast-math reassoc)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def GateOmpSchedule : Pass<"gate-omp-schedule", "mlir::ModuleOp"> {
  let summary = "Dynamic schedules for kernel tiles; static loops shared by hand";
  let description = [{
    Kernel tiles differ in cost (causal attention, ragged last blocks): the
    `omp.wsloop`s whose bodies carry the `gate.tile_task` marker (set by the
    gate lowerings) hand their iterations out dynamically, one at a time from
    an atomic counter on the caller's stack (`__kmpc_dispatch_next` formats
    debug strings per tile in LLVM's libomp as Debian builds it). Other parallel
    loops (elementwise ops, transposes) keep the static schedule, which gives
    each thread one contiguous range, and run on the calling thread alone
    (`if` clause) when their trip count times a rough body cost is small:
    waking the pool costs more than a tiny loop (decode steps, graphs of many
    small ops). Their `omp.wsloop` becomes a plain `scf.for` over the
    thread's share of the collapsed iterations (from `omp_get_thread_num` /
    `omp_get_num_threads`): the same static schedule without
    `__kmpc_for_static_init`, which LLVM's libomp makes cost microseconds per
    call by formatting debug strings. Loops with reductions keep the wsloop.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect"];
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

def GateTileGPU : Pass<"gate-tile-gpu", "mlir::ModuleOp"> {
  let summary = "Lower gate ops to CUDA kernels (gpu.launch, tensor-core MMA)";
  let description = [{
    `gate.sdpa` with 16-bit operands becomes one FlashAttention-2 style
    `gpu.launch`: 4 warps × 16 query rows per block, key/value blocks staged
    in workgroup memory, QKᵀ and P·V as m16n8k16 tensor-core MMAs
    (`nvgpu.mma.sync`) with f32 accumulators,
    online softmax in registers, causal block skipping, fused gate; when
    the queries fit one block (decode) and the keys are long, the keys are
    split over blocks and a second kernel combines the partial rows.
    `gate.linear_attention` with 16-bit operands becomes one chunked kernel
    (f32 state in workgroup memory, chunk matmuls on tensor cores). f32
    tensors use these kernels only with `precision=bf16|f16` (operands
    converted to 16 bits) or `precision=tf32` (f32 operands rounded to tf32,
    m16n8k8 MMAs); otherwise, and for causal_conv and gate, SIMT loop nests
    whose outer loops are `scf.parallel` (mapped to threads by
    `gate-parallel-to-gpu`).

    With `wgmma`, f16/bf16 attention (head dims multiples of 8) also gets a
    Hopper kernel: TMA loads into 128B-swizzled shared memory (mbarriers,
    double-buffered K/V), QKᵀ and P·V as warpgroup MMAs (`nvvm.wgmma`). The
    host builds the TMA descriptors per call and launches it when they exist
    (an sm_90 device, aligned tensors) and the call is not a split-KV
    decode; otherwise the portable kernel runs.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "operands of f32 attention: f32 (SIMT) | bf16 | f16 | tf32 (tensor cores)">,
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "also emit the sm_90a attention kernel (TMA + wgmma) for f16/bf16 "
           "tensors, launched when the device is sm_90">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect", "::mlir::gpu::GPUDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect"
  ];
}
def GateParallelToGPU : Pass<"gate-parallel-to-gpu", "mlir::ModuleOp"> {
  let summary = "Run the host's scf.parallel loops as GPU kernels, one thread per iteration";
  let description = [{
    Every `scf.parallel` outside a GPU kernel (SIMT gate lowerings, linalg
    ops lowered to parallel loops) becomes a `gpu.launch` of 1-D blocks of
    `block-size` threads over the flattened iteration space; each thread
    recovers its indices and runs the body, nested parallel loops serially.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "threads per block">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}
def GateGPUDeviceBuffers : Pass<"gate-gpu-device-buffers", "mlir::ModuleOp"> {
  let summary = "Host-side buffers of a CUDA function become device buffers";
  let description = [{
    In a CUDA library, arguments are device pointers and only kernels touch
    memory: host `memref.alloc`/`dealloc`/`copy` become `gpu.alloc`/`dealloc`/
    `memcpy`, constant globals (weights) become device buffers that the
    runtime uploads once per CUDA context (`gatec_rt_cuda_constant`), other
    globals are copied per call, and static
    allocations inside kernels become thread-local `memref.alloca`. Any other
    host-side access to buffer contents is an error naming the op.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}
def GateMergeGPUModules : Pass<"gate-merge-gpu-modules", "mlir::ModuleOp"> {
  let summary = "Move the outlined kernels into one gpu.module (two with sm_90a kernels)";
  let description = [{
    One kernel module per library: one PTX file, one image for ptxas and
    fatbinary, one module load at run time. Launches are retargeted, and
    kernels are marked `nvvm.minctasm = 1` (ptxas otherwise may cap the
    register budget for occupancy and spill the MMA accumulators).

    With `split-sm90a`, kernels using sm_90a-only instructions (wgmma, TMA,
    mbarrier transactions) go into a second module, `<module-name>_sm90a`,
    compiled for sm_90a alone while the first is compiled for every
    architecture; the runtime loads it only when one of its kernels runs.
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string", /*default=*/"\"gatec_kernels\"",
           "name of the merged gpu.module">,
    Option<"splitSM90a", "split-sm90a", "bool", /*default=*/"false",
           "put kernels with sm_90a-only instructions in a module of their own">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}
def GateLowerBF16Mma : Pass<"gate-lower-bf16-mma", "mlir::ModuleOp"> {
  let summary = "Lower nvgpu.mma.sync with bf16 operands to nvvm.mma.sync";
  let description = [{
    nvgpu.mma.sync verifies with bf16 operands but convert-nvgpu-to-nvvm
    cannot deduce their PTX type; this pass emits `nvvm.mma.sync` with
    explicit bf16 multiplicand types on packed 32-bit registers. Run it
    before convert-nvgpu-to-nvvm.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
}
#endif
