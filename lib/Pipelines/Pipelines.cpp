//===- Pipelines.cpp - gatec's named pass pipelines -----------------------===//
#include "gatec/Pipelines/Pipelines.h"

#include "gatec/Conversion/Passes.h"
#include "gatec/Dialect/Gate/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void gatec::buildGateOptPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(gate::createGateRaiseSdpa());
  pm.addNestedPass<func::FuncOp>(gate::createGateRaiseRecurrence());
  pm.addNestedPass<func::FuncOp>(gate::createGateRaiseGating());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void gatec::buildCPUKernelPipeline(OpPassManager &pm,
                                   const CPUPipelineOptions &options) {
  if (options.kernels == "reference") {
    pm.addPass(createGateLowerToReference());
  } else {
    // Matmuls first: a gate.gate of a matmul's result becomes its epilogue
    // before gate-tile-cpu lowers the remaining gates to loops.
    GateMatmulCPUOptions mm;
    mm.vectorWidth = options.vectorWidth;
    pm.addPass(createGateMatmulCPU(mm));
    GateTileCPUOptions tile;
    tile.vectorWidth = options.vectorWidth;
    tile.linearAttention = options.linearAttention;
    pm.addPass(createGateTileCPU(tile));
  }
  // What the importer left around the gate ops: elementwise chains fused
  // into single loops before bufferization (x² written as Pow(x, 2) becomes
  // x·x first).
  GateApproximateMathOptions powOnly;
  powOnly.powOnly = true;
  pm.addPass(createGateApproximateMath(powOnly));
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  pm.addPass(createGateFuseElementwise());
  pm.addPass(createCanonicalizerPass());
}

void gatec::buildCPUBufferPipeline(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufOpts;
  bufOpts.bufferizeFunctionBoundaries = true;
  bufOpts.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // Loops carrying tensors (imported Scan/Loop bodies) may yield new buffers.
  bufOpts.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufOpts));
  // Results become caller-provided output buffers (the ABI's out-params).
  pm.addPass(createGateResultsToOutParams());
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferDeallocationPipelineOptions deallocOpts;
  bufferization::buildBufferDeallocationPipeline(pm, deallocOpts);
}

void gatec::buildCPULLVMPipeline(OpPassManager &pm,
                                 const CPUPipelineOptions &options) {
  pm.addPass(createGateLegalizeMemRefs());
  // Parallel dims of linalg ops (elementwise chains, transposes, matmul rows)
  // become scf.parallel: OpenMP with a static schedule.
  if (options.parallel)
    pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createGateApproximateMath());
  // Innermost dims as unit-stride loops, reductions in registers: what
  // LLVM's loop vectorizer takes.
  GateVectorizableLoopsOptions vectorizable;
  vectorizable.splitParallel = options.parallel;
  vectorizable.reassociate = options.kernels != "reference";
  pm.addPass(createGateVectorizableLoops(vectorizable));
  if (options.parallel) {
    pm.addPass(createConvertSCFToOpenMPPass());
    pm.addPass(createGateOmpSchedule());
    // Dissolves the alloca scopes around loop bodies that allocate nothing
    // on the stack (the kernels use heap scratch per task).
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  // After the vector lowering (its masked loads and stores), before arith's.
  if (options.expandBF16)
    pm.addPass(createGateExpandBF16());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  // In libraries, buffers come from the runtime's allocator, which recycles
  // large ones.
  FinalizeMemRefToLLVMConversionPassOptions memrefOpts;
  memrefOpts.useGenericFunctions = options.runtimeAllocator;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOpts));
  // Again for the scalar loads and stores the memref lowering made.
  if (options.expandBF16)
    pm.addPass(createGateExpandBF16());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGateOmpThreads());
  pm.addPass(createCanonicalizerPass());
}

void gatec::buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options,
                             CPUStage stopAfter) {
  buildGateOptPipeline(pm);
  if (stopAfter == CPUStage::Gate)
    return;
  buildCPUKernelPipeline(pm, options);
  if (stopAfter == CPUStage::Kernels)
    return;
  buildCPUBufferPipeline(pm);
  if (stopAfter == CPUStage::Buffers)
    return;
  buildCPULLVMPipeline(pm, options);
}

SmallVector<std::string> gatec::cudaArchs(const CUDAPipelineOptions &options) {
  SmallVector<StringRef> parts;
  StringRef(options.chip).split(parts, ',', -1, /*KeepEmpty=*/false);
  SmallVector<std::string> archs;
  for (StringRef p : parts)
    archs.push_back(p.trim().str());
  return archs;
}

namespace {
/// sm_90a kernels (wgmma, TMA) are emitted when sm_90a is a target; next to
/// other architectures they live in a kernel module of their own.
bool hasSM90a(ArrayRef<std::string> archs) { return llvm::is_contained(archs, "sm_90a"); }
bool splitSM90a(ArrayRef<std::string> archs) {
  return hasSM90a(archs) && llvm::any_of(archs, [](StringRef a) { return a != "sm_90a"; });
}
constexpr StringLiteral kKernelModule = "gatec_kernels";
} // namespace

void gatec::buildCUDAKernelPipeline(OpPassManager &pm,
                                    const CUDAPipelineOptions &options) {
  GateTileGPUOptions tile;
  tile.precision = options.precision;
  tile.wgmma = hasSM90a(cudaArchs(options));
  pm.addPass(createGateTileGPU(tile));
  // The SIMT lowerings' parallel loops become launches now: canonicalization
  // would inline single-iteration ones into host code.
  pm.addPass(createGateParallelToGPU());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
}

void gatec::buildCUDADevicePipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  pm.addPass(createGateLegalizeMemRefs());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createGateParallelToGPU());
  pm.addPass(createGateGPUDeviceBuffers());
  // exp/tanh/erf as polynomials: the kernels need no libdevice.
  pm.addPass(createGateApproximateMath());
  pm.addPass(createCanonicalizerPass());
  // Constants and index math back into the kernels (canonicalization hoisted
  // them to the host function), so they are immediates, not kernel params.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  GateMergeGPUModulesOptions merge;
  merge.moduleName = kKernelModule.str();
  merge.splitSM90a = splitSM90a(cudaArchs(options));
  pm.addPass(createGateMergeGPUModules(merge));
  pm.addPass(createGateLowerBF16Mma());
  // One stream per call: allocations, copies and launches are ordered on it.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
}

std::string gatec::ptxFeaturesFor(StringRef chip) {
  // The oldest PTX ISA that knows the architecture (LLVM's default for sm_80
  // is too old), capped at what CUDA 12.x/13 ptxas accept.
  int sm = 0;
  StringRef(chip).drop_front(3).take_while([](char c) { return isdigit(c); }).getAsInteger(10, sm);
  if (sm >= 100)
    return "+ptx86";
  // sm_90a kernels fence the TMA descriptors (fence.proxy.tensormap, 8.3).
  if (chip == "sm_90a")
    return "+ptx83";
  return "+ptx80";
}

void gatec::buildCUDALLVMPipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  // MLIR's gpu-lower-to-nvvm-pipeline, except that targets are attached per
  // kernel module: the sm_90a module gets only sm_90a.
  SmallVector<std::string> archs = cudaArchs(options);
  bool split = splitSM90a(archs);
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  for (const std::string &arch : archs) {
    GpuNVVMAttachTargetOptions target;
    target.chip = arch;
    target.features = ptxFeaturesFor(arch);
    target.optLevel = options.optLevel;
    if (split && arch != "sm_90a")
      target.moduleMatcher = ("^" + kKernelModule + "$").str();
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addNestedPass<gpu::GPUModuleOp>(LLVM::createNVVMOptimizeForTargetPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());

  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX; ptxas and fatbinary run in the driver
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void gatec::buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options,
                              CUDAStage stopAfter) {
  buildGateOptPipeline(pm);
  if (stopAfter == CUDAStage::Gate)
    return;
  buildCUDAKernelPipeline(pm, options);
  if (stopAfter == CUDAStage::Kernels)
    return;
  buildCPUBufferPipeline(pm);
  if (stopAfter == CUDAStage::Buffers)
    return;
  buildCUDADevicePipeline(pm, options);
  if (stopAfter == CUDAStage::GPU)
    return;
  buildCUDALLVMPipeline(pm, options);
}

void gatec::registerPipelines() {
  PassPipelineRegistration<CUDAPipelineOptions>(
      "gatec-cuda-pipeline", "gate level to LLVM host code and PTX kernels (gpu.binary)",
      [](OpPassManager &pm, const CUDAPipelineOptions &o) { buildCUDAPipeline(pm, o); });
  PassPipelineRegistration<>("gatec-gate-opt-pipeline",
                             "gate-level clean-up: canonicalize, raise gating",
                             buildGateOptPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "gatec-cpu-pipeline", "gate level to the LLVM dialect for the host CPU",
      [](OpPassManager &pm, const CPUPipelineOptions &o) { buildCPUPipeline(pm, o); });
  PassPipelineRegistration<>("gatec-cpu-buffer-pipeline",
                             "bufferize; results become caller-provided outputs",
                             buildCPUBufferPipeline);
}
