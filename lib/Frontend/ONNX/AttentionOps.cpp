//===- AttentionOps.cpp - Attention, LinearAttention, CausalConvWithState -===//
//
// The three ONNX operators with a gate-dialect counterpart. Inputs in the
// packed [B, S, H*D] layout are reshaped (tensor.expand_shape) and transposed
// (linalg.transpose) into the head-major [B, H, S, D] layout of the gate ops,
// and results go back the same way.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace gatec::onnx_frontend::detail {

std::string num(int64_t v) { return std::to_string(v); }

bool isGateFloat(Type t) { return t.isF32() || t.isF16() || t.isBF16(); }

/// Checks a static size against an expected one; "" when fine.
std::string mismatch(llvm::StringRef what, const SymExpr &a, const SymExpr &b) {
  if (a.isConst() && b.isConst() && a.c != b.c)
    return (what + " " + llvm::Twine(a.c) + " and " + llvm::Twine(b.c) + " differ").str();
  return "";
}

/// The first pair of static sizes that differ among `sizes`; "" when none.
std::string mismatchAll(llvm::StringRef what, llvm::ArrayRef<SymExpr> sizes) {
  for (size_t i = 0; i < sizes.size(); ++i)
    for (size_t j = i + 1; j < sizes.size(); ++j)
      if (auto m = mismatch(what, sizes[i], sizes[j]); !m.empty())
        return m;
  return "";
}

/// [B, S, H*D] -> [B, H, S, D].
Value toHeads(Importer &im, Value v, int64_t h) {
  SymShape d = im.dims(v);
  SymExpr hd = d[2];
  SymExpr dd = SymExpr::constant(hd.c / h);
  Value r = im.reshape(v, {d[0], d[1], SymExpr::constant(h), dd});
  return im.transpose(r, {0, 2, 1, 3});
}

/// [B, H, S, D] -> [B, S, H*D].
Value fromHeads(Importer &im, Value v) {
  SymShape d = im.dims(v);
  Value t = im.transpose(v, {0, 2, 1, 3});
  auto hd = symMul(d[1], d[3]);
  return im.reshape(t, {d[0], d[2], hd ? *hd : SymExpr::constant(0)});
}

/// [B, T, H*D] -> [B, T, H, D] (a free reshape: the token-major layout).
Value toTokenHeads(Importer &im, Value v, int64_t h) {
  SymShape d = im.dims(v);
  return im.reshape(v, {d[0], d[1], SymExpr::constant(h), SymExpr::constant(d[2].c / h)});
}

/// [B, T, H, D] -> [B, T, H*D].
Value fromTokenHeads(Importer &im, Value v) {
  SymShape d = im.dims(v);
  auto hd = symMul(d[2], d[3]);
  return im.reshape(v, {d[0], d[1], hd ? *hd : SymExpr::constant(0)});
}

Value causalKeepMask(Importer &im, const SymExpr &sq, const SymExpr &t, Value offset) {
  SymShape cd{SymExpr::constant(1), SymExpr::constant(1), sq, t};
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
  return im.generic({}, im.empty(cd, im.b.getI1Type()), {id},
                    SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
                    [&](OpBuilder &nb, Location l, ValueRange) {
                      Value i = linalg::IndexOp::create(nb, l, 2);
                      Value j = linalg::IndexOp::create(nb, l, 3);
                      Value lim = arith::AddIOp::create(nb, l, i, offset);
                      linalg::YieldOp::create(
                          nb, l, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ule, j, lim)
                                     .getResult());
                    });
}

//===----------------------------------------------------------------------===//
// Attention (opset 23, 24)
//===----------------------------------------------------------------------===//

LogicalResult handleAttention(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 7)))
    return failure();
  int64_t isCausal = n.i("is_causal", 0), qHeads = n.i("q_num_heads", 0),
          kvHeads = n.i("kv_num_heads", 0), qkMode = n.i("qk_matmul_output_mode", 0);
  bool hasScale = n.hasAttr("scale");
  float scale = n.f("scale", 0.0f), softcap = n.f("softcap", 0.0f);
  (void)n.i("softmax_precision", 0);
  if (n.bad)
    return failure();
  if (qkMode < 0 || qkMode > 3)
    return im.fail("qk_matmul_output_mode must be 0, 1, 2 or 3, got " + num(qkMode));
  if (softcap < 0 || std::isnan(softcap))
    return im.fail("softcap must be >= 0");
  if (hasScale && !std::isfinite(scale))
    return im.fail("scale must be finite");
  if (isCausal != 0 && isCausal != 1)
    return im.fail("is_causal must be 0 or 1");

  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("Q must be f32, f16 or bf16, got " + str(et));
  for (int k : {1, 2})
    if (n.inType(k).getElementType() != et)
      return im.fail("Q, K and V must have the same element type");
  SymShape qd = inDims(n, 0), kd = inDims(n, 1), vd = inDims(n, 2);
  for (auto [name, d] : {std::pair{"Q", &qd}, {"K", &kd}, {"V", &vd}})
    if (d->size() != 3 && d->size() != 4)
      return im.fail(std::string(name) + " must have rank 3 or 4, got rank " + num(d->size()));

  // Heads and head sizes (static).
  auto headInfo = [&](const SymShape &d, int64_t attrHeads, const char *name,
                      const char *attrName, int64_t &heads, int64_t &size) -> LogicalResult {
    if (d.size() == 4) {
      if (!d[1].isConst() || !d[3].isConst())
        return im.fail(std::string(name) + " must have static head count and head size");
      heads = d[1].c;
      size = d[3].c;
      return success();
    }
    if (attrHeads <= 0)
      return im.fail(std::string(attrName) + " is required for 3-D " + name);
    if (!d[2].isConst())
      return im.fail(std::string("the hidden size of ") + name + " must be static");
    if (d[2].c % attrHeads != 0)
      return im.fail(std::string("the hidden size of ") + name + " (" + num(d[2].c) +
                     ") is not a multiple of " + attrName + " (" + num(attrHeads) + ")");
    heads = attrHeads;
    size = d[2].c / attrHeads;
    return success();
  };
  int64_t hq, dq, hk, dk, hv, dv;
  if (failed(headInfo(qd, qHeads, "Q", "q_num_heads", hq, dq)) ||
      failed(headInfo(kd, kvHeads, "K", "kv_num_heads", hk, dk)) ||
      failed(headInfo(vd, kvHeads, "V", "kv_num_heads", hv, dv)))
    return failure();
  if (hq <= 0 || hk <= 0 || dq <= 0 || dv < 0)
    return im.fail("head counts and head sizes must be positive");
  if (hk != hv)
    return im.fail("K has " + num(hk) + " heads but V has " + num(hv));
  if (hq % hk != 0)
    return im.fail("q_num_heads (" + num(hq) + ") is not a multiple of kv_num_heads (" +
                   num(hk) + ")");
  if (dq != dk)
    return im.fail("query head size (" + num(dq) + ") differs from key head size (" + num(dk) +
                   ")");
  auto seqOf = [](const SymShape &d) { return d.size() == 4 ? d[2] : d[1]; };
  SymExpr B = qd[0], Sq = seqOf(qd), Skv = seqOf(kd);
  for (std::string m : {mismatchAll("batch sizes", {B, kd[0], vd[0]}),
                        mismatch("key and value sequence lengths", Skv, seqOf(vd))})
    if (!m.empty())
      return im.fail(m);

  bool hasPast = n.has(4) || n.has(5);
  if (n.has(4) != n.has(5))
    return im.fail("past_key and past_value must be given together");
  SymExpr P = SymExpr::constant(0);
  if (hasPast) {
    SymShape pk = inDims(n, 4), pv = inDims(n, 5);
    if (pk.size() != 4 || pv.size() != 4)
      return im.fail("past_key and past_value must have rank 4");
    if (n.inType(4).getElementType() != et || n.inType(5).getElementType() != et)
      return im.fail("past_key and past_value must have the element type of Q");
    for (std::string m :
         {mismatch("past_key heads and kv heads", pk[1], SymExpr::constant(hk)),
          mismatch("past_value heads and kv heads", pv[1], SymExpr::constant(hk)),
          mismatch("past_key head size and key head size", pk[3], SymExpr::constant(dk)),
          mismatch("past_value head size and value head size", pv[3], SymExpr::constant(dv)),
          mismatch("past sequence lengths", pk[2], pv[2]),
          mismatchAll("batch sizes", {B, kd[0], vd[0], pk[0], pv[0]})})
      if (!m.empty())
        return im.fail(m);
    P = pk[2];
  }
  bool hasNonpad = n.has(6);
  if (hasNonpad) {
    if (hasPast)
      return im.fail("nonpad_kv_seqlen cannot be combined with past_key/past_value");
    auto t = n.inType(6);
    if (t.getRank() != 1 || !isa<IntegerType>(t.getElementType()) ||
        t.getElementType().isInteger(1))
      return im.fail("nonpad_kv_seqlen must be a 1-D integer tensor [B]");
    if (auto m = mismatch("nonpad_kv_seqlen length and batch size", inDims(n, 6)[0], B);
        !m.empty())
      return im.fail(m);
  }
  std::optional<SymExpr> T = P.isConst(0) ? std::optional<SymExpr>(Skv) : std::nullopt;
  if (P.isConst() && Skv.isConst())
    T = SymExpr::constant(P.c + Skv.c);

  // Mask checks.
  SymShape md;
  bool boolMask = false;
  if (n.has(3)) {
    Type mt = n.inType(3).getElementType();
    boolMask = mt.isInteger(1);
    if (!boolMask && !isa<FloatType>(mt))
      return im.fail("attn_mask must be bool or floating point, got " + str(mt));
    md = inDims(n, 3);
    if (md.empty() || md.size() > 4)
      return im.fail("attn_mask must have rank 1 to 4, got " + num(md.size()));
    while (md.size() < 4)
      md.insert(md.begin(), SymExpr::constant(1));
    SymExpr want[3] = {B, SymExpr::constant(hq), Sq};
    const char *names[3] = {"batch", "heads", "query length"};
    for (int k = 0; k < 3; ++k)
      if (!md[k].isConst(1) && md[k].isConst() && want[k].isConst() && md[k].c != want[k].c)
        return im.fail("attn_mask dimension " + num(k) + " (" + names[k] + ") is " +
                       num(md[k].c) + ", expected 1 or " + num(want[k].c));
    if (T && T->isConst() && md[3].isConst() && md[3].c > T->c)
      return im.fail("attn_mask covers " + num(md[3].c) + " keys but there are only " +
                     num(T->c));
  }

  // ---- build
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value q = n.in(0), k = n.in(1), v = n.in(2);
  if (!q || !k || !v)
    return failure();
  Value q4 = qd.size() == 3 ? toHeads(im, q, hq) : q;
  Value k4 = kd.size() == 3 ? toHeads(im, k, hk) : k;
  Value v4 = vd.size() == 3 ? toHeads(im, v, hk) : v;
  if (hasPast) {
    Value pk = n.in(4), pv = n.in(5);
    if (!pk || !pv)
      return failure();
    k4 = im.concat({pk, k4}, 2);
    v4 = im.concat({pv, v4}, 2);
  }
  SymShape q4d = im.dims(q4), k4d = im.dims(k4), v4d = im.dims(v4);
  SymExpr Tkv = k4d[2];
  Value Pv = im.indexOf(P);

  Value mask;
  if (n.has(3)) {
    Value m = n.in(3);
    if (!m)
      return failure();
    if (!boolMask)
      m = im.convert(m, et);
    m = im.reshape(m, md);
    // Pad the key dimension up to the total length.
    bool needPad = !(md[3] == Tkv);
    if (needPad && !(md[3].isConst(1) && !Tkv.isConst(1))) {
      Type mt = Importer::tt(m).getElementType();
      double padVal = boolMask ? 0.0 : -std::numeric_limits<double>::infinity();
      SmallVector<OpFoldResult> lo(4, b.getIndexAttr(0)), hi(4, b.getIndexAttr(0));
      SymShape pd = md;
      pd[3] = Tkv;
      if (md[3].isConst() && Tkv.isConst()) {
        hi[3] = b.getIndexAttr(Tkv.c - md[3].c);
      } else {
        hi[3] = arith::SubIOp::create(b, loc, im.indexOf(Tkv), im.indexOf(md[3])).getResult();
      }
      auto rt = im.typeFor(pd, mt);
      Value p = tensor::PadOp::create(b, loc, rt, m, lo, hi, im.scalar(mt, padVal));
      im.setDims(p, pd);
      m = p;
    } else if (needPad) {
      // A mask with one key column broadcasts over all keys.
      SymShape bd = md;
      bd[3] = Tkv;
      m = im.broadcastTo(m, bd);
    }
    mask = m;
  }

  auto negInf = [&]() {
    return im.splat({SymExpr::constant(1), SymExpr::constant(1), SymExpr::constant(1),
                     SymExpr::constant(1)},
                    et, -std::numeric_limits<double>::infinity());
  };
  auto combine = [&](Value m, Value keep) -> Value {
    if (!m)
      return keep;
    if (Importer::tt(m).getElementType().isInteger(1)) {
      SmallVector<Value> vals{m, keep};
      SymShape out;
      if (!im.broadcastAll(vals, &out))
        return Value();
      Value r = arith::AndIOp::create(b, loc, vals[0], vals[1]);
      im.setDims(r, out);
      return r;
    }
    return im.select(keep, m, negInf());
  };
  // Causal with a KV cache: ONNX offsets the diagonal by the past length
  // (query i sees keys 0..past+i). That is gate.sdpa's bottom-right rule
  // (i + Tkv - Sq) when this call brings as many keys as queries, the
  // decode step and the chunked prefill; otherwise a mask.
  auto causalKeep = [&]() { return causalKeepMask(im, q4d[2], Tkv, Pv); };
  bool causalAttr = isCausal && (P.isConst(0) || Skv == Sq);
  bool bottomRight = causalAttr && !P.isConst(0);
  if (isCausal && !causalAttr) {
    mask = combine(mask, causalKeep());
    if (!mask)
      return failure();
  }
  if (hasNonpad) {
    Value np = n.in(6);
    if (!np)
      return failure();
    SymShape pd{q4d[0], SymExpr::constant(1), SymExpr::constant(1), Tkv};
    AffineMap npMap = AffineMap::get(4, 0, {getAffineDimExpr(0, &im.ctx)}, &im.ctx);
    AffineMap id = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
    Value keep = im.generic({np}, im.empty(pd, b.getI1Type()), {npMap, id},
                            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
                            [&](OpBuilder &nb, Location l, ValueRange a) {
                              Value j = linalg::IndexOp::create(nb, l, 3);
                              Value lim = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
                              Value keep = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                                                 j, lim);
                              linalg::YieldOp::create(nb, l, keep);
                            });
    mask = combine(mask, keep);
    if (!mask)
      return failure();
  }

  SymShape yd{q4d[0], q4d[1], q4d[2], v4d[3]};
  auto resT = im.typeFor(yd, et);
  FloatAttr scaleAttr = hasScale ? b.getF32FloatAttr(scale) : FloatAttr();
  FloatAttr softcapAttr = softcap > 0 ? b.getF32FloatAttr(softcap) : FloatAttr();
  Value y = gate::SdpaOp::create(b, loc, resT, q4, k4, v4, mask, /*gate=*/Value(),
                                 /*sink=*/Value(), scaleAttr, softcapAttr,
                                 causalAttr, gate::Activation::sigmoid, DenseI64ArrayAttr(),
                                 bottomRight);
  im.setDims(y, yd);
  if (qd.size() == 3)
    y = fromHeads(im, y);
  if (failed(n.out(0, y)) || failed(n.out(1, k4)) || failed(n.out(2, v4)))
    return failure();

  if (n.wants(3)) {
    // The scores as a plain decomposition.
    int64_t g = hq / hk;
    Value kq = k4;
    if (g > 1) {
      SymShape e5{k4d[0], k4d[1], SymExpr::constant(1), k4d[2], k4d[3]};
      SymShape b5{k4d[0], k4d[1], SymExpr::constant(g), k4d[2], k4d[3]};
      kq = im.broadcastTo(im.reshape(k4, e5), b5);
      kq = im.reshape(kq, {k4d[0], SymExpr::constant(hq), k4d[2], k4d[3]});
    }
    Value kt = im.transpose(kq, {0, 1, 3, 2});
    Value s = im.matmul(q4, kt);
    if (!s)
      return failure();
    SymShape sd = im.dims(s);
    double sc = hasScale ? double(scale) : 1.0 / std::sqrt(double(dq));
    s = arith::MulFOp::create(b, loc, s, im.splat(sd, et, sc));
    im.setDims(s, sd);
    if (qkMode >= 1 && softcap > 0) {
      Value c = im.splat(sd, et, softcap);
      Value t = math::TanhOp::create(b, loc, arith::DivFOp::create(b, loc, s, c));
      s = arith::MulFOp::create(b, loc, c, t);
      im.setDims(s, sd);
    }
    if (qkMode >= 2) {
      Value m = mask;
      if (causalAttr)
        m = combine(m, causalKeep());
      if (m) {
        if (Importer::tt(m).getElementType().isInteger(1)) {
          s = im.select(m, s, negInf());
        } else {
          SmallVector<Value> vals{s, m};
          SymShape out;
          if (!im.broadcastAll(vals, &out))
            return failure();
          s = arith::AddFOp::create(b, loc, vals[0], vals[1]);
          im.setDims(s, out);
        }
      }
    }
    if (qkMode == 3)
      s = im.softmax(s, {3});
    if (failed(n.out(3, s)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearAttention (opset 27)
//===----------------------------------------------------------------------===//

LogicalResult handleLinearAttention(Importer &im, NodeCtx &n) {
  return importLinearAttention(im, n, 0);
}

LogicalResult importLinearAttention(Importer &im, NodeCtx &n, int64_t window) {
  if (failed(n.arity(3, 6)))
    return failure();
  int64_t hq = n.i("q_num_heads", 0), hk = n.i("kv_num_heads", 0);
  std::string ruleStr = n.s("update_rule", "gated_delta");
  float scale = n.f("scale", 0.0f);
  int64_t chunk = n.i("chunk_size", 64);
  if (n.bad)
    return failure();
  if (!n.hasAttr("q_num_heads") || !n.hasAttr("kv_num_heads"))
    return im.fail("q_num_heads and kv_num_heads are required");
  std::optional<gate::UpdateRule> rule = gate::symbolizeUpdateRule(ruleStr);
  if (!rule)
    return im.fail("unknown update_rule '" + ruleStr + "'");
  if (hq <= 0 || hk <= 0)
    return im.fail("q_num_heads (" + num(hq) + ") and kv_num_heads (" + num(hk) +
                   ") must be positive");
  if (hq % hk != 0 && hk % hq != 0)
    return im.fail("q_num_heads (" + num(hq) + ") and kv_num_heads (" + num(hk) +
                   ") must divide one another");
  if (chunk <= 0)
    return im.fail("chunk_size must be positive, got " + num(chunk));
  if (!std::isfinite(scale))
    return im.fail("scale must be finite");
  bool gated = *rule == gate::UpdateRule::gated || *rule == gate::UpdateRule::gated_delta;
  bool delta = *rule == gate::UpdateRule::delta || *rule == gate::UpdateRule::gated_delta;

  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("query must be f32, f16 or bf16, got " + str(et));
  for (int k : {1, 2})
    if (n.inType(k).getElementType() != et)
      return im.fail("query, key and value must have the same element type");
  SymShape qd = inDims(n, 0), kd = inDims(n, 1), vd = inDims(n, 2);
  if (qd.size() != 3 || kd.size() != 3 || vd.size() != 3)
    return im.fail("query, key and value must have rank 3 (B, T, H*d)");
  for (auto [name, d] : {std::pair{"query", &qd}, {"key", &kd}, {"value", &vd}})
    if (!(*d)[2].isConst())
      return im.fail(std::string("the last dimension of ") + name + " must be static");
  if (qd[2].c % hq != 0)
    return im.fail("the query hidden size (" + num(qd[2].c) + ") is not a multiple of "
                   "q_num_heads (" + num(hq) + ")");
  int64_t dk = qd[2].c / hq;
  // kv_num_heads above q_num_heads (ONNX Runtime's "inverse GQA", Qwen3.5's
  // Gated DeltaNet): keys have the queries' heads, values and states
  // kv_num_heads, state j reading query/key head j / (kv_num_heads /
  // q_num_heads): gate.linear_attention's grouped-value form.
  int64_t keyHeads = std::min(hq, hk);
  if (kd[2].c != keyHeads * dk)
    return im.fail("the key hidden size (" + num(kd[2].c) + ") is not " +
                   (hq < hk ? "q_num_heads (" + num(hq) : "kv_num_heads (" + num(hk)) +
                   ") x the query head size (" + num(dk) + ")");
  if (vd[2].c % hk != 0)
    return im.fail("the value hidden size (" + num(vd[2].c) + ") is not a multiple of "
                   "kv_num_heads (" + num(hk) + ")");
  int64_t dv = vd[2].c / hk;
  if (dk == 0 || dv == 0)
    return im.fail("head sizes must be positive");
  SymExpr B = qd[0], T = qd[1];
  SmallVector<SymExpr> batches{B, kd[0], vd[0]}, lengths{T, kd[1], vd[1]};
  for (int k : {4, 5})
    if (n.has(k)) {
      SymShape d = inDims(n, k);
      if (d.size() == 3) {
        batches.push_back(d[0]);
        lengths.push_back(d[1]);
      }
    }
  if (n.has(3) && inDims(n, 3).size() == 4)
    batches.push_back(inDims(n, 3)[0]);
  for (std::string m : {mismatchAll("batch sizes", batches),
                        mismatchAll("sequence lengths", lengths)})
    if (!m.empty())
      return im.fail(m);

  enum class Kind { PerHead, PerChannel, One };
  // decay: (B,T,Hkv) or (B,T,Hkv*dk); beta: (B,T,Hkv) or (B,T,1).
  auto perStep = [&](int idx, const char *name, bool isDecay, Kind &kind) -> LogicalResult {
    bool allowChannel = isDecay, allowOne = !isDecay;
    Type t = n.inType(idx).getElementType();
    if (!isGateFloat(t))
      return im.fail(std::string(name) + " must be f32, f16 or bf16, got " + str(t));
    SymShape d = inDims(n, idx);
    if (d.size() != 3)
      return im.fail(std::string(name) + " must have rank 3");
    for (std::string m : {mismatch(std::string(name) + " batch size and query batch size", d[0], B),
                          mismatch(std::string(name) + " length and sequence length", d[1], T)})
      if (!m.empty())
        return im.fail(m);
    if (!d[2].isConst())
      return im.fail(std::string("the last dimension of ") + name + " must be static");
    if (d[2].c == hk)
      kind = Kind::PerHead;
    else if (allowChannel && d[2].c == hk * dk)
      kind = Kind::PerChannel;
    else if (allowOne && d[2].c == 1)
      kind = Kind::One;
    else
      return im.fail(std::string("the last dimension of ") + name + " (" + num(d[2].c) +
                     ") must be kv_num_heads (" + num(hk) + ")" +
                     (allowChannel ? " or kv_num_heads x head size (" + num(hk * dk) + ")"
                                   : " or 1"));
    return success();
  };
  Kind decayKind = Kind::PerHead, betaKind = Kind::PerHead;
  if (n.has(4) && failed(perStep(4, "decay", true, decayKind)))
    return failure();
  if (n.has(5) && failed(perStep(5, "beta", false, betaKind)))
    return failure();
  if (gated && !n.has(4))
    return im.fail("update_rule '" + ruleStr + "' requires decay");
  if (delta && !n.has(5))
    return im.fail("update_rule '" + ruleStr + "' requires beta");
  if (n.has(3)) {
    SymShape sd = inDims(n, 3);
    if (window) { // [W, B, ...]: only slot W-1 is read
      if (sd.size() != 5 || sd[0] != SymExpr::constant(window))
        return im.fail("past_state must have rank 5 (" + num(window) +
                       ", B, kv_num_heads, dk, dv) with state_window = " + num(window));
      sd.erase(sd.begin());
    }
    if (sd.size() != 4)
      return im.fail("past_state must have rank 4 (B, kv_num_heads, dk, dv)");
    if (!isa<FloatType>(n.inType(3).getElementType()))
      return im.fail("past_state must be floating point");
    for (std::string m : {mismatch("past_state batch size and batch size", sd[0], B),
                          mismatch("past_state heads and kv_num_heads", sd[1],
                                   SymExpr::constant(hk)),
                          mismatch("past_state key size and head size", sd[2],
                                   SymExpr::constant(dk)),
                          mismatch("past_state value size and value head size", sd[3],
                                   SymExpr::constant(dv))})
      if (!m.empty())
        return im.fail(m);
  }

  // ---- build
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value q = n.in(0), k = n.in(1), v = n.in(2);
  if (!q || !k || !v)
    return failure();
  Value decay = n.has(4) ? n.in(4) : Value(), beta = n.has(5) ? n.in(5) : Value();
  if ((n.has(4) && !decay) || (n.has(5) && !beta))
    return failure();
  // A backward scan written as sequence reversals (Slice step -1 over the
  // whole token axis) of every per-token input: the op runs backwards on the
  // unreversed inputs instead, and its output, in their token order, is the
  // node's output reversed (a reversal back then folds away). Exact: the
  // recurrence visits the same tokens in the same order.
  bool backward = !window && llvm::all_of(SmallVector<Value>{q, k, v, decay, beta}, [&](Value x) {
    if (!x)
      return true;
    auto it = im.reversals.find(x);
    return it != im.reversals.end() && it->second.second == 1;
  });
  if (backward)
    for (Value *x : {&q, &k, &v, &decay, &beta})
      if (*x)
        *x = im.reversals.lookup(*x).first;
  // Token-major gate op: ONNX's [B, T, H*D] is only reshaped, never
  // transposed.
  Value q4 = toTokenHeads(im, q, hq), k4 = toTokenHeads(im, k, keyHeads),
        v4 = toTokenHeads(im, v, hk);
  auto perHead = [&](Value x, Kind kind) -> Value {
    SymShape d = im.dims(x);
    if (kind == Kind::PerChannel)
      return toTokenHeads(im, x, hk);
    if (kind == Kind::One)
      return im.broadcastTo(x, {d[0], d[1], SymExpr::constant(hk)});
    return x; // [B, T, Hkv]
  };
  if (decay)
    decay = perHead(decay, decayKind);
  if (beta)
    beta = perHead(beta, betaKind);
  SymShape q4d = im.dims(q4);
  SymShape od{q4d[0], q4d[1], SymExpr::constant(std::max(hq, hk)), SymExpr::constant(dv)};
  SymShape sd{q4d[0], SymExpr::constant(hk), SymExpr::constant(dk), SymExpr::constant(dv)};
  Value init;
  if (n.has(3)) {
    init = n.in(3);
    if (!init)
      return failure();
    init = im.convert(init, b.getF32Type());
    if (window) {
      SmallVector<SymExpr> wd{SymExpr::constant(window)};
      wd.append(sd.begin(), sd.end());
      init = im.castTo(init, im.typeFor(wd, b.getF32Type()));
      im.setDims(init, wd);
      SmallVector<SymExpr> offs{SymExpr::constant(window - 1)}, sizes{SymExpr::constant(1)};
      for (const SymExpr &e : sd) {
        offs.push_back(SymExpr::constant(0));
        sizes.push_back(e);
      }
      init = im.reshape(im.extractSlice(init, offs, sizes, {1, 1, 1, 1, 1}), sd);
    }
  }
  FloatAttr scaleAttr = scale != 0.0f ? b.getF32FloatAttr(scale) : FloatAttr();
  Value out, st, windowStates;
  if (window) {
    LinearAttentionParts parts{q4, k4, v4, decay, beta, init, *rule, scaleAttr, chunk};
    std::tie(out, st, windowStates) = linearAttentionWindow(im, parts, od, sd, et, window);
  } else {
    auto op = gate::LinearAttentionOp::create(b, loc, im.typeFor(od, et),
                                              im.typeFor(sd, b.getF32Type()), q4, k4, v4, decay,
                                              beta, init, /*gate=*/Value(), *rule, scaleAttr, uint64_t(chunk));
    op.setTokenMajor(true);
    op.setReverse(backward);
    out = op.getOutput();
    st = op.getFinalState();
    im.setDims(out, od);
    im.setDims(st, sd);
  }
  out = fromTokenHeads(im, out);
  if (backward)
    out = im.reverseAlong(out, 1);
  if (failed(n.out(0, out)))
    return failure();
  if (n.wants(1)) {
    Type stT = et;
    auto it = im.declaredTypes.find(n.n.output(1));
    if (it != im.declaredTypes.end() && isa<FloatType>(it->second))
      stT = it->second;
    if (failed(n.out(1, im.convert(window ? windowStates : st, stT))))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConvWithState (opset 27)
//===----------------------------------------------------------------------===//

LogicalResult handleCausalConv(Importer &im, NodeCtx &n) { return importCausalConv(im, n, 0); }

LogicalResult importCausalConv(Importer &im, NodeCtx &n, int64_t window) {
  if (failed(n.arity(2, 4)))
    return failure();
  std::string act = n.s("activation", "none");
  if (n.bad)
    return failure();
  gate::ConvActivation a;
  if (act == "none")
    a = gate::ConvActivation::none;
  else if (act == "silu" || act == "swish")
    a = gate::ConvActivation::silu;
  else
    return im.fail("unknown activation '" + act + "' (expected none, silu or swish)");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("input must be f32, f16 or bf16, got " + str(et));
  for (int k = 1; k < 4; ++k)
    if (n.has(k) && n.inType(k).getElementType() != et)
      return im.fail("all inputs must have the element type of input");
  SymShape xd = inDims(n, 0), wd = inDims(n, 1);
  if (xd.size() != 3)
    return im.fail("input must have rank 3 (B, C, L)");
  if (wd.size() != 3)
    return im.fail("weight must have rank 3 (C, 1, k)");
  if (!wd[0].isConst() || !wd[1].isConst() || !wd[2].isConst())
    return im.fail("the weight shape must be static");
  if (wd[1].c != 1)
    return im.fail("weight dimension 1 must be 1 (depthwise), got " + num(wd[1].c));
  int64_t C = wd[0].c, ks = wd[2].c;
  if (ks < 1)
    return im.fail("the kernel size must be at least 1");
  if (auto m = mismatch("input channels and weight channels", xd[1], wd[0]); !m.empty())
    return im.fail(m);
  if (n.has(2)) {
    SymShape bd = inDims(n, 2);
    if (bd.size() != 1 || !(bd[0].isConst() ? bd[0].c == C : true))
      return im.fail("bias must have shape [" + num(C) + "]");
  }
  if (n.has(3)) {
    SymShape pd = inDims(n, 3);
    if (window) { // [W, B, C, k-1]: only slot W-1 is read
      if (pd.size() != 4 || pd[0] != SymExpr::constant(window))
        return im.fail("past_state must have rank 4 (" + num(window) +
                       ", B, C, k-1) with state_window = " + num(window));
      pd.erase(pd.begin());
    }
    if (pd.size() != 3)
      return im.fail("past_state must have rank 3 (B, C, k-1)");
    for (std::string m : {mismatch("past_state batch size and batch size", pd[0], xd[0]),
                          mismatch("past_state channels and channels", pd[1],
                                   SymExpr::constant(C)),
                          mismatch("past_state length and kernel size - 1", pd[2],
                                   SymExpr::constant(ks - 1))})
      if (!m.empty())
        return im.fail(m);
  }
  Value x = n.in(0), w = n.in(1);
  if (!x || !w)
    return failure();
  Value bias = n.has(2) ? n.in(2) : Value(), past = n.has(3) ? n.in(3) : Value();
  if ((n.has(2) && !bias) || (n.has(3) && !past))
    return failure();
  w = im.reshape(w, {SymExpr::constant(C), SymExpr::constant(ks)});
  if (bias)
    bias = im.castTo(bias, RankedTensorType::get({C}, et));
  SymShape od{xd[0], SymExpr::constant(C), xd[2]};
  SymShape sd{xd[0], SymExpr::constant(C), SymExpr::constant(ks - 1)};
  x = im.castTo(x, im.typeFor(od, et));
  if (past && window) {
    SymShape wd{SymExpr::constant(window), xd[0], SymExpr::constant(C), SymExpr::constant(ks - 1)};
    past = im.castTo(past, im.typeFor(wd, et));
    im.setDims(past, wd);
    past = im.reshape(im.extractSlice(past,
                                      {SymExpr::constant(window - 1), SymExpr::constant(0),
                                       SymExpr::constant(0), SymExpr::constant(0)},
                                      {SymExpr::constant(1), xd[0], SymExpr::constant(C),
                                       SymExpr::constant(ks - 1)},
                                      {1, 1, 1, 1}),
                      sd);
  }
  if (past)
    past = im.castTo(past, im.typeFor(sd, et));
  auto op = gate::CausalConvOp::create(im.b, im.loc, im.typeFor(od, et), im.typeFor(sd, et), x, w,
                                       bias, past, /*gate=*/Value(), a);
  Value out = op.getOutput(), st = op.getFinalState();
  im.setDims(out, od);
  im.setDims(st, sd);
  if (window)
    st = causalConvWindowStates(im, x, past, ks - 1, window);
  if (failed(n.out(0, out)) || failed(n.out(1, st)))
    return failure();
  return success();
}

} // namespace gatec::onnx_frontend::detail
