//===- MergeGPUModules.cpp - one kernel module per library ----------------===//
//
// Outlining puts every kernel in its own gpu.module. A library wants one: one
// PTX file (--emit=ptx), one image for ptxas/fatbinary, one module load in
// the driver. Kernels take their modules' (unique) names. Kernels that only
// sm_90a can run (wgmma, TMA) may get a module of their own, so that the
// other one still compiles for every architecture.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace gatec {
#define GEN_PASS_DEF_GATEMERGEGPUMODULES
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
/// Whether a kernel module uses instructions only sm_90a has.
bool needsSM90a(gpu::GPUModuleOp m) {
  return m.walk([](Operation *op) {
            StringRef name = op->getName().getStringRef();
            return name.starts_with("nvvm.wgmma") || name.starts_with("nvvm.cp.async.bulk")
                       ? WalkResult::interrupt()
                       : WalkResult::advance();
          })
      .wasInterrupted();
}

struct GateMergeGPUModulesPass
    : gatec::impl::GateMergeGPUModulesBase<GateMergeGPUModulesPass> {
  using Base::Base;

  using KernelNames = llvm::DenseMap<std::pair<StringAttr, StringAttr>, FlatSymbolRefAttr>;
  using ModuleNames = llvm::DenseMap<StringAttr, FlatSymbolRefAttr>;

  /// Moves the contents of `mods` into a new module `name`; records where
  /// each module and kernel went.
  LogicalResult merge(MutableArrayRef<gpu::GPUModuleOp> mods, StringRef name, KernelNames &renamed,
                      ModuleNames &moduleOf) {
    OpBuilder b(mods.front());
    auto merged = gpu::GPUModuleOp::create(b, mods.front().getLoc(), name);
    merged->setAttrs(mods.front()->getAttrs());
    merged.setName(name);
    SymbolTable table(merged);
    auto mergedRef = FlatSymbolRefAttr::get(merged.getNameAttr());
    // Kernels are renamed after their (unique) modules: outlining may give
    // kernels of different modules the same name.
    for (gpu::GPUModuleOp m : mods) {
      for (auto f : m.getOps<gpu::GPUFuncOp>())
        if (f.isKernel()) {
          renamed[{m.getNameAttr(), f.getNameAttr()}] = FlatSymbolRefAttr::get(m.getNameAttr());
          f.setName(m.getName());
        }
      for (Operation &op : llvm::make_early_inc_range(m.getBody()->getOperations())) {
        if (auto sym = dyn_cast<SymbolOpInterface>(op); sym && table.lookup(sym.getName())) {
          // Workgroup buffers shared by several kernels were copied into
          // each kernel's module: keep one.
          auto g = dyn_cast<memref::GlobalOp>(op);
          auto kept = dyn_cast<memref::GlobalOp>(table.lookup(sym.getName()));
          if (g && kept && g.getType() == kept.getType()) {
            op.erase();
            continue;
          }
          return m.emitError() << "gate-merge-gpu-modules: symbol '" << sym.getName()
                               << "' defined in two kernel modules";
        }
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (isa<SymbolOpInterface>(op))
          table.insert(&op);
      }
    }
    for (gpu::GPUModuleOp m : mods)
      moduleOf[m.getNameAttr()] = mergedRef;
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Outlining copied the kernels' workgroup buffers into their modules;
    // the host has no use for them.
    for (auto g : llvm::make_early_inc_range(module.getOps<memref::GlobalOp>()))
      if (auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(g.getType().getMemorySpace());
          space && space.getValue() == gpu::AddressSpace::Workgroup &&
          SymbolTable::symbolKnownUseEmpty(g, module))
        g.erase();
    // One block per SM is enough: the kernels hide latency with registers
    // (ptxas otherwise may cap them at 168 for 3 blocks and spill).
    module.walk([&](gpu::GPUFuncOp f) {
      if (f.isKernel())
        f->setAttr("nvvm.minctasm", IntegerAttr::get(IntegerType::get(f.getContext(), 32), 1));
    });
    SmallVector<gpu::GPUModuleOp> portable, sm90a;
    for (auto m : module.getOps<gpu::GPUModuleOp>())
      (splitSM90a && needsSM90a(m) ? sm90a : portable).push_back(m);
    KernelNames renamed;
    ModuleNames moduleOf;
    if (!portable.empty() && failed(merge(portable, moduleName, renamed, moduleOf)))
      return signalPassFailure();
    if (!sm90a.empty() && failed(merge(sm90a, moduleName + "_sm90a", renamed, moduleOf)))
      return signalPassFailure();
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr from = launch.getKernelModuleName();
      FlatSymbolRefAttr name = renamed.lookup({from, launch.getKernelName()});
      FlatSymbolRefAttr into = moduleOf.lookup(from);
      if (!into)
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          into.getAttr(), {name ? name : FlatSymbolRefAttr::get(launch.getKernelName())}));
    });
    for (gpu::GPUModuleOp m : llvm::concat<gpu::GPUModuleOp>(portable, sm90a))
      m.erase();
  }
};
} // namespace
