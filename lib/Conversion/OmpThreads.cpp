//===- OmpThreads.cpp - per-library OpenMP thread count -------------------===//
#include "gatec/Conversion/Passes.h"
#include "gatec/Conversion/KernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace gatec {
#define GEN_PASS_DEF_GATEOMPTHREADS
#define GEN_PASS_DEF_GATEOMPSCHEDULE
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
constexpr llvm::StringLiteral kGlobal = "gatec_num_threads";

struct GateOmpSchedulePass : gatec::impl::GateOmpScheduleBase<GateOmpSchedulePass> {
  void runOnOperation() override {
    getOperation().walk([](omp::WsloopOp loop) {
      bool tiles = false;
      loop.walk([&](Operation *op) {
        if (op->removeAttr(gatec::KernelBuilder::kTileTaskAttr))
          tiles = true;
      });
      if (tiles && !loop.getScheduleKind())
        loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
    });
  }
};

struct GateOmpThreadsPass : gatec::impl::GateOmpThreadsBase<GateOmpThreadsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<omp::ParallelOp> regions;
    module.walk([&](omp::ParallelOp op) { regions.push_back(op); });
    if (regions.empty())
      return;
    auto i32 = IntegerType::get(&getContext(), 32);
    if (!module.lookupSymbol(kGlobal)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      // Defined by the library's entry stub, which keeps it >= 1; the linker
      // script keeps it private to the library.
      LLVM::GlobalOp::create(b, module.getLoc(), i32, /*isConstant=*/false,
                             LLVM::Linkage::External, kGlobal, Attribute());
    }
    for (omp::ParallelOp par : regions) {
      if (par.getNumThreads())
        continue;
      ImplicitLocOpBuilder b(par.getLoc(), par);
      Value addr = LLVM::AddressOfOp::create(b, LLVM::LLVMPointerType::get(&getContext()), kGlobal);
      Value n = LLVM::LoadOp::create(b, i32, addr);
      par.getNumThreadsMutable().assign(n);
    }
  }
};
} // namespace
