//===- CausalConvCPU.cpp - causal convolutions on vectors ------------------===//
//
// Two CPU kernels for gate.causal_conv, both vectorized over the channels:
// - short kernels in the token-major layout ([B, L, C], what the projections
//   of a Gated DeltaNet layer produce): every output row is the k-tap sum of
//   k input rows, taps unrolled, the weights transposed once per call into
//   [k, C] so that a tap's weights are one vector load;
// - long kernels (up to the sequence length: Hyena / BaseConv / GAM filters)
//   and the channel-major layout: strips of input rows in registers (below).
// The final state (the last k-1 positions) is a small scalar loop.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Dialect/Gate/IR/ConstantData.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using arith::CmpIPredicate;

namespace {
RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Element (c, p) of concat(initial_state, input) along the length, as f32;
/// `at` gives the input index of (batch, channel, position).
Value fetchExtended(KernelBuilder &b, Value x, Value init, int64_t ksz, Value bi, Value c, Value p,
                    function_ref<SmallVector<Value>(Value, Value, Value)> at) {
  Value km1 = b.idx(ksz - 1);
  Value inState = b.cmpi(CmpIPredicate::ult, p, km1);
  return b.ifElse(
      inState, b.getF32Type(),
      [&](KernelBuilder &b) { return init ? b.load(init, {bi, c, p}) : b.f32(0.0f); },
      [&](KernelBuilder &b) { return b.load(x, at(bi, c, b.subi(p, km1))); });
}

/// The final state [B, C, k-1]: the last k-1 positions of
/// concat(initial_state, input).
Value emitFinalState(KernelBuilder &b, CausalConvOp op, Value x, Value init, Value B, Value C,
                     Value L, int64_t ksz,
                     function_ref<SmallVector<Value>(Value, Value, Value)> at) {
  auto stT = tt(op.getFinalState());
  Value km1 = b.idx(ksz - 1);
  Value st = b.alloc(stT, b.dynSizes(stT, {B, C, km1}));
  b.parallel({B, C}, true, [&](KernelBuilder &b, ValueRange iv) {
    b.loop(b.idx(0), km1, b.idx(1), [&](KernelBuilder &b, Value j) {
      b.store(fetchExtended(b, x, init, ksz, iv[0], iv[1], b.addi(L, j), at), st,
              {iv[0], iv[1], j});
    });
  });
  return b.toTensor(st, stT);
}

SmallVector<Value> tokenMajorAt(Value bi, Value c, Value t) { return {bi, t, c}; }
SmallVector<Value> channelMajorAt(Value bi, Value c, Value t) { return {bi, c, t}; }

struct TokenMajorCausalConv : OpRewritePattern<CausalConvOp> {
  TokenMajorCausalConv(MLIRContext *ctx, int64_t vw)
      : OpRewritePattern(ctx, /*benefit=*/2), vw(vw) {}
  int64_t vw;
  static constexpr int64_t kTokensPerTask = 64;
  /// Longer kernels go to StripCausalConv (this one unrolls the taps).
  static constexpr int64_t kLongKernel = 16;

  LogicalResult matchAndRewrite(CausalConvOp op, PatternRewriter &rw) const override {
    auto wty = tt(op.getWeight());
    if (!op.getTokenMajor() || !wty.hasStaticShape() || wty.getDimSize(1) > kLongKernel)
      return failure();
    KernelBuilder b(op.getLoc(), rw);
    Value x = b.toBuffer(op.getInput()), w = b.toBuffer(op.getWeight());
    Value bias = op.getBias() ? b.toBuffer(op.getBias()) : Value();
    Value init = op.getInitialState() ? b.toBuffer(op.getInitialState()) : Value();
    Value gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
    bool gateSilu = op.getGateAct() == Activation::silu;
    auto outT = tt(op.getOutput());
    const int64_t C = tt(op.getWeight()).getDimSize(0), ksz = tt(op.getWeight()).getDimSize(1);
    Value B = b.dim(x, 0), L = b.dim(x, 1);
    Value c0 = b.idx(0), c1 = b.idx(1), km1 = b.idx(ksz - 1), zero = b.f32(0.0f);
    Value out = b.alloc(outT, b.dynSizes(outT, {B, L, b.idx(C)}));
    bool silu = op.getActivation() == ConvActivation::silu;

    // Weights as [k, C] f32: tap i of channels c..c+vw is one vector.
    Value wT = b.allocF32({ksz, C}, {});
    b.loop(c0, b.idx(C), c1, [&](KernelBuilder &b, Value c) {
      for (int64_t i = 0; i < ksz; ++i)
        b.store(b.load(w, {c, b.idx(i)}), wT, {b.idx(i), c});
    });
    auto fetch = [&](KernelBuilder &b, Value bi, Value c, Value p) -> Value {
      return fetchExtended(b, x, init, ksz, bi, c, p, tokenMajorAt);
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
          Value y = act(b, acc);
          if (gate)
            y = b.applyGate(y, gate, {bi, t, c}, gateSilu);
          b.store(y, out, {bi, t, c});
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
          Value y = act(b, acc);
          if (gate)
            y = b.gateBy(y, b.vload(gate, {bi, t, cv}, vw, full), gateSilu);
          b.vstore(y, out, {bi, t, cv}, full);
        };
        for (int64_t c = 0; c < C; c += vw)
          row(b, c, c + vw <= C);
      });
    });
    Value st = emitFinalState(b, op, x, init, B, b.idx(C), L, ksz, tokenMajorAt);
    rw.replaceOp(op, {b.toTensor(out, outT), st});
    return success();
  }
};

/// Long kernels, and every kernel in the channel-major layout. A task is
/// (batch, block of Tb positions, vector of vw channels). It first copies the
/// input rows its outputs read — positions t0-k+1 .. t0+Tb-1 of
/// concat(initial_state, input), for its channels — into a contiguous strip
/// [rows, vw] (in the channel-major layout that copy is the transpose). Then R
/// output rows at a time: their accumulators and the R strip rows of the
/// current tap stay in registers; each tap loads one weight vector and one new
/// strip row (the row tap i+R needs replaces the one only tap i needed; taps
/// are unrolled by R so the rows never move between registers), R FMAs.
/// Without an initial state, taps that read only the leading zeros are skipped.
struct StripCausalConv : OpRewritePattern<CausalConvOp> {
  StripCausalConv(MLIRContext *ctx, int64_t vw) : OpRewritePattern(ctx, /*benefit=*/2), vw(vw) {}
  int64_t vw;

  /// The weights as f32 panels [Cp / vw, k, vw] (one per vector of
  /// channels, its taps contiguous; channels padded with zeros): packed at
  /// compile time when they are a constant.
  Value packedWeights(KernelBuilder &b, Value weight, int64_t C, int64_t ksz, int64_t Cp) const {
    ElementsAttr attr;
    if (matchPattern(weight, m_Constant(&attr)))
      if (std::optional<std::vector<float>> vals = constantAsF32(attr)) {
        bool splat = vals->size() == 1 && C * ksz != 1;
        AsmResourceBlob blob = HeapAsmResourceBlob::allocate(size_t(ksz * Cp) * 4, 64);
        auto *out = reinterpret_cast<float *>(blob.getMutableData().data());
        for (int64_t i = 0; i < ksz; ++i)
          for (int64_t c = 0; c < Cp; ++c)
            out[((c / vw) * ksz + i) * vw + c % vw] =
                c >= C ? 0.0f : (*vals)[splat ? 0 : size_t(c * ksz + i)];
        auto type = RankedTensorType::get({Cp / vw, ksz, vw}, b.getF32Type());
        Value cst = arith::ConstantOp::create(
            b, type, DenseResourceElementsAttr::get(type, "gatec_conv_weight", std::move(blob)));
        return b.toBuffer(cst);
      }
    Value w = b.toBuffer(weight);
    Value wP = b.allocF32({Cp / vw, ksz, vw}, {});
    Value c0 = b.idx(0), c1 = b.idx(1);
    b.parallel({b.idx(Cp / vw)}, true, [&](KernelBuilder &b, ValueRange iv) {
      b.loop(c0, b.idx(ksz), c1, [&](KernelBuilder &b, Value i) {
        b.loop(c0, b.idx(vw), c1, [&](KernelBuilder &b, Value l) {
          Value c = b.addi(b.muli(iv[0], b.idx(vw)), l);
          Value real = b.cmpi(CmpIPredicate::ult, c, b.idx(C));
          b.store(b.ifElse(real, b.getF32Type(),
                           [&](KernelBuilder &b) { return b.load(w, {c, i}); },
                           [&](KernelBuilder &b) { return b.f32(0.0f); }),
                  wP, {iv[0], i, l});
        });
      });
    });
    return wP;
  }

  /// What the tasks of one op share.
  struct Kernel {
    int64_t vw, R, C, ksz, Tb, rows;
    bool tm;
    Value x, init, wP, L;

    /// The strip of the task at (batch bi, position t0, channels cb..cb+vw):
    /// row r holds position t0 + r of concat(initial_state, input), i.e.
    /// input position t0 + r - (k-1): state rows [0, sEnd), input rows
    /// [sEnd, dEnd), zeros after (and in the lanes past the channels). Only
    /// the rows the n outputs read are written (a short last block, a decode
    /// step).
    Value fillStrip(KernelBuilder &b, Value bi, Value t0, Value cb, Value n, Value lanes) const {
      Value c0 = b.idx(0), c1 = b.idx(1), km1 = b.idx(ksz - 1);
      Value strip = b.allocF32({rows, vw}, {});
      Value used = b.minui(b.idx(rows), b.addi(n, b.idx(ksz + 2 * R)));
      Value zeroV = b.splat(b.f32(0.0f), vw);
      b.loop(c0, used, c1,
             [&](KernelBuilder &b, Value r) { b.vstore(zeroV, strip, {r, c0}, true); });
      Value inState = b.cmpi(CmpIPredicate::ult, t0, km1);
      Value sEnd = b.select(inState, b.minui(b.subi(km1, t0), b.idx(rows)), c0);
      Value dEnd = b.minui(b.idx(rows), b.subi(b.addi(km1, L), t0));
      if (init)
        b.loop(c0, lanes, c1, [&](KernelBuilder &b, Value l) {
          Value c = b.addi(cb, l);
          b.loop(c0, sEnd, c1, [&](KernelBuilder &b, Value r) {
            b.store(b.load(init, {bi, c, b.addi(t0, r)}), strip, {r, l});
          });
        });
      // Input position of strip row r.
      auto pos = [&](KernelBuilder &b, Value r) { return b.subi(b.addi(t0, r), km1); };
      if (tm) {
        b.loop(sEnd, dEnd, c1, [&](KernelBuilder &b, Value r) {
          b.vstore(b.vload(x, {bi, pos(b, r), cb}, vw, C % vw == 0), strip, {r, c0}, true);
        });
        return strip;
      }
      b.loop(c0, lanes, c1, [&](KernelBuilder &b, Value l) {
        Value c = b.addi(cb, l);
        b.loop(sEnd, dEnd, c1, [&](KernelBuilder &b, Value r) {
          b.store(b.load(x, {bi, c, pos(b, r)}), strip, {r, l});
        });
      });
      return strip;
    }

    /// The sums of output rows o .. o+R-1 of a task (positions t0 + o + r)
    /// over taps [iLo, k), starting from `start`: R accumulators.
    SmallVector<Value> tapSums(KernelBuilder &b, Value strip, Value panel, Value o, Value iLo,
                               Value start) const {
      Value c0 = b.idx(0), c1 = b.idx(1), k = b.idx(ksz);
      // Taps [iLo, iMain) one at a time, then [iMain, k) unrolled by R.
      Value iMain = b.subi(k, b.muli(b.divui(b.subi(k, iLo), b.idx(R)), b.idx(R)));
      SmallVector<Value> init0(R, start);
      for (int64_t j = 0; j < R; ++j)
        init0.push_back(b.vload(strip, {b.addi(b.addi(o, iLo), b.idx(j)), c0}, vw, true));
      // Leftover taps first (k - iLo not a multiple of R), one at a time:
      // the rows shift down by one register.
      SmallVector<Value> st = b.loop(iLo, iMain, c1, init0,
          [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
        Value wv = b.vload(wP, {panel, i, c0}, vw, true);
        SmallVector<Value> next;
        for (int64_t r = 0; r < R; ++r)
          next.push_back(b.fma(wv, a[R + r], a[r]));
        for (int64_t r = 1; r < R; ++r)
          next.push_back(a[R + r]);
        next.push_back(b.vload(strip, {b.addi(b.addi(o, i), b.idx(R)), c0}, vw, true));
        return next;
      });
      st = b.loop(iMain, k, b.idx(R), st,
          [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
        SmallVector<Value> acc(a.begin(), a.begin() + R), xr(a.begin() + R, a.end());
        for (int64_t u = 0; u < R; ++u) {
          Value wv = b.vload(wP, {panel, b.addi(i, b.idx(u)), c0}, vw, true);
          for (int64_t r = 0; r < R; ++r)
            acc[r] = b.fma(wv, xr[(u + r) % R], acc[r]);
          xr[u] = b.vload(strip, {b.addi(b.addi(o, i), b.idx(R + u)), c0}, vw, true);
        }
        acc.append(xr);
        return acc;
      });
      st.resize(R);
      return st;
    }
  };

  LogicalResult matchAndRewrite(CausalConvOp op, PatternRewriter &rw) const override {
    auto wty = tt(op.getWeight());
    if (!wty.hasStaticShape())
      return failure();
    Kernel kn;
    kn.tm = op.getTokenMajor();
    kn.C = wty.getDimSize(0);
    kn.ksz = wty.getDimSize(1);
    if (kn.tm && kn.ksz <= TokenMajorCausalConv::kLongKernel)
      return failure();
    const int64_t C = kn.C, ksz = kn.ksz;
    const bool tm = kn.tm;
    kn.vw = vw;
    // R accumulators + R rows + a weight vector: 29 of AVX-512's 32
    // registers, 13 of AVX2's 16.
    const int64_t R = kn.R = vw >= 16 ? 14 : 6;
    const int64_t Cp = llvm::alignTo(C, vw), nCv = Cp / vw;
    // Positions per task: enough that the strip copy (Tb + k rows) is small
    // next to the Tb·k FMAs, and that short kernels still make long tasks.
    const int64_t Tb = kn.Tb = llvm::alignTo(std::max<int64_t>(320 * R, 16384 / ksz), R);
    kn.rows = Tb + ksz + R;
    auto at = tm ? tokenMajorAt : channelMajorAt;

    KernelBuilder b(op.getLoc(), rw);
    Value x = kn.x = b.toBuffer(op.getInput());
    Value bias = op.getBias() ? b.toBuffer(op.getBias()) : Value();
    Value init = kn.init = op.getInitialState() ? b.toBuffer(op.getInitialState()) : Value();
    Value gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
    bool gateSilu = op.getGateAct() == Activation::silu;
    auto outT = tt(op.getOutput());
    Value B = b.dim(x, 0), L = kn.L = b.dim(x, op.lengthDim()), Cv = b.idx(C);
    Value c0 = b.idx(0), c1 = b.idx(1);
    Value out = b.alloc(outT, b.dynSizes(outT, tm ? SmallVector<Value>{B, L, Cv}
                                                  : SmallVector<Value>{B, Cv, L}));
    kn.wP = packedWeights(b, op.getWeight(), C, ksz, Cp);
    bool silu = op.getActivation() == ConvActivation::silu;
    Value zeroV = b.splat(b.f32(0.0f), vw);

    Value blocks = b.divui(b.addi(L, b.idx(Tb - 1)), b.idx(Tb));
    b.tiles({B, blocks, b.idx(nCv)}, [&](KernelBuilder &b, ValueRange iv) {
      Value bi = iv[0], t0 = b.muli(iv[1], b.idx(Tb)), cb = b.muli(iv[2], b.idx(vw));
      Value n = b.minui(b.idx(Tb), b.subi(L, t0));
      Value lanes = b.minui(b.idx(vw), b.subi(Cv, cb));
      Value strip = kn.fillStrip(b, bi, t0, cb, n, lanes);
      // Channel-major outputs go through [Tb, vw] and are transposed at the end.
      Value outStrip = tm ? Value() : b.allocF32({Tb, vw}, {});
      Value biasV = bias ? b.vload(bias, {cb}, vw, C % vw == 0) : zeroV;
      b.loop(c0, n, b.idx(R), [&](KernelBuilder &b, Value o) {
        // Taps below iLo read only the zeros before the input.
        Value iLo = c0;
        if (!init) {
          Value reach = b.addi(b.addi(t0, o), b.idx(R));
          iLo = b.select(b.cmpi(CmpIPredicate::ult, reach, b.idx(ksz)),
                         b.subi(b.idx(ksz), reach), c0);
        }
        SmallVector<Value> sums = kn.tapSums(b, strip, iv[2], o, iLo, biasV);
        for (int64_t r = 0; r < R; ++r) {
          Value v = silu ? b.silu(sums[r]) : sums[r];
          Value row = b.addi(o, b.idx(r));
          if (!tm) {
            b.vstore(v, outStrip, {row, c0}, true);
            continue;
          }
          b.ifThenElse(b.cmpi(CmpIPredicate::ult, row, n), [&](KernelBuilder &b) {
            SmallVector<Value> at{bi, b.addi(t0, row), cb};
            Value y = gate ? b.gateBy(v, b.vload(gate, at, vw, C % vw == 0), gateSilu) : v;
            b.vstore(y, out, at, C % vw == 0);
          }, [](KernelBuilder &) {});
        }
      });
      if (!tm)
        b.loop(c0, lanes, c1, [&](KernelBuilder &b, Value l) {
          Value c = b.addi(cb, l);
          b.loop(c0, n, c1, [&](KernelBuilder &b, Value r) {
            SmallVector<Value> at{bi, c, b.addi(t0, r)};
            Value y = b.load(outStrip, {r, l});
            b.store(gate ? b.applyGate(y, gate, at, gateSilu) : y, out, at);
          });
        });
    });
    Value st = emitFinalState(b, op, x, init, B, Cv, L, ksz, at);
    rw.replaceOp(op, {b.toTensor(out, outT), st});
    return success();
  }
};
} // namespace

void gatec::populateCausalConvCPUPatterns(RewritePatternSet &patterns, int64_t vectorWidth) {
  patterns.add<TokenMajorCausalConv, StripCausalConv>(patterns.getContext(), vectorWidth);
}
