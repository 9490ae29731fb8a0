//===- GateTileGPU.cpp - gate ops as CUDA kernels -------------------------===//
//
// gate.sdpa on tensor cores (f16 / bf16 tensors, or f32 tensors with
// precision=bf16|f16|tf32): one gpu.launch, FlashAttention-2 style. A thread
// block of 4 warps owns 64 query rows of one (batch, head); each warp owns 16
// rows. Key/value blocks are staged in shared memory (in the operand type:
// 16 bits, or f32 rounded to tf32), QKᵀ and P·V are m16n8k16 (16-bit) or
// m16n8k8 (tf32) tensor-core MMAs (nvgpu.mma.sync; gate-lower-bf16-mma
// finishes the bf16 ones, which nvgpu's lowering cannot type) with f32
// accumulators, and the online softmax runs on the accumulator fragments in
// registers: a row's 4 owning lanes combine their max and sum with two
// shuffles. The score fragment of QKᵀ is, register for register, the A
// fragment of P·V (for tf32 with the keys of each 8-key tile permuted), so P
// never leaves registers. Key blocks past the causal diagonal are not
// visited. Rows with every key masked give 0.
//
// Linear attention with MMA operands: chunked, on tensor cores
// (LinearAttentionMma.cpp). Everything else (f32 attention and linear
// attention without an MMA precision, causal_conv, gate) lowers
// to SIMT loop nests whose outer loops are scf.parallel, one GPU thread per
// iteration (gate-parallel-to-gpu): f32 math, no tensor cores.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Conversion/Passes.h"
#include "GPUKernelUtils.h"
#include "SdpaFragments.h"
#include "../SdpaOperands.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATETILEGPU
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using arith::CmpFPredicate;
using arith::CmpIPredicate;
using namespace gatec::gpu_kernels;

namespace {
RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }

struct SdpaToMma : OpRewritePattern<SdpaOp> {
  SdpaToMma(MLIRContext *ctx, std::string precision)
      : OpRewritePattern(ctx, /*benefit=*/3), precision(std::move(precision)) {}
  std::string precision;

  static constexpr int64_t kRows = 64, kWarps = 4;
  // Split-KV decode: at most this many splits, each at least this many keys.
  static constexpr int64_t kMaxSplits = 32, kSplitMinKeys = 512;

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    Type e = mmaOperandType(tt(op.getQuery()).getElementType(), precision);
    if (!e)
      return rw.notifyMatchFailure(op, "f32 without an MMA precision: SIMT");
    if (op.getWindow() || op.getBottomRight() || op.getSink())
      return rw.notifyMatchFailure(op, "windows, bottom-right bands, sinks are not here yet: SIMT");
    KernelBuilder b(op.getLoc(), rw);
    SdpaOperands so(b, op);
    Value q = so.q, k = so.k, v = so.v, gate = so.gate;
    auto resT = so.resT;
    const int64_t D = so.D, Dv = so.Dv, group = so.group;
    // One MMA step covers kStep of D (QKᵀ) or of the keys (P·V); a 32-bit
    // register holds p operands of eBytes each.
    const int64_t p = regElems(e), kStep = mmaK(e), eBytes = 4 / p;
    const int64_t Dp = roundUp(D, kStep);
    // Output columns per block: at most W = 128, fewer where the Q fragments
    // (4·Dp/kStep registers per lane; tf32 needs twice the 16-bit count)
    // leave less room: the O accumulators (W/8 tiles of 4 f32 per lane) and
    // the Q fragments fit in ~216 registers without spills (ptxas -v). Wider
    // heads are split over several blocks, each recomputing QKᵀ.
    const int64_t W = std::min<int64_t>(128, (216 - 4 * Dp / kStep) * 2 / 16 * 16);
    if (W < 16)
      return rw.notifyMatchFailure(op, "Q fragments of heads this wide exceed the registers: SIMT");
    const int64_t dvSplit = (roundUp(Dv, 16) + W - 1) / W;
    const int64_t Dvn = roundUp((Dv + dvSplit - 1) / dvSplit, 16);
    // Key block: as large as fits 40 KiB of static shared memory (K and V,
    // rows padded by 16 bytes against bank conflicts), at least one MMA step.
    const int64_t kStride = Dp + 16 / eBytes, vStride = Dvn + 16 / eBytes;
    int64_t BN = 64;
    while (BN > kStep && BN * (kStride + vStride) * eBytes > 20 * 1024)
      BN /= 2;
    if (2 * BN * (kStride + vStride) * eBytes > 48 * 1024)
      return rw.notifyMatchFailure(op, "heads too wide for static shared memory: SIMT");
    Value B = so.B, Hq = so.Hq, Sq = so.Sq, Skv = so.Skv, out = so.out;
    const bool causal = so.causal;

    auto wg = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    // Flat buffers: every fragment address is a per-lane base plus a
    // constant, which PTX folds into the load ([%r + imm]); 2-D indexing
    // made LLVM hoist one 64-bit address per fragment out of the loop.
    // Two stages: block i+1 is staged while block i is read, one barrier per
    // block. (The stage offset also keeps fragment addresses loop-variant, so
    // LLVM does not hoist one live register per fragment address.)
    auto kSmemT = MemRefType::get({2 * BN * kStride}, e, MemRefLayoutAttrInterface(), wg);
    auto vSmemT = MemRefType::get({2 * BN * vStride}, e, MemRefLayoutAttrInterface(), wg);
    Value c1 = b.idx(1);
    StringAttr kName = sharedBuffer(b, op, kSmemT), vName = sharedBuffer(b, op, vSmemT);
    // The kernel; with `split`, block z = (batch, KV split) covers keys
    // [sp·splitLen, (sp+1)·splitLen) and leaves its unnormalized rows, their
    // max and sum in scratch (parts: [B·P, Hq, Sq, Dv], stats: [B·P, Hq, Sq, 2]).
    struct Split {
      Value count, len, parts, stats;
    };
    auto emitKernel = [&](KernelBuilder &b, const Split *split) {
    Value gridZ = split ? b.muli(B, split->count) : B;
    auto launch = gpu::LaunchOp::create(b, b.muli(ceilDivIdx(b, Sq, kRows), b.idx(dvSplit)),
                                        Hq, gridZ,
                                        b.idx(32 * kWarps), c1, c1);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      Value Ks = memref::GetGlobalOp::create(b, kSmemT, kName.getValue());
      Value Vs = memref::GetGlobalOp::create(b, vSmemT, vName.getValue());
      Value tid = launch.getThreadIds().x;
      Value qb = b.divui(launch.getBlockIds().x, b.idx(dvSplit)),
            colBase = b.muli(arith::RemUIOp::create(b, launch.getBlockIds().x, b.idx(dvSplit)),
                             b.idx(Dvn)),
            h = launch.getBlockIds().y,
            bi = split ? b.divui(launch.getBlockIds().z, split->count) : launch.getBlockIds().z;
      Value sp = split ? arith::RemUIOp::create(b, launch.getBlockIds().z, split->count).getResult()
                       : Value();
      Value hk = b.divui(h, b.idx(group));
      Value warp = b.divui(tid, b.idx(32)), lane = arith::RemUIOp::create(b, tid, b.idx(32));
      Value g = b.divui(lane, b.idx(4)), tq = arith::RemUIOp::create(b, lane, b.idx(4));
      Value rowBase = b.addi(b.muli(qb, b.idx(kRows)), b.muli(warp, b.idx(16)));
      Value rows[2] = {b.addi(rowBase, g), b.addi(rowBase, b.addi(g, b.idx(8)))};
      Value rowOk[2] = {b.cmpi(CmpIPredicate::ult, rows[0], Sq),
                        b.cmpi(CmpIPredicate::ult, rows[1], Sq)};
      // tqp: the lane's first k of an A or B fragment (p per register).
      Value tq2 = b.muli(tq, b.idx(2)), tqp = p == 2 ? tq2 : tq;
      FragmentRows fr{bi, h, {rows[0], rows[1]}, {rowOk[0], rowOk[1]}, tq2};
      // Lane bases of the B fragments: K[key g][d tqp], V[key 2tq][col g].
      Value kBase = b.addi(b.muli(g, b.idx(kStride)), tqp);
      Value vBase = b.addi(b.muli(tq2, b.idx(vStride)), g);
      auto toE = [&](KernelBuilder &b, Value f) { return toOperand(b, e, f); };
      auto colOk = [&](KernelBuilder &b, Value col, int64_t n) -> Value {
        return n % 16 == 0 ? Value() : b.cmpi(CmpIPredicate::ult, col, b.idx(n));
      };

      // The warp's Q rows as A fragments, one per kStep columns of D:
      // registers 0-3 are (row g, col k), (g+8, k), (g, k + kStep/2),
      // (g+8, k + kStep/2), k = tqp.
      SmallVector<SmallVector<Value>> qFrag;
      for (int64_t s = 0; s < Dp / kStep; ++s) {
        SmallVector<Value> frag;
        for (int64_t r = 0; r < 4; ++r) {
          SmallVector<Value> x;
          for (int64_t j = 0; j < p; ++j) {
            Value col = b.addi(tqp, b.idx(kStep * s + (r >= 2 ? kStep / 2 : 0) + j));
            x.push_back(toE(b, maskedLoad(b, q, {bi, h, rows[r & 1], col},
                                          {{2, Sq}, {3, b.idx(D)}},
                                          andI(b, rowOk[r & 1], colOk(b, col, D)))));
          }
          frag.push_back(packReg(b, e, x));
        }
        qFrag.push_back(frag);
      }

      Value numBlocks;
      if (causal) {
        Value last = b.addi(b.muli(qb, b.idx(kRows)), b.idx(kRows));
        numBlocks = ceilDivIdx(b, b.minui(Skv, last), BN);
      } else {
        numBlocks = ceilDivIdx(b, Skv, BN);
      }
      const int64_t nTilesO = Dvn / 8;
      SmallVector<Value> init = {b.negInf(), b.negInf(), b.f32(0.0f), b.f32(0.0f)};
      for (int64_t i = 0; i < nTilesO * 4; ++i)
        init.push_back(b.f32(0.0f));

      Value firstBlock = b.idx(0);
      if (split) {
        // splitLen is a multiple of BN: no key block straddles two splits.
        firstBlock = b.divui(b.muli(sp, split->len), b.idx(BN));
        numBlocks = b.minui(numBlocks, b.divui(b.muli(b.addi(sp, c1), split->len), b.idx(BN)));
      }
      SmallVector<Value> fin = b.loop(
          firstBlock, numBlocks, c1, init,
          [&](KernelBuilder &b, Value kvb, ValueRange it) -> SmallVector<Value> {
        Value kv0 = b.muli(kvb, b.idx(BN));
        Value stageNo = arith::AndIOp::create(b, kvb, b.idx(1));
        Value kOff = b.muli(stageNo, b.idx(BN * kStride)),
              vOff = b.muli(stageNo, b.idx(BN * vStride));
        // Stage this block in its buffer: the last reads of that buffer
        // (block i-2) finished before every thread passed barrier i-1.
        auto stage = [&](Value src, Value dst, Value head, int64_t n, int64_t np,
                         int64_t stride, Value off, Value col0) {
          b.loop(tid, b.idx(BN * np), b.idx(32 * kWarps), [&](KernelBuilder &b, Value i) {
            Value r = b.divui(i, b.idx(np)), c = arith::RemUIOp::create(b, i, b.idx(np));
            Value kv = b.addi(kv0, r);
            Value srcCol = col0 ? b.addi(col0, c) : c;
            Value cOk = col0 || n % 16 ? b.cmpi(CmpIPredicate::ult, srcCol, b.idx(n)) : Value();
            Value ok = andI(b, b.cmpi(CmpIPredicate::ult, kv, Skv), cOk);
            memref::StoreOp::create(b,
                                    toE(b, maskedLoad(b, src, {bi, head, kv, srcCol},
                                                      {{2, Skv}, {3, b.idx(n)}}, ok)),
                                    dst,
                                    ValueRange{b.addi(off, b.addi(b.muli(r, b.idx(stride)), c))});
          });
        };
        stage(k, Ks, hk, D, Dp, kStride, kOff, Value());
        stage(v, Vs, hk, Dv, Dvn, vStride, vOff, dvSplit > 1 ? colBase : Value());
        Value kLane = b.addi(kBase, kOff), vLane = b.addi(vBase, vOff);
        barrier(b, op);

        // S = Q Kᵀ for BN keys: BN/8 accumulator tiles per warp.
        SmallVector<SmallVector<Value>> sc;
        for (int64_t j = 0; j < BN / 8; ++j) {
          SmallVector<Value> acc(4, b.f32(0.0f));

          for (int64_t s = 0; s < Dp / kStep; ++s) {
            // p consecutive d of one key: one 32-bit shared load each.
            SmallVector<Value> bf;
            for (int64_t half = 0; half < 2; ++half)
              bf.push_back(vector::LoadOp::create(
                  b, VectorType::get({p}, e), Ks,
                  ValueRange{b.addi(kLane, b.idx(8 * j * kStride + kStep * s +
                                                 kStep / 2 * half))}));
            acc = mmaSync(b, e, qFrag[s], bf, acc);
          }
          sc.push_back(acc);
        }
        Value alpha[2];
        SmallVector<Value> next = softmaxBlock(b, so, fr, kv0, sc, it.take_front(4), alpha);
        next.append(it.begin() + 4, it.end()); // the output tiles, updated below
        SmallVector<SmallVector<Value>> o(nTilesO);
        for (int64_t t = 0; t < nTilesO; ++t)
          for (int64_t r = 0; r < 4; ++r)
            o[t].push_back(b.mul(it[4 + 4 * t + r], alpha[r / 2]));
        // O += P V. 16-bit: P's accumulator tiles 2u, 2u+1 are the A
        // fragment of step u. tf32 (k8): tile u is, with the keys of the tile
        // permuted (k t <-> key 2t, k t+4 <-> key 2t+1), a0-a3 = P(g, 2t),
        // P(g+8, 2t), P(g, 2t+1), P(g+8, 2t+1), and the B fragment takes V's
        // keys 2t, 2t+1: the sum over the keys is the same.
        for (int64_t u = 0; u < BN / kStep; ++u) {
          SmallVector<Value> pa;
          for (int64_t r = 0; r < 4; ++r) {
            int64_t rr = r % 2, hi = r / 2;
            if (p == 2)
              pa.push_back(packReg(b, e, {toE(b, sc[2 * u + hi][2 * rr]),
                                          toE(b, sc[2 * u + hi][2 * rr + 1])}));
            else
              pa.push_back(packReg(b, e, {toE(b, sc[u][2 * rr + hi])}));
          }
          for (int64_t t = 0; t < nTilesO; ++t) {
            SmallVector<Value> bf;
            for (int64_t half = 0; half < 2; ++half) {
              SmallVector<Value> x;
              for (int64_t j = 0; j < p; ++j) {
                int64_t key = kStep * u + (p == 2 ? 8 * half + j : half);
                x.push_back(memref::LoadOp::create(
                    b, Vs, ValueRange{b.addi(vLane, b.idx(key * vStride + 8 * t))}));
              }
              bf.push_back(packReg(b, e, x));
            }
            o[t] = mmaSync(b, e, pa, bf, o[t]);
          }
        }
        for (int64_t t = 0; t < nTilesO; ++t)
          for (int64_t r = 0; r < 4; ++r)
            next[4 + 4 * t + r] = o[t][r];
        return next;
      });

      // Epilogue: normalize, gate, store the rows and columns in range.
      if (!split) {
        storeRows(b, so, fr, colBase, nTilesO, dvSplit == 1,
                  [&](int64_t t, int64_t r) { return fin[4 + 4 * t + r]; }, fin[2], fin[3]);
      } else {
        // Partial rows, unnormalized, with their max and sum: the combine
        // kernel rescales them.
        Value z = b.addi(b.muli(bi, split->count), sp);
        for (int64_t rr = 0; rr < 2; ++rr) {
          Value l = quadReduce(b, fin[2 + rr], /*isMax=*/false);
          auto ifRow = scf::IfOp::create(b, andI(b, rowOk[rr], b.cmpi(CmpIPredicate::eq, tq,
                                                                      b.idx(0))),
                                         /*withElseRegion=*/false);
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(&ifRow.getThenRegion().front());
          b.store(fin[rr], split->stats, {z, h, rows[rr], b.idx(0)});
          b.store(l, split->stats, {z, h, rows[rr], b.idx(1)});
        }
        for (int64_t t = 0; t < nTilesO; ++t)
          for (int64_t r = 0; r < 4; ++r) {
            int64_t rr = r / 2;
            Value col = b.addi(colBase, b.addi(tq2, b.idx(8 * t + r % 2)));
            Value ok = andI(b, rowOk[rr], b.cmpi(CmpIPredicate::ult, col, b.idx(Dv)));
            auto ifOp = scf::IfOp::create(b, ok, /*withElseRegion=*/false);
            OpBuilder::InsertionGuard g2(b);
            b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            b.store(fin[4 + 4 * t + r], split->parts, {z, h, rows[rr], col});
          }
      }
      gpu::TerminatorOp::create(b);
    }
    };

    // Decode (one query block) over a long KV sequence would occupy only
    // B·Hq blocks: split the keys over blocks and combine the partial rows.
    Value qBlocks = ceilDivIdx(b, Sq, kRows);
    // Grid z = batch × splits stays within CUDA's 65535.
    Value splits = b.minui(b.minui(b.idx(kMaxSplits), ceilDivIdx(b, Skv, kSplitMinKeys)),
                           b.divui(b.idx(65535), arith::MaxUIOp::create(b, B, c1)));
    Value useSplit = arith::AndIOp::create(b, b.cmpi(CmpIPredicate::eq, qBlocks, c1),
                                           b.cmpi(CmpIPredicate::ugt, splits, c1));
    auto ifOp = scf::IfOp::create(b, useSplit, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      // Keys per split: whole key blocks.
      Value blocks = ceilDivIdx(b, Skv, BN);
      Value perSplit = b.divui(b.addi(blocks, b.subi(splits, c1)), splits);
      Split sp{splits, b.muli(perSplit, b.idx(BN)), Value(), Value()};
      Value zs = b.muli(B, splits);
      sp.parts = b.allocF32({ShapedType::kDynamic, tt(op.getQuery()).getDimSize(1),
                             ShapedType::kDynamic, Dv},
                            {zs, Sq});
      sp.stats = b.allocF32({ShapedType::kDynamic, tt(op.getQuery()).getDimSize(1),
                             ShapedType::kDynamic, 2},
                            {zs, Sq});
      emitKernel(b, &sp);
      // Combine: out = Σ_s e^{m_s − M} O_s / Σ_s e^{m_s − M} l_s.
      Value zero = b.f32(0.0f);
      b.parallel({B, Hq, Sq, b.idx(Dv)}, true, [&](KernelBuilder &b, ValueRange iv) {
        Value bi = iv[0], h = iv[1], i = iv[2], d = iv[3];
        auto z = [&](KernelBuilder &b, Value s) { return b.addi(b.muli(bi, splits), s); };
        Value m = b.loop(b.idx(0), splits, c1, {b.negInf()},
                         [&](KernelBuilder &b, Value s, ValueRange a) -> SmallVector<Value> {
          return {b.max(a[0], b.load(sp.stats, {z(b, s), h, i, b.idx(0)}))};
        })[0];
        Value base = b.select(b.cmpf(CmpFPredicate::OEQ, m, b.negInf()), zero, m);
        SmallVector<Value> acc = b.loop(
            b.idx(0), splits, c1, {zero, zero},
            [&](KernelBuilder &b, Value s, ValueRange a) -> SmallVector<Value> {
          Value w = b.exp(b.sub(b.load(sp.stats, {z(b, s), h, i, b.idx(0)}), base));
          return {b.fma(w, b.load(sp.stats, {z(b, s), h, i, b.idx(1)}), a[0]),
                  b.fma(w, b.load(sp.parts, {z(b, s), h, i, d}), a[1])};
        });
        Value res = b.select(b.cmpf(CmpFPredicate::OEQ, acc[0], zero), zero,
                             b.div(acc[1], acc[0]));
        if (gate)
          res = b.applyGate(res, gate, {bi, h, i, d}, op.getGateAct() == Activation::silu);
        b.store(res, out, {bi, h, i, d});
      });
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      emitKernel(b, nullptr);
    }
    // tf32 rounding is an NVVM op that buffer deallocation would reject.
    deferNVVMOps(rw, ifOp);
    rw.replaceOp(op, b.toTensor(out, resT));
    return success();
  }
};

/// f32 attention on SIMT cores: one thread per query row, online softmax,
/// the output row accumulated in thread-local memory.
struct SdpaToSimt : OpRewritePattern<SdpaOp> {
  SdpaToSimt(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    KernelBuilder b(op.getLoc(), rw);
    SdpaOperands so(b, op);
    Value q = so.q, k = so.k, v = so.v, mask = so.mask, gate = so.gate;
    auto resT = so.resT;
    const int64_t D = so.D, Dv = so.Dv, group = so.group;
    Value B = so.B, Hq = so.Hq, Sq = so.Sq, Skv = so.Skv, out = so.out;
    const float softcap = so.softcap;
    const bool boolMask = so.boolMask;
    Value zero = b.f32(0.0f), c0 = b.idx(0), c1 = b.idx(1);

    b.parallel({B, Hq, Sq}, true, [&](KernelBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], h = ivs[1], i = ivs[2];
      Value hk = b.divui(h, b.idx(group));
      Value acc = memref::AllocaOp::create(b, MemRefType::get({Dv}, b.getF32Type()));
      b.loop(c0, b.idx(Dv), c1, [&](KernelBuilder &b, Value d) {
        memref::StoreOp::create(b, zero, acc, ValueRange{d});
      });
      // The keys of row i's band only, around its key position p (signed:
      // negative bottom-right when Skv < Sq).
      Value p = so.bottomRight ? b.addi(i, b.subi(Skv, Sq)) : i;
      Value begin = so.left ? arith::MaxSIOp::create(b, b.subi(p, b.idx(*so.left)), c0) : c0;
      Value end = so.right ? arith::MaxSIOp::create(
                                 b, arith::MinSIOp::create(b, Skv, b.addi(p, b.idx(*so.right + 1))),
                                 begin)
                           : Skv;
      // The softmax state starts at the sink (max = sink, sum = 1), if any.
      SmallVector<Value> init{b.negInf(), zero};
      if (so.sink) {
        init[0] = b.load(so.sink, {h});
        init[1] = b.select(b.cmpf(CmpFPredicate::OEQ, init[0], b.negInf()), zero, b.f32(1.0f));
      }
      SmallVector<Value> ml = b.loop(
          begin, end, c1, init,
          [&](KernelBuilder &b, Value j, ValueRange it) -> SmallVector<Value> {
        Value dot = b.loop(c0, b.idx(D), c1, {zero},
                           [&](KernelBuilder &b, Value d, ValueRange a) -> SmallVector<Value> {
          return {b.fma(b.load(q, {bi, h, i, d}), b.load(k, {bi, hk, j, d}), a[0])};
        })[0];
        Value s = b.mul(dot, b.f32(op.getScaleOrDefault()));
        if (softcap > 0.0f)
          s = b.mul(b.f32(softcap), b.tanh(b.div(s, b.f32(softcap))));
        if (mask) {
          Value mv = b.load(mask, b.bcastIndex(mask, {bi, h, i, j}));
          // a key masked to -inf takes no part, even with a NaN score
          s = boolMask ? b.select(mv, s, b.negInf())
                       : b.select(b.cmpf(CmpFPredicate::OEQ, mv, b.negInf()), b.negInf(),
                                  b.add(s, mv));
        }
        Value mNew = b.max(it[0], s);
        Value base = b.select(b.cmpf(CmpFPredicate::OEQ, mNew, b.negInf()), zero, mNew);
        Value alpha = b.exp(b.sub(it[0], base)), p = b.exp(b.sub(s, base));
        b.loop(c0, b.idx(Dv), c1, [&](KernelBuilder &b, Value d) {
          Value a = memref::LoadOp::create(b, acc, ValueRange{d});
          memref::StoreOp::create(b, b.fma(p, b.load(v, {bi, hk, j, d}), b.mul(a, alpha)),
                                  acc, ValueRange{d});
        });
        return {mNew, b.fma(it[1], alpha, p)};
      });
      Value inv = b.select(b.cmpf(CmpFPredicate::OEQ, ml[1], zero), zero,
                           b.div(b.f32(1.0f), ml[1]));
      b.loop(c0, b.idx(Dv), c1, [&](KernelBuilder &b, Value d) {
        Value o = b.mul(memref::LoadOp::create(b, acc, ValueRange{d}), inv);
        if (gate)
          o = b.applyGate(o, gate, {bi, h, i, d}, op.getGateAct() == Activation::silu);
        b.store(o, out, {bi, h, i, d});
      });
    });
    rw.replaceOp(op, b.toTensor(out, resT));
    return success();
  }
};

struct GateTileGPUPass : gatec::impl::GateTileGPUBase<GateTileGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (precision != "f32" && precision != "bf16" && precision != "f16" &&
        precision != "tf32") {
      getOperation().emitError() << "gate-tile-gpu: unknown precision '" << precision
                                 << "' (expected f32, bf16, f16 or tf32)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateGateGPUPatterns(patterns, precision, wgmma);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

void gatec::populateGateGPUPatterns(RewritePatternSet &patterns, StringRef precision,
                                    bool wgmma) {
  if (wgmma)
    populateGateWgmmaPatterns(patterns);
  patterns.add<SdpaToMma>(patterns.getContext(), precision.str());
  patterns.add<SdpaToSimt>(patterns.getContext());
  populateLinearAttentionMmaPatterns(patterns, precision);
  // Linear attention, causal_conv, gate: the reference loop nests with their
  // outer loops parallel, one GPU thread per (batch, head) / row.
  populateGateReferencePatterns(patterns, /*parallel=*/true);
}
