//===- MergeGPUModules.cpp - one kernel module per library ----------------===//
//
// Outlining puts every kernel in its own gpu.module. A library wants one: one
// PTX file (--emit=ptx), one image for ptxas/fatbinary, one module load in
// the driver. Kernel names stay unique (outlining derived them from the
// module names).
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
struct GateMergeGPUModulesPass
    : gatec::impl::GateMergeGPUModulesBase<GateMergeGPUModulesPass> {
  using Base::Base;
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
    SmallVector<gpu::GPUModuleOp> mods(module.getOps<gpu::GPUModuleOp>());
    if (mods.size() <= 1)
      return;
    OpBuilder b(mods.front());
    auto merged = gpu::GPUModuleOp::create(b, mods.front().getLoc(), moduleName);
    merged->setAttrs(mods.front()->getAttrs());
    merged.setName(moduleName);
    SymbolTable table(merged);
    for (gpu::GPUModuleOp m : mods) {
      for (Operation &op : llvm::make_early_inc_range(m.getBody()->getOperations())) {
        if (auto sym = dyn_cast<SymbolOpInterface>(op); sym && table.lookup(sym.getName())) {
          m.emitError() << "gate-merge-gpu-modules: symbol '" << sym.getName()
                        << "' defined in two kernel modules";
          return signalPassFailure();
        }
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (auto sym = dyn_cast<SymbolOpInterface>(op))
          table.insert(&op);
      }
    }
    auto mergedRef = FlatSymbolRefAttr::get(merged.getNameAttr());
    module.walk([&](gpu::LaunchFuncOp launch) {
      launch.setKernelAttr(SymbolRefAttr::get(
          mergedRef.getAttr(), {FlatSymbolRefAttr::get(launch.getKernelName())}));
    });
    for (gpu::GPUModuleOp m : mods)
      m.erase();
  }
};
} // namespace
