//===- MoE.cpp - com.microsoft MoE (mixture of experts) and GatedAdd -------===//
//
// MoE, with the semantics of ONNX Runtime's CPU kernel: every token goes to
// the k experts with the largest router logits (ties: the higher expert, as
// ONNX Runtime picks them), with
// the softmax of the router logits as weight (normalize_routing_weights: the
// k weights rescaled to sum to 1); an expert is the FFN
//   act(x·W1ᵀ + b1)·W2ᵀ + b2
// (GELU in its tanh form, as ORT computes it); for SwiGLU
// act(g, l) = G·sigmoid(α·G)·(L + β), G = min(g, limit),
// L = clamp(l, ±limit), g and l interleaved (swiglu_fusion 1) or concatenated
// (2) in FC1's output, or from FC1 and FC3 (0).
//
// Experts that no token chose are not computed (a decode step reads k
// experts' weights, not all of them):
//   1. routing: each token's k experts and weights, one token at a time;
//   2. a counting sort of the N·k (token, expert) slots by expert: per-expert
//      counts and offsets, each slot's row in expert order;
//   3. the tokens' rows gathered in that order;
//   4. per expert that has tokens, its two matmuls over its rows (weights
//      transposed to [in, out] f32 at compile time when they are constants);
//   5. each token's output: the weighted sum of its k rows.
//
// GatedAdd: X + Y·gate with a per-row gate [.., 1] (ORT's plain mode).
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "gatec/Dialect/Gate/IR/ConstantData.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

using IT = utils::IteratorType;

enum class Act { Relu, Gelu, Silu, Identity, SwiGlu };

struct MoEConfig {
  int64_t k, fusion;
  Act act;
  bool normalize;
  float alpha, beta, limit;
};

/// w [E, out, in] as f32 [E, in, out]: a new constant when w is one, else a
/// transpose at run time.
Value expertWeightsInOut(Importer &im, Value w) {
  ElementsAttr attr;
  auto wt = Importer::tt(w);
  if (wt.hasStaticShape() && matchPattern(w, m_Constant(&attr))) {
    if (std::optional<std::vector<float>> vals = gatec::constantAsF32(attr)) {
      int64_t e = wt.getDimSize(0), o = wt.getDimSize(1), i = wt.getDimSize(2);
      AsmResourceBlob blob = HeapAsmResourceBlob::allocate(size_t(e * o * i) * 4, 64);
      float *out = reinterpret_cast<float *>(blob.getMutableData().data());
      for (int64_t x = 0; x < e; ++x)
        for (int64_t r = 0; r < o; ++r)
          for (int64_t c = 0; c < i; ++c)
            out[(x * i + c) * o + r] = (*vals)[size_t((x * o + r) * i + c)];
      auto type = RankedTensorType::get({e, i, o}, im.b.getF32Type());
      auto data = DenseResourceElementsAttr::get(type, "gatec_moe_weight", std::move(blob));
      Value v = arith::ConstantOp::create(im.b, im.loc, type, data);
      im.setDims(v, {SymExpr::constant(e), SymExpr::constant(i), SymExpr::constant(o)});
      return v;
    }
  }
  return im.convert(im.transpose(w, {0, 2, 1}), im.b.getF32Type());
}

Value f32c(OpBuilder &b, Location l, float v) {
  return arith::ConstantOp::create(b, l, b.getF32FloatAttr(v));
}
Value toI64(OpBuilder &b, Location l, Value index) {
  return arith::IndexCastOp::create(b, l, b.getI64Type(), index);
}
Value sigmoid(OpBuilder &b, Location l, Value x) {
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, f32c(b, l, 1.0f), arith::AddFOp::create(b, l, f32c(b, l, 1.0f), e));
}

/// a ranks above c: larger, NaN above every number; on ties when `aWinsTie`
/// (a is the higher expert).
Value ranksAbove(OpBuilder &b, Location l, Value a, Value c, Value aWinsTie) {
  Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a, c);
  Value an = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a, a);
  Value cn = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, c, c);
  Value eq = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a, c);
  Value bothNaN = arith::AndIOp::create(b, l, an, cn);
  Value tie = arith::AndIOp::create(b, l, arith::OrIOp::create(b, l, eq, bothNaN), aWinsTie);
  Value nanWins = arith::AndIOp::create(b, l, an, arith::XOrIOp::create(b, l, cn, arith::ConstantIntOp::create(b, l, 1, 1)));
  return arith::OrIOp::create(b, l, arith::OrIOp::create(b, l, gt, nanWins), tie);
}

/// Step 1: experts [N, k] (i64) and weights [N, k] (f32) of every token.
std::pair<Value, Value> route(Importer &im, Value logits, const SymExpr &N, int64_t E,
                              const MoEConfig &c) {
  OpBuilder &b = im.b;
  Location loc = im.loc;
  SymShape nk{N, SymExpr::constant(c.k)};
  Value experts = im.empty(nk, b.getI64Type()), weights = im.empty(nk, b.getF32Type());
  auto loop = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), im.indexOf(N), cIdx(b, loc, 1), ValueRange{experts, weights},
      [&](OpBuilder &fb, Location l, Value t, ValueRange acc) {
        auto logit = [&](OpBuilder &ob, Value e) {
          return tensor::ExtractOp::create(ob, l, logits, ValueRange{t, e}).getResult();
        };
        // The softmax denominator over all experts (from the largest logit).
        auto maxLoop = scf::ForOp::create(
            fb, l, cIdx(fb, l, 0), cIdx(fb, l, E), cIdx(fb, l, 1),
            ValueRange{f32c(fb, l, -std::numeric_limits<float>::infinity())},
            [&](OpBuilder &ob, Location ol, Value e, ValueRange m) {
              scf::YieldOp::create(ob, ol, arith::MaximumFOp::create(ob, ol, m[0], logit(ob, e)).getResult());
            });
        Value mx = maxLoop.getResult(0);
        auto sumLoop = scf::ForOp::create(
            fb, l, cIdx(fb, l, 0), cIdx(fb, l, E), cIdx(fb, l, 1), ValueRange{f32c(fb, l, 0.0f)},
            [&](OpBuilder &ob, Location ol, Value e, ValueRange s) {
              Value ex = math::ExpOp::create(ob, ol, arith::SubFOp::create(ob, ol, logit(ob, e), mx));
              scf::YieldOp::create(ob, ol, arith::AddFOp::create(ob, ol, s[0], ex).getResult());
            });
        // The j-th pick: the best expert ranking below pick j - 1.
        SmallVector<Value> pickE, pickP;
        for (int64_t j = 0; j < c.k; ++j) {
          Value prevE = j ? pickE.back() : Value(), prevV = j ? logit(fb, pickE.back()) : Value();
          auto scan = scf::ForOp::create(
              fb, l, cIdx(fb, l, 0), cIdx(fb, l, E), cIdx(fb, l, 1),
              ValueRange{cIdx(fb, l, -1), f32c(fb, l, 0.0f)},
              [&](OpBuilder &ob, Location ol, Value e, ValueRange best) {
                Value v = logit(ob, e);
                Value ok = arith::ConstantIntOp::create(ob, ol, 1, 1);
                if (prevE) {
                  Value eAfter = arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::sgt, e, prevE);
                  Value above = ranksAbove(ob, ol, v, prevV, eAfter);
                  Value same = arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::eq, e, prevE);
                  ok = arith::AndIOp::create(
                      ob, ol, arith::XOrIOp::create(ob, ol, above, arith::ConstantIntOp::create(ob, ol, 1, 1)),
                      arith::XOrIOp::create(ob, ol, same, arith::ConstantIntOp::create(ob, ol, 1, 1)));
                }
                Value none = arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::slt, best[0], cIdx(ob, ol, 0));
                // e is scanned after best: the higher expert, it wins ties.
                Value better = ranksAbove(ob, ol, v, best[1], arith::ConstantIntOp::create(ob, ol, 1, 1));
                Value take = arith::AndIOp::create(ob, ol, ok, arith::OrIOp::create(ob, ol, none, better));
                Value ne = arith::SelectOp::create(ob, ol, take, e, best[0]);
                Value nv = arith::SelectOp::create(ob, ol, take, v, best[1]);
                scf::YieldOp::create(ob, ol, ValueRange{ne, nv});
              });
          pickE.push_back(scan.getResult(0));
          Value p = math::ExpOp::create(fb, l, arith::SubFOp::create(fb, l, scan.getResult(1), mx));
          pickP.push_back(arith::DivFOp::create(fb, l, p, sumLoop.getResult(0)));
        }
        Value total = pickP[0];
        for (int64_t j = 1; j < c.k; ++j)
          total = arith::AddFOp::create(fb, l, total, pickP[j]);
        Value ex = acc[0], wt = acc[1];
        for (int64_t j = 0; j < c.k; ++j) {
          Value w = c.normalize ? arith::DivFOp::create(fb, l, pickP[j], total).getResult() : pickP[j];
          ex = tensor::InsertOp::create(fb, l, toI64(fb, l, pickE[j]), ex, ValueRange{t, cIdx(fb, l, j)});
          wt = tensor::InsertOp::create(fb, l, w, wt, ValueRange{t, cIdx(fb, l, j)});
        }
        scf::YieldOp::create(fb, l, ValueRange{ex, wt});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

/// Step 2: counts [E] and offsets [E] (i64) of each expert's rows, the row
/// of every slot [N, k] and the token of every row [N·k] (index order).
struct Sorted {
  Value counts, offsets, rowOf, tokenOf;
};

Sorted sortByExpert(Importer &im, Value experts, const SymExpr &N, const SymExpr &NK, int64_t E,
                    int64_t k) {
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type i64 = b.getI64Type();
  SymShape eShape{SymExpr::constant(E)};
  Value zerosE = im.fill(im.empty(eShape, i64), im.scalar(i64, 0));
  Value n = im.indexOf(N);
  auto slots = [&](ValueRange inits, auto body) {
    return scf::buildLoopNest(b, loc, ValueRange{cIdx(b, loc, 0), cIdx(b, loc, 0)},
                              ValueRange{n, cIdx(b, loc, k)}, ValueRange{cIdx(b, loc, 1), cIdx(b, loc, 1)},
                              inits, body)
        .results;
  };
  Value counts = slots(ValueRange{zerosE}, [&](OpBuilder &nb, Location l, ValueRange iv,
                                                ValueRange acc) -> scf::ValueVector {
    Value e = toIndex(nb, l, tensor::ExtractOp::create(nb, l, experts, iv));
    Value cnt = tensor::ExtractOp::create(nb, l, acc[0], ValueRange{e});
    Value inc = arith::AddIOp::create(nb, l, cnt, arith::ConstantIntOp::create(nb, l, i64, 1));
    return {tensor::InsertOp::create(nb, l, inc, acc[0], ValueRange{e}).getResult()};
  })[0];
  auto prefix = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, E), cIdx(b, loc, 1),
      ValueRange{arith::ConstantIntOp::create(b, loc, i64, 0), zerosE},
      [&](OpBuilder &fb, Location l, Value e, ValueRange acc) {
        Value off = tensor::InsertOp::create(fb, l, acc[0], acc[1], ValueRange{e});
        Value next = arith::AddIOp::create(fb, l, acc[0], tensor::ExtractOp::create(fb, l, counts, ValueRange{e}));
        scf::YieldOp::create(fb, l, ValueRange{next, off});
      });
  Value offsets = prefix.getResult(1);
  Value rowOf = im.empty({N, SymExpr::constant(k)}, i64);
  Value tokenOf = im.empty({NK}, i64);
  SmallVector<Value> res = slots(
      ValueRange{offsets, rowOf, tokenOf},
      [&](OpBuilder &nb, Location l, ValueRange iv, ValueRange acc) -> scf::ValueVector {
        Value e = toIndex(nb, l, tensor::ExtractOp::create(nb, l, experts, iv));
        Value row = tensor::ExtractOp::create(nb, l, acc[0], ValueRange{e});
        Value next = arith::AddIOp::create(nb, l, row, arith::ConstantIntOp::create(nb, l, i64, 1));
        Value fill = tensor::InsertOp::create(nb, l, next, acc[0], ValueRange{e});
        Value rows = tensor::InsertOp::create(nb, l, row, acc[1], iv);
        Value toks = tensor::InsertOp::create(nb, l, toI64(nb, l, iv[0]), acc[2],
                                              ValueRange{toIndex(nb, l, row)});
        return {fill, rows, toks};
      });
  return {counts, offsets, res[1], res[2]};
}

/// y [rows, out] = x [rows, in] · w (+ bias row), f32.
Value expertMatmul(OpBuilder &b, Location l, Value x, Value w, Value rows, int64_t out,
                   Value bias) {
  Type f32 = b.getF32Type();
  auto dyn = RankedTensorType::get({ShapedType::kDynamic, out}, f32);
  Value init = tensor::EmptyOp::create(b, l, dyn, ValueRange{rows});
  init = linalg::FillOp::create(b, l, f32c(b, l, 0.0f), init).getResult(0);
  Value y = linalg::MatmulOp::create(b, l, ValueRange{x, w}, ValueRange{init}).getResult(0);
  if (!bias)
    return y;
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap col = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  return linalg::GenericOp::create(
             b, l, dyn, ValueRange{y, bias}, ValueRange{y}, ArrayRef<AffineMap>{id, col, id},
             ArrayRef<IT>{IT::parallel, IT::parallel},
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               linalg::YieldOp::create(nb, nl, arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
             })
      .getResult(0);
}

/// Row e of a [E, n] f32 bias (or null).
Value biasRow(OpBuilder &b, Location l, Value bias, Value e, int64_t n) {
  if (!bias)
    return Value();
  auto t = RankedTensorType::get({n}, b.getF32Type());
  return tensor::ExtractSliceOp::create(b, l, t, bias, ValueRange{e}, ValueRange{}, ValueRange{},
                                        ArrayRef<int64_t>{ShapedType::kDynamic, 0},
                                        ArrayRef<int64_t>{1, n}, ArrayRef<int64_t>{1, 1});
}

/// Expert e's [in, out] matrix of weights [E, in, out].
Value expertMatrix(OpBuilder &b, Location l, Value w, Value e) {
  auto wt = cast<RankedTensorType>(w.getType());
  int64_t in = wt.getDimSize(1), out = wt.getDimSize(2);
  auto t = RankedTensorType::get({in, out}, b.getF32Type());
  return tensor::ExtractSliceOp::create(b, l, t, w, ValueRange{e}, ValueRange{}, ValueRange{},
                                        ArrayRef<int64_t>{ShapedType::kDynamic, 0, 0},
                                        ArrayRef<int64_t>{1, in, out}, ArrayRef<int64_t>{1, 1, 1});
}

/// act over h [rows, F] (and l [rows, I] from FC3) -> [rows, I].
Value activate(OpBuilder &b, Location l, Value h, Value lin, Value rows, int64_t inter,
               const MoEConfig &c) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  auto outT = RankedTensorType::get({ShapedType::kDynamic, inter}, b.getF32Type());
  Value init = tensor::EmptyOp::create(b, l, outT, ValueRange{rows});
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (c.act != Act::SwiGlu) {
    ins = {h};
    maps = {id, id};
  } else if (c.fusion == 0) {
    ins = {h, lin};
    maps = {id, id, id};
  } else {
    AffineMap g = c.fusion == 1 ? AffineMap::get(2, 0, {d(0), d(1) * 2}, ctx) : id;
    AffineMap u = c.fusion == 1 ? AffineMap::get(2, 0, {d(0), d(1) * 2 + 1}, ctx)
                                : AffineMap::get(2, 0, {d(0), d(1) + inter}, ctx);
    ins = {h, h};
    maps = {g, u, id};
  }
  return linalg::GenericOp::create(
             b, l, outT, ins, ValueRange{init}, maps, ArrayRef<IT>{IT::parallel, IT::parallel},
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value x = a[0], y;
               switch (c.act) {
               case Act::Relu:
                 y = arith::MaximumFOp::create(nb, nl, x, f32c(nb, nl, 0.0f));
                 break;
               case Act::Gelu: { // the tanh form, as ONNX Runtime's MoE kernel
                 Value x3 = arith::MulFOp::create(nb, nl, arith::MulFOp::create(nb, nl, x, x), x);
                 Value inner = arith::AddFOp::create(
                     nb, nl, x, arith::MulFOp::create(nb, nl, x3, f32c(nb, nl, 0.044715f)));
                 Value th = math::TanhOp::create(
                     nb, nl, arith::MulFOp::create(nb, nl, inner, f32c(nb, nl, 0.7978845608f)));
                 y = arith::MulFOp::create(nb, nl, arith::MulFOp::create(nb, nl, x, f32c(nb, nl, 0.5f)),
                                           arith::AddFOp::create(nb, nl, th, f32c(nb, nl, 1.0f)));
                 break;
               }
               case Act::Silu:
                 y = arith::MulFOp::create(nb, nl, x, sigmoid(nb, nl, x));
                 break;
               case Act::Identity:
                 y = x;
                 break;
               case Act::SwiGlu: {
                 Value g = x, u = a[1];
                 if (std::isfinite(c.limit)) {
                   g = arith::MinimumFOp::create(nb, nl, g, f32c(nb, nl, c.limit));
                   u = arith::MinimumFOp::create(nb, nl, u, f32c(nb, nl, c.limit));
                   u = arith::MaximumFOp::create(nb, nl, u, f32c(nb, nl, -c.limit));
                 }
                 Value s = sigmoid(nb, nl, arith::MulFOp::create(nb, nl, g, f32c(nb, nl, c.alpha)));
                 y = arith::MulFOp::create(nb, nl, arith::MulFOp::create(nb, nl, g, s),
                                           arith::AddFOp::create(nb, nl, u, f32c(nb, nl, c.beta)));
                 break;
               }
               }
               linalg::YieldOp::create(nb, nl, y);
             })
      .getResult(0);
}

LogicalResult parseConfig(Importer &im, NodeCtx &n, MoEConfig &c) {
  c.k = n.i("k", 1);
  std::string act = n.s("activation_type", "relu");
  c.normalize = n.i("normalize_routing_weights", 0) != 0;
  c.fusion = n.i("swiglu_fusion", 0);
  c.alpha = n.f("activation_alpha", 1.0f);
  c.beta = n.f("activation_beta", 0.0f);
  c.limit = n.hasAttr("swiglu_limit") ? n.f("swiglu_limit", 0.0f)
                                      : std::numeric_limits<float>::infinity();
  int64_t sparse = n.i("use_sparse_mixer", 0), after = n.i("swiglu_limit_after_activation", 0);
  if (n.bad)
    return failure();
  static const llvm::StringMap<Act> acts = {{"relu", Act::Relu}, {"gelu", Act::Gelu},
                                            {"silu", Act::Silu}, {"identity", Act::Identity},
                                            {"swiglu", Act::SwiGlu}};
  auto it = acts.find(act);
  if (it == acts.end())
    return im.fail("activation_type '" + act +
                   "' is not supported (relu, gelu, silu, swiglu, identity)");
  c.act = it->second;
  if (sparse)
    return im.fail("use_sparse_mixer=1 is not supported");
  if (after)
    return im.fail("swiglu_limit_after_activation=1 is not supported");
  if (c.fusion < 0 || c.fusion > 2)
    return im.fail("swiglu_fusion must be 0, 1 or 2, got " + num(c.fusion));
  if (c.fusion != 0 && c.act != Act::SwiGlu)
    return im.fail("swiglu_fusion=" + num(c.fusion) + " needs activation_type 'swiglu'");
  if (c.k < 1)
    return im.fail("k must be >= 1, got " + num(c.k));
  return success();
}

LogicalResult handleMoE(Importer &im, NodeCtx &n) {
  // fc1_experts_bias (input 3) is optional, fc2_experts_weights (4) is not.
  if (failed(n.arity(3, 8)))
    return failure();
  if (!n.has(4))
    return im.fail("required input 4 (fc2_experts_weights) is missing");
  MoEConfig c;
  if (failed(parseConfig(im, n, c)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("input must be f32, f16 or bf16, got " + str(et));
  SymShape xd = inDims(n, 0), rd = inDims(n, 1), w1 = inDims(n, 2), w2 = inDims(n, 4);
  if (xd.size() != 2 && xd.size() != 3)
    return im.fail("input must be [tokens, hidden] or [batch, sequence, hidden]");
  if (rd.size() != 2 || w1.size() != 3 || w2.size() != 3)
    return im.fail("router_probs must be [tokens, experts] and the expert weights rank 3");
  for (const SymExpr &s : {xd.back(), rd[1], w1[0], w1[1], w1[2], w2[0], w2[1], w2[2]})
    if (!s.isConst())
      return im.fail("hidden size, expert count and expert sizes must be static");
  int64_t H = xd.back().c, E = rd[1].c, I = w2[2].c;
  bool fused = c.act == Act::SwiGlu && c.fusion != 0;
  int64_t F = fused ? 2 * I : I;
  bool fc3 = c.act == Act::SwiGlu && c.fusion == 0;
  if (c.k > E)
    return im.fail("k (" + num(c.k) + ") is larger than the number of experts (" + num(E) + ")");
  if (w1[0].c != E || w1[1].c != F || w1[2].c != H)
    return im.fail("fc1_experts_weights must be [" + num(E) + ", " + num(F) + ", " + num(H) +
                   "], got " + symShapeStr(w1));
  if (w2[0].c != E || w2[1].c != H)
    return im.fail("fc2_experts_weights must be [" + num(E) + ", " + num(H) + ", inter]");
  if (fc3 != n.has(6))
    return im.fail(fc3 ? "swiglu with swiglu_fusion=0 needs fc3_experts_weights"
                       : "fc3_experts_weights is only used by swiglu with swiglu_fusion=0");
  if (fc3 && inDims(n, 6) != SymShape{w1[0], SymExpr::constant(I), w1[2]})
    return im.fail("fc3_experts_weights must be [" + num(E) + ", " + num(I) + ", " + num(H) + "]");
  auto checkBias = [&](int i, int64_t len, const char *what) -> LogicalResult {
    if (n.has(i) && inDims(n, i) != SymShape{SymExpr::constant(E), SymExpr::constant(len)})
      return im.fail(std::string(what) + " must be [" + num(E) + ", " + num(len) + "]");
    return success();
  };
  if (failed(checkBias(3, F, "fc1_experts_bias")) || failed(checkBias(5, H, "fc2_experts_bias")) ||
      failed(checkBias(7, I, "fc3_experts_bias")))
    return failure();
  std::optional<SymExpr> N = symProduct(ArrayRef<SymExpr>(xd).drop_back());
  if (!N || rd[0] != *N)
    return im.fail("router_probs must have one row per token (" + symShapeStr(rd) + " for input " +
                   symShapeStr(xd) + ")");
  std::optional<SymExpr> NK = symMul(*N, SymExpr::constant(c.k));
  Value x = n.in(0), router = n.in(1);
  if (!x || !router || !NK)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type f32 = b.getF32Type();
  Value x2 = im.convert(im.reshape(x, {*N, xd.back()}), f32);
  Value logits = im.convert(router, f32);
  Value W1 = expertWeightsInOut(im, n.in(2)), W2 = expertWeightsInOut(im, n.in(4));
  Value W3 = fc3 ? expertWeightsInOut(im, n.in(6)) : Value();
  auto bias = [&](int i) { return n.has(i) ? im.convert(n.in(i), f32) : Value(); };
  Value B1 = bias(3), B2 = bias(5), B3 = fc3 ? bias(7) : Value();

  std::pair<Value, Value> routed = route(im, logits, *N, E, c);
  Value experts = routed.first, weights = routed.second;
  Sorted s = sortByExpert(im, experts, *N, *NK, E, c.k);
  MLIRContext *ctx = &im.ctx;
  AffineMap row = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  // Step 3: the tokens' rows in expert order.
  Value xs = im.generic({s.tokenOf}, im.empty({*NK, xd.back()}, f32), {row, id},
                        {IT::parallel, IT::parallel},
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          Value h = linalg::IndexOp::create(nb, l, 1);
                          Value v = tensor::ExtractOp::create(nb, l, x2,
                                                              ValueRange{toIndex(nb, l, a[0]), h});
                          linalg::YieldOp::create(nb, l, v);
                        });
  // Step 4: every expert with tokens over its rows.
  Value ys = im.empty({*NK, xd.back()}, f32);
  auto experts_ = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, E), cIdx(b, loc, 1), ValueRange{ys},
      [&](OpBuilder &fb, Location l, Value e, ValueRange acc) {
        Value cnt = toIndex(fb, l, tensor::ExtractOp::create(fb, l, s.counts, ValueRange{e}));
        Value off = toIndex(fb, l, tensor::ExtractOp::create(fb, l, s.offsets, ValueRange{e}));
        Value any = arith::CmpIOp::create(fb, l, arith::CmpIPredicate::sgt, cnt, cIdx(fb, l, 0));
        auto ifOp = scf::IfOp::create(
            fb, l, any,
            [&](OpBuilder &tb, Location tl) {
              auto rowsT = RankedTensorType::get({ShapedType::kDynamic, H}, f32);
              Value xe = tensor::ExtractSliceOp::create(
                  tb, tl, rowsT, xs, ValueRange{off}, ValueRange{cnt}, ValueRange{},
                  ArrayRef<int64_t>{ShapedType::kDynamic, 0},
                  ArrayRef<int64_t>{ShapedType::kDynamic, H}, ArrayRef<int64_t>{1, 1});
              Value h = expertMatmul(tb, tl, xe, expertMatrix(tb, tl, W1, e), cnt, F,
                                     biasRow(tb, tl, B1, e, F));
              Value lin = fc3 ? expertMatmul(tb, tl, xe, expertMatrix(tb, tl, W3, e), cnt, I,
                                             biasRow(tb, tl, B3, e, I))
                              : Value();
              Value a = activate(tb, tl, h, lin, cnt, I, c);
              Value y = expertMatmul(tb, tl, a, expertMatrix(tb, tl, W2, e), cnt, H,
                                     biasRow(tb, tl, B2, e, H));
              Value upd = tensor::InsertSliceOp::create(
                  tb, tl, y, acc[0], ValueRange{off}, ValueRange{cnt}, ValueRange{},
                  ArrayRef<int64_t>{ShapedType::kDynamic, 0},
                  ArrayRef<int64_t>{ShapedType::kDynamic, H}, ArrayRef<int64_t>{1, 1});
              scf::YieldOp::create(tb, tl, upd);
            },
            [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, acc[0]); });
        scf::YieldOp::create(fb, l, ifOp.getResults());
      });
  Value ycat = experts_.getResult(0);
  // Step 5: each token's weighted sum of its k rows.
  Value out = im.generic(
      {}, im.empty({*N, xd.back()}, f32), {id}, {IT::parallel, IT::parallel},
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value t = linalg::IndexOp::create(nb, l, 0), h = linalg::IndexOp::create(nb, l, 1);
        Value sum = f32c(nb, l, 0.0f);
        for (int64_t j = 0; j < c.k; ++j) {
          Value r = tensor::ExtractOp::create(nb, l, s.rowOf, ValueRange{t, cIdx(nb, l, j)});
          Value w = tensor::ExtractOp::create(nb, l, weights, ValueRange{t, cIdx(nb, l, j)});
          Value v = tensor::ExtractOp::create(nb, l, ycat, ValueRange{toIndex(nb, l, r), h});
          sum = arith::AddFOp::create(nb, l, sum, arith::MulFOp::create(nb, l, w, v));
        }
        linalg::YieldOp::create(nb, l, sum);
      });
  return n.out(0, im.convert(im.reshape(out, xd), et));
}

LogicalResult handleGatedAdd(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 4)))
    return failure();
  if (n.has(3))
    return im.fail("the projected mode (gate_weight) is not supported; ONNX Runtime runs it on "
                   "CUDA in bfloat16 only");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et) || n.inType(1).getElementType() != et ||
      n.inType(2).getElementType() != et)
    return im.fail("X, Y and gate must share one of f32, f16, bf16");
  SymShape xd = inDims(n, 0), gd = inDims(n, 2);
  if (inDims(n, 1) != xd)
    return im.fail("Y must have X's shape " + symShapeStr(xd) + ", got " +
                   symShapeStr(inDims(n, 1)));
  SymShape want(xd.begin(), xd.end());
  if (!want.empty())
    want.back() = SymExpr::constant(1);
  if (gd != want)
    return im.fail("gate must be " + symShapeStr(want) + ", got " + symShapeStr(gd));
  Value x = n.in(0), y = n.in(1), g = n.in(2);
  if (!x || !y || !g)
    return failure();
  int64_t r = int64_t(xd.size());
  MLIRContext *ctx = &im.ctx;
  AffineMap id = AffineMap::getMultiDimIdentityMap(r, ctx);
  SmallVector<AffineExpr> ge;
  for (int64_t i = 0; i + 1 < r; ++i)
    ge.push_back(getAffineDimExpr(i, ctx));
  ge.push_back(getAffineConstantExpr(0, ctx));
  AffineMap gm = AffineMap::get(r, 0, ge, ctx);
  // The product rounded to the element type before the add, as Mul then Add.
  Value res = im.generic({x, y, g}, im.empty(xd, et), {id, id, gm, id},
                         SmallVector<IT>(r, IT::parallel),
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           Value p = arith::MulFOp::create(nb, l, a[1], a[2]);
                           linalg::YieldOp::create(nb, l, arith::AddFOp::create(nb, l, a[0], p).getResult());
                         });
  return n.out(0, res);
}

} // namespace

namespace gatec::onnx_frontend::detail {
LogicalResult handleMsMoE(Importer &im, NodeCtx &n) { return handleMoE(im, n); }
LogicalResult handleMsGatedAdd(Importer &im, NodeCtx &n) { return handleGatedAdd(im, n); }
} // namespace gatec::onnx_frontend::detail
