//===- MergeGPUModules.cpp - one kernel module per library ----------------===//
//
// Outlining puts every kernel in its own gpu.module. A library wants one: one
// PTX file (--emit=ptx), one image for ptxas/fatbinary, one module load in
// the driver. Kernels take their modules' (unique) names.
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
    // Kernels are renamed after their (unique) modules: outlining may give
    // kernels of different modules the same name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp m : mods) {
      for (auto f : m.getOps<gpu::GPUFuncOp>())
        if (f.isKernel()) {
          renamed[{m.getNameAttr(), f.getNameAttr()}] = m.getNameAttr();
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
      StringAttr name = renamed.lookup({launch.getKernelModuleName(), launch.getKernelName()});
      launch.setKernelAttr(SymbolRefAttr::get(
          mergedRef.getAttr(), {FlatSymbolRefAttr::get(name ? name : launch.getKernelName())}));
    });
    for (gpu::GPUModuleOp m : mods)
      m.erase();
  }
};
} // namespace
