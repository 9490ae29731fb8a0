//===- LinearAttentionMma.cpp - chunked linear attention on tensor cores --===//
//
// gate.linear_attention with MMA operands as one gpu.launch. A thread
// block owns (batch, value head, 16 value columns): the recurrence is
// independent per value column, so the f32 state slab [K, 16] stays in shared
// memory for the whole sequence. Tokens go in chunks of C = 16; with G_i the
// within-chunk cumulative log decay (f32; scalar or per key channel) and U the
// chunk's updates:
//
//   delta rules: (I + A) U = β ⊙ (V − (K ⊙ e^G) S),  A_ij = β_i P(K,K)_ij, j < i
//                (an f32 forward substitution, one thread per value column)
//   otherwise:   U = V
//   O = scale · ((Q ⊙ e^G) S + P(Q,K)_{j<=i} U)
//   S ← e^{G_C} ⊙ S + (K ⊙ e^{G_C − G})ᵀ U
//
// where P(X,Y)_ij = Σ_c x_ic y_jc e^{G_ic − G_jc}. Every exponent is ≤ 0, so
// no decay overflows. The matmuls are tensor-core MMAs on shared memory with
// f32 accumulation: m16n8k16 on 16-bit copies of the operands (the state
// enters them rounded to 16 bits, as in flash-linear-attention), or m16n8k8
// on tf32 operands, which are f32 buffers rounded as the fragments are
// loaded (S, U and P need no copies then); P for per-channel decay, the
// cumulative sums, the substitution and the elementwise steps are SIMT f32.
//
//===----------------------------------------------------------------------===//
#include "GPUKernelUtils.h"
#include "../LinearAttentionOperands.h"
#include "gatec/Conversion/GateLowerings.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using namespace gatec::gpu_kernels;
using arith::CmpIPredicate;

namespace {
constexpr int64_t kC = 16, kVb = 16, kThreads = 128;

/// A flat shared buffer read as a matrix: element (r, c) at off + r·rs + c·cs.
struct View {
  Value buf;
  int64_t rs, cs;
};

struct LinearAttentionToMma : OpRewritePattern<LinearAttentionOp> {
  LinearAttentionToMma(MLIRContext *ctx, std::string precision)
      : OpRewritePattern(ctx, /*benefit=*/3), precision(std::move(precision)) {}
  std::string precision;

  LogicalResult matchAndRewrite(LinearAttentionOp op, PatternRewriter &rw) const override {
    Type e = mmaOperandType(cast<RankedTensorType>(op.getQuery().getType()).getElementType(),
                            precision);
    if (!e)
      return rw.notifyMatchFailure(op, "f32 without an MMA precision: SIMT");
    auto qt = cast<RankedTensorType>(op.getQuery().getType());
    const int64_t K = qt.getDimSize(3), Kp = roundUp(K, 16);
    const bool chDecay = op.hasChannelDecay(), gated = op.isGated(), delta = op.isDelta();
    const int64_t gWidth = chDecay ? Kp : 1;
    // 16-bit operands: S, U and P get 16-bit copies; tf32 ones read the f32
    // buffers.
    const int64_t p = regElems(e), kStep = mmaK(e), eBytes = 4 / p;
    const bool copies = !e.isF32();
    // Shared memory (bytes): Q, K, X as operands; G, S, V/U, P, O in f32;
    // the copies.
    int64_t bytes = 3 * kC * Kp * eBytes + kC * gWidth * 4 + kC * 4 + Kp * kVb * 4 +
                    kC * kVb * (4 + 4) + kC * kC * 4 +
                    (copies ? (Kp * kVb + kC * kVb + kC * kC) * eBytes : 0);
    if (bytes > 46 * 1024)
      return rw.notifyMatchFailure(
          op, "key head too large for static shared memory (" + std::to_string(bytes) +
                  " bytes at operand type " + (copies ? "16-bit" : "tf32") + "): SIMT");

    KernelBuilder b(op.getLoc(), rw);
    LinearAttentionOperands la(b, op);
    const int64_t V = la.V, hv = la.hv;
    const float scale = op.getScaleOrDefault();
    const unsigned tPos = la.tokenMajor ? 1 : 2;
    Type f32 = b.getF32Type();
    auto wg = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto smem = [&](int64_t n, Type t) {
      auto type = MemRefType::get({n}, t, MemRefLayoutAttrInterface(), wg);
      return std::pair{sharedBuffer(b, op, type), type};
    };
    auto qeD = smem(kC * Kp, e), keD = smem(kC * Kp, e), xeD = smem(kC * Kp, e),
         gsD = smem(kC * gWidth, f32), bsD = smem(kC, f32), sD = smem(Kp * kVb, f32),
         seD = copies ? smem(Kp * kVb, e) : sD, vsD = smem(kC * kVb, f32),
         ueD = copies ? smem(kC * kVb, e) : vsD, pfD = smem(kC * kC, f32),
         peD = copies ? smem(kC * kC, e) : pfD, osD = smem(kC * kVb, f32);

    Value c1 = b.idx(1);
    auto launch = gpu::LaunchOp::create(b, b.idx((V + kVb - 1) / kVb), b.idx(hv), la.B,
                                        b.idx(kThreads), c1, c1);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    auto get = [&](std::pair<StringAttr, MemRefType> d) -> Value {
      return memref::GetGlobalOp::create(b, d.second, d.first.getValue());
    };
    Value Qe = get(qeD), Ke = get(keD), Xe = get(xeD), Gs = get(gsD), Bs = get(bsD),
          S = get(sD), Se = get(seD), Vs = get(vsD), Ue = get(ueD), Pf = get(pfD),
          Pe = get(peD), Os = get(osD);
    Value tid = launch.getThreadIds().x;
    Value col0 = b.muli(launch.getBlockIds().x, b.idx(kVb)), j = launch.getBlockIds().y,
          bi = launch.getBlockIds().z;
    Value kh = b.divui(j, b.idx(la.statesPerKey));
    Value warp = b.divui(tid, b.idx(32)), lane = arith::RemUIOp::create(b, tid, b.idx(32));
    Value g = b.divui(lane, b.idx(4)), tq = arith::RemUIOp::create(b, lane, b.idx(4));
    // tq2: the lane's first accumulator column; tqp: its first k of a fragment.
    Value tq2 = b.muli(tq, b.idx(2)), tqp = p == 2 ? tq2 : tq;
    Value T = la.T;

    auto ld = [&](KernelBuilder &b, Value buf, Value i) -> Value {
      Value v = memref::LoadOp::create(b, buf, ValueRange{i});
      return v.getType().isF32() ? v : arith::ExtFOp::create(b, f32, v).getResult();
    };
    auto st = [&](KernelBuilder &b, Value v, Value buf, Value i) {
      Type t = cast<MemRefType>(buf.getType()).getElementType();
      if (t != v.getType())
        v = arith::TruncFOp::create(b, t, v);
      memref::StoreOp::create(b, v, buf, ValueRange{i});
    };
    auto at = [&](KernelBuilder &b, Value r, int64_t stride, Value c) {
      return b.addi(b.muli(r, b.idx(stride)), c);
    };
    // Every thread takes elements tid, tid + 128, ... of [0, n).
    auto simt = [&](int64_t n, function_ref<void(KernelBuilder &, Value)> fn) {
      b.loop(tid, b.idx(n), b.idx(kThreads), fn);
    };
    auto sync = [&] { barrier(b, op); };
    // out(M×N, f32) (+)= A(M×Kd) · B(Kd×N): warps take 16×8 tiles in turn.
    auto matmul = [&](Value out, int64_t ldo, bool accumulate, View A, View Bm, int64_t M,
                      int64_t N, int64_t Kd) {
      int64_t nT = N / 8;
      b.loop(warp, b.idx(M / 16 * nT), b.idx(kThreads / 32), [&](KernelBuilder &b, Value t) {
        Value r0 = b.addi(b.muli(b.divui(t, b.idx(nT)), b.idx(16)), g);
        Value r1 = b.addi(r0, b.idx(8));
        Value n0 = b.muli(arith::RemUIOp::create(b, t, b.idx(nT)), b.idx(8));
        Value cc = b.addi(n0, tq2), nb = b.addi(n0, g);
        Value idx[4] = {at(b, r0, ldo, cc), b.addi(at(b, r0, ldo, cc), c1), at(b, r1, ldo, cc),
                        b.addi(at(b, r1, ldo, cc), c1)};
        SmallVector<Value> acc;
        for (Value i : idx)
          acc.push_back(accumulate ? ld(b, out, i) : b.f32(0.0f));
        // p consecutive k of row r (A) or column c (B) as one register.
        auto reg = [&](KernelBuilder &b, View v, Value r, Value c, bool alongRow) {
          SmallVector<Value> xs;
          for (int64_t j = 0; j < p; ++j) {
            Value rj = alongRow ? r : b.addi(r, b.idx(j)), cj = alongRow ? b.addi(c, b.idx(j)) : c;
            Value x = memref::LoadOp::create(
                b, v.buf, ValueRange{b.addi(b.muli(rj, b.idx(v.rs)), b.muli(cj, b.idx(v.cs)))});
            xs.push_back(copies ? x : toOperand(b, e, x));
          }
          return packReg(b, e, xs);
        };
        for (int64_t ks = 0; ks < Kd / kStep; ++ks) {
          SmallVector<Value> a, bb;
          for (int64_t r = 0; r < 4; ++r) {
            Value row = r & 1 ? r1 : r0;
            Value k = b.addi(tqp, b.idx(kStep * ks + (r >= 2 ? kStep / 2 : 0)));
            a.push_back(reg(b, A, row, k, /*alongRow=*/true));
          }
          for (int64_t half = 0; half < 2; ++half) {
            Value k = b.addi(tqp, b.idx(kStep * ks + kStep / 2 * half));
            bb.push_back(reg(b, Bm, k, nb, /*alongRow=*/false));
          }
          acc = mmaSync(b, e, a, bb, acc);
        }
        for (int64_t i = 0; i < 4; ++i)
          st(b, acc[i], out, idx[i]);
      });
      sync();
    };
    auto G = [&](KernelBuilder &b, Value i, Value c) -> Value {
      if (!gated)
        return b.f32(0.0f);
      return ld(b, Gs, chDecay ? at(b, i, Kp, c) : i);
    };
    // dst[i][c] = src[t0 + i][c] (zero past T or K) in the operand type, times e^{f(i, c)}.
    auto loadTokens = [&](Value dst, Value src, Value head, Value t0,
                          function_ref<Value(KernelBuilder &, Value, Value)> logScale) {
      simt(kC * Kp, [&](KernelBuilder &b, Value x) {
        Value i = b.divui(x, b.idx(Kp)), c = arith::RemUIOp::create(b, x, b.idx(Kp));
        Value t = b.addi(t0, i);
        Value ok = andI(b, b.cmpi(CmpIPredicate::ult, t, T),
                        K % 16 ? b.cmpi(CmpIPredicate::ult, c, b.idx(K)) : Value());
        Value v = maskedLoad(b, src, la.tok(b, bi, head, t, c), {{tPos, T}, {3, b.idx(K)}}, ok);
        if (logScale)
          v = b.mul(v, b.exp(logScale(b, i, c)));
        st(b, v, dst, x);
      });
    };
    // Scales (i, c) of the operand copies of Q and K.
    auto sinceStart = [&](KernelBuilder &b, Value i, Value c) { return G(b, i, c); };
    auto toEnd = [&](KernelBuilder &b, Value i, Value c) {
      return b.sub(G(b, b.idx(kC - 1), c), G(b, i, c));
    };
    // Pf = P(X, K) over j < i (strict) or j <= i, X the operand rows in `X`.
    auto decayedScores = [&](Value X, bool strict) {
      auto live = [&](KernelBuilder &b, Value i, Value jj) {
        return b.cmpi(strict ? CmpIPredicate::ult : CmpIPredicate::ule, jj, i);
      };
      if (!chDecay) {
        matmul(Pf, kC, false, {X, Kp, 1}, {Ke, 1, Kp}, kC, kC, Kp);
        simt(kC * kC, [&](KernelBuilder &b, Value x) {
          Value i = b.divui(x, b.idx(kC)), jj = arith::RemUIOp::create(b, x, b.idx(kC));
          Value p = ld(b, Pf, x);
          if (gated)
            p = b.mul(p, b.exp(b.sub(G(b, i, c1), G(b, jj, c1))));
          st(b, b.select(live(b, i, jj), p, b.f32(0.0f)), Pf, x);
        });
      } else {
        simt(kC * kC, [&](KernelBuilder &b, Value x) {
          Value i = b.divui(x, b.idx(kC)), jj = arith::RemUIOp::create(b, x, b.idx(kC));
          Value p = b.loop(b.idx(0), b.idx(Kp), c1, {b.f32(0.0f)},
                           [&](KernelBuilder &b, Value c, ValueRange a) -> SmallVector<Value> {
            // Masked pairs (j > i) would have positive exponents: use 0.
            Value d = b.select(live(b, i, jj), b.sub(G(b, i, c), G(b, jj, c)), b.f32(0.0f));
            Value xy = b.mul(ld(b, X, at(b, i, Kp, c)), ld(b, Ke, at(b, jj, Kp, c)));
            return {b.fma(xy, b.exp(d), a[0])};
          })[0];
          st(b, b.select(live(b, i, jj), p, b.f32(0.0f)), Pf, x);
        });
      }
      sync();
    };
    auto copyState = [&] {
      if (!copies)
        return;
      simt(Kp * kVb, [&](KernelBuilder &b, Value x) { st(b, ld(b, S, x), Se, x); });
      sync();
    };

    // The state slab: initial state or zeros.
    simt(Kp * kVb, [&](KernelBuilder &b, Value x) {
      Value r = b.divui(x, b.idx(kVb)), col = b.addi(col0, arith::RemUIOp::create(b, x, b.idx(kVb)));
      Value ok = andI(b, b.cmpi(CmpIPredicate::ult, r, b.idx(K)),
                      b.cmpi(CmpIPredicate::ult, col, b.idx(V)));
      Value v = la.init ? maskedLoad(b, la.init, {bi, j, r, col}, {{2, b.idx(K)}, {3, b.idx(V)}}, ok)
                        : b.f32(0.0f);
      st(b, v, S, x);
    });
    sync();
    copyState();

    Value nChunks = ceilDivIdx(b, T, kC);
    b.loop(b.idx(0), nChunks, c1, [&](KernelBuilder &bb, Value ch) {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      Value t0 = b.muli(ch, b.idx(kC));
      // Keys, values (this block's columns), log decays, betas.
      loadTokens(Ke, la.k, kh, t0, nullptr);
      simt(kC * kVb, [&](KernelBuilder &b, Value x) {
        Value i = b.divui(x, b.idx(kVb)), col = b.addi(col0, arith::RemUIOp::create(b, x, b.idx(kVb)));
        Value t = b.addi(t0, i);
        Value ok = andI(b, b.cmpi(CmpIPredicate::ult, t, T), b.cmpi(CmpIPredicate::ult, col, b.idx(V)));
        st(b, maskedLoad(b, la.v, la.tok(b, bi, j, t, col), {{tPos, T}, {3, b.idx(V)}}, ok), Vs, x);
      });
      if (gated)
        simt(kC * gWidth, [&](KernelBuilder &b, Value x) {
          Value i = chDecay ? b.divui(x, b.idx(Kp)) : x;
          Value t = b.addi(t0, i);
          Value ok = b.cmpi(CmpIPredicate::ult, t, T);
          Value v;
          if (chDecay) {
            Value c = arith::RemUIOp::create(b, x, b.idx(Kp));
            ok = andI(b, ok, b.cmpi(CmpIPredicate::ult, c, b.idx(K)));
            v = maskedLoad(b, la.decay, la.tok(b, bi, j, t, c), {{tPos, T}, {3, b.idx(K)}}, ok);
          } else {
            v = maskedLoad(b, la.decay, la.tok3(b, bi, j, t), {{tPos, T}}, ok);
          }
          // A log decay of -inf (decay 0) would make the differences of
          // cumulative sums NaN; e^-80 is zero for the state all the same.
          st(b, b.max(v, b.f32(-80.0f)), Gs, x);
        });
      if (delta)
        simt(kC, [&](KernelBuilder &b, Value i) {
          Value t = b.addi(t0, i);
          st(b, maskedLoad(b, la.beta, la.tok3(b, bi, j, t), {{tPos, T}}, b.cmpi(CmpIPredicate::ult, t, T)),
             Bs, i);
        });
      sync();
      if (gated) {
        // Within-chunk cumulative sums, one thread per channel.
        simt(gWidth, [&](KernelBuilder &b, Value c) {
          b.loop(b.idx(0), b.idx(kC), c1, {b.f32(0.0f)},
                 [&](KernelBuilder &b, Value i, ValueRange a) -> SmallVector<Value> {
            Value x = chDecay ? at(b, i, Kp, c) : i;
            Value s = b.add(a[0], ld(b, Gs, x));
            st(b, s, Gs, x);
            return {s};
          });
        });
        sync();
      }
      if (delta) {
        decayedScores(Ke, /*strict=*/true);
        loadTokens(Xe, la.k, kh, t0, sinceStart);
        sync();
        matmul(Os, kVb, false, {Xe, Kp, 1}, {Se, kVb, 1}, kC, kVb, Kp);
        simt(kC * kVb, [&](KernelBuilder &b, Value x) {
          Value i = b.divui(x, b.idx(kVb));
          st(b, b.mul(ld(b, Bs, i), b.sub(ld(b, Vs, x), ld(b, Os, x))), Vs, x);
        });
        sync();
        // (I + A) U = R, A_ij = β_i Pf_ij: forward substitution per column.
        simt(kVb, [&](KernelBuilder &b, Value c) {
          b.loop(b.idx(0), b.idx(kC), c1, [&](KernelBuilder &b, Value i) {
            Value bt = ld(b, Bs, i);
            Value u = b.loop(b.idx(0), i, c1, {ld(b, Vs, at(b, i, kVb, c))},
                             [&](KernelBuilder &b, Value jj, ValueRange a) -> SmallVector<Value> {
              Value aij = b.mul(bt, ld(b, Pf, at(b, i, kC, jj)));
              return {b.sub(a[0], b.mul(aij, ld(b, Vs, at(b, jj, kVb, c))))};
            })[0];
            st(b, u, Vs, at(b, i, kVb, c));
          });
        });
        sync();
      }
      if (copies) {
        simt(kC * kVb, [&](KernelBuilder &b, Value x) { st(b, ld(b, Vs, x), Ue, x); });
        sync();
      }
      for (int64_t gq = 0; gq < la.qPerState; ++gq) {
        Value qh = la.gqa ? b.addi(b.muli(j, b.idx(la.qPerState)), b.idx(gq)) : kh;
        Value oh = la.gqa ? qh : j;
        loadTokens(Qe, la.q, qh, t0, nullptr);
        loadTokens(Xe, la.q, qh, t0, sinceStart);
        sync();
        decayedScores(Qe, /*strict=*/false);
        if (copies) {
          simt(kC * kC, [&](KernelBuilder &b, Value x) { st(b, ld(b, Pf, x), Pe, x); });
          sync();
        }
        matmul(Os, kVb, false, {Xe, Kp, 1}, {Se, kVb, 1}, kC, kVb, Kp);
        matmul(Os, kVb, true, {Pe, kC, 1}, {Ue, kVb, 1}, kC, kVb, kC);
        simt(kC * kVb, [&](KernelBuilder &b, Value x) {
          Value i = b.divui(x, b.idx(kVb)), col = b.addi(col0, arith::RemUIOp::create(b, x, b.idx(kVb)));
          Value t = b.addi(t0, i);
          Value ok = arith::AndIOp::create(b, b.cmpi(CmpIPredicate::ult, t, T),
                                           b.cmpi(CmpIPredicate::ult, col, b.idx(V)));
          auto ifOp = scf::IfOp::create(b, ok, false);
          OpBuilder::InsertionGuard g3(b);
          b.setInsertionPointToStart(&ifOp.getThenRegion().front());
          SmallVector<Value> at = la.tok(b, bi, oh, t, col);
          b.store(la.gated(b, b.mul(ld(b, Os, x), b.f32(scale)), at), la.out, at);
        });
        sync();
      }
      // S ← e^{G_C} ⊙ S + (K ⊙ e^{G_C − G})ᵀ U
      loadTokens(Xe, la.k, kh, t0, toEnd);
      if (gated)
        simt(Kp * kVb, [&](KernelBuilder &b, Value x) {
          Value r = b.divui(x, b.idx(kVb));
          st(b, b.mul(ld(b, S, x), b.exp(G(b, b.idx(kC - 1), r))), S, x);
        });
      sync();
      matmul(S, kVb, true, {Xe, 1, Kp}, {Ue, kVb, 1}, Kp, kVb, kC);
      copyState();
    });

    // Final state.
    simt(Kp * kVb, [&](KernelBuilder &b, Value x) {
      Value r = b.divui(x, b.idx(kVb)), col = b.addi(col0, arith::RemUIOp::create(b, x, b.idx(kVb)));
      Value ok = arith::AndIOp::create(b, b.cmpi(CmpIPredicate::ult, r, b.idx(K)),
                                       b.cmpi(CmpIPredicate::ult, col, b.idx(V)));
      auto ifOp = scf::IfOp::create(b, ok, false);
      OpBuilder::InsertionGuard g3(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      b.store(ld(b, S, x), la.st, {bi, j, r, col});
    });
    gpu::TerminatorOp::create(b);
    b.setInsertionPointAfter(launch);
    // tf32 rounding is an NVVM op that buffer deallocation would reject.
    deferNVVMOps(rw, launch);
    rw.replaceOp(op, {b.toTensor(la.out, la.outT), b.toTensor(la.st, la.stT)});
    return success();
  }
};
} // namespace

void gatec::populateLinearAttentionMmaPatterns(RewritePatternSet &patterns,
                                               StringRef precision) {
  patterns.add<LinearAttentionToMma>(patterns.getContext(), precision.str());
}
