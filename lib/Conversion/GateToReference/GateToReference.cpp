//===- GateToReference.cpp - gate ops as plain loops (the oracle) ---------===//
//
// Every gate op becomes a serial scalar loop nest that follows the op's
// definition literally: unfused softmax attention and the token-recurrent form
// of linear attention. Slow, obviously correct, and the oracle the fast CPU
// kernels are tested against.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "../LinearAttentionOperands.h"
#include "gatec/Conversion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATELOWERTOREFERENCE
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

namespace {

RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// A reference lowering; with `parallel`, its outer loops are scf.parallel.
template <typename Op>
struct ReferencePattern : OpRewritePattern<Op> {
  ReferencePattern(MLIRContext *ctx, bool parallel)
      : OpRewritePattern<Op>(ctx), parallel(parallel) {}
  bool parallel;
};

struct SdpaToReference : ReferencePattern<SdpaOp> {
  using ReferencePattern::ReferencePattern;
  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    Value q = b.toBuffer(op.getQuery()), k = b.toBuffer(op.getKey()),
          v = b.toBuffer(op.getValue());
    Value mask = op.getMask() ? b.toBuffer(op.getMask()) : Value();
    Value gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
    Value sink = op.getSink() ? b.toBuffer(op.getSink()) : Value();
    auto resT = tt(op.getResult());
    Value B = b.dim(q, 0), Hq = b.dim(q, 1), Sq = b.dim(q, 2), D = b.dim(q, 3),
          Skv = b.dim(k, 2), Dv = b.dim(v, 3);
    int64_t group = tt(op.getQuery()).getDimSize(1) / tt(op.getKey()).getDimSize(1);
    Value out = b.alloc(resT, b.dynSizes(resT, {B, Hq, Sq, Dv}));
    Value scale = b.f32(op.getScaleOrDefault());
    float softcap = op.getSoftcap() ? op.getSoftcap()->convertToFloat() : 0.0f;
    std::optional<int64_t> left, right;
    std::tie(left, right) = op.getKeyBand();
    bool boolMask = mask && tt(op.getMask()).getElementType().isInteger(1);
    Value zero = b.f32(0.0f), c0 = b.idx(0), c1 = b.idx(1);

    b.parallel({B, Hq, Sq}, parallel, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], h = ivs[1], i = ivs[2];
      Value hk = b.divui(h, b.idx(group));
      Value scores = b.allocF32({ShapedType::kDynamic}, {Skv});
      // Scores and their running max.
      Value m = b.loop(c0, Skv, c1, {b.negInf()},
                       [&](KernelBuilder &b, Value j, ValueRange it) -> SmallVector<Value> {
        Value dot = b.loop(c0, D, c1, {zero},
                           [&](KernelBuilder &b, Value d, ValueRange acc) -> SmallVector<Value> {
          return {b.fma(b.load(q, {bi, h, i, d}), b.load(k, {bi, hk, j, d}), acc[0])};
        })[0];
        Value s = b.mul(dot, scale);
        if (softcap > 0.0f) {
          Value c = b.f32(softcap);
          s = b.mul(c, b.tanh(b.div(s, c)));
        }
        if (mask) {
          Value mv = b.load(mask, b.bcastIndex(mask, {bi, h, i, j}));
          s = boolMask ? b.select(mv, s, b.negInf()) : b.add(s, mv);
        }
        // The band of keys query i sees: [p - left, p + right] around its
        // key position p (signed: below 0 when Skv < Sq, bottom-right).
        Value p = op.getBottomRight() ? b.addi(i, b.subi(Skv, Sq)) : i;
        if (right)
          s = b.select(b.cmpi(CmpIPredicate::sgt, j, b.addi(p, b.idx(*right))), b.negInf(), s);
        if (left)
          s = b.select(b.cmpi(CmpIPredicate::slt, b.addi(j, b.idx(*left)), p), b.negInf(), s);
        b.store(s, scores, {j});
        return {b.max(it[0], s)};
      })[0];
      // The sink: one more logit, with a zero value.
      Value sinkS = sink ? b.load(sink, {h}) : Value();
      if (sink)
        m = b.max(m, sinkS);
      // A row with every key masked has max -inf; it produces 0.
      Value dead = b.cmpf(CmpFPredicate::OEQ, m, b.negInf());
      Value safeM = b.select(dead, zero, m);
      Value sum0 = sink ? b.exp(b.sub(sinkS, safeM)) : zero;
      Value sum = b.loop(c0, Skv, c1, {sum0},
                         [&](KernelBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
        Value p = b.exp(b.sub(b.load(scores, {j}), safeM));
        b.store(p, scores, {j});
        return {b.add(acc[0], p)};
      })[0];
      Value inv = b.select(dead, zero, b.div(b.f32(1.0f), sum));
      b.loop(c0, Dv, c1, [&](KernelBuilder &b, Value d) {
        Value acc = b.loop(c0, Skv, c1, {zero},
                           [&](KernelBuilder &b, Value j, ValueRange a) -> SmallVector<Value> {
          return {b.fma(b.load(scores, {j}), b.load(v, {bi, hk, j, d}), a[0])};
        })[0];
        Value o = b.mul(acc, inv);
        if (gate)
          o = b.applyGate(o, gate, {bi, h, i, d}, op.getGateAct() == Activation::silu);
        b.store(o, out, {bi, h, i, d});
      });
    });
    rw.replaceOp(op, b.toTensor(out, resT));
    return success();
  }
};

struct GateToReference : ReferencePattern<GateOp> {
  using ReferencePattern::ReferencePattern;
  LogicalResult matchAndRewrite(GateOp op, PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    Value x = b.toBuffer(op.getInput()), g = b.toBuffer(op.getGate());
    auto resT = tt(op.getResult());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < resT.getRank(); ++d)
      sizes.push_back(b.dim(x, d));
    Value out = b.alloc(resT, b.dynSizes(resT, sizes));
    bool silu = op.getAct() == Activation::silu;
    // Rows in parallel, each row one (vectorizable) inner loop.
    ArrayRef<Value> outer = ArrayRef<Value>(sizes).drop_back();
    b.parallel(outer, parallel && !outer.empty(), [&](KernelBuilder &b, ValueRange rowIvs) {
      b.loop(b.idx(0), sizes.back(), b.idx(1), [&](KernelBuilder &b, Value c) {
        SmallVector<Value> ivs(rowIvs);
        ivs.push_back(c);
        b.store(b.applyGate(b.load(x, ivs), g, ivs, silu), out, ivs);
      });
    });
    rw.replaceOp(op, b.toTensor(out, resT));
    return success();
  }
};

struct LinearAttentionToReference : ReferencePattern<LinearAttentionOp> {
  using ReferencePattern::ReferencePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    LinearAttentionOperands la(b, op);
    Value q = la.q, k = la.k, v = la.v, decay = la.decay, beta = la.beta, init = la.init,
          B = la.B, T = la.T, out = la.out, st = la.st;
    const int64_t hv = la.hv, K = la.K, V = la.V, qPerState = la.qPerState,
                  statesPerKey = la.statesPerKey;
    const bool gqa = la.gqa;
    auto outT = la.outT, stT = la.stT;
    Value scale = b.f32(op.getScaleOrDefault());
    Value zero = b.f32(0.0f), c0 = b.idx(0), c1 = b.idx(1);
    Value cK = b.idx(K), cV = b.idx(V);
    bool channelDecay = op.hasChannelDecay();

    // Value columns are independent recurrences (the delta rule's prediction
    // reads its own column), so they are a parallel dimension too: on the
    // GPU, one thread per (batch, state head, value column).
    b.parallel({B, b.idx(hv), cV}, parallel, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], j = ivs[1], c = ivs[2];
      Value kh = b.divui(j, b.idx(statesPerKey));
      // The state lives in the final-state buffer throughout.
      b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
        b.store(init ? b.load(init, {bi, j, r, c}) : zero, st, {bi, j, r, c});
      });
      b.loop(c0, T, c1, [&](KernelBuilder &b, Value t) {
        if (op.isGated()) {
          Value g = channelDecay ? Value() : b.exp(b.load(decay, la.tok3(b, bi, j, t)));
          b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
            Value e = channelDecay ? b.exp(b.load(decay, la.tok(b, bi, j, t, r))) : g;
            b.store(b.mul(e, b.load(st, {bi, j, r, c})), st, {bi, j, r, c});
          });
        }
        Value u = b.load(v, la.tok(b, bi, j, t, c));
        if (op.isDelta()) {
          Value pred = b.loop(c0, cK, c1, {zero},
                              [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
            return {b.fma(b.load(st, {bi, j, r, c}), b.load(k, la.tok(b, bi, kh, t, r)), a[0])};
          })[0];
          u = b.mul(b.load(beta, la.tok3(b, bi, j, t)), b.sub(u, pred));
        }
        b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
          b.store(b.fma(b.load(k, la.tok(b, bi, kh, t, r)), u, b.load(st, {bi, j, r, c})),
                  st, {bi, j, r, c});
        });
        for (int64_t g = 0; g < qPerState; ++g) {
          // GQA: query head j*G+g reads state j; otherwise the state reads
          // the query head of its key head.
          Value qh = gqa ? b.addi(b.muli(j, b.idx(qPerState)), b.idx(g)) : kh;
          Value oh = gqa ? qh : j;
          Value o = b.loop(c0, cK, c1, {zero},
                           [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
            return {b.fma(b.load(st, {bi, j, r, c}), b.load(q, la.tok(b, bi, qh, t, r)), a[0])};
          })[0];
          Value y = b.mul(o, scale);
          SmallVector<Value> at = la.tok(b, bi, oh, t, c);
          b.store(la.gated(b, y, at), out, at);
        }
      });
    });
    rw.replaceOp(op, {b.toTensor(out, outT), b.toTensor(st, stT)});
    return success();
  }
};

struct CausalConvToReference : ReferencePattern<CausalConvOp> {
  using ReferencePattern::ReferencePattern;
  LogicalResult matchAndRewrite(CausalConvOp op, PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    Value x = b.toBuffer(op.getInput()), w = b.toBuffer(op.getWeight());
    Value bias = op.getBias() ? b.toBuffer(op.getBias()) : Value();
    Value init = op.getInitialState() ? b.toBuffer(op.getInitialState()) : Value();
    Value gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
    auto outT = tt(op.getOutput()), stT = tt(op.getFinalState());
    int64_t ksz = tt(op.getWeight()).getDimSize(1);
    bool tokenMajor = op.getTokenMajor();
    Value B = b.dim(x, 0), C = b.dim(x, op.channelDim()), L = b.dim(x, op.lengthDim());
    Value km1 = b.idx(ksz - 1);
    // Index of (batch, channel, position) in input and output.
    auto at = [&](Value bi, Value c, Value t) -> SmallVector<Value> {
      return tokenMajor ? SmallVector<Value>{bi, t, c} : SmallVector<Value>{bi, c, t};
    };
    Value out = b.alloc(outT, b.dynSizes(outT, tokenMajor ? SmallVector<Value>{B, L, C}
                                                          : SmallVector<Value>{B, C, L}));
    Value st = b.alloc(stT, b.dynSizes(stT, {B, C, km1}));
    Value zero = b.f32(0.0f), c0 = b.idx(0), c1 = b.idx(1);
    bool silu = op.getActivation() == ConvActivation::silu;
    // Element p of concat(initial_state, input) along the length axis.
    auto fetch = [&](KernelBuilder &b, Value bi, Value c, Value p) -> Value {
      if (ksz == 1)
        return b.load(x, at(bi, c, p));
      // Only the branch that is in bounds loads (the input may be empty).
      Value inState = b.cmpi(CmpIPredicate::ult, p, km1);
      return b.ifElse(
          inState, b.getF32Type(),
          [&](KernelBuilder &b) { return init ? b.load(init, {bi, c, p}) : zero; },
          [&](KernelBuilder &b) { return b.load(x, at(bi, c, b.subi(p, km1))); });
    };
    b.parallel({B, C}, parallel, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], c = ivs[1];
      Value b0 = bias ? b.load(bias, {c}) : zero;
      b.loop(c0, L, c1, [&](KernelBuilder &b, Value t) {
        Value acc = b.loop(c0, b.idx(ksz), c1, {b0},
                           [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
          return {b.fma(b.load(w, {c, i}), fetch(b, bi, c, b.addi(t, i)), a[0])};
        })[0];
        Value y = silu ? b.silu(acc) : acc;
        if (gate)
          y = b.applyGate(y, gate, at(bi, c, t), op.getGateAct() == Activation::silu);
        b.store(y, out, at(bi, c, t));
      });
      b.loop(c0, km1, c1, [&](KernelBuilder &b, Value p) {
        b.store(fetch(b, bi, c, b.addi(L, p)), st, {bi, c, p});
      });
    });
    rw.replaceOp(op, {b.toTensor(out, outT), b.toTensor(st, stT)});
    return success();
  }
};

struct GateLowerToReferencePass
    : gatec::impl::GateLowerToReferenceBase<GateLowerToReferencePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGateReferencePatterns(patterns, /*parallel=*/false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

void gatec::populateGateReferencePatterns(RewritePatternSet &patterns,
                                          bool parallel) {
  patterns.add<SdpaToReference, GateToReference, LinearAttentionToReference,
               CausalConvToReference>(patterns.getContext(), parallel);
}
