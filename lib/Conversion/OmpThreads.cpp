//===- OmpThreads.cpp - per-library OpenMP thread count -------------------===//
#include "gatec/Conversion/Passes.h"
#include "gatec/Conversion/KernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace gatec {
#define GEN_PASS_DEF_GATEOMPTHREADS
#define GEN_PASS_DEF_GATEOMPSCHEDULE
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
constexpr llvm::StringLiteral kGlobal = "gatec_num_threads";

/// Rough operation count of one iteration of `region`: nested loops count
/// their static trip count (16 when it is dynamic).
int64_t bodyCost(Region &region) {
  int64_t cost = 0;
  for (Operation &op : region.getOps()) {
    int64_t inner = 0;
    for (Region &r : op.getRegions())
      inner += bodyCost(r);
    if (auto f = dyn_cast<scf::ForOp>(op)) {
      std::optional<int64_t> lb = getConstantIntValue(f.getLowerBound()),
                             ub = getConstantIntValue(f.getUpperBound()),
                             step = getConstantIntValue(f.getStep());
      inner *= lb && ub && step && *step > 0 ? std::max<int64_t>(0, (*ub - *lb + *step - 1) / *step)
                                             : 16;
    }
    cost += 1 + inner;
  }
  return cost;
}

struct GateOmpSchedulePass : gatec::impl::GateOmpScheduleBase<GateOmpSchedulePass> {
  // Below about this many operations a loop runs on the calling thread: waking
  // the pool costs more (decode steps run hundreds of tiny elementwise loops).
  static constexpr int64_t kMinParallelWork = 1 << 15;

  void runOnOperation() override {
    getOperation().walk([](omp::WsloopOp loop) {
      bool tiles = false;
      loop.walk([&](Operation *op) {
        if (op->removeAttr(gatec::KernelBuilder::kTileTaskAttr))
          tiles = true;
      });
      auto par = dyn_cast<omp::ParallelOp>(loop->getParentOp());
      auto nest = dyn_cast<omp::LoopNestOp>(loop.getWrappedLoop());
      // The region holds only this loop, whose bounds are defined before it
      // (always, after scf-to-openmp): its trip counts can be read outside.
      bool wrapped =
          par && nest && llvm::hasSingleElement(par.getRegion().front().without_terminator()) &&
          llvm::none_of(nest->getOperands(), [&](Value v) {
            return par->isAncestor(v.getParentRegion()->getParentOp());
          });
      bool byHand = wrapped && loop.getReductionVars().empty() && nest.getRegion().hasOneBlock();
      if (tiles) {
        if (byHand)
          dispatchByHand(par, loop, nest);
        else if (!loop.getScheduleKind())
          loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
        return;
      }
      if (!wrapped || par.getIfExpr())
        return;
      ImplicitLocOpBuilder b(par.getLoc(), par);
      SmallVector<Value> trips;
      Value total = collapsedTrips(b, nest, trips);
      Value work = arith::MulIOp::create(
          b, arith::ConstantIndexOp::create(b, bodyCost(nest.getRegion())), total);
      Value big = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, work,
                                        arith::ConstantIndexOp::create(b, kMinParallelWork));
      par.getIfExprMutable().assign(big);
      if (byHand)
        partitionByHand(loop, nest, trips, total);
    });
  }

  /// Trip counts of the nest's dims and their product, built at `b`.
  static Value collapsedTrips(ImplicitLocOpBuilder &b, omp::LoopNestOp nest,
                              SmallVectorImpl<Value> &trips) {
    Value total = arith::ConstantIndexOp::create(b, 1);
    for (auto [lb, ub, step] : llvm::zip(nest.getLoopLowerBounds(), nest.getLoopUpperBounds(),
                                         nest.getLoopSteps())) {
      Value span = arith::MaxSIOp::create(b, arith::SubIOp::create(b, ub, lb),
                                          arith::ConstantIndexOp::create(b, 0));
      trips.push_back(arith::CeilDivUIOp::create(b, span, step));
      total = arith::MulIOp::create(b, total, trips.back());
    }
    return total;
  }

  /// The nest's body for collapsed iteration `lin`, cloned at `ib`.
  static void cloneBodyAt(OpBuilder &ib, Location loc, omp::LoopNestOp nest, Value lin,
                          ArrayRef<Value> trips) {
    unsigned n = trips.size();
    SmallVector<Value> ivs(n);
    Value rest = lin;
    for (unsigned d = n; d-- > 0;) {
      Value idx = rest;
      if (d > 0) {
        idx = arith::RemUIOp::create(ib, loc, rest, trips[d]);
        rest = arith::DivUIOp::create(ib, loc, rest, trips[d]);
      }
      ivs[d] = arith::AddIOp::create(ib, loc, nest.getLoopLowerBounds()[d],
                                     arith::MulIOp::create(ib, loc, idx, nest.getLoopSteps()[d]));
    }
    IRMapping map;
    for (auto [iv, v] : llvm::zip(nest.getIVs(), ivs))
      map.map(iv, v);
    for (Operation &op : nest.getRegion().front().without_terminator())
      ib.clone(op, map);
  }

  /// The work-sharing loop becomes a plain loop over this thread's contiguous
  /// share of the (collapsed) iterations, from omp_get_thread_num and
  /// omp_get_num_threads: the static schedule without
  /// __kmpc_for_static_init, which LLVM's libomp makes cost microseconds per
  /// call by formatting debug strings (graphs of many small ops run
  /// thousands of loops per call).
  static void partitionByHand(omp::WsloopOp loop, omp::LoopNestOp nest, ArrayRef<Value> trips,
                              Value total) {
    Location loc = loop.getLoc();
    auto module = loop->getParentOfType<ModuleOp>();
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    auto i32 = mb.getI32Type();
    for (StringRef name : {"omp_get_thread_num", "omp_get_num_threads"})
      if (!module.lookupSymbol(name)) {
        auto decl = func::FuncOp::create(mb, loc, name, mb.getFunctionType({}, {i32}));
        decl.setPrivate();
      }
    ImplicitLocOpBuilder b(loc, loop);
    auto index = [&](StringRef fn) {
      Value v = func::CallOp::create(b, fn, TypeRange{i32}, ValueRange{}).getResult(0);
      return arith::IndexCastOp::create(b, b.getIndexType(), v).getResult();
    };
    Value tid = index("omp_get_thread_num"), nth = index("omp_get_num_threads");
    Value chunk = arith::CeilDivUIOp::create(b, total, nth);
    Value begin = arith::MinUIOp::create(b, arith::MulIOp::create(b, tid, chunk), total);
    Value end = arith::MinUIOp::create(b, arith::AddIOp::create(b, begin, chunk), total);
    auto serial = scf::ForOp::create(b, begin, end, arith::ConstantIndexOp::create(b, 1));
    OpBuilder ib = OpBuilder::atBlockBegin(serial.getBody());
    cloneBodyAt(ib, loc, nest, serial.getInductionVar(), trips);
    loop.erase();
  }

  /// Kernel tiles handed out one at a time from a shared atomic counter: the
  /// dynamic schedule without __kmpc_dispatch_next (debug strings again, at
  /// every tile). The counter lives on the caller's stack for the region.
  static void dispatchByHand(omp::ParallelOp par, omp::WsloopOp loop, omp::LoopNestOp nest) {
    Location loc = loop.getLoc();
    ImplicitLocOpBuilder ob(loc, par);
    auto scope = memref::AllocaScopeOp::create(ob, TypeRange{});
    Block *scopeBody = new Block();
    scope.getBodyRegion().push_back(scopeBody);
    par->moveBefore(scopeBody, scopeBody->end());
    ImplicitLocOpBuilder sb = ImplicitLocOpBuilder::atBlockEnd(loc, scopeBody);
    memref::AllocaScopeReturnOp::create(sb, ValueRange{});
    sb.setInsertionPoint(par);
    auto i64 = sb.getI64Type();
    Value counter = memref::AllocaOp::create(sb, MemRefType::get({}, i64));
    memref::StoreOp::create(sb, arith::ConstantIntOp::create(sb, i64, 0), counter, ValueRange{});
    SmallVector<Value> trips;
    Value total = collapsedTrips(sb, nest, trips);
    ImplicitLocOpBuilder b(loc, loop);
    Value one = arith::ConstantIntOp::create(b, i64, 1);
    auto next = scf::WhileOp::create(b, TypeRange{b.getIndexType()}, ValueRange{});
    {
      Block *before = b.createBlock(&next.getBefore());
      OpBuilder bb = OpBuilder::atBlockBegin(before);
      Value taken = memref::AtomicRMWOp::create(bb, loc, arith::AtomicRMWKind::addi, one,
                                                counter, ValueRange{});
      Value lin = arith::IndexCastOp::create(bb, loc, bb.getIndexType(), taken);
      Value more = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ult, lin, total);
      scf::ConditionOp::create(bb, loc, more, ValueRange{lin});
    }
    {
      Block *after = b.createBlock(&next.getAfter(), {}, {b.getIndexType()}, {loc});
      OpBuilder ab = OpBuilder::atBlockBegin(after);
      cloneBodyAt(ab, loc, nest, after->getArgument(0), trips);
      scf::YieldOp::create(ab, loc, ValueRange{});
    }
    loop.erase();
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
      // Atomic: set_num_threads may store it while other threads call.
      Value n = LLVM::LoadOp::create(b, i32, addr, /*alignment=*/4, /*isVolatile=*/false,
                                     /*isNonTemporal=*/false, /*isInvariant=*/false,
                                     /*isInvariantGroup=*/false, LLVM::AtomicOrdering::monotonic);
      par.getNumThreadsMutable().assign(n);
    }
  }
};
} // namespace
