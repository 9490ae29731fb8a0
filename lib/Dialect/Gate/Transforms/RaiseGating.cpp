//===- RaiseGating.cpp - x * sigmoid(g) written elementwise -> gate.gate --===//
//
// Importers write Sigmoid as `1 / (1 + exp(-g))` on tensors and SiLU as
// `g * sigmoid(g)`. A product of a tensor with either becomes gate.gate, which
// the sdpa, causal_conv and linear_attention canonicalizations then fuse into
// their epilogues.
//
//===----------------------------------------------------------------------===//
#include "gatec/Dialect/Gate/Transforms/Passes.h"
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec::gate {
#define GEN_PASS_DEF_GATERAISEGATING
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
} // namespace gatec::gate

using namespace mlir;
using namespace gatec::gate;

namespace {
/// 1.0 as a scalar, a dense splat or a tensor.splat (dynamic shapes).
bool isSplatOne(Value v) { return gatec::gate::raise::splatValue(v) == 1.0; }

/// Returns g when `v` computes sigmoid(g) = 1 / (1 + exp(-g)).
Value matchSigmoid(Value v) {
  auto div = v.getDefiningOp<arith::DivFOp>();
  if (!div || !isSplatOne(div.getLhs()))
    return {};
  auto add = div.getRhs().getDefiningOp<arith::AddFOp>();
  if (!add)
    return {};
  Value other = isSplatOne(add.getLhs()) ? add.getRhs()
                : isSplatOne(add.getRhs()) ? add.getLhs() : Value();
  auto exp = other ? other.getDefiningOp<math::ExpOp>() : math::ExpOp();
  if (!exp)
    return {};
  auto neg = exp.getOperand().getDefiningOp<arith::NegFOp>();
  return neg ? neg.getOperand() : Value();
}

/// Returns g when `v` computes silu(g) = g * sigmoid(g).
Value matchSilu(Value v) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return {};
  if (Value g = matchSigmoid(mul.getRhs()); g && g == mul.getLhs())
    return g;
  if (Value g = matchSigmoid(mul.getLhs()); g && g == mul.getRhs())
    return g;
  return {};
}

struct RaiseMulOfActivation : OpRewritePattern<arith::MulFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::MulFOp mul,
                                PatternRewriter &rw) const override {
    auto type = dyn_cast<RankedTensorType>(mul.getType());
    if (!type || !isa<Float32Type, Float16Type, BFloat16Type>(type.getElementType()))
      return failure();
    // Do not take apart a silu itself: x * sigmoid(x) is the activation.
    for (auto [x, act] : {std::pair{mul.getLhs(), mul.getRhs()},
                          {mul.getRhs(), mul.getLhs()}}) {
      Activation kind;
      Value g;
      if ((g = matchSilu(act))) {
        kind = Activation::silu;
      } else if ((g = matchSigmoid(act)) && g != x) {
        kind = Activation::sigmoid;
      } else {
        continue;
      }
      if (g.getType() != type)
        continue;
      rw.replaceOpWithNewOp<GateOp>(mul, type, x, g,
                                    ActivationAttr::get(rw.getContext(), kind));
      return success();
    }
    return failure();
  }
};

struct GateRaiseGatingPass
    : gatec::gate::impl::GateRaiseGatingBase<GateRaiseGatingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseMulOfActivation>(&getContext());
    SdpaOp::getCanonicalizationPatterns(patterns, &getContext());
    CausalConvOp::getCanonicalizationPatterns(patterns, &getContext());
    LinearAttentionOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
