//===- RaiseRecurrence.cpp - token loops -> gate.linear_attention ---------===//
//
// An ONNX Scan over tokens (LinearAttention's own function body, or an
// exporter's loop) arrives as an scf.for whose body slices one token of
// time-major tensors, updates a carried state with batched matmuls and writes
// one output row. Matching is on meaning, not op order: reshapes are looked
// through, matmuls are accepted in either orientation (Sᵀk as kᵀS or
// transpose(S)·k), and elementwise products in either operand order.
//
//===----------------------------------------------------------------------===//
#include "gatec/Dialect/Gate/Transforms/Passes.h"
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec::gate {
#define GEN_PASS_DEF_GATERAISERECURRENCE
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
} // namespace gatec::gate

using namespace mlir;
using namespace gatec::gate;
using namespace gatec::gate::raise;

namespace {
class LoopMatcher {
public:
  LoopMatcher(scf::ForOp loop) : loop(loop), iv(loop.getInductionVar()) {}

  /// The loop-invariant time-major tensor X [T, ...] of which `v` is the
  /// current token's slice X[iv].
  Value timeSlice(Value v) {
    auto ex = stripReshapes(v).getDefiningOp<tensor::ExtractSliceOp>();
    if (!ex || !loop.isDefinedOutsideOfLoop(ex.getSource()))
      return {};
    auto offsets = ex.getMixedOffsets(), sizes = ex.getMixedSizes(),
         strides = ex.getMixedStrides();
    auto src = rtt(ex.getSource());
    if (!src || offsets.empty() || dyn_cast<Value>(offsets[0]) != iv ||
        getConstantIntValue(sizes[0]) != 1)
      return {};
    for (size_t d = 0; d < offsets.size(); ++d) {
      if (getConstantIntValue(strides[d]) != 1)
        return {};
      if (d == 0)
        continue;
      if (getConstantIntValue(offsets[d]) != 0)
        return {};
      auto sz = getConstantIntValue(sizes[d]);
      if (!src.isDynamicDim(d) ? sz != src.getDimSize(d) : sz.has_value())
        return {}; // dynamic dims must be taken whole (checked by shape below)
    }
    return ex.getSource();
  }

  /// v = a·b as a zero-initialized batched matmul (through reshapes); the
  /// 3-D operands and their shapes.
  bool bmm(Value v, Value &a, Value &b) {
    auto op = stripReshapes(v).getDefiningOp<linalg::BatchMatmulOp>();
    if (!op || op.getInputs().size() != 2)
      return false;
    auto fill = op.getOutputs()[0].getDefiningOp<linalg::FillOp>();
    if (!fill || splatValue(fill.getInputs()[0]) != 0.0)
      return false;
    a = op.getInputs()[0];
    b = op.getInputs()[1];
    return true;
  }

  /// v = Mᵀx for a state-shaped M [B,H,K,V] and a per-token vector x: either
  /// bmm(x[1,K], M[K,V]) or bmm(transpose(M)[V,K], x[K,1]).
  bool stateTransposeTimes(Value v, Value &state, Value &x) {
    Value a, b;
    if (!bmm(v, a, b))
      return false;
    auto at = rtt(a), bt = rtt(b);
    if (at.getDimSize(1) == 1) { // [1,K] x [K,V]
      state = stripReshapes(b);
      x = a;
      return rtt(state).getRank() == 4 || rtt(state).getRank() == 5;
    }
    if (bt.getDimSize(2) == 1) { // [V,K] x [K,1]
      auto tr = stripReshapes(a).getDefiningOp<linalg::TransposeOp>();
      if (!tr || tr.getPermutation() != ArrayRef<int64_t>{0, 1, 3, 2})
        return false;
      state = tr.getInput();
      x = b;
      return true;
    }
    return false;
  }

  /// v = x ⊙ y in either order: returns the other operand when one side
  /// satisfies `pred`.
  template <typename Pred>
  Value mulWith(Value v, Pred pred, Value &matched) {
    auto mul = v.getDefiningOp<arith::MulFOp>();
    if (!mul)
      return {};
    if (pred(mul.getLhs())) { matched = mul.getLhs(); return mul.getRhs(); }
    if (pred(mul.getRhs())) { matched = mul.getRhs(); return mul.getLhs(); }
    return {};
  }

  scf::ForOp loop;
  Value iv;
};

/// Marks the copy of a raised loop kept for trip counts other than T.
constexpr llvm::StringLiteral kKeepLoop = "gate.keep_loop";

struct RaiseRecurrence : OpRewritePattern<scf::ForOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(scf::ForOp loop, PatternRewriter &rw) const override {
    if (loop->hasAttr(kKeepLoop) || loop.getNumRegionIterArgs() != 2 ||
        getConstantIntValue(loop.getLowerBound()) != 0 ||
        getConstantIntValue(loop.getStep()) != 1)
      return failure();
    LoopMatcher m(loop);
    Value S = loop.getRegionIterArgs()[0], outArg = loop.getRegionIterArgs()[1];
    auto sT = rtt(S), oT = rtt(outArg);
    if (!sT || !oT || sT.getRank() != 4 || oT.getRank() != 4 || !sT.getElementType().isF32() ||
        sT.isDynamicDim(1) || sT.isDynamicDim(2) || sT.isDynamicDim(3))
      return failure();
    int64_t H = sT.getDimSize(1), K = sT.getDimSize(2), V = sT.getDimSize(3);
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    Value sNew = yield.getOperand(0);
    auto ins = yield.getOperand(1).getDefiningOp<tensor::InsertSliceOp>();
    if (!ins || ins.getDest() != outArg || ins.getMixedOffsets().empty() ||
        dyn_cast<Value>(ins.getMixedOffsets()[0]) != m.iv)
      return failure();

    // o = c · S_newᵀ q
    double scale = 1.0;
    Value oCore = stripScale(stripReshapes(ins.getSource()), scale);
    Value st, qVec;
    if (!m.stateTransposeTimes(oCore, st, qVec))
      return rw.notifyMatchFailure(loop, "output is not S_newᵀq");
    // GQA: the state repeated over a group of query heads, [B,H,G,K,V].
    int64_t G = 1;
    if (st != sNew) {
      Value src = broadcastSource(st);
      auto t5 = rtt(st);
      if (!src || t5.getRank() != 5 || stripReshapes(src) != sNew || t5.isDynamicDim(2))
        return rw.notifyMatchFailure(loop, "output is not S_newᵀq");
      G = t5.getDimSize(2);
    }
    Value Xq = m.timeSlice(qVec);

    // S_new = S' + k ⊗ u
    auto add = sNew.getDefiningOp<arith::AddFOp>();
    if (!add || !Xq)
      return failure();
    Value Sd, kCol, uRow;
    for (auto [outer, other] : {std::pair{add.getRhs(), add.getLhs()}, {add.getLhs(), add.getRhs()}}) {
      Value a, b;
      if (m.bmm(outer, a, b) && rtt(a).getDimSize(2) == 1 && rtt(b).getDimSize(1) == 1) {
        kCol = a;
        uRow = b;
        Sd = other;
        break;
      }
    }
    if (!Sd)
      return rw.notifyMatchFailure(loop, "no k ⊗ u update");
    Value Xk = m.timeSlice(kCol);

    // S' = S ⊙ exp(g), broadcast per key row (channel) or per head (scalar).
    Value Xg;
    bool channel = false;
    if (Sd != S) {
      Value bc;
      Value other = m.mulWith(Sd, [&](Value x) { return x == S; }, bc);
      if (!other)
        return rw.notifyMatchFailure(loop, "state update is not S ⊙ exp(g)");
      SmallVector<int64_t> dims;
      Value src = broadcastSource(other, &dims);
      if (!src)
        return failure();
      auto exp = stripReshapes(src).getDefiningOp<math::ExpOp>();
      if (!exp)
        return failure();
      Xg = m.timeSlice(exp.getOperand());
      if (!Xg)
        return failure();
      if (dims == SmallVector<int64_t>{3})
        channel = true;
      else if (dims != SmallVector<int64_t>{2, 3})
        return failure();
    }

    // u = β ⊙ (v − S'ᵀk), or u = v.
    Value Xv = m.timeSlice(uRow), Xbeta;
    if (!Xv) {
      Value bcB;
      Value diff = m.mulWith(stripReshapes(uRow), [&](Value x) { return bool(broadcastSource(x)); }, bcB);
      auto sub = diff ? stripReshapes(diff).getDefiningOp<arith::SubFOp>() : arith::SubFOp();
      if (!sub)
        return rw.notifyMatchFailure(loop, "u is neither v nor β(v − Sᵀk)");
      Xbeta = m.timeSlice(broadcastSource(bcB));
      Xv = m.timeSlice(sub.getLhs());
      Value st2, kVec2;
      if (!Xbeta || !Xv || !m.stateTransposeTimes(sub.getRhs(), st2, kVec2) || st2 != Sd ||
          m.timeSlice(kVec2) != Xk)
        return rw.notifyMatchFailure(loop, "delta term is not β(v − S'ᵀk)");
    }
    if (!Xk || !Xv)
      return failure();

    // Time-major [T,B,H,D] operands; T must be the trip count.
    // Per-head values (decay, beta) may also be [T,B,H].
    auto isTBHD = [&](Value x, int64_t d) {
      auto t = rtt(x);
      if (!t || !t.getElementType().isF32() || t.getRank() < 3 || t.getDimSize(2) != H)
        return false;
      return t.getRank() == 4 ? t.getDimSize(3) == d : (t.getRank() == 3 && d == 1);
    };
    auto isTGHD = [&](Value x, int64_t d) { // query-side: H·G heads
      auto t = rtt(x);
      return t && t.getRank() == 4 && t.getElementType().isF32() &&
             t.getDimSize(2) == H * G && t.getDimSize(3) == d;
    };
    if (!isTGHD(Xq, K) || !isTBHD(Xk, K) || !isTBHD(Xv, V) || (Xg && !isTBHD(Xg, channel ? K : 1)) ||
        (Xbeta && !isTBHD(Xbeta, 1)) || !isTGHD(outArg, V))
      return failure();
    Location loc = loop.getLoc();
    rw.setInsertionPoint(loop);
    // When the trip count is not provably the sequence length, check it at
    // run time and keep the loop for the other case.
    scf::IfOp guard;
    if (!tripCountIsT(loop, Xq)) {
      Value T = tensor::DimOp::create(rw, loc, Xq, 0);
      Value same = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, loop.getUpperBound(), T);
      guard = scf::IfOp::create(rw, loc, loop.getResultTypes(), same, /*withElseRegion=*/true);
      rw.setInsertionPointToStart(guard.elseBlock());
      Operation *kept = rw.clone(*loop);
      kept->setAttr(kKeepLoop, rw.getUnitAttr());
      scf::YieldOp::create(rw, loc, kept->getResults());
      rw.setInsertionPointToStart(guard.thenBlock());
    }
    auto transpose = [&](Value x, ArrayRef<int64_t> perm) -> Value {
      auto t = rtt(x);
      SmallVector<OpFoldResult> sizes;
      for (int64_t p : perm)
        sizes.push_back(tensor::getMixedSize(rw, loc, x, p));
      Value init = tensor::EmptyOp::create(rw, loc, sizes, t.getElementType());
      return linalg::TransposeOp::create(rw, loc, x, init, perm)->getResult(0);
    };
    auto headMajor = [&](Value x) { return transpose(x, {1, 2, 0, 3}); };
    auto perHead = [&](Value x) -> Value { // [T,B,H,1] or [T,B,H] -> [B,H,T]
      if (rtt(x).getRank() == 3)
        return transpose(x, {1, 2, 0});
      Value t = headMajor(x);
      return tensor::CollapseShapeOp::create(rw, loc, t, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    };
    // Scan inputs are usually [B,T,...] tensors transposed to time-major for
    // the loop: then the op reads them as they were, token-major.
    auto untransposed = [](Value x) -> Value {
      auto tr = x ? x.getDefiningOp<linalg::TransposeOp>() : linalg::TransposeOp();
      if (!tr)
        return {};
      ArrayRef<int64_t> p = tr.getPermutation();
      if (p.size() < 3 || p[0] != 1 || p[1] != 0)
        return {};
      for (size_t d = 2; d < p.size(); ++d)
        if (p[d] != int64_t(d))
          return {};
      return tr.getInput();
    };
    bool tokenMajor = untransposed(Xq) && untransposed(Xk) && untransposed(Xv) &&
                      (!Xg || untransposed(Xg)) && (!Xbeta || untransposed(Xbeta));
    Value q, k, v, decay, beta;
    if (tokenMajor) {
      auto perHeadTM = [&](Value x) -> Value { // [B,T,H,1] or [B,T,H] -> [B,T,H]
        Value y = untransposed(x);
        if (rtt(y).getRank() == 3)
          return y;
        return tensor::CollapseShapeOp::create(rw, loc, y, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
      };
      q = untransposed(Xq), k = untransposed(Xk), v = untransposed(Xv);
      decay = Xg ? (channel ? untransposed(Xg) : perHeadTM(Xg)) : Value();
      beta = Xbeta ? perHeadTM(Xbeta) : Value();
    } else {
      q = headMajor(Xq), k = headMajor(Xk), v = headMajor(Xv);
      decay = Xg ? (channel ? headMajor(Xg) : perHead(Xg)) : Value();
      beta = Xbeta ? perHead(Xbeta) : Value();
    }
    UpdateRule rule = Xg ? (Xbeta ? UpdateRule::gated_delta : UpdateRule::gated)
                         : (Xbeta ? UpdateRule::delta : UpdateRule::linear);
    auto qT = rtt(q);
    auto outT = tokenMajor
                    ? RankedTensorType::get({qT.getDimSize(0), qT.getDimSize(1), H * G, V}, rw.getF32Type())
                    : RankedTensorType::get({qT.getDimSize(0), H * G, qT.getDimSize(2), V}, rw.getF32Type());
    auto la = LinearAttentionOp::create(
        rw, loc, TypeRange{outT, sT}, q, k, v, decay, beta, loop.getInitArgs()[0],
        /*gate=*/Value(), UpdateRuleAttr::get(rw.getContext(), rule), rw.getF32FloatAttr(float(scale)),
        rw.getI64IntegerAttr(64));
    if (tokenMajor)
      la.setTokenMajor(true);
    Value outTime = transpose(la.getOutput(), tokenMajor ? ArrayRef<int64_t>{1, 0, 2, 3}
                                                         : ArrayRef<int64_t>{2, 0, 1, 3});
    if (outTime.getType() != loop.getResult(1).getType())
      outTime = tensor::CastOp::create(rw, loc, loop.getResult(1).getType(), outTime);
    Value fin = la.getFinalState();
    if (fin.getType() != loop.getResult(0).getType())
      fin = tensor::CastOp::create(rw, loc, loop.getResult(0).getType(), fin);
    if (guard) {
      scf::YieldOp::create(rw, loc, ValueRange{fin, outTime});
      rw.replaceOp(loop, guard.getResults());
    } else {
      rw.replaceOp(loop, {fin, outTime});
    }
    return success();
  }

  /// The loop runs over every token of X: its bound is X's (or its
  /// transpose source's) time dimension.
  static bool tripCountIsT(scf::ForOp loop, Value x) {
    auto t = rtt(x);
    if (!t.isDynamicDim(0))
      return getConstantIntValue(loop.getUpperBound()) == t.getDimSize(0);
    auto dim = loop.getUpperBound().getDefiningOp<tensor::DimOp>();
    if (!dim)
      return false;
    auto idx = dim.getConstantIndex();
    if (!idx)
      return false;
    if (dim.getSource() == x && *idx == 0)
      return true;
    if (auto tr = x.getDefiningOp<linalg::TransposeOp>())
      return dim.getSource() == tr.getInput() && tr.getPermutation()[0] == *idx;
    // The bound may be read from the layout before a reshape into [T,...].
    Value base = stripReshapes(x);
    if (auto tr = base.getDefiningOp<linalg::TransposeOp>())
      return stripReshapes(tr.getInput()) == stripReshapes(dim.getSource()) &&
             tr.getPermutation()[0] == *idx;
    return false;
  }
};

struct GateRaiseRecurrencePass
    : gatec::gate::impl::GateRaiseRecurrenceBase<GateRaiseRecurrencePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseRecurrence>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
