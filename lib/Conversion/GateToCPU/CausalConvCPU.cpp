//===- CausalConvCPU.cpp - token-major causal convolution on vectors ------===//
//
// gate.causal_conv with `token_major` ([B, L, C] input and output, what the
// projections of a Gated DeltaNet layer produce): a task is (batch, block of
// positions); every output row is the k-tap sum of k input rows, vectorized
// over the channels, with the weights transposed once per call into [k, C]
// so that a tap's weights are one vector load. The first k-1 positions, which
// read the initial state, and the final state are small scalar loops.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using arith::CmpIPredicate;

namespace {
RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }

struct TokenMajorCausalConv : OpRewritePattern<CausalConvOp> {
  TokenMajorCausalConv(MLIRContext *ctx, int64_t vw)
      : OpRewritePattern(ctx, /*benefit=*/2), vw(vw) {}
  int64_t vw;
  static constexpr int64_t kTokensPerTask = 64;

  LogicalResult matchAndRewrite(CausalConvOp op, PatternRewriter &rw) const override {
    if (!op.getTokenMajor())
      return failure();
    KernelBuilder b(op.getLoc(), rw);
    Value x = b.toBuffer(op.getInput()), w = b.toBuffer(op.getWeight());
    Value bias = op.getBias() ? b.toBuffer(op.getBias()) : Value();
    Value init = op.getInitialState() ? b.toBuffer(op.getInitialState()) : Value();
    auto outT = tt(op.getOutput()), stT = tt(op.getFinalState());
    const int64_t C = tt(op.getWeight()).getDimSize(0), ksz = tt(op.getWeight()).getDimSize(1);
    Value B = b.dim(x, 0), L = b.dim(x, 1);
    Value c0 = b.idx(0), c1 = b.idx(1), km1 = b.idx(ksz - 1), zero = b.f32(0.0f);
    Value out = b.alloc(outT, b.dynSizes(outT, {B, L, b.idx(C)}));
    Value st = b.alloc(stT, b.dynSizes(stT, {B, b.idx(C), km1}));
    bool silu = op.getActivation() == ConvActivation::silu;

    // Weights as [k, C] f32: tap i of channels c..c+vw is one vector.
    Value wT = b.allocF32({ksz, C}, {});
    b.loop(c0, b.idx(C), c1, [&](KernelBuilder &b, Value c) {
      for (int64_t i = 0; i < ksz; ++i)
        b.store(b.load(w, {c, b.idx(i)}), wT, {b.idx(i), c});
    });
    // Element (c, p) of concat(initial_state, input) along the length.
    auto fetch = [&](KernelBuilder &b, Value bi, Value c, Value p) -> Value {
      Value inState = b.cmpi(CmpIPredicate::ult, p, km1);
      return b.ifElse(
          inState, b.getF32Type(),
          [&](KernelBuilder &b) { return init ? b.load(init, {bi, c, p}) : zero; },
          [&](KernelBuilder &b) { return b.load(x, {bi, b.subi(p, km1), c}); });
    };
    auto act = [&](KernelBuilder &b, Value v) { return silu ? b.silu(v) : v; };

    Value blocks = b.divui(b.addi(L, b.idx(kTokensPerTask - 1)), b.idx(kTokensPerTask));
    b.tiles({B, blocks}, [&](KernelBuilder &b, ValueRange iv) {
      Value bi = iv[0];
      Value t0 = b.muli(iv[1], b.idx(kTokensPerTask));
      Value tEnd = b.minui(b.addi(t0, b.idx(kTokensPerTask)), L);
      // Positions that read the initial state: per channel, scalar.
      Value tv = arith::MaxUIOp::create(b, t0, b.minui(km1, tEnd));
      b.loop(t0, tv, c1, [&](KernelBuilder &b, Value t) {
        b.loop(c0, b.idx(C), c1, [&](KernelBuilder &b, Value c) {
          Value acc = bias ? b.load(bias, {c}) : zero;
          for (int64_t i = 0; i < ksz; ++i)
            acc = b.fma(b.load(wT, {b.idx(i), c}), fetch(b, bi, c, b.addi(t, b.idx(i))), acc);
          b.store(act(b, acc), out, {bi, t, c});
        });
      });
      // The rest: rows t-k+1 .. t of the input, vectors over the channels.
      b.loop(tv, tEnd, c1, [&](KernelBuilder &b, Value t) {
        Value p0 = b.subi(t, km1);
        auto row = [&](KernelBuilder &b, int64_t c, bool full) {
          Value cv = b.idx(c);
          Value acc = bias ? b.vload(bias, {cv}, vw, full) : b.splat(zero, vw);
          for (int64_t i = 0; i < ksz; ++i)
            acc = b.fma(b.vload(wT, {b.idx(i), cv}, vw, full),
                        b.vload(x, {bi, b.addi(p0, b.idx(i)), cv}, vw, full), acc);
          b.vstore(act(b, acc), out, {bi, t, cv}, full);
        };
        for (int64_t c = 0; c < C; c += vw)
          row(b, c, c + vw <= C);
      });
    });
    // Final state: the last k-1 positions of concat(initial_state, input).
    b.parallel({B, b.idx(C)}, true, [&](KernelBuilder &b, ValueRange iv) {
      b.loop(c0, km1, c1, [&](KernelBuilder &b, Value j) {
        b.store(fetch(b, iv[0], iv[1], b.addi(L, j)), st, {iv[0], iv[1], j});
      });
    });
    rw.replaceOp(op, {b.toTensor(out, outT), b.toTensor(st, stT)});
    return success();
  }
};
} // namespace

void gatec::populateCausalConvCPUPatterns(RewritePatternSet &patterns, int64_t vectorWidth) {
  patterns.add<TokenMajorCausalConv>(patterns.getContext(), vectorWidth);
}
