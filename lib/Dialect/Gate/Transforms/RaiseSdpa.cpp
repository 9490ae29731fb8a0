//===- RaiseSdpa.cpp - decomposed softmax attention -> gate.sdpa ----------===//
//
// Matches, from the final batched matmul upwards:
//
//   expand(batch_matmul(collapse(P), collapse(V')))          P·V
//   P  = E / bcast(reduce_sum(E, last)),  E = exp(S - bcast(reduce_max(S, last)))
//   S  = S0 [+ M | select(M, S0, -inf) | select(¬M, -inf, S0)] mask
//   S0 = expand(batch_matmul(collapse(Q'), collapse(Kt'))) · c   scale
//   Kt'= transpose(K', [0,1,3,2]) · b,  Q' = Q · a
//   K', V' = K, V or their GQA repetition collapse(bcast(expand(K)))
//
// Anything that does not fit (softcap, f16 converts around the softmax, other
// axes) is left decomposed; it still runs, just without the fused kernel.
//
//===----------------------------------------------------------------------===//
#include "gatec/Dialect/Gate/Transforms/Passes.h"
#include "CausalMask.h"
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/APSInt.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <variant>

namespace gatec::gate {
#define GEN_PASS_DEF_GATERAISESDPA
#include "gatec/Dialect/Gate/Transforms/Passes.h.inc"
} // namespace gatec::gate

using namespace mlir;
using namespace gatec::gate;
using namespace gatec::gate::raise;

namespace {
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

/// Kᵀ written on the collapsed batch, as torch's opset-18 decomposition does:
/// expand([[0,1],[2],[3]]) of transpose([0,2,1]) of K collapsed to [B·H,S,D]
/// (4-D [[0,1],[2],[3]], or 5-D [[0,1,2],[3],[4]] when the collapse of a GQA
/// repetition was merged into it). Element (b,h,d,s) is K[b,h,s,d] either
/// way: returns K (4-D or 5-D), or null.
Value matchCollapsedKeysTransposed(Value kt) {
  auto ex = kt.getDefiningOp<tensor::ExpandShapeOp>();
  if (!ex || rtt(kt).getRank() != 4 ||
      ex.getReassociationIndices() != SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}})
    return {};
  auto tr = ex.getSrc().getDefiningOp<linalg::TransposeOp>();
  if (!tr || tr.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
    return {};
  auto co = tr.getInput().getDefiningOp<tensor::CollapseShapeOp>();
  if (!co)
    return {};
  Value k = co.getSrc();
  int64_t rank = rtt(k).getRank();
  if (!((rank == 4 && isCollapse(co, {{0, 1}, {2}, {3}})) ||
        (rank == 5 && isCollapse(co, {{0, 1, 2}, {3}, {4}}))))
    return {};
  // The expansion splits B·H back at the same place.
  auto kT = rtt(k);
  auto outT = rtt(kt);
  if (kT.isDynamicDim(0) || outT.isDynamicDim(0) || kT.getDimSize(0) != outT.getDimSize(0))
    return {};
  return k;
}

/// P guarded against NaN as torch's exporter writes safe softmax:
/// select(isnan(P), 0, P). Returns P, or `p` itself when it is not guarded.
/// P is NaN only for a row of non-finite scores (a NaN, +inf, or every key
/// -inf); gate.sdpa gives such fully masked rows 0 as well, and raising
/// assumes finite scores otherwise (see gate-raise-sdpa's description).
Value stripNanGuard(Value p) {
  auto sel = p.getDefiningOp<arith::SelectOp>();
  if (!sel || splatValue(sel.getTrueValue()) != 0.0)
    return p;
  auto isnan = sel.getCondition().getDefiningOp<arith::CmpFOp>();
  Value x = sel.getFalseValue();
  if (!isnan || isnan.getPredicate() != arith::CmpFPredicate::UNO || isnan.getLhs() != x ||
      isnan.getRhs() != x)
    return p;
  return x;
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

/// The `window` [left, right] equal to `band` over scores of type `sT`
/// [B,H,Sq,Skv]: a side that reaches the end of the mask becomes its static
/// extent. None when that extent is dynamic, when a row may keep no key (the
/// decomposed graph does not give 0 there), or when the band misses the
/// diagonal.
std::optional<std::array<int64_t, 2>> bandWindow(const KeyBand &band, RankedTensorType sT) {
  if (!band.everyRowKeeps || (band.toFirst && band.toLast) || !sT || sT.getRank() != 4)
    return std::nullopt;
  int64_t sq = sT.getDimSize(2), skv = sT.getDimSize(3), left = -band.lo, right = band.hi;
  // The farthest key on each side: Sq - 1 before the diagonal and Skv - 1
  // after it (upper-left); Skv - 1 and Sq - 1 (bottom-right).
  int64_t before = band.bottomRight ? skv : sq, after = band.bottomRight ? sq : skv;
  if (band.toFirst) {
    if (ShapedType::isDynamic(before))
      return std::nullopt;
    left = before - 1;
  }
  if (band.toLast) {
    if (ShapedType::isDynamic(after))
      return std::nullopt;
    right = after - 1;
  }
  if (left < 0 || right < 0)
    return std::nullopt;
  return std::array<int64_t, 2>{left, right};
}

/// What replaces a mask that is a band of keys: every key, or the `causal`,
/// `window` and `bottom_right` attributes.
struct BandAttrs {
  bool allKeys = false, causal = false, bottomRight = false;
  std::optional<std::array<int64_t, 2>> window;
};

/// The attributes equal to `mask` over scores of type `sT` [B,H,Sq,Skv], by
/// preference: every key, upper-left causal (with or without a window),
/// bottom-right causal (with or without a window: a decode step or a chunked
/// prefill over a cache), another upper-left window, another bottom-right
/// window. None for any other mask.
std::optional<BandAttrs> bandAttrs(Value mask, bool additive, bool dropMask,
                                   RankedTensorType sT) {
  BandAttrs r;
  std::optional<KeyBand> tl = maskBand(mask, additive, dropMask);
  if (tl && tl->toFirst && tl->toLast) {
    r.allKeys = true;
    return r;
  }
  if (tl && tl->isCausal()) {
    r.causal = true;
    return r;
  }
  auto fromWindow = [&](const std::optional<KeyBand> &band, bool causalOnly) {
    std::optional<std::array<int64_t, 2>> w;
    if (band)
      w = bandWindow(*band, sT);
    if (!w || (causalOnly && (*w)[1] != 0))
      return false;
    r.window = *w;
    r.causal = (*w)[1] == 0;
    r.bottomRight = band->bottomRight;
    return true;
  };
  if (fromWindow(tl, /*causalOnly=*/true))
    return r;
  // The bottom-right frame differs only when Sq may differ from Skv.
  std::optional<KeyBand> br;
  if (sT.isDynamicDim(2) || sT.getDimSize(2) != sT.getDimSize(3))
    br = maskBand(mask, additive, dropMask, /*bottomRight=*/true);
  if (br && br->everyRowKeeps && br->hi == 0) {
    r.causal = r.bottomRight = true;
    if (!br->toFirst)
      r.window = std::array<int64_t, 2>{-br->lo, 0};
    return r;
  }
  if (fromWindow(tl, false) || fromWindow(br, false))
    return r;
  return std::nullopt;
}

struct RaiseSdpa : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExpandShapeOp root,
                                PatternRewriter &rw) const override {
    Value p4, v4;
    if (!matchBatchMatmul4D(root.getResult(), p4, v4) || rtt(p4).getRank() != 4)
      return failure();
    Value s = matchSoftmax(stripNanGuard(p4));
    if (!s)
      return rw.notifyMatchFailure(root, "P is not a softmax over the last axis");
    auto resT = rtt(root.getResult());
    Type et = resT.getElementType();
    if (!isa<Float32Type, Float16Type, BFloat16Type>(et) || rtt(s).getElementType() != et)
      return failure();

    // Mask: additive, select(keep, scores, -inf), or select(drop, -inf,
    // scores) (masked_fill), which is raised only when `drop` is a band.
    Value mask, scores = s;
    bool additive = true, dropMask = false;
    std::optional<BandAttrs> dropBand; // the band a drop mask is
    if (auto sel = s.getDefiningOp<arith::SelectOp>()) {
      auto isNegInf = [](Value v) {
        auto fill = splatValue(v);
        return fill && std::isinf(*fill) && *fill < 0;
      };
      if (isNegInf(sel.getFalseValue())) {
        scores = sel.getTrueValue();
      } else if (isNegInf(sel.getTrueValue())) {
        scores = sel.getFalseValue();
        dropMask = true;
      } else {
        return failure();
      }
      mask = sel.getCondition();
      additive = false;
      // Only a band (window, causal, all keys) replaces a drop mask: the op
      // has no operand for one (checked before anything is rewritten).
      if (dropMask && !(dropBand = bandAttrs(mask, false, true, rtt(s))))
        return rw.notifyMatchFailure(root, "masked_fill by a mask that is not a band");
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
    Value k;
    SmallVector<int64_t> permK = {0, 1, 2, 3};
    if (Value collapsedK = matchCollapsedKeysTransposed(kt)) {
      k = stripScale(collapsedK, scale);
    } else {
      auto tr = kt.getDefiningOp<linalg::TransposeOp>();
      if (!tr)
        return rw.notifyMatchFailure(root, "Kᵀ is not a transpose");
      ArrayRef<int64_t> perm = tr.getPermutation();
      permK = {perm[0], perm[1], perm[3], perm[2]};
      k = stripScale(tr.getInput(), scale);
    }
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

    bool causal = false, bottomRight = false;
    DenseI64ArrayAttr window;
    if (mask)
      if (std::optional<BandAttrs> band =
              dropMask ? dropBand : bandAttrs(mask, additive, false, rtt(s))) {
        // A band of keys: the flags and window, no mask tensor.
        causal = band->causal;
        bottomRight = band->bottomRight;
        if (band->window)
          window = rw.getDenseI64ArrayAttr(*band->window);
        mask = Value();
      }
    if (mask && additive && splatValue(mask) == 0.0)
      mask = Value(); // adding zeros
    assert(!(mask && dropMask) && "a drop mask is a band (checked above)");
    // A mask broadcast over heads (or batch) is read through its unit dims.
    if (mask)
      if (Value src = broadcastSource(mask); src && rtt(src).getRank() == 4)
        mask = src;
    if (mask) {
      auto mT = rtt(mask);
      auto sT = rtt(s);
      if (!mT || mT.getRank() != 4 ||
          llvm::any_of(llvm::seq<int64_t>(0, 4), [&](int64_t d) {
            return mT.getDimSize(d) != 1 && mT.getDimSize(d) != sT.getDimSize(d);
          }))
        return rw.notifyMatchFailure(root, "mask shape");
      if (additive ? mT.getElementType() != et : !mT.getElementType().isInteger(1))
        return failure();
    }
    auto sdpa = SdpaOp::create(rw, root.getLoc(), resT, q, k, v, mask, /*gate=*/Value(),
                               /*sink=*/Value(), rw.getF32FloatAttr(float(scale)),
                               softcap > 0.0 ? rw.getF32FloatAttr(float(softcap)) : FloatAttr(),
                               causal ? rw.getUnitAttr() : UnitAttr(),
                               ActivationAttr::get(rw.getContext(), Activation::sigmoid), window,
                               bottomRight ? rw.getUnitAttr() : UnitAttr());
    rw.replaceOp(root, sdpa.getResult());
    return success();
  }
};

/// A gate.sdpa (imported from ONNX Attention, whose exporters pass
/// transformers' mask rather than is_causal) whose mask is provably the
/// causal pattern, or a window of keys around the diagonal: the `causal`
/// flag or the `window` instead of the mask tensor.
struct SdpaMaskToCausal : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    Value mask = op.getMask();
    if (!mask || op.getWindow())
      return failure();
    // Only a mask over the whole [B, Hq, Sq, Skv] (a broadcast one is not a
    // function of the query position).
    auto mT = rtt(mask), rT = rtt(op.getResult());
    if (mT.getDimSize(2) != rT.getDimSize(2) ||
        mT.getDimSize(3) != rtt(op.getKey()).getDimSize(2))
      return failure();
    bool additive = isa<FloatType>(rtt(mask).getElementType());
    SmallVector<int64_t> scoresShape{rT.getDimSize(0), rT.getDimSize(1), rT.getDimSize(2),
                                     rtt(op.getKey()).getDimSize(2)};
    std::optional<BandAttrs> band = bandAttrs(
        mask, additive, false, RankedTensorType::get(scoresShape, rT.getElementType()));
    if (!band)
      return failure();
    // The op's own causal flag is upper-left: it and a bottom-right band are
    // not one band, so the mask stays.
    if (op.getCausal() && band->bottomRight)
      return failure();
    bool causal = op.getCausal() || band->causal;
    rw.modifyOpInPlace(op, [&] {
      op.getMaskMutable().clear();
      op.setCausal(causal);
      if (band->bottomRight)
        op.setBottomRight(true);
      if (band->window)
        op.setWindowAttr(rw.getDenseI64ArrayAttr({(*band->window)[0],
                                                  causal ? 0 : (*band->window)[1]}));
    });
    return success();
  }
};

/// K and V of a gate.sdpa repeated over query-head groups by the exporter
/// (repeat_kv: Unsqueeze/Expand/Reshape, before an ONNX Attention): the op
/// reads the un-repeated heads through its GQA mapping instead of copies.
struct SdpaStripRepeatedKV : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    int64_t gk = 1, gv = 1;
    Value k = stripRepeat(op.getKey(), gk), v = stripRepeat(op.getValue(), gv);
    if (gk <= 1 || gk != gv || rtt(k).getRank() != 4 || rtt(v).getRank() != 4)
      return failure();
    rw.modifyOpInPlace(op, [&] {
      op.getKeyMutable().assign(k);
      op.getValueMutable().assign(v);
    });
    return success();
  }
};

/// select(rows_with_no_key(M), 0, sdpa): transformers' exporter zeroes the
/// rows of a fully masked attention after the op, with rows_with_no_key(M) =
/// Σ_j uitofp(M[.., i, j]) < c, 0 < c <= 1. gate.sdpa already gives such rows
/// 0 when M is its mask; when the op is causal and M provably the causal
/// pattern, no row is fully masked. Either way the select is the identity.
struct DropFullyMaskedRowGuard : OpRewritePattern<arith::SelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::SelectOp sel, PatternRewriter &rw) const override {
    auto sdpa = sel.getFalseValue().getDefiningOp<SdpaOp>();
    if (!sdpa || splatValue(sel.getTrueValue()) != 0.0)
      return failure();
    // The row predicate, broadcast over heads and the value dim.
    SmallVector<int64_t> bdims;
    Value row = broadcastSource(sel.getCondition(), &bdims);
    if (!row || rtt(row).getRank() != 4 || rtt(row).getDimSize(3) != 1)
      return failure();
    auto cmp = row.getDefiningOp<arith::CmpFOp>();
    if (!cmp || (cmp.getPredicate() != arith::CmpFPredicate::OLT &&
                 cmp.getPredicate() != arith::CmpFPredicate::ULT))
      return failure();
    auto c = splatValue(cmp.getRhs());
    if (!c || !(*c > 0.0 && *c <= 1.0))
      return failure();
    Value sum = cmp.getLhs();
    if (auto ex = sum.getDefiningOp<tensor::ExpandShapeOp>())
      sum = ex.getSrc();
    auto red = sum.getDefiningOp<linalg::ReduceOp>();
    if (!red || red.getInputs().size() != 1 || red.getDimensions() != ArrayRef<int64_t>{3})
      return failure();
    Block &body = red.getRegion().front();
    if (body.getOperations().size() != 2 || !isa<arith::AddFOp>(body.front()))
      return failure();
    auto init = red.getInits()[0].getDefiningOp<linalg::FillOp>();
    if (!init || splatValue(init.getInputs()[0]) != 0.0)
      return failure();
    auto count = red.getInputs()[0].getDefiningOp<arith::UIToFPOp>();
    if (!count)
      return failure();
    Value mask = count.getIn();
    auto mT = rtt(mask);
    auto oT = rtt(sdpa.getResult());
    if (!mT || mT.getRank() != 4 || !mT.getElementType().isInteger(1))
      return failure();
    for (int64_t d = 0; d < 2; ++d)
      if (mT.getDimSize(d) != 1 && mT.getDimSize(d) != oT.getDimSize(d))
        return failure();
    bool sameMask = sdpa.getMask() == mask && !sdpa.getCausal();
    bool causalAnyway = sdpa.getCausal() && !sdpa.getMask() && isCausalMask(mask, false);
    // A mask that keeps a key in every row, for every size, never selects 0.
    auto keepsInEveryRow = [&] {
      std::optional<KeyBand> band = maskBand(mask, false);
      if (!band || !band->everyRowKeeps)
        band = maskBand(mask, false, false, /*bottomRight=*/true);
      return band && band->everyRowKeeps;
    };
    if (!sameMask && !causalAnyway && !keepsInEveryRow())
      return failure();
    rw.replaceOp(sel, sdpa.getResult());
    return success();
  }
};

struct GateRaiseSdpaPass : gatec::gate::impl::GateRaiseSdpaBase<GateRaiseSdpaPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseSdpa, SdpaMaskToCausal, SdpaStripRepeatedKV, DropFullyMaskedRowGuard>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
