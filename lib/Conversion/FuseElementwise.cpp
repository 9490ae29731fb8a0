//===- FuseElementwise.cpp - elementwise fusion, broadcasts everywhere ----===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATEFUSEELEMENTWISE
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {

/// A generic that only copies its one input, read through a projected
/// permutation keeping the dims' order, into an identity-mapped output: a
/// broadcast (or a reshape-free copy), free to recompute in every consumer.
bool isBroadcast(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return false;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  if (yield->getNumOperands() != 1 ||
      yield->getOperand(0) != generic.getBody()->getArgument(0))
    return false;
  AffineMap in = generic.getIndexingMapsArray()[0], out = generic.getIndexingMapsArray()[1];
  if (!out.isIdentity() || !in.isProjectedPermutation(/*allowZeroInResults=*/false))
    return false;
  int64_t last = -1;
  for (AffineExpr e : in.getResults()) {
    int64_t d = cast<AffineDimExpr>(e).getPosition();
    if (d <= last)
      return false;
    last = d;
  }
  return true;
}

struct GateFuseElementwisePass
    : gatec::impl::GateFuseElementwiseBase<GateFuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && (producer->hasOneUse() || isBroadcast(producer));
    };
    linalg::ControlFusionFn singleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, singleUse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    // Every canonicalization, as the canonicalizer has them: what it folds
    // (dims, empties, reshapes) exposes further fusions.
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, ctx);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true).setMaxIterations(GreedyRewriteConfig::kNoLimit);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
