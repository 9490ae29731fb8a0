//===- GateTileCPU.cpp - tiled, vectorized, parallel CPU kernels ----------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Conversion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATETILECPU
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;

namespace {
struct GateTileCPUPass : gatec::impl::GateTileCPUBase<GateTileCPUPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGateCPUPatterns(patterns, vectorWidth);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

void gatec::populateGateCPUPatterns(RewritePatternSet &patterns, int64_t vectorWidth) {
  populateGateReferencePatterns(patterns);
}
