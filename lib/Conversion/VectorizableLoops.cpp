//===- VectorizableLoops.cpp - loops of linalg ops that LLVM vectorizes --===//
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace gatec {
#define GEN_PASS_DEF_GATEVECTORIZABLELOOPS
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {

/// Whether `loop` is a kernel's task loop: those have their own structure.
bool isTileTaskLoop(scf::ParallelOp loop) {
  WalkResult r = loop.walk([](Operation *op) {
    return op->hasAttr(gatec::KernelBuilder::kTileTaskAttr) ? WalkResult::interrupt()
                                                            : WalkResult::advance();
  });
  return r.wasInterrupted();
}

/// Static trip count of dim `d` of `loop`, if known.
std::optional<int64_t> staticTrips(scf::ParallelOp loop, unsigned d) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()[d]),
                         ub = getConstantIntValue(loop.getUpperBound()[d]),
                         step = getConstantIntValue(loop.getStep()[d]);
  if (!lb || !ub || !step || *step <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*ub - *lb + *step - 1) / *step);
}

/// The load/store pair of `loop`'s accumulator (see the pass description),
/// or null ops when the loop is not of that form.
std::pair<memref::LoadOp, memref::StoreOp> accumulator(scf::ForOp loop) {
  if (!loop.getInitArgs().empty())
    return {};
  memref::StoreOp store;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (op.getNumRegions())
      return {};
    if (auto st = dyn_cast<memref::StoreOp>(op)) {
      if (store)
        return {};
      store = st;
    } else if (!isa<memref::LoadOp>(op) && !isMemoryEffectFree(&op)) {
      return {};
    }
  }
  if (!store || !llvm::all_of(store.getIndices(),
                              [&](Value i) { return loop.isDefinedOutsideOfLoop(i); }))
    return {};
  memref::LoadOp load;
  for (Operation *user : store.getMemRef().getUsers()) {
    if (user == store || !loop->isAncestor(user))
      continue;
    auto ld = dyn_cast<memref::LoadOp>(user);
    if (!ld || load || ld.getIndices() != store.getIndices() || !ld->isBeforeInBlock(store))
      return {};
    load = ld;
  }
  if (!load)
    return {};
  return {load, store};
}

/// acc[i] = f(acc[i], ...) over the loop becomes an iter_arg: loaded before
/// the loop and stored after it, both only when the loop runs at all.
void carryInRegister(IRRewriter &rewriter, scf::ForOp loop, memref::LoadOp load,
                     memref::StoreOp store, bool reassociate) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value runs = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                                     loop.getLowerBound(), loop.getUpperBound());
  auto guard = scf::IfOp::create(rewriter, loc, runs, /*withElseRegion=*/false);
  rewriter.moveOpBefore(loop, guard.thenBlock()->getTerminator());
  rewriter.setInsertionPoint(loop);
  Value init = memref::LoadOp::create(rewriter, loc, load.getMemRef(), load.getIndices());
  Value stored = store.getValueToStore();
  FailureOr<LoopLikeOpInterface> carried = loop.replaceWithAdditionalYields(
      rewriter, ValueRange{init}, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
        return SmallVector<Value>{stored};
      });
  assert(succeeded(carried) && "scf.for takes additional yields");
  auto newLoop = cast<scf::ForOp>(carried->getOperation());
  Value acc = newLoop.getRegionIterArgs().back();
  if (reassociate)
    if (auto fma = stored.getDefiningOp<arith::ArithFastMathInterface>())
      if (isa<arith::AddFOp, arith::MulFOp>(fma.getOperation()) &&
          llvm::is_contained(fma->getOperands(), load.getResult()))
        fma->setAttr(fma.getFastMathAttrName(),
                     arith::FastMathFlagsAttr::get(rewriter.getContext(),
                                                   fma.getFastMathFlagsAttr().getValue() |
                                                       arith::FastMathFlags::reassoc));
  rewriter.replaceAllUsesWith(load.getResult(), acc);
  rewriter.setInsertionPointAfter(newLoop);
  memref::StoreOp::create(rewriter, loc, newLoop.getResults().back(), store.getMemRef(),
                          store.getIndices());
  rewriter.eraseOp(store);
  rewriter.eraseOp(load);
}

struct GateVectorizableLoopsPass
    : gatec::impl::GateVectorizableLoopsBase<GateVectorizableLoopsPass> {
  using Base::Base;

  bool worthSplitting(scf::ParallelOp loop) {
    unsigned n = loop.getNumLoops();
    if (n < 2 || !loop.getInitVals().empty() || isTileTaskLoop(loop))
      return false;
    // A static inner dim of one iteration gains nothing.
    if (std::optional<int64_t> inner = staticTrips(loop, n - 1); inner && *inner <= 1)
      return false;
    // Dynamic outer dims (sequence lengths) count as many iterations.
    int64_t outer = 1;
    for (unsigned d = 0; d + 1 < n; ++d) {
      std::optional<int64_t> t = staticTrips(loop, d);
      if (!t)
        return true;
      outer *= *t;
    }
    return outer >= minOuter;
  }

  void split(IRRewriter &rewriter, scf::ParallelOp loop) {
    unsigned n = loop.getNumLoops();
    Location loc = loop.getLoc();
    rewriter.setInsertionPoint(loop);
    auto outer = scf::ParallelOp::create(rewriter, loc, loop.getLowerBound().drop_back(),
                                         loop.getUpperBound().drop_back(),
                                         loop.getStep().drop_back());
    rewriter.setInsertionPointToStart(outer.getBody());
    auto inner = scf::ForOp::create(rewriter, loc, loop.getLowerBound()[n - 1],
                                    loop.getUpperBound()[n - 1], loop.getStep()[n - 1]);
    SmallVector<Value> ivs(outer.getInductionVars());
    ivs.push_back(inner.getInductionVar());
    Block *body = loop.getBody();
    // The old body ends in an empty scf.reduce; the new one in scf.yield.
    rewriter.eraseOp(body->getTerminator());
    rewriter.inlineBlockBefore(body, inner.getBody()->getTerminator(), ivs);
    rewriter.eraseOp(loop);
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<std::tuple<scf::ForOp, memref::LoadOp, memref::StoreOp>> accumulators;
    getOperation().walk([&](scf::ForOp loop) {
      if (auto [load, store] = accumulator(loop); load)
        accumulators.push_back({loop, load, store});
    });
    for (auto [loop, load, store] : accumulators)
      carryInRegister(rewriter, loop, load, store, reassociate);
    if (!splitParallel)
      return;
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() && worthSplitting(loop))
        loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      split(rewriter, loop);
  }
};

} // namespace
