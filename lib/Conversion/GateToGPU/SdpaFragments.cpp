//===- SdpaFragments.cpp - attention on accumulator fragments -------------===//
#include "SdpaFragments.h"
#include "GPUKernelUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace gatec;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

namespace gatec::gpu_kernels {

SmallVector<Value> softmaxBlock(KernelBuilder &b, const SdpaOperands &so, const FragmentRows &fr,
                                Value kv0, SmallVectorImpl<SmallVector<Value>> &sc,
                                ValueRange state, Value alpha[2]) {
  Value mLoc[2] = {b.negInf(), b.negInf()};
  for (size_t j = 0; j < sc.size(); ++j)
    for (int64_t r = 0; r < 4; ++r) {
      int64_t rr = r / 2;
      Value col = b.addi(kv0, b.addi(fr.tq2, b.idx(8 * j + r % 2)));
      Value x = b.mul(sc[j][r], b.f32(so.scale));
      if (so.softcap > 0.0f)
        x = b.mul(b.f32(so.softcap), b.tanh(b.div(x, b.f32(so.softcap))));
      Value inKv = b.cmpi(CmpIPredicate::ult, col, so.Skv);
      if (so.mask) {
        Value mv = maskedLoad(b, so.mask, b.bcastIndex(so.mask, {fr.bi, fr.h, fr.rows[rr], col}),
                              {{2, so.Sq}, {3, so.Skv}}, andI(b, fr.rowOk[rr], inKv));
        x = so.boolMask ? b.select(mv, x, b.negInf()) : b.add(x, mv);
      }
      Value dead = b.cmpi(CmpIPredicate::uge, col, so.Skv);
      if (so.causal)
        dead = arith::OrIOp::create(b, dead, b.cmpi(CmpIPredicate::ugt, col, fr.rows[rr]));
      sc[j][r] = b.select(dead, b.negInf(), x);
      mLoc[rr] = b.max(mLoc[rr], sc[j][r]);
    }
  SmallVector<Value> next(state.begin(), state.end());
  Value base[2];
  for (int64_t rr = 0; rr < 2; ++rr) {
    Value mNew = b.max(state[rr], quadReduce(b, mLoc[rr], /*isMax=*/true));
    // A row with no live key so far keeps max -inf; exponents use 0.
    base[rr] = b.select(b.cmpf(CmpFPredicate::OEQ, mNew, b.negInf()), b.f32(0.0f), mNew);
    alpha[rr] = b.exp(b.sub(state[rr], base[rr]));
    next[rr] = mNew;
  }
  Value lSum[2] = {b.f32(0.0f), b.f32(0.0f)};
  for (auto &tile : sc)
    for (int64_t r = 0; r < 4; ++r) {
      tile[r] = b.exp(b.sub(tile[r], base[r / 2]));
      lSum[r / 2] = b.add(lSum[r / 2], tile[r]);
    }
  for (int64_t rr = 0; rr < 2; ++rr)
    next[2 + rr] = b.fma(state[2 + rr], alpha[rr], lSum[rr]);
  return next;
}

void storeRows(KernelBuilder &b, const SdpaOperands &so, const FragmentRows &fr, Value colBase,
               int64_t nTiles, bool colsExact, function_ref<Value(int64_t, int64_t)> o,
               Value l0, Value l1) {
  Value inv[2];
  Value ls[2] = {l0, l1};
  for (int64_t rr = 0; rr < 2; ++rr) {
    Value l = quadReduce(b, ls[rr], /*isMax=*/false);
    inv[rr] = b.select(b.cmpf(CmpFPredicate::OEQ, l, b.f32(0.0f)), b.f32(0.0f),
                       b.div(b.f32(1.0f), l));
  }
  for (int64_t t = 0; t < nTiles; ++t)
    for (int64_t r = 0; r < 4; ++r) {
      int64_t rr = r / 2;
      Value col = b.addi(colBase, b.addi(fr.tq2, b.idx(8 * t + r % 2)));
      Value ok = andI(b, fr.rowOk[rr],
                      colsExact && 8 * t + 8 <= so.Dv ? Value()
                                                      : b.cmpi(CmpIPredicate::ult, col, b.idx(so.Dv)));
      Value res = b.mul(o(t, r), inv[rr]);
      auto ifOp = scf::IfOp::create(b, ok, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      if (so.gate)
        res = b.applyGate(res, so.gate, {fr.bi, fr.h, fr.rows[rr], col}, so.siluGate);
      b.store(res, so.out, {fr.bi, fr.h, fr.rows[rr], col});
    }
}

} // namespace gatec::gpu_kernels
