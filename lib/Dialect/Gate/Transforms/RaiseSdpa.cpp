//===- RaiseSdpa.cpp - decomposed softmax attention -> gate.sdpa ----------===//
//
// Matches, from the final batched matmul upwards:
//
//   expand(batch_matmul(collapse(P), collapse(V')))          P·V
//   P  = E / bcast(reduce_sum(E, last)),  E = exp(S - bcast(reduce_max(S, last)))
//   S  = S0 [+ M | select(M, S0, -inf)]                       mask
//   S0 = expand(batch_matmul(collapse(Q'), collapse(Kt'))) · c   scale
//   Kt'= transpose(K', [0,1,3,2]) · b,  Q' = Q · a
//   K', V' = K, V or their GQA repetition collapse(bcast(expand(K)))
//
// Anything that does not fit (softcap, f16 converts around the softmax, other
// axes) is left decomposed; it still runs, just without the fused kernel.
//
//===----------------------------------------------------------------------===//
#include "gatec/Dialect/Gate/Transforms/Passes.h"
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <optional>

namespace gatec::gate {
#define GEN_PASS_DEF_GATERAISESDPA
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
} // namespace gatec::gate

using namespace mlir;
using namespace gatec::gate;
using namespace gatec::gate::raise;

namespace {
/// Evaluates a mask built from indices and constants (Trilu, Where, Range
/// comparisons, broadcasts: no data) at one point. Fails on anything that
/// reads data or needs runtime sizes.
class MaskEvaluator {
public:
  std::optional<double> at(Value v, ArrayRef<int64_t> idx, int depth = 0) {
    if (depth > 64)
      return std::nullopt;
    if (auto c = splatValue(v))
      return c;
    DenseElementsAttr dense;
    if (matchPattern(v, m_Constant(&dense))) {
      auto t = cast<ShapedType>(dense.getType());
      if (t.getRank() != int64_t(idx.size()))
        return std::nullopt;
      int64_t flat = 0;
      for (int64_t d = 0; d < t.getRank(); ++d) {
        if (idx[d] >= t.getDimSize(d))
          return std::nullopt;
        flat = flat * t.getDimSize(d) + idx[d];
      }
      if (isa<FloatType>(t.getElementType()))
        return (*(dense.getValues<APFloat>().begin() + flat)).convertToDouble();
      if (t.getElementType().isInteger(1))
        return double(*(dense.getValues<bool>().begin() + flat));
      return std::nullopt;
    }
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto gen = dyn_cast<linalg::GenericOp>(op)) {
      if (gen.getNumDpsInits() != 1 || !gen.getIndexingMapsArray().back().isIdentity() ||
          gen.getNumReductionLoops() != 0)
        return std::nullopt;
      Block &body = gen.getRegion().front();
      DenseMap<Value, double> env;
      for (auto [arg, in, map] : llvm::zip(body.getArguments(), gen.getDpsInputs(),
                                           gen.getIndexingMapsArray())) {
        SmallVector<int64_t> sub;
        for (AffineExpr e : map.getResults()) {
          if (auto d = dyn_cast<AffineDimExpr>(e))
            sub.push_back(idx[d.getPosition()]);
          else if (auto c = dyn_cast<AffineConstantExpr>(e))
            sub.push_back(c.getValue());
          else
            return std::nullopt;
        }
        auto x = at(in, sub, depth + 1);
        if (!x)
          return std::nullopt;
        env[arg] = *x;
      }
      for (Operation &inner : body.without_terminator()) {
        std::optional<double> r;
        if (auto li = dyn_cast<linalg::IndexOp>(inner))
          r = double(idx[li.getDim()]);
        else
          r = scalar(&inner, env);
        if (!r)
          return std::nullopt;
        env[inner.getResult(0)] = *r;
      }
      auto y = cast<linalg::YieldOp>(body.getTerminator()).getValues()[0];
      auto it = env.find(y);
      if (it != env.end())
        return it->second;
      return splatValue(y);
    }
    if (auto bc = dyn_cast<linalg::BroadcastOp>(op)) {
      SmallVector<int64_t> sub;
      for (int64_t d = 0; d < int64_t(idx.size()); ++d)
        if (!llvm::is_contained(bc.getDimensions(), d))
          sub.push_back(idx[d]);
      return at(bc.getInput(), sub, depth + 1);
    }
    if (op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1) {
      DenseMap<Value, double> env;
      for (Value o : op->getOperands()) {
        auto x = at(o, idx, depth + 1);
        if (!x)
          return std::nullopt;
        env[o] = *x;
      }
      return scalar(op, env);
    }
    return std::nullopt;
  }

private:
  static std::optional<double> scalar(Operation *op, DenseMap<Value, double> &env) {
    auto get = [&](Value v) -> std::optional<double> {
      if (auto it = env.find(v); it != env.end())
        return it->second;
      APInt i;
      if (matchPattern(v, m_ConstantInt(&i)))
        return double(i.getSExtValue());
      return splatValue(v);
    };
    SmallVector<double> a;
    for (Value o : op->getOperands()) {
      auto x = get(o);
      if (!x)
        return std::nullopt;
      a.push_back(*x);
    }
    if (isa<arith::SelectOp>(op)) return a[0] != 0 ? a[1] : a[2];
    if (isa<arith::AddFOp, arith::AddIOp>(op)) return a[0] + a[1];
    if (isa<arith::SubFOp, arith::SubIOp>(op)) return a[0] - a[1];
    if (isa<arith::MulFOp, arith::MulIOp>(op)) return a[0] * a[1];
    if (isa<arith::NegFOp>(op)) return -a[0];
    if (isa<arith::IndexCastOp, arith::SIToFPOp, arith::ExtFOp, arith::TruncFOp,
            arith::ExtUIOp, arith::ExtSIOp>(op))
      return a[0];
    if (isa<arith::AndIOp>(op)) return double((a[0] != 0) && (a[1] != 0));
    if (isa<arith::OrIOp>(op)) return double((a[0] != 0) || (a[1] != 0));
    if (isa<arith::XOrIOp>(op)) return double((a[0] != 0) != (a[1] != 0));
    if (auto c = dyn_cast<arith::CmpIOp>(op)) {
      using P = arith::CmpIPredicate;
      switch (c.getPredicate()) {
      case P::eq: return double(a[0] == a[1]);
      case P::ne: return double(a[0] != a[1]);
      case P::slt: case P::ult: return double(a[0] < a[1]);
      case P::sle: case P::ule: return double(a[0] <= a[1]);
      case P::sgt: case P::ugt: return double(a[0] > a[1]);
      case P::sge: case P::uge: return double(a[0] >= a[1]);
      }
    }
    if (auto c = dyn_cast<arith::CmpFOp>(op)) {
      using P = arith::CmpFPredicate;
      switch (c.getPredicate()) {
      case P::OEQ: case P::UEQ: return double(a[0] == a[1]);
      case P::ONE: case P::UNE: return double(a[0] != a[1]);
      case P::OLT: case P::ULT: return double(a[0] < a[1]);
      case P::OLE: case P::ULE: return double(a[0] <= a[1]);
      case P::OGT: case P::UGT: return double(a[0] > a[1]);
      case P::OGE: case P::UGE: return double(a[0] >= a[1]);
      default: return std::nullopt;
      }
    }
    return std::nullopt;
  }
};

bool isCollapse(tensor::CollapseShapeOp op, ArrayRef<ReassociationIndices> want) {
  auto got = op.getReassociationIndices();
  return got == SmallVector<ReassociationIndices>(want.begin(), want.end());
}

/// x = expand(batch_matmul(collapse(a), collapse(b))) with 4-D a, b (the
/// importer's [B,H,M,K] x [B,H,K,N]).
bool matchBatchMatmul4D(Value x, Value &a, Value &b) {
  auto expand = x.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || rtt(x).getRank() != 4)
    return false;
  auto bmm = expand.getSrc().getDefiningOp<linalg::BatchMatmulOp>();
  if (!bmm || bmm.getInputs().size() != 2)
    return false;
  // The accumulator must start at zero.
  Value init = bmm.getOutputs()[0];
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill || splatValue(fill.getInputs()[0]) != 0.0)
    return false;
  // Operands are [B,H,M,K] collapsed to [B·H,M,K]; canonicalization may have
  // merged a GQA repetition's collapse into it ([B,Hkv,G,M,K] -> [B·Hkv·G,M,K]),
  // which is returned as the 5-D value.
  auto operand = [](Value x) -> Value {
    auto c = x.getDefiningOp<tensor::CollapseShapeOp>();
    if (!c)
      return {};
    int64_t rank = rtt(c.getSrc()).getRank();
    if ((rank == 4 && isCollapse(c, {{0, 1}, {2}, {3}})) ||
        (rank == 5 && isCollapse(c, {{0, 1, 2}, {3}, {4}})))
      return c.getSrc();
    return {};
  };
  a = operand(bmm.getInputs()[0]);
  b = operand(bmm.getInputs()[1]);
  return a && b;
}

/// K (or V) repeated over a GQA group: collapse([[0],[1,2],[3],[4]]) of a
/// [B,Hkv,G,S,D] broadcast of K (directly, or of its [B,Hkv,1,S,D]
/// expansion). Returns the un-repeated value and sets `group`; a value that
/// is not repeated is returned with group 1.
Value stripRepeat(Value v, int64_t &group) {
  group = 1;
  Value x = v;
  if (rtt(v).getRank() != 5) {
    auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse || !isCollapse(collapse, {{0}, {1, 2}, {3}, {4}}))
      return v;
    x = collapse.getSrc();
  }
  group = -1; // a 5-D value that is not a repetition matches nothing
  auto xt = rtt(x);
  if (!xt || xt.getRank() != 5 || xt.isDynamicDim(2))
    return v;
  int64_t g = xt.getDimSize(2);
  if (Value src = broadcastSource(x)) {
    auto st = rtt(src);
    if (st.getRank() == 4) {
      group = g;
      return src;
    }
    if (st.getRank() != 5 || st.getDimSize(2) != 1)
      return v;
    x = src;
  } else if (g != 1) {
    return v;
  }
  auto expand = x.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || rtt(expand.getSrc()).getRank() != 4)
    return v;
  auto re = expand.getReassociationIndices();
  if (re != SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4}} &&
      re != SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}})
    return v;
  group = g;
  return expand.getSrc();
}

/// reduce(x, dims=[3]) whose body is a single `Combiner`.
template <typename Combiner>
Value reduceSource(Value v) {
  auto red = v.getDefiningOp<linalg::ReduceOp>();
  if (!red || red.getInputs().size() != 1 ||
      red.getDimensions() != ArrayRef<int64_t>{3})
    return {};
  Block &body = red.getRegion().front();
  if (body.getOperations().size() != 2 || !isa<Combiner>(body.front()))
    return {};
  return red.getInputs()[0];
}

/// The scores of softmax(S, last axis) written max-subtract-exp-sum-divide.
Value matchSoftmax(Value p) {
  auto div = p.getDefiningOp<arith::DivFOp>();
  if (!div)
    return {};
  Value e = div.getLhs();
  SmallVector<int64_t> dims;
  Value sum = broadcastSource(div.getRhs(), &dims);
  if (!sum || dims != SmallVector<int64_t>{3} || reduceSource<arith::AddFOp>(sum) != e)
    return {};
  auto exp = e.getDefiningOp<math::ExpOp>();
  auto sub = exp ? exp.getOperand().getDefiningOp<arith::SubFOp>() : arith::SubFOp();
  if (!sub)
    return {};
  Value s = sub.getLhs();
  Value mx = broadcastSource(sub.getRhs(), &dims);
  if (!mx || dims != SmallVector<int64_t>{3} || reduceSource<arith::MaximumFOp>(mx) != s)
    return {};
  return s;
}

/// True when `mask` [B,H,Sq,Skv] is the upper-left causal pattern built from
/// indices and constants: additive 0 / -inf, or bool true / false, at every
/// probed point of a 9x9 window (and of the whole mask when it is smaller).
bool isCausalMask(Value mask, bool additive) {
  auto t = rtt(mask);
  if (!t || t.getRank() != 4)
    return false;
  MaskEvaluator eval;
  int64_t rows = t.isDynamicDim(2) ? 9 : std::min<int64_t>(9, t.getDimSize(2));
  int64_t cols = t.isDynamicDim(3) ? 9 : std::min<int64_t>(9, t.getDimSize(3));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      auto v = eval.at(mask, {0, 0, i, j});
      if (!v)
        return false;
      bool keep = j <= i;
      if (additive ? (keep ? *v != 0.0 : !(std::isinf(*v) && *v < 0)) : ((*v != 0) != keep))
        return false;
    }
  // The pattern must not vary over batch or heads either.
  for (auto [b, h] : {std::pair<int64_t, int64_t>{1, 0}, {0, 1}}) {
    if ((b && t.getDimSize(0) == 1) || (h && t.getDimSize(1) == 1))
      continue;
    if (eval.at(mask, {b, h, 1, 0}) != eval.at(mask, {0, 0, 1, 0}) ||
        eval.at(mask, {b, h, 0, 1}) != eval.at(mask, {0, 0, 0, 1}))
      return false;
  }
  return true;
}

struct RaiseSdpa : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExpandShapeOp root,
                                PatternRewriter &rw) const override {
    Value p4, v4;
    if (!matchBatchMatmul4D(root.getResult(), p4, v4) || rtt(p4).getRank() != 4)
      return failure();
    Value s = matchSoftmax(p4);
    if (!s)
      return rw.notifyMatchFailure(root, "P is not a softmax over the last axis");
    auto resT = rtt(root.getResult());
    Type et = resT.getElementType();
    if (!isa<Float32Type, Float16Type, BFloat16Type>(et) || rtt(s).getElementType() != et)
      return failure();

    // Mask: additive, or select(mask, scores, -inf).
    Value mask, scores = s;
    bool additive = true;
    if (auto sel = s.getDefiningOp<arith::SelectOp>()) {
      auto fill = splatValue(sel.getFalseValue());
      if (!fill || !std::isinf(*fill) || *fill > 0)
        return failure();
      mask = sel.getCondition();
      scores = sel.getTrueValue();
      additive = false;
    }
    Value q, kt;
    double scale = 1.0, softcap = 0.0;
    // scores = Q·Kᵀ·scale, or softcap·tanh(Q·Kᵀ·scale/softcap).
    auto tryScores = [&](Value cand) {
      double sc = 1.0, cap = 0.0;
      Value core = stripScale(cand, sc);
      if (auto th = core.getDefiningOp<math::TanhOp>()) {
        if (sc <= 0.0)
          return false;
        cap = sc;
        sc = 1.0;
        core = stripScale(th.getOperand(), sc);
        sc *= cap;
      }
      if (!matchBatchMatmul4D(core, q, kt) || rtt(q).getRank() != 4 ||
          rtt(kt).getRank() != 4)
        return false;
      scale = sc;
      softcap = cap;
      return true;
    };
    if (!tryScores(scores)) {
      auto add = additive ? scores.getDefiningOp<arith::AddFOp>() : arith::AddFOp();
      if (!add)
        return rw.notifyMatchFailure(root, "scores are not Q·Kᵀ");
      if (tryScores(add.getLhs()))
        mask = add.getRhs();
      else if (tryScores(add.getRhs()))
        mask = add.getLhs();
      else
        return rw.notifyMatchFailure(root, "scores are not Q·Kᵀ");
    }
    q = stripScale(q, scale);
    kt = stripScale(kt, scale);
    // Kᵀ = transpose(X, perm): K = transpose(X, perm ∘ swap(2,3)), which is
    // X itself unless canonicalization merged another transpose in (e.g.
    // the [B,S,H,D] -> [B,H,S,D] of a 3-D export).
    auto tr = kt.getDefiningOp<linalg::TransposeOp>();
    if (!tr)
      return rw.notifyMatchFailure(root, "Kᵀ is not a transpose");
    ArrayRef<int64_t> perm = tr.getPermutation();
    SmallVector<int64_t> permK = {perm[0], perm[1], perm[3], perm[2]};
    Value k = stripScale(tr.getInput(), scale);
    bool identity = permK == SmallVector<int64_t>{0, 1, 2, 3};
    int64_t gk = 1, gv;
    if (identity) {
      k = stripRepeat(k, gk);
    } else {
      auto xT = rtt(k);
      SmallVector<int64_t> shape;
      for (int64_t p : permK)
        shape.push_back(xT.getDimSize(p));
      if (llvm::any_of(shape, ShapedType::isDynamic))
        return failure(); // keep it simple: static shapes only here
      Value init = tensor::EmptyOp::create(rw, root.getLoc(), shape, xT.getElementType());
      k = linalg::TransposeOp::create(rw, root.getLoc(), k, init, permK)->getResult(0);
    }
    Value v = stripRepeat(v4, gv);
    auto qT = rtt(q), kT = rtt(k), vT = rtt(v);
    if (gk < 1 || gk != gv || qT.getRank() != 4 || kT.getRank() != 4 || vT.getRank() != 4 ||
        qT.getElementType() != et || kT.getElementType() != et ||
        vT.getElementType() != et)
      return failure();
    if (qT.isDynamicDim(1) || kT.isDynamicDim(1) || vT.isDynamicDim(1) || qT.isDynamicDim(3) ||
        kT.isDynamicDim(3) || vT.isDynamicDim(3) || kT.getDimSize(1) * gk != qT.getDimSize(1) ||
        vT.getDimSize(1) != kT.getDimSize(1))
      return failure();

    bool causal = false;
    if (mask && isCausalMask(mask, additive)) {
      // Upper-left causal over Sq x Skv: the flag, no mask tensor.
      causal = true;
      mask = Value();
    }
    if (mask && additive && splatValue(mask) == 0.0)
      mask = Value(); // adding zeros
    if (mask) {
      auto mT = rtt(mask);
      if (!mT || mT.getRank() != 4 || mT != RankedTensorType::get(rtt(s).getShape(), mT.getElementType()))
        return rw.notifyMatchFailure(root, "mask shape");
      if (additive ? mT.getElementType() != et : !mT.getElementType().isInteger(1))
        return failure();
    }
    auto sdpa = SdpaOp::create(rw, root.getLoc(), resT, q, k, v, mask, /*gate=*/Value(),
                               rw.getF32FloatAttr(float(scale)),
                               softcap > 0.0 ? rw.getF32FloatAttr(float(softcap)) : FloatAttr(),
                               causal ? rw.getUnitAttr() : UnitAttr(),
                               ActivationAttr::get(rw.getContext(), Activation::sigmoid));
    rw.replaceOp(root, sdpa.getResult());
    return success();
  }
};

struct GateRaiseSdpaPass : gatec::gate::impl::GateRaiseSdpaBase<GateRaiseSdpaPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseSdpa>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
