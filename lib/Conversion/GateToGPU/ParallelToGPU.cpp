//===- ParallelToGPU.cpp - host scf.parallel loops as GPU kernels ---------===//
//
// Upstream's convert-parallel-loops-to-gpu needs constant thread counts and
// explicit mappings; gatec's parallel loops have dynamic bounds (batch,
// sequence) and any rank. Each host-level loop becomes one launch over its
// flattened iteration space: thread t of block b runs iteration b·N + t,
// delinearized row-major, so consecutive threads touch consecutive elements
// of the innermost dimension (coalesced). Nested parallel loops run serially
// inside the thread.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace gatec {
#define GEN_PASS_DEF_GATEPARALLELTOGPU
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
/// scf.parallel -> scf.for nest (inside a kernel thread).
void serialize(scf::ParallelOp par) {
  ImplicitLocOpBuilder b(par.getLoc(), par);
  IRMapping map;
  Block *body = par.getBody();
  std::function<void(unsigned)> nest = [&](unsigned d) {
    if (d == par.getNumLoops()) {
      for (Operation &op : body->without_terminator())
        b.clone(op, map);
      return;
    }
    auto loop = scf::ForOp::create(b, par.getLowerBound()[d], par.getUpperBound()[d],
                                   par.getStep()[d]);
    map.map(par.getInductionVars()[d], loop.getInductionVar());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    nest(d + 1);
  };
  nest(0);
  par.erase();
}

struct GateParallelToGPUPass
    : gatec::impl::GateParallelToGPUBase<GateParallelToGPUPass> {
  using Base::Base;

  LogicalResult convert(scf::ParallelOp par) {
    if (par.getNumResults() != 0)
      return par.emitError("gate-parallel-to-gpu: parallel loops with reductions "
                           "are not supported on the GPU");
    ImplicitLocOpBuilder b(par.getLoc(), par);
    auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, v); };
    // Trip count per dimension and in total.
    SmallVector<Value> trips;
    Value total;
    for (auto [lb, ub, step] :
         llvm::zip(par.getLowerBound(), par.getUpperBound(), par.getStep())) {
      Value span = arith::SubIOp::create(b, ub, lb);
      span = arith::MaxSIOp::create(b, span, idx(0));
      Value n = arith::CeilDivUIOp::create(b, span, step);
      trips.push_back(n);
      total = total ? arith::MulIOp::create(b, total, n).getResult() : n;
    }
    Value grid = arith::CeilDivUIOp::create(b, total, idx(blockSize));
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(b, grid, one, one, idx(blockSize), one, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value flat = arith::AddIOp::create(
        b, arith::MulIOp::create(b, launch.getBlockIds().x, idx(blockSize)),
        launch.getThreadIds().x);
    Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, flat, total);
    auto guardIf = scf::IfOp::create(b, live, /*withElseRegion=*/false);
    gpu::TerminatorOp::create(b);
    b.setInsertionPointToStart(&guardIf.getThenRegion().front());
    IRMapping map;
    Value rest = flat;
    for (int64_t d = par.getNumLoops() - 1; d >= 0; --d) {
      Value i = d == 0 ? rest : arith::RemUIOp::create(b, rest, trips[d]).getResult();
      if (d > 0)
        rest = arith::DivUIOp::create(b, rest, trips[d]);
      Value iv = arith::AddIOp::create(
          b, par.getLowerBound()[d], arith::MulIOp::create(b, i, par.getStep()[d]));
      map.map(par.getInductionVars()[d], iv);
    }
    for (Operation &op : par.getBody()->without_terminator())
      b.clone(op, map);
    par.erase();
    // What ran in parallel inside the body now runs in the thread.
    SmallVector<scf::ParallelOp> nested;
    launch.walk([&](scf::ParallelOp p) { nested.push_back(p); });
    for (scf::ParallelOp p : nested) // innermost first
      serialize(p);
    return success();
  }

  void runOnOperation() override {
    if (blockSize < 32 || blockSize > 1024) {
      getOperation().emitError() << "gate-parallel-to-gpu: block-size must be in [32, 1024]";
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> roots;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp, gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      if (auto par = dyn_cast<scf::ParallelOp>(op)) {
        roots.push_back(par);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (scf::ParallelOp par : roots)
      if (failed(convert(par)))
        return signalPassFailure();
  }
};
} // namespace
