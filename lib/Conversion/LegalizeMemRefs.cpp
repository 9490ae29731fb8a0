//===- LegalizeMemRefs.cpp - memref ops LLVM 22 lowers badly --------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATELEGALIZEMEMREFS
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
struct ExpandToReinterpret : OpRewritePattern<memref::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::ExpandShapeOp op,
                                PatternRewriter &rw) const override {
    MemRefType src = op.getSrcType(), dst = op.getResultType();
    if (!src.getLayout().isIdentity() || !dst.getLayout().isIdentity())
      return failure();
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
    // Row-major strides: suffix products of the sizes.
    SmallVector<OpFoldResult> strides(sizes.size());
    OpFoldResult stride = rw.getIndexAttr(1);
    for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
      strides[d] = stride;
      auto si = getConstantIntValue(sizes[d]), st = getConstantIntValue(stride);
      if (si && st) {
        stride = rw.getIndexAttr(*si * *st);
      } else {
        Value a = getValueOrCreateConstantIndexOp(rw, loc, sizes[d]);
        Value b = getValueOrCreateConstantIndexOp(rw, loc, stride);
        stride = arith::MulIOp::create(rw, loc, a, b).getResult();
      }
    }
    rw.replaceOpWithNewOp<memref::ReinterpretCastOp>(op, dst, op.getSrc(), rw.getIndexAttr(0),
                                                     sizes, strides);
    return success();
  }
};

/// Strided copies as loops (no memrefCopy runtime call).
struct StridedCopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op, PatternRewriter &rw) const override {
    auto src = cast<MemRefType>(op.getSource().getType());
    auto dst = cast<MemRefType>(op.getTarget().getType());
    if (src.getLayout().isIdentity() && dst.getLayout().isIdentity())
      return failure(); // contiguous: lowered to memcpy
    rw.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(), op.getTarget());
    return success();
  }
};

struct GateLegalizeMemRefsPass
    : gatec::impl::GateLegalizeMemRefsBase<GateLegalizeMemRefsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandToReinterpret, StridedCopyToLinalg>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
