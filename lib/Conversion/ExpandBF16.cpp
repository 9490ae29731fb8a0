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

/// Loads and stores of bf16 (after the memref lowering) move i16: LLVM's
/// vectorizers otherwise build bfloat vectors out of scalar loads (the
/// operands of a comparison), and legalize them through __truncsfbf2.
struct LoadAsI16 : OpRewritePattern<LLVM::LoadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::LoadOp op, PatternRewriter &rw) const override {
    Type t = op.getType();
    if (!isBF16(t))
      return failure();
    rw.setInsertionPointAfter(op);
    rw.modifyOpInPlace(op, [&] { op.getResult().setType(bitsOf(t)); });
    auto value = LLVM::BitcastOp::create(rw, op.getLoc(), t, op.getResult());
    rw.replaceAllUsesExcept(op.getResult(), value.getResult(), value);
    return success();
  }
};

struct StoreAsI16 : OpRewritePattern<LLVM::StoreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::StoreOp op, PatternRewriter &rw) const override {
    Type t = op.getValue().getType();
    if (!isBF16(t))
      return failure();
    Value bits = LLVM::BitcastOp::create(rw, op.getLoc(), bitsOf(t), op.getValue());
    rw.modifyOpInPlace(op, [&] { op.getValueMutable().assign(bits); });
    return success();
  }
};

/// Masked loads and stores of bf16 vectors (partial tiles of bf16 tensors)
/// move i16 lanes instead: without AVX512-BF16 their legalization would
/// round-trip the lanes through f32 and __truncsfbf2.
struct MaskedLoadAsI16 : OpRewritePattern<LLVM::MaskedLoadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::MaskedLoadOp op, PatternRewriter &rw) const override {
    auto vt = dyn_cast<VectorType>(op.getType());
    if (!vt || !isBF16(vt))
      return failure();
    Value passThru = op.getPassThru();
    if (passThru)
      passThru = LLVM::BitcastOp::create(rw, op.getLoc(), asI16(vt), passThru);
    auto load = LLVM::MaskedLoadOp::create(rw, op.getLoc(), asI16(vt), op.getData(),
                                           op.getMask(), passThru, op.getAlignmentAttr(),
                                           op.getNontemporalAttr());
    rw.replaceOpWithNewOp<LLVM::BitcastOp>(op, vt, load.getResult());
    return success();
  }
};

struct MaskedStoreAsI16 : OpRewritePattern<LLVM::MaskedStoreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::MaskedStoreOp op, PatternRewriter &rw) const override {
    auto vt = dyn_cast<VectorType>(op.getValue().getType());
    if (!vt || !isBF16(vt))
      return failure();
    Value bits = LLVM::BitcastOp::create(rw, op.getLoc(), asI16(vt), op.getValue());
    rw.modifyOpInPlace(op, [&] { op.getValueMutable().assign(bits); });
    return success();
  }
};

/// Gathers of bf16 lanes (the flash kernel's transposing Q loads) likewise:
/// LLVM legalizes a bf16 gather through f32 lanes and __truncsfbf2.
struct MaskedGatherAsI16 : OpRewritePattern<LLVM::masked_gather> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::masked_gather op, PatternRewriter &rw) const override {
    auto vt = dyn_cast<VectorType>(op.getType());
    if (!vt || !isBF16(vt))
      return failure();
    SmallVector<Value> passThru;
    for (Value p : op.getPassThru())
      passThru.push_back(LLVM::BitcastOp::create(rw, op.getLoc(), asI16(vt), p));
    auto gather = LLVM::masked_gather::create(rw, op.getLoc(), asI16(vt), op.getPtrs(),
                                              op.getMask(), passThru, op.getAlignmentAttr());
    rw.replaceOpWithNewOp<LLVM::BitcastOp>(op, vt, gather.getResult());
    return success();
  }
};

struct MaskedScatterAsI16 : OpRewritePattern<LLVM::masked_scatter> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LLVM::masked_scatter op, PatternRewriter &rw) const override {
    auto vt = dyn_cast<VectorType>(op.getValue().getType());
    if (!vt || !isBF16(vt))
      return failure();
    Value bits = LLVM::BitcastOp::create(rw, op.getLoc(), asI16(vt), op.getValue());
    rw.modifyOpInPlace(op, [&] { op.getValueMutable().assign(bits); });
    return success();
  }
};

struct GateExpandBF16Pass : gatec::impl::GateExpandBF16Base<GateExpandBF16Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ComputeInF32, MaskedLoadAsI16, MaskedStoreAsI16, MaskedGatherAsI16,
                 MaskedScatterAsI16, LoadAsI16, StoreAsI16>(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
