//===- ApproximateMath.cpp - vectorizable exp / tanh / erf ----------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATEAPPROXIMATEMATH
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
struct GateApproximateMathPass
    : gatec::impl::GateApproximateMathBase<GateApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
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
