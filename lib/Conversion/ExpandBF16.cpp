//===- ExpandBF16.cpp - f32 <-> bf16 conversions without libgcc calls -----===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATEEXPANDBF16
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
Type withElementType(Type t, Type et) {
  if (auto st = dyn_cast<ShapedType>(t))
    return st.clone(et);
  return et;
}

bool isBF16(Type t) { return isa<BFloat16Type>(getElementTypeOrSelf(t)); }

/// Arithmetic on bf16 values (an imported Mul or Add in bf16) is computed in
/// f32 between explicit conversions: LLVM would otherwise promote it and
/// truncate through __truncsfbf2 itself.
struct ComputeInF32 : RewritePattern {
  ComputeInF32(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rw) const override {
    if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
        op->getNumRegions() != 0 || !op->hasTrait<OpTrait::Elementwise>() ||
        isa<arith::ExtFOp, arith::TruncFOp, arith::BitcastOp, arith::ConstantOp,
            arith::SelectOp>(op))
      return failure();
    if (!llvm::any_of(op->getOperandTypes(), isBF16) && !llvm::any_of(op->getResultTypes(), isBF16))
      return failure();
    Type f32 = rw.getF32Type();
    SmallVector<Value> operands;
    for (Value v : op->getOperands())
      operands.push_back(isBF16(v.getType())
                             ? arith::ExtFOp::create(rw, op->getLoc(),
                                                     withElementType(v.getType(), f32), v)
                                   .getResult()
                             : v);
    SmallVector<Type> types;
    for (Type t : op->getResultTypes())
      types.push_back(isBF16(t) ? withElementType(t, f32) : t);
    OperationState state(op->getLoc(), op->getName(), operands, types, op->getAttrs());
    Operation *wide = rw.create(state);
    SmallVector<Value> results;
    for (auto [r, t] : llvm::zip(wide->getResults(), op->getResultTypes()))
      results.push_back(isBF16(t) ? arith::TruncFOp::create(rw, op->getLoc(), t, r).getResult()
                                  : Value(r));
    rw.replaceOp(op, results);
    return success();
  }
};

VectorType asI16(VectorType t) {
  return VectorType::get(t.getShape(), IntegerType::get(t.getContext(), 16));
}

/// i16 for bf16, vector<..xi16> for vector<..xbf16>.
Type bitsOf(Type t) {
  if (auto vt = dyn_cast<VectorType>(t))
    return asI16(vt);
  return IntegerType::get(t.getContext(), 16);
}

/// Loads, stores, masked loads and stores, gathers and scatters of bf16 (the
/// vector lowering's and, in a second run, the memref lowering's) move i16
/// values, with bitcasts around them. Without AVX512-BF16, LLVM legalizes
/// bf16 data through f32 and __truncsfbf2: masked and gathering forms
/// directly, plain scalar loads once its vectorizers pack them into bfloat
/// vectors (the operands of a comparison).
struct MemoryAsI16 : RewritePattern {
  MemoryAsI16(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rw) const override {
    if (!isa<LLVM::LoadOp, LLVM::StoreOp, LLVM::MaskedLoadOp, LLVM::MaskedStoreOp,
             LLVM::masked_gather, LLVM::masked_scatter>(op) ||
        (!llvm::any_of(op->getOperandTypes(), isBF16) &&
         !llvm::any_of(op->getResultTypes(), isBF16)))
      return failure();
    Location loc = op->getLoc();
    rw.setInsertionPoint(op);
    SmallVector<std::pair<unsigned, Value>> bits; // data operands (values, pass-throughs)
    for (OpOperand &o : op->getOpOperands())
      if (isBF16(o.get().getType()))
        bits.push_back({o.getOperandNumber(),
                        LLVM::BitcastOp::create(rw, loc, bitsOf(o.get().getType()), o.get())});
    SmallVector<std::pair<Value, Type>> results; // bf16 results and their types
    for (Value r : op->getResults())
      if (isBF16(r.getType()))
        results.push_back({r, r.getType()});
    rw.modifyOpInPlace(op, [&] {
      for (auto [n, v] : bits)
        op->setOperand(n, v);
      for (auto [r, t] : results)
        r.setType(bitsOf(t));
    });
    rw.setInsertionPointAfter(op);
    for (auto [r, t] : results) {
      auto back = LLVM::BitcastOp::create(rw, loc, t, r);
      rw.replaceAllUsesExcept(r, back.getResult(), back);
    }
    return success();
  }
};

struct GateExpandBF16Pass : gatec::impl::GateExpandBF16Base<GateExpandBF16Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ComputeInF32, MemoryAsI16>(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
