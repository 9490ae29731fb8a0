//===- GateTileCPU.cpp - tiled, vectorized, parallel CPU kernels ----------===//
//
// gate.sdpa: flash attention. A task is (batch, kv head, block of query
// rows) and covers those rows for every query head of the GQA group; keys stream through in blocks of Bc, transposed once per block
// into an L1 scratch so that QKᵀ is a broadcast-FMA over key vectors; the
// softmax is online (running max and sum per row), P·V accumulates into an f32
// row tile, key blocks outside the causal or window band are never visited, and the gate is
// applied in the epilogue. Decode tiles against a long cache (too few tiles
// for the threads) split the keys into partitions that run as tasks of their
// own; a second parallel loop merges their partial results by log-sum-exp.
//
// gate.linear_attention: chunked beyond 64 tokens (scalar or no decay, chunks
// of at most 64), else token-recurrent. Chunked: a task is (batch, value head, block of up to 128
// value columns) and walks the chunks in order; within a chunk the masked,
// decayed Q Kᵀ (and K Kᵀ with its triangular solve for delta rules) are
// register-blocked matmuls, and every exponent is a difference of cumulative
// log decays that is ≤ 0. Recurrent: a task is (batch, value head, block of
// VW value columns); its [K, VW] state slab stays in L1 for the whole
// sequence, every rule's update and the output are one pass over the slab per
// token (two for delta rules), and decays are applied per token as exp(g) so
// no cumulative product can overflow.
//
// gate.causal_conv and gate.gate: the reference loop nests with their outer
// loops parallel; LLVM vectorizes the inner loops.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "../LinearAttentionOperands.h"
#include "gatec/Conversion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

namespace gatec {
#define GEN_PASS_DEF_GATETILECPU
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

namespace {
RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

Value ceilDivIdx(KernelBuilder &b, Value a, int64_t d) {
  return b.divui(b.addi(a, b.idx(d - 1)), b.idx(d));
}

/// Vector of lane indices base + [0, 1, ..., w-1] as index-typed i64 lanes.
Value laneIndices(KernelBuilder &b, Value base, int64_t w) {
  auto vt = VectorType::get({w}, b.getIndexType());
  SmallVector<APInt> lanes;
  for (int64_t i = 0; i < w; ++i)
    lanes.push_back(APInt(64, i));
  Value iota = arith::ConstantOp::create(
      b, vt, DenseElementsAttr::get(vt, ArrayRef<APInt>(lanes)));
  return b.addi(b.splat(base, w), iota);
}

struct SdpaToFlash : OpRewritePattern<SdpaOp> {
  SdpaToFlash(MLIRContext *ctx, int64_t vw)
      : OpRewritePattern(ctx, /*benefit=*/2), vw(vw) {}
  int64_t vw;

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    auto qT = tt(op.getQuery()), kT = tt(op.getKey()), vT = tt(op.getValue());
    const int64_t D = qT.getDimSize(3), Dv = vT.getDimSize(3);
    const int64_t group = qT.getDimSize(1) / kT.getDimSize(1);
    // Tile: Brq query positions of every query head of one kv head (the GQA
    // group), at least one vector of rows. Rows sit in vector lanes, so the
    // per-row softmax state is elementwise and Kᵀ is never materialized.
    // Two row vectors per tile: every broadcast key element feeds two FMAs
    // (with one, QKᵀ is bound by loads, one per FMA).
    const int64_t Brq = std::max<int64_t>(1, 2 * vw / group);
    const int64_t nRV = ceilDiv(group * Brq, vw); // row vectors per tile
    const int64_t Br = nRV * vw;                  // rows per tile
    // Keys per QKᵀ register block: KB·nRV accumulators + nRV query vectors
    // + a broadcast fit the register file (16 vectors on AVX2, 32 on AVX-512).
    const int64_t KB = nRV == 1 ? 8 : vw >= 16 ? 8 : 6;
    const int64_t Bc = 64;                        // keys per block
    const int64_t RB = 4;                         // rows per P·V register block
    const int64_t PV = vw >= 16 ? 4 : 3;          // accumulator vectors per P·V row block
    const int64_t nDv = ceilDiv(Dv, vw);          // accumulator vectors per row
    // Split-KV decode: from this many keys, partitions of at least
    // kSplitPartKeys keys, about kSplitTasks tasks in all.
    const int64_t kSplitMinKeys = 1024, kSplitPartKeys = 256, kSplitTasks = 64;

    Value q = b.toBuffer(op.getQuery()), k = b.toBuffer(op.getKey()),
          v = b.toBuffer(op.getValue());
    Value gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
    // Attention sinks: one more logit per head, with a zero value.
    Value sink = op.getSink() ? b.toBuffer(op.getSink()) : Value();
    Value B = b.dim(q, 0), Hq = b.dim(q, 1), Sq = b.dim(q, 2), Skv = b.dim(k, 2);
    // Q as one dimension, for the gathers that transpose its tiles.
    Type qElem = qT.getElementType();
    Value qFlat = memref::CollapseShapeOp::create(b, q, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
    Value qZero = arith::ConstantOp::create(
        b, DenseElementsAttr::get(VectorType::get({vw}, qElem), b.getFloatAttr(qElem, 0.0)));
    Value Hkv = b.dim(k, 1);
    Value mask;
    if (op.getMask()) {
      mask = b.toBuffer(op.getMask());
      auto mT = tt(op.getMask());
      if (mT.getElementType().isInteger(1))
        mask = boolMaskToAdditive(b, mask, mT);
    }
    auto resT = tt(op.getResult());
    Value out = b.alloc(resT, b.dynSizes(resT, {B, Hq, Sq, b.idx(Dv)}));
    Value scaleV = b.splat(b.f32(op.getScaleOrDefault()), vw);
    float softcap = op.getSoftcap() ? op.getSoftcap()->convertToFloat() : 0.0f;
    // The band of keys query i sees, [p - left, p + right] (causal: right 0)
    // around its key position p = i + off (off = Skv - Sq bottom-right, else
    // 0; signed: a position may be negative when Skv < Sq).
    std::optional<int64_t> left, right;
    std::tie(left, right) = op.getKeyBand();
    Value off = op.getBottomRight() ? b.subi(Skv, Sq) : Value();
    auto keyPos = [&](KernelBuilder &b, Value i) { return off ? b.addi(i, off) : i; };
    bool siluGate = op.getGateAct() == Activation::silu;
    Value c0 = b.idx(0), c1 = b.idx(1), zero = b.f32(0.0f);
    Value zeroV = b.splat(zero, vw), negInfV = b.splat(b.negInf(), vw);
    Value nBlocks = ceilDivIdx(b, Sq, Brq);

    // Tile row r is query position i0 + r/G of query head hk*G + r%G.
    auto rowInfo = [&](KernelBuilder &b, Value hk, Value i0, Value r) -> std::pair<Value, Value> {
      Value h = b.addi(b.muli(hk, b.idx(group)), arith::RemUIOp::create(b, r, b.idx(group)));
      return {h, b.addi(i0, b.divui(r, b.idx(group)))};
    };
    // Stores one output row: its nDv accumulator vectors times inv, gated.
    auto storeRow = [&](KernelBuilder &b, Value bi, Value h, Value i, ArrayRef<Value> o,
                        Value inv) {
      Value invV = b.splat(inv, vw);
      for (int64_t c = 0; c < nDv; ++c) {
        bool full = (c + 1) * vw <= Dv;
        Value x = b.mul(o[c], invV);
        if (gate) {
          bool headwise = tt(op.getGate()).getDimSize(3) == 1;
          Value g = headwise ? b.splat(b.load(gate, {bi, h, i, c0}), vw)
                             : b.vload(gate, {bi, h, i, b.idx(c * vw)}, vw, full);
          x = b.mul(x, siluGate ? b.silu(g) : b.sigmoid(g));
        }
        b.vstore(x, out, {bi, h, i, b.idx(c * vw)}, full);
      }
    };
    auto invOf = [&](KernelBuilder &b, Value l) {
      return b.select(b.cmpf(CmpFPredicate::OGT, l, zero), b.div(b.f32(1.0f), l), zero);
    };
    // [begin, end) of the keys a tile of rowsQ query positions visits.
    using KeyRange = function_ref<std::pair<Value, Value>(KernelBuilder &, Value rowsQ)>;
    // What a tile leaves: its rows, unnormalized accumulators [Br, nDv*vw] and
    // per-row running max and sum [Br].
    using Epilogue = function_ref<void(KernelBuilder &, Value nRows, Value acc, Value mS, Value lS)>;

    // One flash tile: rows from query position i0 of kv head hk's group.
    // withSink: the softmax state starts at the sink (max = sink, sum = 1;
    // a sink of -inf adds nothing), so it is counted once per row.
    auto flashTile = [&](KernelBuilder &b, Value bi, Value hk, Value i0, KeyRange keyRange,
                         Epilogue epilogue, bool withSink) {
      Value rowsQ = b.minui(b.idx(Brq), b.subi(Sq, i0));
      Value nRows = b.muli(rowsQ, b.idx(group));
      auto tileRow = [&](KernelBuilder &b, Value r) { return rowInfo(b, hk, i0, r); };
      auto f32 = b.getF32Type();
      auto scratch = [&](ArrayRef<int64_t> shape) -> Value {
        return memref::AllocOp::create(b, MemRefType::get(shape, f32), b.getI64IntegerAttr(64));
      };
      Value qt = scratch({D, Br});          // Qᵀ tile (padding rows are 0)
      Value sT = scratch({Bc + KB, Br});    // scores / probabilities, key-major
      Value acc = scratch({Br, nDv * vw});  // output accumulators, row-major
      Value alphaS = scratch({Br}), mS = scratch({Br}), lS = scratch({Br});
      // Qᵀ by gathers: lane l of row vector rv reads row rv·vw + l of the
      // tile (offset of its element 0 in the flat Q), padding rows read 0.
      // A gather per (d, row vector) instead of a scalar copy per element:
      // the copy costs as much as a few key blocks, which short (windowed)
      // key ranges do not amortize.
      SmallVector<Value> rowOffsets, rowValid, laneHeads; // per row vector
      for (int64_t rv = 0; rv < nRV; ++rv) {
        auto vIdx = [&](Value s) { return b.splat(s, vw); };
        Value r = laneIndices(b, b.idx(rv * vw), vw);
        rowValid.push_back(b.cmpi(CmpIPredicate::ult, r, vIdx(nRows)));
        Value rc = b.minui(r, vIdx(b.subi(nRows, c1)));
        Value g = vIdx(b.idx(group));
        Value h = b.addi(vIdx(b.muli(hk, b.idx(group))), arith::RemUIOp::create(b, rc, g));
        laneHeads.push_back(h);
        Value i = b.addi(vIdx(i0), b.divui(rc, g));
        Value row = b.addi(b.muli(b.addi(vIdx(b.muli(bi, Hq)), h), vIdx(Sq)), i);
        rowOffsets.push_back(b.muli(row, vIdx(b.idx(D))));
      }
      b.loop(c0, b.idx(D), c1, [&](KernelBuilder &b, Value d) {
        for (int64_t rv = 0; rv < nRV; ++rv) {
          Value x = vector::GatherOp::create(b, VectorType::get({vw}, qElem), qFlat, ValueRange{d},
                                             rowOffsets[rv], rowValid[rv], qZero);
          if (qElem != b.getF32Type())
            x = arith::ExtFOp::create(b, VectorType::get({vw}, b.getF32Type()), x);
          vector::StoreOp::create(b, x, qt, ValueRange{d, b.idx(rv * vw)});
        }
      });
      b.loop(c0, b.idx(Br), c1, [&](KernelBuilder &b, Value r) {
        for (int64_t c = 0; c < nDv; ++c)
          vector::StoreOp::create(b, zeroV, acc, ValueRange{r, b.idx(c * vw)});
      });
      // Key position of every lane's query, for the band test.
      SmallVector<Value> laneI;
      for (int64_t rv = 0; rv < nRV; ++rv) {
        Value rows = laneIndices(b, b.idx(rv * vw), vw);
        laneI.push_back(b.addi(b.splat(keyPos(b, i0), vw),
                               arith::DivUIOp::create(b, rows, b.splat(b.idx(group), vw))));
      }
      // Per row vector, the band test's lane constant: left - i (wrapping)
      // when both sides are bounded, else i + right or i - left.
      SmallVector<Value> bandBase;
      for (int64_t rv = 0; rv < nRV; ++rv) {
        if (left && right)
          bandBase.push_back(b.subi(b.splat(b.idx(*left), vw), laneI[rv]));
        else if (right)
          bandBase.push_back(b.addi(laneI[rv], b.splat(b.idx(*right), vw)));
        else if (left)
          bandBase.push_back(b.subi(laneI[rv], b.splat(b.idx(*left), vw)));
      }
      Value kBegin, kEnd;
      std::tie(kBegin, kEnd) = keyRange(b, rowsQ);
      SmallVector<Value> state; // m per row vector, then l per row vector
      if (withSink && sink) {
        // Each lane's sink, by its row's head.
        auto f32v = VectorType::get({vw}, b.getF32Type());
        Value allLanes = arith::ConstantOp::create(
            b, DenseElementsAttr::get(VectorType::get({vw}, b.getI1Type()), true));
        SmallVector<Value> sinks;
        for (int64_t rv = 0; rv < nRV; ++rv)
          sinks.push_back(vector::GatherOp::create(b, f32v, sink, ValueRange{c0}, laneHeads[rv],
                                                   allLanes, zeroV));
        state.append(sinks);
        for (int64_t rv = 0; rv < nRV; ++rv)
          state.push_back(b.select(b.cmpf(CmpFPredicate::OEQ, sinks[rv], negInfV), zeroV,
                                   b.splat(b.f32(1.0f), vw)));
      } else {
        state.append(nRV, negInfV);
        state.append(nRV, zeroV);
      }
      state = b.loop(kBegin, kEnd, b.idx(Bc), state,
                     [&](KernelBuilder &b, Value j0, ValueRange st) -> SmallVector<Value> {
        Value cols = b.minui(b.idx(Bc), b.subi(kEnd, j0));
        // Pass 1: scores for KB keys x nRV row vectors at a time; keys past
        // the block repeat the last one and are masked to -inf.
        SmallVector<Value> bmax = b.loop(c0, cols, b.idx(KB), SmallVector<Value>(st.take_front(nRV)),
            [&](KernelBuilder &b, Value jj, ValueRange mx) -> SmallVector<Value> {
          SmallVector<Value> keys;
          for (int64_t t = 0; t < KB; ++t)
            keys.push_back(b.addi(j0, b.minui(b.addi(jj, b.idx(t)), b.subi(cols, c1))));
          SmallVector<Value> sc = b.loop(c0, b.idx(D), c1, SmallVector<Value>(KB * nRV, zeroV),
              [&](KernelBuilder &b, Value d, ValueRange a) -> SmallVector<Value> {
            SmallVector<Value> qv, next;
            for (int64_t rv = 0; rv < nRV; ++rv)
              qv.push_back(b.vload(qt, {d, b.idx(rv * vw)}, vw, true));
            for (int64_t t = 0; t < KB; ++t) {
              Value kv = b.splat(b.load(k, {bi, hk, keys[t], d}), vw);
              for (int64_t rv = 0; rv < nRV; ++rv)
                next.push_back(b.fma(kv, qv[rv], a[t * nRV + rv]));
            }
            return next;
          });
          SmallVector<Value> newMax(mx);
          for (int64_t t = 0; t < KB; ++t) {
            Value jLocal = b.addi(jj, b.idx(t));
            Value inBlock = b.cmpi(CmpIPredicate::ult, jLocal, cols);
            for (int64_t rv = 0; rv < nRV; ++rv) {
              Value x = b.mul(sc[t * nRV + rv], scaleV);
              if (softcap > 0.0f) {
                Value cap = b.splat(b.f32(softcap), vw);
                x = b.mul(cap, b.tanh(b.div(x, cap)));
              }
              if (mask) { // a key masked to -inf takes no part, even with a NaN score
                Value m = maskVector(b, mask, bi, rv, keys[t], nRows, tileRow);
                x = b.select(b.cmpf(arith::CmpFPredicate::OEQ, m, negInfV), negInfV, b.add(x, m));
              }
              Value key = b.splat(keys[t], vw);
              Value band; // key inside [p - left, p + right] of each lane's row
              if (left && right) // one unsigned compare: key - (p - left) <= left + right
                band = b.cmpi(CmpIPredicate::ule, b.addi(key, bandBase[rv]),
                              b.splat(b.idx(*left + *right), vw));
              else if (right) // signed: p + right < 0 when Skv < Sq
                band = b.cmpi(CmpIPredicate::sle, key, bandBase[rv]);
              else if (left) // signed: p - left < 0 near the start
                band = b.cmpi(CmpIPredicate::sge, key, bandBase[rv]);
              x = b.select(inBlock, band ? b.select(band, x, negInfV) : x, negInfV);
              vector::StoreOp::create(b, x, sT, ValueRange{jLocal, b.idx(rv * vw)});
              newMax[rv] = b.max(newMax[rv], x);
            }
          }
          return newMax;
        });
        // Pass 2: probabilities, row sums and the rescale of earlier blocks.
        SmallVector<Value> mSafe, alpha;
        for (int64_t rv = 0; rv < nRV; ++rv) {
          // Rows with nothing valid yet keep max -inf; use 0 to stay NaN-free.
          Value dead = b.cmpf(CmpFPredicate::OEQ, bmax[rv], negInfV);
          mSafe.push_back(b.select(dead, zeroV, bmax[rv]));
          alpha.push_back(b.exp(b.sub(st[rv], mSafe[rv])));
          vector::StoreOp::create(b, alpha[rv], alphaS, ValueRange{b.idx(rv * vw)});
        }
        SmallVector<Value> sums = b.loop(c0, cols, c1, SmallVector<Value>(nRV, zeroV),
            [&](KernelBuilder &b, Value jj, ValueRange a) -> SmallVector<Value> {
          SmallVector<Value> next;
          for (int64_t rv = 0; rv < nRV; ++rv) {
            Value p = b.exp(b.sub(b.vload(sT, {jj, b.idx(rv * vw)}, vw, true), mSafe[rv]));
            vector::StoreOp::create(b, p, sT, ValueRange{jj, b.idx(rv * vw)});
            next.push_back(b.add(a[rv], p));
          }
          return next;
        });
        // acc = acc * alpha + P V, RB rows x PV accumulator vectors at a
        // time; rows past the end repeat the last one (same values stored).
        // Keys outside the band of the RB rows have p = 0 and are skipped
        // (at the band's edges a tile's key range is wider than a row's).
        b.loop(c0, nRows, b.idx(RB), [&](KernelBuilder &b, Value rb) {
          SmallVector<Value> rs;
          for (int64_t t = 0; t < RB; ++t)
            rs.push_back(b.minui(b.addi(rb, b.idx(t)), b.subi(nRows, c1)));
          Value pvBegin = c0, pvEnd = cols;
          if (left) { // first key of the first row: p - left - j0, clamped to [0, cols]
            Value first = b.subi(keyPos(b, b.addi(i0, b.divui(rs.front(), b.idx(group)))), j0);
            pvBegin = arith::MinSIOp::create(
                b, arith::MaxSIOp::create(b, b.subi(first, b.idx(*left)), c0), cols);
          }
          if (right) { // one past the last key of the last row
            Value last = b.subi(keyPos(b, b.addi(i0, b.divui(rs.back(), b.idx(group)))), j0);
            pvEnd = arith::MaxSIOp::create(
                b, arith::MinSIOp::create(b, b.addi(last, b.idx(*right + 1)), cols), pvBegin);
          }
          for (int64_t c = 0; c < nDv; c += PV) {
            int64_t nc = std::min<int64_t>(PV, nDv - c);
            SmallVector<Value> a0;
            for (int64_t t = 0; t < RB; ++t) {
              Value al = b.splat(memref::LoadOp::create(b, alphaS, ValueRange{rs[t]}), vw);
              for (int64_t e = 0; e < nc; ++e)
                a0.push_back(b.mul(b.vload(acc, {rs[t], b.idx((c + e) * vw)}, vw, true), al));
            }
            SmallVector<Value> a = b.loop(pvBegin, pvEnd, c1, a0,
                [&](KernelBuilder &b, Value jj, ValueRange a) -> SmallVector<Value> {
              SmallVector<Value> vv, next;
              for (int64_t e = 0; e < nc; ++e)
                vv.push_back(b.vload(v, {bi, hk, b.addi(j0, jj), b.idx((c + e) * vw)}, vw,
                                     (c + e + 1) * vw <= Dv));
              for (int64_t t = 0; t < RB; ++t) {
                Value p = b.splat(memref::LoadOp::create(b, sT, ValueRange{jj, rs[t]}), vw);
                for (int64_t e = 0; e < nc; ++e)
                  next.push_back(b.fma(p, vv[e], a[t * nc + e]));
              }
              return next;
            });
            for (int64_t t = 0; t < RB; ++t)
              for (int64_t e = 0; e < nc; ++e)
                vector::StoreOp::create(b, a[t * nc + e], acc,
                                        ValueRange{rs[t], b.idx((c + e) * vw)});
          }
        });
        SmallVector<Value> next;
        for (int64_t rv = 0; rv < nRV; ++rv)
          next.push_back(b.select(b.cmpf(CmpFPredicate::OEQ, bmax[rv], negInfV), negInfV, mSafe[rv]));
        for (int64_t rv = 0; rv < nRV; ++rv)
          next.push_back(b.add(b.mul(st[nRV + rv], alpha[rv]), sums[rv]));
        return next;
      });
      for (int64_t rv = 0; rv < nRV; ++rv) {
        vector::StoreOp::create(b, state[rv], mS, ValueRange{b.idx(rv * vw)});
        vector::StoreOp::create(b, state[nRV + rv], lS, ValueRange{b.idx(rv * vw)});
      }
      epilogue(b, nRows, acc, mS, lS);
    };

    // Every tile sees all its keys: normalize, gate, store.
    auto wholeTiles = [&](KernelBuilder &b) {
      b.tiles({B, Hkv, nBlocks}, [&](KernelBuilder &b, ValueRange ivs) {
        Value bi = ivs[0], hk = ivs[1], i0 = b.muli(ivs[2], b.idx(Brq));
        flashTile(
            b, bi, hk, i0,
            [&](KernelBuilder &b, Value rowsQ) -> std::pair<Value, Value> {
              // Only the key blocks inside the band of the tile's rows at
              // key positions p0 .. p0 + rowsQ - 1 (causal: keys below
              // p0 + rowsQ); none when that is below 0.
              Value p0 = keyPos(b, i0), begin = c0, end = Skv;
              if (left)
                begin = arith::MaxSIOp::create(b, b.subi(p0, b.idx(*left)), c0);
              if (right)
                end = arith::MaxSIOp::create(
                    b, arith::MinSIOp::create(b, Skv, b.addi(b.addi(p0, rowsQ), b.idx(*right))),
                    begin);
              return {begin, end};
            },
            [&](KernelBuilder &b, Value nRows, Value acc, Value, Value lS) {
              b.loop(c0, nRows, c1, [&](KernelBuilder &b, Value r) {
                auto [h, i] = rowInfo(b, hk, i0, r);
                SmallVector<Value> o;
                for (int64_t c = 0; c < nDv; ++c)
                  o.push_back(b.vload(acc, {r, b.idx(c * vw)}, vw, true));
                storeRow(b, bi, h, i, o, invOf(b, memref::LoadOp::create(b, lS, ValueRange{r})));
              });
            },
            /*withSink=*/true);
      });
    };

    // Decode (every query row of a group in one tile) against a long cache:
    // B·Hkv tiles cannot fill the threads, so the keys are split into
    // partitions that run as separate tasks and leave partial (max, sum,
    // unnormalized output); a second parallel loop merges them by
    // log-sum-exp. The partition count depends on the sizes only, never on
    // the thread count, so results do not change with it.
    // Keys [kFirst, kAll) of a tile starting at row 0: from the band's left
    // side at the first row (the rows after it mask more per key) to its
    // right side at the last row.
    Value kFirst = left ? arith::MaxSIOp::create(b, b.subi(keyPos(b, c0), b.idx(*left)), c0) : c0;
    Value kAll = Skv;
    if (right)
      kAll = arith::MaxSIOp::create(
          b, arith::MinSIOp::create(b, Skv, b.addi(keyPos(b, Sq), b.idx(*right))), kFirst);
    Value kSpan = b.subi(kAll, kFirst);
    Value splitKeys = arith::AndIOp::create(
        b, b.cmpi(CmpIPredicate::ule, Sq, b.idx(Brq)),
        b.cmpi(CmpIPredicate::uge, kSpan, b.idx(kSplitMinKeys)));
    b.ifThenElse(splitKeys, [&](KernelBuilder &b) {
      Value tasks = arith::MaxUIOp::create(b, b.muli(B, Hkv), c1);
      Value want = b.divui(b.addi(b.idx(kSplitTasks - 1), tasks), tasks);
      Value nP = b.minui(want, b.divui(kSpan, b.idx(kSplitPartKeys)));
      // Partitions of whole key blocks; the last may be shorter.
      Value part = b.muli(ceilDivIdx(b, b.divui(b.addi(kSpan, b.subi(nP, c1)), nP), Bc), b.idx(Bc));
      nP = b.divui(b.addi(kSpan, b.subi(part, c1)), part);
      Value nRows = b.muli(Sq, b.idx(group));
      const int64_t Hk = kT.getDimSize(1), W = nDv * vw;
      Value mP = b.allocF32({ShapedType::kDynamic, Hk, ShapedType::kDynamic, Br}, {B, nP});
      Value lP = b.allocF32({ShapedType::kDynamic, Hk, ShapedType::kDynamic, Br}, {B, nP});
      Value accP = b.allocF32({ShapedType::kDynamic, Hk, ShapedType::kDynamic, Br, W}, {B, nP});
      b.tiles({B, Hkv, nP}, [&](KernelBuilder &b, ValueRange ivs) {
        Value bi = ivs[0], hk = ivs[1], p = ivs[2];
        flashTile(
            b, bi, hk, c0,
            [&](KernelBuilder &b, Value) -> std::pair<Value, Value> {
              Value begin = b.addi(kFirst, b.muli(p, part));
              return {begin, b.minui(kAll, b.addi(begin, part))};
            },
            [&](KernelBuilder &b, Value nRows, Value acc, Value mS, Value lS) {
              for (int64_t rv = 0; rv < nRV; ++rv) {
                Value r = b.idx(rv * vw);
                vector::StoreOp::create(b, b.vload(mS, {r}, vw, true), mP,
                                        ValueRange{bi, hk, p, r});
                vector::StoreOp::create(b, b.vload(lS, {r}, vw, true), lP,
                                        ValueRange{bi, hk, p, r});
              }
              b.loop(c0, nRows, c1, [&](KernelBuilder &b, Value r) {
                for (int64_t c = 0; c < nDv; ++c)
                  vector::StoreOp::create(b, b.vload(acc, {r, b.idx(c * vw)}, vw, true), accP,
                                          ValueRange{bi, hk, p, r, b.idx(c * vw)});
              });
            },
            /*withSink=*/false); // added once, by the merge
      });
      // Merge: weights exp(m_p - max m); partitions (or rows) that saw no
      // key have m = -inf, weight 0, and a row with none left is 0.
      b.parallel({B, Hkv, nRows}, true, [&](KernelBuilder &b, ValueRange ivs) {
        Value bi = ivs[0], hk = ivs[1], r = ivs[2];
        auto [h, i] = rowInfo(b, hk, c0, r);
        Value sinkS = sink ? memref::LoadOp::create(b, sink, ValueRange{h}).getResult() : Value();
        Value m = b.loop(c0, nP, c1, {sink ? sinkS : b.negInf()},
                         [&](KernelBuilder &b, Value p, ValueRange a) -> SmallVector<Value> {
          return {b.max(a[0], memref::LoadOp::create(b, mP, ValueRange{bi, hk, p, r}))};
        })[0];
        Value mSafe = b.select(b.cmpf(CmpFPredicate::OEQ, m, b.negInf()), zero, m);
        SmallVector<Value> init(nDv, zeroV);
        init.push_back(sink ? b.exp(b.sub(sinkS, mSafe)) : zero);
        SmallVector<Value> sums = b.loop(c0, nP, c1, init,
            [&](KernelBuilder &b, Value p, ValueRange a) -> SmallVector<Value> {
          Value w = b.exp(b.sub(memref::LoadOp::create(b, mP, ValueRange{bi, hk, p, r}), mSafe));
          Value wV = b.splat(w, vw);
          SmallVector<Value> next;
          for (int64_t c = 0; c < nDv; ++c)
            next.push_back(b.fma(wV, b.vload(accP, {bi, hk, p, r, b.idx(c * vw)}, vw, true), a[c]));
          next.push_back(b.fma(w, memref::LoadOp::create(b, lP, ValueRange{bi, hk, p, r}), a[nDv]));
          return next;
        });
        storeRow(b, bi, h, i, ArrayRef<Value>(sums).take_front(nDv), invOf(b, sums[nDv]));
      });
    }, wholeTiles);
    rw.replaceOp(op, b.toTensor(out, resT));
    return success();
  }

  /// The additive mask for one key and the rows of row vector `rv`: a splat
  /// when the mask is the same for every row of the tile, else one load per
  /// lane (padding lanes repeat the last row).
  template <typename RowInfo>
  Value maskVector(KernelBuilder &b, Value mask, Value bi, int64_t rv, Value key,
                   Value nRows, RowInfo rowInfo) const {
    auto mt = cast<MemRefType>(mask.getType());
    Value j = mt.getDimSize(3) == 1 ? b.idx(0) : key;
    Value b0 = maskIdx(b, mask, 0, bi);
    if (mt.getDimSize(1) == 1 && mt.getDimSize(2) == 1)
      return b.splat(b.load(mask, {b0, b.idx(0), b.idx(0), j}), vw);
    Value vec = b.splat(b.f32(0.0f), vw);
    for (int64_t l = 0; l < vw; ++l) {
      Value r = b.minui(b.idx(rv * vw + l), b.subi(nRows, b.idx(1)));
      auto [h, i] = rowInfo(b, r);
      Value m = b.load(mask, {b0, maskIdx(b, mask, 1, h), maskIdx(b, mask, 2, i), j});
      vec = vector::InsertOp::create(b, m, vec, ArrayRef<int64_t>{l});
    }
    return vec;
  }

  static Value maskIdx(KernelBuilder &b, Value mask, int64_t d, Value iv) {
    return cast<MemRefType>(mask.getType()).getDimSize(d) == 1 ? b.idx(0) : iv;
  }

  /// i1 mask -> f32 additive mask (0 / -inf) of the same shape.
  static Value boolMaskToAdditive(KernelBuilder &b, Value mask, RankedTensorType mT) {
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < 4; ++d)
      sizes.push_back(b.dim(mask, d));
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < 4; ++d)
      if (mT.isDynamicDim(d))
        dyn.push_back(sizes[d]);
    Value out = b.allocF32(mT.getShape(), dyn);
    Value zero = b.f32(0.0f), ninf = b.negInf();
    b.parallel(sizes, true, [&](KernelBuilder &b, ValueRange ivs) {
      Value m = memref::LoadOp::create(b, mask, ivs);
      memref::StoreOp::create(b, b.select(m, zero, ninf), out, ivs);
    });
    return out;
  }
};

/// acc(i, e) = init(i, e) + Σ_{r < innerEnd(rowLast)} x(i, r) · y(r, e) for
/// rows i < nRows and vectors e < nVec, stored by store(i, e, acc): RB rows x
/// VG vectors of accumulators at a time, rows past nRows repeating the last
/// one (they store the same values). Vector groups are the outer loop, so a
/// group's column slab of y stays in L1 while the rows stream past it.
/// `firstRow(e)`, when given, skips the row blocks before it for the group
/// starting at vector e (the zero upper triangle of a causal product).
struct RowTimesMatrix {
  using XFn = function_ref<Value(KernelBuilder &, Value i, Value r)>;
  using YFn = function_ref<Value(KernelBuilder &, Value r, int64_t e)>;
  using InitFn = function_ref<Value(KernelBuilder &, Value i, int64_t e)>;
  using StoreFn = function_ref<void(KernelBuilder &, Value i, int64_t e, Value acc)>;
  using EndFn = function_ref<Value(KernelBuilder &, Value rowLast)>;
  int64_t vw;
  Value nRows;
  int64_t nVec;
  EndFn innerEnd;
  XFn x;
  YFn y;
  StoreFn store;
  InitFn init = nullptr;
  function_ref<int64_t(int64_t e)> firstRow = nullptr;

  static constexpr int64_t RB = 4;

  void emit(KernelBuilder &b) const {
    // 16 accumulators where there are 32 vector registers (AVX-512), else 8.
    const int64_t VG = vw >= 16 ? 4 : 2;
    Value c0 = b.idx(0), c1 = b.idx(1), zeroV = b.splat(b.f32(0.0f), vw);
    for (int64_t e0 = 0; e0 < nVec; e0 += VG) {
      const int64_t ne = std::min(VG, nVec - e0);
      Value from = firstRow ? b.idx(firstRow(e0) / RB * RB) : c0;
      b.loop(from, nRows, b.idx(RB), [&](KernelBuilder &b, Value rb) {
        SmallVector<Value> rs;
        for (int64_t t = 0; t < RB; ++t)
          rs.push_back(b.minui(b.addi(rb, b.idx(t)), b.subi(nRows, c1)));
        SmallVector<Value> acc;
        for (int64_t t = 0; t < RB; ++t)
          for (int64_t e = 0; e < ne; ++e)
            acc.push_back(init ? init(b, rs[t], e0 + e) : zeroV);
        acc = b.loop(c0, innerEnd(b, rs.back()), c1, acc,
                     [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
          SmallVector<Value> yv, next;
          for (int64_t e = 0; e < ne; ++e)
            yv.push_back(y(b, r, e0 + e));
          for (int64_t t = 0; t < RB; ++t) {
            Value xs = b.splat(x(b, rs[t], r), vw);
            for (int64_t e = 0; e < ne; ++e)
              next.push_back(b.fma(xs, yv[e], a[t * ne + e]));
          }
          return next;
        });
        for (int64_t t = 0; t < RB; ++t)
          for (int64_t e = 0; e < ne; ++e)
            store(b, rs[t], e0 + e, acc[t * ne + e]);
      });
    }
  }
};

struct LinearAttentionToCPU : OpRewritePattern<LinearAttentionOp> {
  LinearAttentionToCPU(MLIRContext *ctx, int64_t vw, LinearAttentionKernel mode)
      : OpRewritePattern(ctx, /*benefit=*/2), vw(vw), mode(mode) {}
  int64_t vw;
  LinearAttentionKernel mode;
  /// Longer sequences run chunked; decode and short prompts run recurrent.
  static constexpr int64_t kChunkMinTokens = 64;

  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    LinearAttentionOperands la(b, op);
    if (mode == LinearAttentionKernel::Chunked) {
      chunked(b, op, la);
    } else if (mode == LinearAttentionKernel::Recurrent || !chunkedPays(op)) {
      recurrent(b, op, la);
    } else {
      b.ifThenElse(b.cmpi(CmpIPredicate::ugt, la.T, b.idx(kChunkMinTokens)),
                   [&](KernelBuilder &b) { chunked(b, op, la); },
                   [&](KernelBuilder &b) { recurrent(b, op, la); });
    }
    rw.replaceOp(op, {b.toTensor(la.out, la.outT), b.toTensor(la.st, la.stT)});
    return success();
  }

  /// Whether the chunked kernel beats the recurrent one on long sequences
  /// (measured at K = V = 128 on AVX-512). Not with per-channel decays: the
  /// exponentials of the diagonal sub-blocks (C·SB·K per chunk) cost more
  /// than the recurrence; nor with chunks over 64 tokens, where the C²
  /// terms (Q Kᵀ, K Kᵀ, the solve) outweigh the matmuls' efficiency.
  static bool chunkedPays(LinearAttentionOp op) {
    return !op.hasChannelDecay() && op.getChunkSize() <= 64;
  }

  /// The chunked form: per chunk of C tokens, with G the cumulative log
  /// decay from the chunk's start (Γ_ij = exp(G_i - G_j), M the causal mask),
  ///   delta rules: U = (I + strictly-lower(diag(β) (K Kᵀ ⊙ Γ)))⁻¹ diag(β)
  ///                    (V - (K ⊙ exp G) S)    (the WY/UT form, solved by
  ///                    forward substitution on the right-hand side)
  ///   others:      U = V
  ///   O = scale ((Q ⊙ exp G) S + (Q Kᵀ ⊙ M ⊙ Γ) U)
  ///   S ← exp(G_last) S + (K ⊙ exp(G_last - G))ᵀ U.
  /// A task is (batch, value head, block of value columns): every column of
  /// the state evolves independently. Every exponent is a difference of
  /// cumulative sums within a chunk taken in the order that makes it ≤ 0;
  /// the sums are f64 so that nearby tokens' differences stay exact after
  /// many large decays. Per-channel decays split the chunk into sub-blocks
  /// of SB rows: rows before a sub-block meet it through the cumulative decay
  /// just before it (both factors ≤ 1), pairs inside it are exponentiated
  /// one by one.
  void chunked(KernelBuilder &b, LinearAttentionOp op, const LinearAttentionOperands &la) const {
    Value q = la.q, k = la.k, v = la.v, decay = la.decay, beta = la.beta, init = la.init,
          B = la.B, T = la.T, out = la.out, st = la.st;
    const int64_t hv = la.hv, K = la.K, V = la.V, qPerState = la.qPerState,
                  statesPerKey = la.statesPerKey;
    const bool gqa = la.gqa;
    const bool gated = op.isGated(), delta = op.isDelta(), channel = op.hasChannelDecay();
    const bool scalarDecay = gated && !channel;
    // chunk_size is a hint: keep the chunk's scratch in L1/L2.
    const int64_t C = std::clamp<int64_t>(op.getChunkSize(), 1, 256);
    const int64_t SB = std::max<int64_t>(16, vw);
    const int64_t Cp = ceilDiv(C, SB) * SB, nCV = Cp / vw;
    const int64_t Kp = ceilDiv(K, vw) * vw;
    const int64_t nV = ceilDiv(V, vw);
    // Value vectors per task: the largest divisor of nV up to 128 columns (the
    // chunk's Q Kᵀ and K Kᵀ are computed once per task).
    int64_t NT = 1;
    for (int64_t d = 1; d <= nV && d * vw <= std::max<int64_t>(128, vw); ++d)
      if (nV % d == 0)
        NT = d;
    const int64_t W = NT * vw;
    const bool full = V % vw == 0;
    Value scaleV = b.splat(b.f32(op.getScaleOrDefault()), vw);
    Value c0 = b.idx(0), c1 = b.idx(1), cK = b.idx(K), cC = b.idx(C);
    Value zero = b.f32(0.0f), zeroV = b.splat(zero, vw);
    auto f32 = b.getF32Type(), f64 = b.getF64Type();

    b.tiles({B, b.idx(hv), b.idx(nV / NT)}, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], j = ivs[1];
      Value kh = b.divui(j, b.idx(statesPerKey));
      SmallVector<Value> cols;
      for (int64_t n = 0; n < NT; ++n)
        cols.push_back(b.muli(b.addi(b.muli(ivs[2], b.idx(NT)), b.idx(n)), b.idx(vw)));
      auto scratch = [&](ArrayRef<int64_t> shape, Type et) -> Value {
        return memref::AllocOp::create(b, MemRefType::get(shape, et), b.getI64IntegerAttr(64));
      };
      // Zeroed once, so that columns past a short last chunk and row padding
      // read finite values.
      auto zeroed = [&](ArrayRef<int64_t> shape, Type et) -> Value {
        Value buf = scratch(shape, et);
        Value z = b.splat(arith::ConstantOp::create(b, b.getFloatAttr(et, 0.0)), vw);
        b.loop(c0, b.idx(shape[0]), c1, [&](KernelBuilder &b, Value r) {
          for (int64_t c = 0; c < shape[1]; c += vw)
            vector::StoreOp::create(b, z, buf, ValueRange{r, b.idx(c)});
        });
        return buf;
      };
      Value S = scratch({K, W}, f32);
      Value kc = zeroed({C, Kp}, f32), kT = zeroed({K, Cp}, f32); // keys, and transposed
      Value xc = zeroed({C, Kp}, f32);                            // queries of one head
      Value xg = gated ? zeroed({C, Kp}, f32) : Value();          // rows ⊙ exp(G)
      Value kdT = gated ? scratch({K, Cp}, f32) : kT;             // (K ⊙ exp(G_last - G))ᵀ
      Value pm = scratch({C, Cp}, f32);                           // Q Kᵀ ⊙ M ⊙ Γ
      Value am = delta ? scratch({C, Cp}, f32) : Value();         // K Kᵀ ⊙ Γ, strictly lower
      Value u = scratch({C, W}, f32), ob = scratch({C, W}, f32);
      Value bt = delta ? scratch({C}, f32) : Value();
      Value gs = scalarDecay ? scratch({Cp}, f64) : Value();
      if (gs)
        b.loop(c0, b.idx(Cp), c1, [&](KernelBuilder &b, Value i) {
          memref::StoreOp::create(b, arith::ConstantOp::create(b, b.getF64FloatAttr(0.0)), gs,
                                  ValueRange{i});
        });
      Value gc = channel ? zeroed({C, Kp}, f64) : Value(), gT = channel ? zeroed({K, Cp}, f64) : Value();
      Value xr = channel ? zeroed({SB, Kp}, f32) : Value(), krT = channel ? scratch({K, Cp}, f32) : Value();

      auto ld = [&](KernelBuilder &b, Value buf, ValueRange idx) -> Value {
        return memref::LoadOp::create(b, buf, idx);
      };
      auto vld = [&](KernelBuilder &b, Value buf, ValueRange idx) -> Value {
        auto et = cast<MemRefType>(buf.getType()).getElementType();
        return vector::LoadOp::create(b, VectorType::get({vw}, et), buf, idx);
      };
      auto vst = [&](KernelBuilder &b, Value x, Value buf, ValueRange idx) {
        vector::StoreOp::create(b, x, buf, idx);
      };
      // exp(a - c) of f64 cumulative decays (scalars or vectors); where
      // `valid` is false the exponent is 0 instead (pairs that are masked).
      auto expDiff = [&](KernelBuilder &b, Value a, Value c, Value valid = Value()) -> Value {
        Value d = b.sub(a, c);
        Type t = f32;
        if (auto vt = dyn_cast<VectorType>(d.getType()))
          t = VectorType::get(vt.getShape(), f32);
        d = arith::TruncFOp::create(b, t, d);
        if (valid)
          d = b.select(valid, d, zeroV);
        return b.exp(d);
      };
      // Row i of a chunk scratch = token t of head h (zeros past K).
      auto loadRow = [&](KernelBuilder &b, Value src, Value h, Value t, Value dst, Value i) {
        for (int64_t c = 0; c < Kp; c += vw)
          vst(b, b.vload(src, la.tok(b, bi, h, t, b.idx(c)), vw, c + vw <= K), dst, {i, b.idx(c)});
      };
      auto lanesLE = [&](KernelBuilder &b, int64_t col0, Value col, Value i, bool strict) {
        Value lanes = laneIndices(b, col ? col : b.idx(col0), vw);
        return b.cmpi(strict ? CmpIPredicate::ult : CmpIPredicate::ule, lanes, b.splat(i, vw));
      };

      b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
        for (int64_t n = 0; n < NT; ++n)
          vst(b, init ? b.vload(init, {bi, j, r, cols[n]}, vw, full) : zeroV, S,
              {r, b.idx(n * vw)});
      });

      // x ⊙ exp(G) (the rows that meet the state at the chunk's start).
      auto decayRows = [&](KernelBuilder &b, Value x, Value L) {
        b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
          Value e = scalarDecay ? b.splat(b.exp(arith::TruncFOp::create(b, f32, ld(b, gs, {i}))), vw)
                                : Value();
          for (int64_t c = 0; c < Kp; c += vw) {
            Value f = e ? e : expDiff(b, vld(b, gc, {i, b.idx(c)}),
                                      b.splat(arith::ConstantOp::create(b, b.getF64FloatAttr(0.0)), vw));
            vst(b, b.mul(vld(b, x, {i, b.idx(c)}), f), xg, {i, b.idx(c)});
          }
        });
      };
      // out[i][j] = Σ_c x_ic k_jc Γ_ij,c for j ≤ i (j < i when strict), else 0.
      auto gram = [&](KernelBuilder &b, Value x, Value outM, Value L, bool strict) {
        if (!channel) {
          RowTimesMatrix{
              vw, L, nCV, [&](KernelBuilder &, Value) { return cK; },
              [&](KernelBuilder &b, Value i, Value r) { return ld(b, x, {i, r}); },
              [&](KernelBuilder &b, Value r, int64_t e) { return vld(b, kT, {r, b.idx(e * vw)}); },
              [&](KernelBuilder &b, Value i, int64_t e, Value acc) {
                Value valid = lanesLE(b, e * vw, Value(), i, strict);
                if (scalarDecay)
                  acc = b.mul(acc, expDiff(b, b.splat(ld(b, gs, {i}), vw),
                                           vld(b, gs, {b.idx(e * vw)}), valid));
                vst(b, b.select(valid, acc, zeroV), outM, {i, b.idx(e * vw)});
              },
              nullptr, [&](int64_t e) { return e * vw; }}
              .emit(b);
          return;
        }
        for (int64_t a0 = 0; a0 < C; a0 += SB) {
          b.ifThenElse(b.cmpi(CmpIPredicate::ult, b.idx(a0), L), [&](KernelBuilder &b) {
            Value rows = b.minui(b.idx(SB), b.subi(L, b.idx(a0)));
            if (a0 > 0) {
              // Earlier rows meet the sub-block through G at a0 - 1.
              Value ref = b.idx(a0 - 1);
              b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
                Value g = b.splat(ld(b, gc, {ref, r}), vw);
                for (int64_t c = 0; c < a0; c += vw)
                  vst(b, b.mul(vld(b, kT, {r, b.idx(c)}), expDiff(b, g, vld(b, gT, {r, b.idx(c)}))),
                      krT, {r, b.idx(c)});
              });
              b.loop(c0, rows, c1, [&](KernelBuilder &b, Value i) {
                Value row = b.addi(i, b.idx(a0));
                for (int64_t c = 0; c < Kp; c += vw)
                  vst(b, b.mul(vld(b, x, {row, b.idx(c)}),
                               expDiff(b, vld(b, gc, {row, b.idx(c)}), vld(b, gc, {ref, b.idx(c)}))),
                      xr, {i, b.idx(c)});
              });
              RowTimesMatrix{
                  vw, rows, a0 / vw, [&](KernelBuilder &, Value) { return cK; },
                  [&](KernelBuilder &b, Value i, Value r) { return ld(b, xr, {i, r}); },
                  [&](KernelBuilder &b, Value r, int64_t e) { return vld(b, krT, {r, b.idx(e * vw)}); },
                  [&](KernelBuilder &b, Value i, int64_t e, Value acc) {
                    vst(b, acc, outM, {b.addi(i, b.idx(a0)), b.idx(e * vw)});
                  }}
                  .emit(b);
            }
            // Pairs inside the sub-block, one exponent each.
            b.loop(c0, rows, c1, [&](KernelBuilder &b, Value ii) {
              Value i = b.addi(ii, b.idx(a0));
              SmallVector<Value> valid;
              for (int64_t c = a0; c < a0 + SB; c += vw)
                valid.push_back(lanesLE(b, c, Value(), i, strict));
              SmallVector<Value> acc = b.loop(c0, cK, c1, SmallVector<Value>(SB / vw, zeroV),
                  [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
                Value xs = b.splat(ld(b, x, {i, r}), vw);
                Value gi = b.splat(ld(b, gc, {i, r}), vw);
                SmallVector<Value> next;
                for (int64_t e = 0; e < SB / vw; ++e) {
                  Value col = b.idx(a0 + e * vw);
                  Value f = expDiff(b, gi, vld(b, gT, {r, col}), valid[e]);
                  next.push_back(b.fma(b.mul(xs, vld(b, kT, {r, col})), f, a[e]));
                }
                return next;
              });
              for (int64_t e = 0; e < SB / vw; ++e)
                vst(b, b.select(valid[e], acc[e], zeroV), outM, {i, b.idx(a0 + e * vw)});
            });
          }, [](KernelBuilder &) {});
        }
      };

      b.loop(c0, T, cC, [&](KernelBuilder &b, Value t0) {
        Value L = b.minui(cC, b.subi(T, t0));
        Value last = b.subi(L, c1);
        b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
          Value t = b.addi(t0, i);
          loadRow(b, k, kh, t, kc, i);
          if (delta)
            memref::StoreOp::create(b, b.load(beta, la.tok3(b, bi, j, t)), bt, ValueRange{i});
        });
        // Kᵀ with contiguous stores (LLVM turns strided stores into scatters).
        b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
          b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
            memref::StoreOp::create(b, ld(b, kc, {i, r}), kT, ValueRange{r, i});
          });
        });
        // Cumulative log decays from the chunk's start. A log decay of -inf
        // (decay 0) is taken as -80: differences of cumulative sums stay
        // finite, and e^-80 clears the state all the same.
        Value zero64 = arith::ConstantOp::create(b, b.getF64FloatAttr(0.0));
        Value floor = b.f32(-80.0f);
        if (scalarDecay)
          b.loop(c0, L, c1, {zero64}, [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
            Value gi = b.max(b.load(decay, la.tok3(b, bi, j, b.addi(t0, i))), floor);
            Value g = b.add(a[0], arith::ExtFOp::create(b, f64, gi));
            memref::StoreOp::create(b, g, gs, ValueRange{i});
            return {g};
          });
        if (channel) {
          // Token rows of decays are contiguous: sum them as vectors, then
          // transpose.
          SmallVector<Value> g0(Kp / vw, b.splat(zero64, vw));
          b.loop(c0, L, c1, g0, [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
            SmallVector<Value> next;
            for (int64_t c = 0; c < Kp; c += vw) {
              Value g = b.max(
                  b.vload(decay, la.tok(b, bi, j, b.addi(t0, i), b.idx(c)), vw, c + vw <= K),
                  b.splat(floor, vw));
              next.push_back(b.add(a[c / vw], arith::ExtFOp::create(b, VectorType::get({vw}, f64), g)));
              vst(b, next.back(), gc, {i, b.idx(c)});
            }
            return next;
          });
          b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
            b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
              memref::StoreOp::create(b, ld(b, gc, {i, r}), gT, ValueRange{r, i});
            });
          });
        }
        // (K ⊙ exp(G_last - G))ᵀ, columns past the chunk left as they are.
        if (gated)
          b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
            Value gl = b.splat(scalarDecay ? ld(b, gs, {last}) : ld(b, gc, {last, r}), vw);
            for (int64_t c = 0; c < Cp; c += vw) {
              Value valid = lanesLE(b, c, Value(), last, false);
              SmallVector<Value> at = {b.idx(c)};
              if (!scalarDecay)
                at.insert(at.begin(), r);
              Value gj = vld(b, scalarDecay ? gs : gT, at);
              vst(b, b.mul(vld(b, kT, {r, b.idx(c)}), expDiff(b, gl, gj, valid)), kdT,
                  {r, b.idx(c)});
            }
          });

        if (delta) {
          // R = V - (K ⊙ exp G) S, then U = (I + diag(β) A)⁻¹ diag(β) R row by row.
          if (gated)
            decayRows(b, kc, L);
          Value kg = gated ? xg : kc;
          RowTimesMatrix{
              vw, L, NT, [&](KernelBuilder &, Value) { return cK; },
              [&](KernelBuilder &b, Value i, Value r) { return ld(b, kg, {i, r}); },
              [&](KernelBuilder &b, Value r, int64_t e) { return vld(b, S, {r, b.idx(e * vw)}); },
              [&](KernelBuilder &b, Value i, int64_t e, Value acc) {
                Value x = b.vload(v, la.tok(b, bi, j, b.addi(t0, i), cols[e]), vw, full);
                vst(b, b.sub(x, acc), u, {i, b.idx(e * vw)});
              }}
              .emit(b);
          gram(b, kc, am, L, /*strict=*/true);
          b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
            SmallVector<Value> r0;
            for (int64_t e = 0; e < NT; ++e)
              r0.push_back(vld(b, u, {i, b.idx(e * vw)}));
            SmallVector<Value> acc = b.loop(c0, i, c1, r0,
                [&](KernelBuilder &b, Value jj, ValueRange a) -> SmallVector<Value> {
              Value aij = b.splat(arith::NegFOp::create(b, ld(b, am, {i, jj})), vw);
              SmallVector<Value> next;
              for (int64_t e = 0; e < NT; ++e)
                next.push_back(b.fma(aij, vld(b, u, {jj, b.idx(e * vw)}), a[e]));
              return next;
            });
            Value bv = b.splat(ld(b, bt, {i}), vw);
            for (int64_t e = 0; e < NT; ++e)
              vst(b, b.mul(bv, acc[e]), u, {i, b.idx(e * vw)});
          });
        } else {
          b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
            for (int64_t e = 0; e < NT; ++e)
              vst(b, b.vload(v, la.tok(b, bi, j, b.addi(t0, i), cols[e]), vw, full), u,
                  {i, b.idx(e * vw)});
          });
        }

        for (int64_t g = 0; g < qPerState; ++g) {
          Value qh = gqa ? b.addi(b.muli(j, b.idx(qPerState)), b.idx(g)) : kh;
          Value oh = gqa ? qh : j;
          b.loop(c0, L, c1, [&](KernelBuilder &b, Value i) {
            loadRow(b, q, qh, b.addi(t0, i), xc, i);
          });
          if (gated)
            decayRows(b, xc, L);
          Value qg = gated ? xg : xc;
          gram(b, xc, pm, L, /*strict=*/false);
          // O = (Q ⊙ exp G) S + P U
          RowTimesMatrix{
              vw, L, NT, [&](KernelBuilder &, Value) { return cK; },
              [&](KernelBuilder &b, Value i, Value r) { return ld(b, qg, {i, r}); },
              [&](KernelBuilder &b, Value r, int64_t e) { return vld(b, S, {r, b.idx(e * vw)}); },
              [&](KernelBuilder &b, Value i, int64_t e, Value acc) {
                vst(b, acc, ob, {i, b.idx(e * vw)});
              }}
              .emit(b);
          RowTimesMatrix{
              vw, L, NT,
              [&](KernelBuilder &b, Value rowLast) { return b.addi(rowLast, c1); },
              [&](KernelBuilder &b, Value i, Value jj) { return ld(b, pm, {i, jj}); },
              [&](KernelBuilder &b, Value jj, int64_t e) { return vld(b, u, {jj, b.idx(e * vw)}); },
              [&](KernelBuilder &b, Value i, int64_t e, Value acc) {
                SmallVector<Value> at = la.tok(b, bi, oh, b.addi(t0, i), cols[e]);
                b.vstore(la.gated(b, b.mul(acc, scaleV), at, vw, full), out, at, full);
              },
              [&](KernelBuilder &b, Value i, int64_t e) { return vld(b, ob, {i, b.idx(e * vw)}); }}
              .emit(b);
        }

        // S = exp(G_last) S + (K ⊙ exp(G_last - G))ᵀ U
        Value eLast = scalarDecay ? b.splat(b.exp(arith::TruncFOp::create(b, f32, ld(b, gs, {last}))), vw)
                                  : Value();
        RowTimesMatrix{
            vw, cK, NT, [&](KernelBuilder &, Value) { return L; },
            [&](KernelBuilder &b, Value r, Value jj) { return ld(b, kdT, {r, jj}); },
            [&](KernelBuilder &b, Value jj, int64_t e) { return vld(b, u, {jj, b.idx(e * vw)}); },
            [&](KernelBuilder &b, Value r, int64_t e, Value acc) {
              vst(b, acc, S, {r, b.idx(e * vw)});
            },
            [&](KernelBuilder &b, Value r, int64_t e) {
              Value s = vld(b, S, {r, b.idx(e * vw)});
              if (scalarDecay)
                return b.mul(s, eLast);
              if (channel)
                return b.mul(s, b.splat(b.exp(arith::TruncFOp::create(b, f32, ld(b, gc, {last, r}))), vw));
              return s;
            }}
            .emit(b);
      });
      b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
        for (int64_t n = 0; n < NT; ++n)
          b.vstore(vld(b, S, {r, b.idx(n * vw)}), st, {bi, j, r, cols[n]}, full);
      });
    });
  }

  /// The token-recurrent form.
  void recurrent(KernelBuilder &b, LinearAttentionOp op, const LinearAttentionOperands &la) const {
    Value q = la.q, k = la.k, v = la.v, decay = la.decay, beta = la.beta, init = la.init,
          B = la.B, T = la.T, out = la.out, st = la.st;
    const int64_t hv = la.hv, K = la.K, V = la.V, qPerState = la.qPerState,
                  statesPerKey = la.statesPerKey;
    const bool gqa = la.gqa;
    const int64_t nV = ceilDiv(V, vw);
    Value scaleV = b.splat(b.f32(op.getScaleOrDefault()), vw);
    Value c0 = b.idx(0), c1 = b.idx(1), cK = b.idx(K);
    Value zeroV = b.splat(b.f32(0.0f), vw);
    const bool gated = op.isGated(), delta = op.isDelta();
    const bool channel = op.hasChannelDecay();
    // Per-channel decays: exp(g) once, vectorized, instead of once per value
    // block inside the recurrence.
    if (channel) {
      // Same layout as decay; the loop does not care which dim is which.
      auto dT = tt(op.getDecay());
      SmallVector<Value> dsz = {b.dim(decay, 0), b.dim(decay, 1), b.dim(decay, 2)};
      SmallVector<Value> ddyn;
      for (int64_t d = 0; d < 3; ++d)
        if (dT.isDynamicDim(d))
          ddyn.push_back(dsz[d]);
      Value expDecay = b.allocF32(dT.getShape(), ddyn);
      b.parallel(dsz, true, [&](KernelBuilder &b, ValueRange ivs) {
        for (int64_t r = 0; r < K; r += vw) {
          bool full = r + vw <= K;
          Value g = b.vload(decay, {ivs[0], ivs[1], ivs[2], b.idx(r)}, vw, full);
          b.vstore(b.exp(g), expDecay, {ivs[0], ivs[1], ivs[2], b.idx(r)}, full);
        }
      });
      decay = expDecay;
    }

    // NC value vectors per task share every broadcast of k and q.
    const int64_t NC = nV % 2 == 0 ? 2 : 1;
    b.tiles({B, b.idx(hv), b.idx(nV / NC)}, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], j = ivs[1];
      SmallVector<Value> cols;
      for (int64_t n = 0; n < NC; ++n)
        cols.push_back(b.muli(b.addi(b.muli(ivs[2], b.idx(NC)), b.idx(n)), b.idx(vw)));
      Value kh = b.divui(j, b.idx(statesPerKey));
      // Value vectors are in bounds unless V is not a multiple of VW.
      bool full = V % vw == 0;
      auto f32 = b.getF32Type();
      Value S = memref::AllocOp::create(b, MemRefType::get({K, NC * vw}, f32), b.getI64IntegerAttr(64));
      auto sIdx = [&](KernelBuilder &b, Value r, int64_t n) -> SmallVector<Value> {
        return {r, b.idx(n * vw)};
      };
      b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
        for (int64_t n = 0; n < NC; ++n) {
          Value s0 = init ? b.vload(init, {bi, j, r, cols[n]}, vw, full) : zeroV;
          vector::StoreOp::create(b, s0, S, sIdx(b, r, n));
        }
      });
      // Runs `body` over the K state rows with four interleaved sets of `n`
      // accumulators (independent FMA chains) and returns their sums.
      using RowBody = function_ref<SmallVector<Value>(KernelBuilder &, Value, ValueRange)>;
      auto reduceRows = [&](KernelBuilder &b, int64_t n, RowBody body) -> SmallVector<Value> {
        const int64_t P = NC == 1 ? 4 : 2, main = K - K % P;
        SmallVector<Value> accs(P * n, zeroV);
        if (main > 0)
          accs = b.loop(c0, b.idx(main), b.idx(P), accs,
                        [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
            SmallVector<Value> next;
            for (int64_t p = 0; p < P; ++p)
              llvm::append_range(next, body(b, b.addi(r, b.idx(p)), a.slice(p * n, n)));
            return next;
          });
        for (int64_t r = main; r < K; ++r) {
          SmallVector<Value> part = body(b, b.idx(r), ValueRange(accs).take_front(n));
          std::copy(part.begin(), part.end(), accs.begin());
        }
        SmallVector<Value> sums(accs.begin(), accs.begin() + n);
        for (int64_t p = 1; p < P; ++p)
          for (int64_t i = 0; i < n; ++i)
            sums[i] = b.add(sums[i], accs[p * n + i]);
        return sums;
      };
      // Outputs of a block of tokens go to a small scratch first and are
      // flushed together: token-major output rows sit a multiple of 4 KiB
      // apart, and storing them one token at a time aliases the next token's
      // loads.
      const int64_t OB = 64;
      const int64_t rowW = qPerState * NC * vw;
      Value oBuf = memref::AllocOp::create(b, MemRefType::get({OB, rowW}, f32), b.getI64IntegerAttr(64));
      b.loop(c0, T, b.idx(OB), [&](KernelBuilder &b, Value t0) {
      Value tEnd = b.minui(T, b.addi(t0, b.idx(OB)));
      b.loop(t0, tEnd, c1, [&](KernelBuilder &b, Value t) {
        if (la.tokenMajor) {
          // Token-major rows of one head are a page or more apart, where
          // hardware prefetchers stop: fetch the rows of a later token now.
          Value tp = b.minui(b.addi(t, b.idx(16)), b.subi(T, c1));
          auto prefetch = [&](Value buf, Value h, int64_t from, int64_t to) {
            for (int64_t e = from; e < to; e += 16)
              memref::PrefetchOp::create(b, buf, la.tok(b, bi, h, tp, b.idx(e)), /*isWrite=*/false,
                                         /*localityHint=*/3, /*isDataCache=*/true);
          };
          prefetch(k, kh, 0, K);
          prefetch(q, gqa ? b.muli(j, b.idx(qPerState)) : kh, 0, K);
          for (int64_t n = 0; n < NC; ++n)
            memref::PrefetchOp::create(b, v, la.tok(b, bi, j, tp, cols[n]), false, 3, true);
        }
        Value eScalar = gated && !channel ? b.exp(b.load(decay, la.tok3(b, bi, j, t))) : Value();
        auto decayOf = [&](KernelBuilder &b, Value r) -> Value {
          if (!gated)
            return Value();
          if (!channel)
            return b.splat(eScalar, vw);
          return b.splat(b.load(decay, la.tok(b, bi, j, t, r)), vw);
        };
        SmallVector<Value> u;
        for (int64_t n = 0; n < NC; ++n)
          u.push_back(b.vload(v, la.tok(b, bi, j, t, cols[n]), vw, full));
        if (delta) {
          // pred = (diag(e) S)ᵀ k
          SmallVector<Value> pred = reduceRows(b, NC, [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
            Value kr = b.splat(b.load(k, la.tok(b, bi, kh, t, r)), vw);
            Value e = decayOf(b, r);
            SmallVector<Value> next;
            for (int64_t n = 0; n < NC; ++n) {
              Value s = b.vload(S, sIdx(b, r, n), vw, true);
              if (e)
                s = b.mul(s, e);
              next.push_back(b.fma(s, kr, a[n]));
            }
            return next;
          });
          Value bt = b.splat(b.load(beta, la.tok3(b, bi, j, t)), vw);
          for (int64_t n = 0; n < NC; ++n)
            u[n] = b.mul(bt, b.sub(u[n], pred[n]));
        }
        // S = diag(e) S + k ⊗ u, and o_g = Sᵀ q_g, in one pass.
        SmallVector<Value> o = reduceRows(
            b, qPerState * NC, [&](KernelBuilder &b, Value r, ValueRange a) -> SmallVector<Value> {
              Value kr = b.splat(b.load(k, la.tok(b, bi, kh, t, r)), vw);
              Value e = decayOf(b, r);
              SmallVector<Value> sv, next;
              for (int64_t n = 0; n < NC; ++n) {
                Value s = b.vload(S, sIdx(b, r, n), vw, true);
                if (e)
                  s = b.mul(s, e);
                s = b.fma(kr, u[n], s);
                vector::StoreOp::create(b, s, S, sIdx(b, r, n));
                sv.push_back(s);
              }
              for (int64_t g = 0; g < qPerState; ++g) {
                Value qh = gqa ? b.addi(b.muli(j, b.idx(qPerState)), b.idx(g)) : kh;
                Value qr = b.splat(b.load(q, la.tok(b, bi, qh, t, r)), vw);
                for (int64_t n = 0; n < NC; ++n)
                  next.push_back(b.fma(sv[n], qr, a[g * NC + n]));
              }
              return next;
            });
        Value slot = b.subi(t, t0);
        for (int64_t g = 0; g < qPerState; ++g)
          for (int64_t n = 0; n < NC; ++n)
            vector::StoreOp::create(b, b.mul(o[g * NC + n], scaleV), oBuf,
                                    ValueRange{slot, b.idx((g * NC + n) * vw)});
      });
      b.loop(t0, tEnd, c1, [&](KernelBuilder &b, Value t) {
        Value slot = b.subi(t, t0);
        for (int64_t g = 0; g < qPerState; ++g) {
          Value oh = gqa ? b.addi(b.muli(j, b.idx(qPerState)), b.idx(g)) : j;
          for (int64_t n = 0; n < NC; ++n) {
            SmallVector<Value> at = la.tok(b, bi, oh, t, cols[n]);
            Value o = b.vload(oBuf, {slot, b.idx((g * NC + n) * vw)}, vw, true);
            b.vstore(la.gated(b, o, at, vw, full), out, at, full);
          }
        }
      });
      });
      b.loop(c0, cK, c1, [&](KernelBuilder &b, Value r) {
        for (int64_t n = 0; n < NC; ++n)
          b.vstore(b.vload(S, sIdx(b, r, n), vw, true), st, {bi, j, r, cols[n]}, full);
      });
    });
  }
};

struct GateTileCPUPass : gatec::impl::GateTileCPUBase<GateTileCPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(checkVectorWidth(getOperation(), "gate-tile-cpu", vectorWidth)))
      return signalPassFailure();
    auto mode = llvm::StringSwitch<std::optional<LinearAttentionKernel>>(linearAttention)
                    .Case("auto", LinearAttentionKernel::Auto)
                    .Case("chunked", LinearAttentionKernel::Chunked)
                    .Case("recurrent", LinearAttentionKernel::Recurrent)
                    .Default(std::nullopt);
    if (!mode) {
      getOperation().emitError() << "gate-tile-cpu: linear-attention must be auto, chunked or "
                                    "recurrent, got '" << linearAttention << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateGateCPUPatterns(patterns, vectorWidth, *mode);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

void gatec::populateGateCPUPatterns(RewritePatternSet &patterns, int64_t vectorWidth,
                                    LinearAttentionKernel linearAttention) {
  patterns.add<SdpaToFlash>(patterns.getContext(), vectorWidth);
  patterns.add<LinearAttentionToCPU>(patterns.getContext(), vectorWidth, linearAttention);
  populateCausalConvCPUPatterns(patterns, vectorWidth);
  // causal_conv and gate: parallel reference loops (LLVM vectorizes them).
  populateGateReferencePatterns(patterns, /*parallel=*/true);
}
