//===- ApproximateMath.cpp - vectorizable exp / tanh / erf ----------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATEAPPROXIMATEMATH
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
/// powf by a small constant (exporters write x² as Pow(x, 2)): multiplies or
/// sqrt instead of a libm call.
struct PowByConstant : OpRewritePattern<math::PowFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::PowFOp op, PatternRewriter &rw) const override {
    FloatAttr c;
    DenseElementsAttr dense;
    double e;
    Value rhs = op.getRhs();
    // A splat of a dynamic shape (how the importer broadcasts a scalar
    // exponent) is a tensor.splat of the scalar.
    if (auto splat = rhs.getDefiningOp<tensor::SplatOp>())
      rhs = splat.getInput();
    if (matchPattern(rhs, m_Constant(&c)))
      e = c.getValueAsDouble();
    else if (matchPattern(rhs, m_Constant(&dense)) && dense.isSplat())
      e = dense.getSplatValue<APFloat>().convertToDouble();
    else
      return failure();
    Value x = op.getLhs();
    Location loc = op.getLoc();
    if (e == 1.0) {
      rw.replaceOp(op, x);
    } else if (e == 2.0) {
      rw.replaceOpWithNewOp<arith::MulFOp>(op, x, x);
    } else if (e == 3.0) {
      rw.replaceOpWithNewOp<arith::MulFOp>(op, arith::MulFOp::create(rw, loc, x, x), x);
    } else if (e == 0.5) {
      rw.replaceOpWithNewOp<math::SqrtOp>(op, x);
    } else {
      return failure();
    }
    return success();
  }
};

struct GateApproximateMathPass
    : gatec::impl::GateApproximateMathBase<GateApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<PowByConstant>(&getContext());
    if (powOnly) {
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
        return signalPassFailure();
      return;
    }
    // The predicate sees operation names ("math.exp").
    auto wanted = [](StringRef name) {
      name.consume_front("math.");
      return name == "exp" || name == "tanh" || name == "erf" || name == "log" ||
             name == "log1p" || name == "expm1";
    };
    populateMathF32ExpansionPatterns(patterns, wanted);
    populateMathPolynomialApproximationPatterns(patterns, wanted);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
