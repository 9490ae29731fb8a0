//===- MicrosoftOps.cpp - com.microsoft ops of ONNX Runtime GenAI models ---===//
//
// The contrib ops that onnxruntime-genai's model builder writes, with the
// semantics of ONNX Runtime's CPU kernels:
//   GroupQueryAttention            gate.sdpa over the KV cache it appends to,
//                                  with its rotary embedding, its per-batch
//                                  sequence lengths (seqlens_k) and bias
//   MultiHeadAttention             gate.sdpa (additive attention_bias, past
//                                  K/V appended, unidirectional = causal)
//   RotaryEmbedding                RoPE at position_ids (or an offset)
//   SkipSimplifiedLayerNormalization  residual add + RMSNorm
//   LinearAttention, CausalConvWithState  as their ONNX opset-27 namesakes
//                                  (the extra attributes at their defaults)
//   LinearAttentionGate            decay = scale · softplus(a + dt_bias),
//                                  beta = sigmoid(b), in f32
//   GatedRMSNorm                   per-group RMSNorm times act(gate)
//   MoE, GatedAdd                  mixture of experts (MoE.cpp)
//   MatMulNBits                    block-quantized weights (QuantizedOps.cpp)
// (SimplifiedLayerNormalization, in the default domain, is RMSNormalization.)
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

using IT = utils::IteratorType;

/// x [..] as f32 when narrower.
Value widen(Importer &im, Value x) {
  Type et = Importer::tt(x).getElementType();
  return et.getIntOrFloatBitWidth() < 32 ? im.convert(x, im.b.getF32Type()) : x;
}

//===----------------------------------------------------------------------===//
// GroupQueryAttention
//===----------------------------------------------------------------------===//
//
// Per batch entry b, with S new tokens: total_b = seqlens_k[b] + 1 tokens are
// valid after this call, the first past_b = max(total_b - S, 0) of them from
// the cache. New token s sits at position p = past_b + s: rotary uses p, it
// attends keys j <= p with j < total_b (and j > p - local_window_size), and
// its K/V land at present[past_b + s]. present holds P + S positions (P: the
// past input's length); past_b = P for every entry in a decoding loop, and
// positions past past_b + S (ragged batches) are zero.

LogicalResult handleGroupQueryAttention(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 12)))
    return failure();
  if (!n.has(5) || !n.has(6))
    return im.fail("seqlens_k (input 5) and total_sequence_length (input 6) are required");
  int64_t hq = n.i("num_heads", 0), hk = n.i("kv_num_heads", 0);
  float scale = n.f("scale", 0.0f), softcap = n.f("softcap", 0.0f);
  int64_t window = n.i("local_window_size", -1), doRotary = n.i("do_rotary", 0),
          interleaved = n.i("rotary_interleaved", 0), smooth = n.i("smooth_softmax", 0),
          qkOut = n.i("qk_output", 0);
  if (n.bad)
    return failure();
  if (hq <= 0 || hk <= 0 || hq % hk != 0)
    return im.fail("num_heads (" + num(hq) + ") must be a positive multiple of kv_num_heads (" +
                   num(hk) + ")");
  if (qkOut)
    return im.fail("qk_output is not supported yet");
  if (!std::isfinite(scale) || scale < 0 || !std::isfinite(softcap) || softcap < 0)
    return im.fail("scale and softcap must be finite and non-negative");
  if (window == 0 || window < -1)
    return im.fail("local_window_size must be -1 or positive, got " + num(window));
  if (n.has(9))
    return im.fail("position_ids inputs are not supported yet");
  if (n.has(11)) {
    SymShape sd = inDims(n, 11);
    if (sd.size() != 1 || !(sd[0] == SymExpr::constant(hq)) ||
        !isa<FloatType>(n.inType(11).getElementType()))
      return im.fail("head_sink must be a float [num_heads] = [" + num(hq) + "] tensor, got " +
                     symShapeStr(sd));
  }
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("query must be f32, f16 or bf16, got " + str(et));
  bool packed = !n.has(1);
  if (n.has(1) != n.has(2))
    return im.fail("key and value must be given together");
  if (n.has(3) != n.has(4))
    return im.fail("past_key and past_value must be given together");
  SymShape qd = inDims(n, 0);
  if (qd.size() != 3 || !qd[2].isConst())
    return im.fail("query must be [batch, sequence, hidden] with a static hidden size");
  int64_t width = packed ? hq + 2 * hk : hq;
  if (qd[2].c % width != 0)
    return im.fail("the query hidden size " + num(qd[2].c) + " is not a multiple of " +
                   num(width) + (packed ? " (num_heads + 2 kv_num_heads, packed QKV)"
                                        : " (num_heads)"));
  int64_t D = qd[2].c / width;
  SymExpr B = qd[0], S = qd[1];
  if (!packed) {
    for (int k : {1, 2}) {
      SymShape d = inDims(n, k);
      if (d.size() != 3 || n.inType(k).getElementType() != et)
        return im.fail(std::string(k == 1 ? "key" : "value") +
                       " must be [batch, sequence, kv_num_heads * head_size] like query");
      for (std::string m : {mismatch("batch sizes", d[0], B), mismatch("sequence lengths", d[1], S),
                            mismatch("kv hidden size and kv_num_heads x head size", d[2],
                                     SymExpr::constant(hk * D))})
        if (!m.empty())
          return im.fail(m);
    }
  }
  SymExpr P = SymExpr::constant(0);
  if (n.has(3)) {
    for (int k : {3, 4}) {
      SymShape d = inDims(n, k);
      if (d.size() != 4 || n.inType(k).getElementType() != et)
        return im.fail("past_key and past_value must be [batch, kv_num_heads, past, head_size] "
                       "with the query's element type");
      for (std::string m : {mismatch("past batch size and batch size", d[0], B),
                            mismatch("past heads and kv_num_heads", d[1], SymExpr::constant(hk)),
                            mismatch("past head size and head size", d[3], SymExpr::constant(D))})
        if (!m.empty())
          return im.fail(m);
    }
    P = inDims(n, 3)[2];
    if (P != inDims(n, 4)[2])
      return im.fail("past_key and past_value have different lengths");
  }
  auto lt = n.inType(5);
  if (lt.getRank() != 1 || !isa<IntegerType>(lt.getElementType()))
    return im.fail("seqlens_k must be a 1-D integer tensor [batch]");
  if (std::string m = mismatch("seqlens_k length and batch size", inDims(n, 5)[0], B); !m.empty())
    return im.fail(m);
  int64_t rot = 0;
  if (doRotary) {
    if (!n.has(7) || !n.has(8))
      return im.fail("do_rotary needs cos_cache and sin_cache");
    SymShape cd = inDims(n, 7), sd = inDims(n, 8);
    if (cd.size() != 2 || sd.size() != 2 || !cd[1].isConst() || cd[1] != sd[1])
      return im.fail("cos_cache and sin_cache must be [max_position, rotary_dim / 2]");
    rot = 2 * cd[1].c;
    if (rot <= 0 || rot > D)
      return im.fail("the rotary dimension " + num(rot) + " exceeds the head size " + num(D));
  }

  // ---- build
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value q = n.in(0), k, v;
  if (!q)
    return failure();
  if (packed) {
    auto part = [&](int64_t from, int64_t heads) {
      SmallVector<OpFoldResult> off{b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(from * D)};
      SmallVector<OpFoldResult> sz{im.sizeOf(B), im.sizeOf(S), b.getIndexAttr(heads * D)};
      SmallVector<OpFoldResult> st(3, b.getIndexAttr(1));
      SymShape pd{B, S, SymExpr::constant(heads * D)};
      Value r = tensor::ExtractSliceOp::create(b, loc, im.typeFor(pd, et), q, off, sz, st);
      im.setDims(r, pd);
      return r;
    };
    k = part(hq, hk);
    v = part(hq + hk, hk);
    q = part(0, hq);
  } else {
    k = n.in(1);
    v = n.in(2);
    if (!k || !v)
      return failure();
  }
  Value lens = n.in(5);
  if (!lens)
    return failure();
  // past_b = max(seqlens_k[b] + 1 - S, 0), and the positions p = past_b + s.
  Value Sv = im.indexOf(S), Pv = im.indexOf(P);
  auto pastOf = [&](OpBuilder &nb, Location l, Value bi) {
    Value t = tensor::ExtractOp::create(nb, l, lens, ValueRange{bi});
    t = arith::IndexCastOp::create(nb, l, nb.getIndexType(), t);
    Value total = arith::AddIOp::create(nb, l, t, arith::ConstantIndexOp::create(nb, l, 1));
    Value past = arith::SubIOp::create(nb, l, total, Sv);
    past = arith::MaxSIOp::create(nb, l, past, arith::ConstantIndexOp::create(nb, l, 0));
    return std::pair{arith::MinSIOp::create(nb, l, past, Pv).getResult(), total};
  };
  SymShape pd2{B, S};
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, &im.ctx);
  Value positions;
  if (doRotary) {
    positions = im.generic({}, im.empty(pd2, b.getI64Type()), {id2}, {IT::parallel, IT::parallel},
                           [&](OpBuilder &nb, Location l, ValueRange) {
                             Value bi = linalg::IndexOp::create(nb, l, 0);
                             Value si = linalg::IndexOp::create(nb, l, 1);
                             Value p = arith::AddIOp::create(nb, l, pastOf(nb, l, bi).first, si);
                             linalg::YieldOp::create(
                                 nb, l, arith::IndexCastOp::create(nb, l, nb.getI64Type(), p)
                                            .getResult());
                           });
    Value cosC = im.convert(n.in(7), et), sinC = im.convert(n.in(8), et);
    if (!cosC || !sinC)
      return failure();
    auto rotate = [&](Value x, int64_t h) {
      SymShape d = im.dims(x);
      Value x4 = im.reshape(x, {d[0], d[1], SymExpr::constant(h), SymExpr::constant(D)});
      Value y = applyRotary(im, x4, cosC, sinC, positions, false, rot, interleaved != 0);
      return im.reshape(y, d);
    };
    q = rotate(q, hq);
    k = rotate(k, hk);
  }
  Value q4 = toHeads(im, q, hq), k4 = toHeads(im, k, hk), v4 = toHeads(im, v, hk);

  // Fast forms, chosen at run time when every entry fills all P + S positions
  // (one sequence, or a batch decoding in step): the cache is a plain concat;
  // a prompt without a cache is causal (windowed: causal + [w-1, 0]); one new
  // token sees every key. The kernels then skip the masked blocks and read no
  // mask.
  Value uniform = arith::ConstantIntOp::create(b, loc, 1, 1);
  {
    Value full = arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, Pv, Sv),
                                       im.cIndex(1));
    auto loop = scf::ForOp::create(b, loc, im.cIndex(0), im.indexOf(B), im.cIndex(1),
                                   ValueRange{uniform});
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loop.getBody());
    Value t = tensor::ExtractOp::create(b, loc, lens, ValueRange{loop.getInductionVar()});
    t = arith::IndexCastOp::create(b, loc, b.getIndexType(), t);
    Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, full);
    scf::YieldOp::create(b, loc, ValueRange{arith::AndIOp::create(
                                     b, loc, loop.getRegionIterArg(0), same).getResult()});
    b.setInsertionPointAfter(loop);
    uniform = loop.getResult(0);
  }
  auto choose = [&](Type type, Value cond, function_ref<Value()> fast,
                    function_ref<Value()> slow) {
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, cond, true, true);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, fast());
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, loc, slow());
    return ifOp.getResult(0);
  };
  // present = the cache with this call's K/V at past_b .. past_b + S.
  SymExpr T = S;
  Value pk = k4, pv = v4;
  if (n.has(3)) {
    Value pastK = n.in(3), pastV = n.in(4);
    if (!pastK || !pastV)
      return failure();
    std::optional<SymExpr> sum =
        P.isConst() && S.isConst() ? std::optional(SymExpr::constant(P.c + S.c)) : std::nullopt;
    if (!sum) {
      int s = im.sumSym({P, S});
      if (!s)
        return im.fail("cannot size the KV cache (past + sequence length)");
      sum = SymExpr::symbol(s);
    }
    T = *sum;
    SymShape cd{B, SymExpr::constant(hk), T, SymExpr::constant(D)};
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
    auto append = [&](Value past, Value cur) {
      Value zero = im.scalar(et, 0.0);
      return im.generic(
          {}, im.empty(cd, et), {id4}, SmallVector<IT>(4, IT::parallel),
          [&](OpBuilder &nb, Location l, ValueRange) {
            Value bi = linalg::IndexOp::create(nb, l, 0), hi = linalg::IndexOp::create(nb, l, 1),
                  ji = linalg::IndexOp::create(nb, l, 2), di = linalg::IndexOp::create(nb, l, 3);
            Value pastB = pastOf(nb, l, bi).first;
            using P_ = arith::CmpIPredicate;
            Value inPast = arith::CmpIOp::create(nb, l, P_::ult, ji, pastB);
            Value rel = arith::SubIOp::create(nb, l, ji, pastB);
            Value inCur = arith::CmpIOp::create(nb, l, P_::ult, rel, Sv);
            // Reads stay in bounds whichever branch is taken.
            Value jp = arith::MinUIOp::create(
                nb, l, ji, arith::SubIOp::create(nb, l, arith::MaxUIOp::create(
                                                            nb, l, Pv,
                                                            arith::ConstantIndexOp::create(nb, l, 1)),
                                                 arith::ConstantIndexOp::create(nb, l, 1)));
            Value jc = arith::MinUIOp::create(
                nb, l, rel, arith::SubIOp::create(nb, l, Sv, arith::ConstantIndexOp::create(nb, l, 1)));
            auto ifThen = [&](Value cond, Value src, Value j, Value other) {
              auto op = scf::IfOp::create(nb, l, TypeRange{et}, cond, true, true);
              OpBuilder tb = op.getThenBodyBuilder();
              scf::YieldOp::create(tb, l, tensor::ExtractOp::create(tb, l, src,
                                                                    ValueRange{bi, hi, j, di})
                                              .getResult());
              OpBuilder eb = op.getElseBodyBuilder();
              scf::YieldOp::create(eb, l, other);
              return op.getResult(0);
            };
            Value fromCur = ifThen(inCur, cur, jc, zero);
            Value val = ifThen(inPast, past, jp, fromCur);
            linalg::YieldOp::create(nb, l, val);
          });
    };
    auto cacheT = im.typeFor(cd, et);
    auto concat = [&](Value past, Value cur) -> Value {
      Value c = im.concat({past, cur}, 2);
      return c.getType() == cacheT ? c : tensor::CastOp::create(b, loc, cacheT, c).getResult();
    };
    pk = choose(cacheT, uniform, [&] { return concat(pastK, k4); },
                [&] { return append(pastK, k4); });
    pv = choose(cacheT, uniform, [&] { return concat(pastV, v4); },
                [&] { return append(pastV, v4); });
    im.setDims(pk, cd);
    im.setDims(pv, cd);
  }

  SymShape yd{B, SymExpr::constant(hq), S, SymExpr::constant(D)};
  auto yT = im.typeFor(yd, et);
  FloatAttr scaleAttr = scale > 0 ? b.getF32FloatAttr(scale) : FloatAttr();
  FloatAttr softcapAttr = softcap > 0 ? b.getF32FloatAttr(softcap) : FloatAttr();
  // Attention sinks: head_sink, or smooth_softmax's sink of 0 (head_sink
  // wins when both are given, as in ONNX Runtime).
  Value sink;
  if (n.has(11))
    sink = im.convert(n.in(11), b.getF32Type());
  else if (smooth)
    sink = im.splat({SymExpr::constant(hq)}, b.getF32Type(), 0.0);
  if ((n.has(11) || smooth) && !sink)
    return failure();
  auto sdpa = [&](Value mask, bool causal, DenseI64ArrayAttr win, bool bottomRight) -> Value {
    return gatec::gate::SdpaOp::create(b, loc, yT, q4, pk, pv, mask, Value(), sink, scaleAttr,
                                       softcapAttr, causal, gatec::gate::Activation::sigmoid, win,
                                       bottomRight);
  };
  // attention_bias [B or 1, hq or 1, S, T], added to the scores of the keys
  // each query keeps: the general form's mask becomes additive.
  Value bias;
  SymShape biasDims;
  if (n.has(10)) {
    biasDims = inDims(n, 10);
    auto fits = [](const SymExpr &d, const SymExpr &full) { return d.isConst(1) || d == full; };
    if (biasDims.size() != 4 || !isa<FloatType>(n.inType(10).getElementType()) ||
        !fits(biasDims[0], B) || !fits(biasDims[1], SymExpr::constant(hq)) ||
        biasDims[2] != S || biasDims[3] != T)
      return im.fail("attention_bias must be a float [batch or 1, num_heads or 1, sequence "
                     "length, total sequence length] tensor, got " + symShapeStr(biasDims));
    bias = n.in(10);
    if (!bias)
      return failure();
    bias = im.convert(bias, b.getF32Type());
  }
  // The general form: keep[b, 0, s, j] = j <= p && j < total_b (&& j > p - window).
  auto masked = [&]() -> Value {
    SymShape md{B, SymExpr::constant(bias ? (biasDims[1].isConst(1) ? 1 : hq) : 1), S, T};
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    if (bias) {
      SmallVector<AffineExpr> be;
      for (int d = 0; d < 4; ++d)
        be.push_back(d < 2 && biasDims[d].isConst(1) ? getAffineConstantExpr(0, &im.ctx)
                                                     : getAffineDimExpr(d, &im.ctx));
      ins.push_back(bias);
      maps.push_back(AffineMap::get(4, 0, be, &im.ctx));
    }
    maps.push_back(id4);
    Value keep = im.generic(
        ins, im.empty(md, bias ? Type(b.getF32Type()) : Type(b.getI1Type())), maps,
        SmallVector<IT>(4, IT::parallel), [&](OpBuilder &nb, Location l, ValueRange args) {
          using P_ = arith::CmpIPredicate;
          Value bi = linalg::IndexOp::create(nb, l, 0), si = linalg::IndexOp::create(nb, l, 2),
                ji = linalg::IndexOp::create(nb, l, 3);
          auto [pastB, total] = pastOf(nb, l, bi);
          Value p = arith::AddIOp::create(nb, l, pastB, si);
          Value ok = arith::AndIOp::create(nb, l, arith::CmpIOp::create(nb, l, P_::sle, ji, p),
                                           arith::CmpIOp::create(nb, l, P_::slt, ji, total));
          if (window > 0) {
            Value lo =
                arith::SubIOp::create(nb, l, p, arith::ConstantIndexOp::create(nb, l, window));
            ok = arith::AndIOp::create(nb, l, ok, arith::CmpIOp::create(nb, l, P_::sgt, ji, lo));
          }
          if (bias)
            ok = arith::SelectOp::create(
                nb, l, ok, args[0],
                arith::ConstantOp::create(
                    nb, l, nb.getF32FloatAttr(-std::numeric_limits<float>::infinity())));
          linalg::YieldOp::create(nb, l, ok);
        });
    return sdpa(keep, false, DenseI64ArrayAttr(), false);
  };
  Value y;
  if (bias) { // every form reads the bias
    y = masked();
  } else {
    // Uniform entries: token s sits at P + s = s + T - S, the bottom-right
    // causal band (windowed: [w-1, 0] of it) over the concatenated cache,
    // for a prompt, a decode step and a chunked prefill alike.
    DenseI64ArrayAttr win = window > 0 ? b.getDenseI64ArrayAttr({window - 1, 0})
                                       : DenseI64ArrayAttr();
    y = choose(yT, uniform, [&] { return sdpa(Value(), true, win, !P.isConst(0)); }, masked);
  }
  im.setDims(y, yd);
  if (failed(n.out(0, fromHeads(im, y))) || failed(n.out(1, pk)) || failed(n.out(2, pv)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// MultiHeadAttention
//===----------------------------------------------------------------------===//
//
// query [B,S,H*D]; key/value [B,T,H*D] or [B,H,T,D]; attention_bias added to
// the scores ([B or 1, H or 1, S, T]); past_key/past_value [B,H,P,D] come
// before this call's keys. unidirectional: query i sees keys up to i + (T - S)
// (the last S keys are its own tokens).

LogicalResult handleMultiHeadAttention(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 10)))
    return failure();
  int64_t heads = n.i("num_heads", 0), causal = n.i("unidirectional", 0);
  float scale = n.f("scale", 0.0f);
  if (n.bad)
    return failure();
  if (heads <= 0)
    return im.fail("num_heads must be positive");
  for (auto [k, what] : {std::pair{3, "bias"}, {4, "key_padding_mask"},
                         {8, "past_sequence_length"}, {9, "cache_indirection"}})
    if (n.has(k))
      return im.fail(std::string(what) + " inputs are not supported yet");
  if (!n.has(1) || !n.has(2))
    return im.fail("key and value are required (packed QKV is not supported yet)");
  if (n.has(6) != n.has(7))
    return im.fail("past_key and past_value must be given together");
  if (n.wants(3))
    return im.fail("the qk output is not supported yet");
  if (!std::isfinite(scale) || scale < 0)
    return im.fail("scale must be finite and non-negative");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("query must be f32, f16 or bf16, got " + str(et));
  SymShape qd = inDims(n, 0);
  if (qd.size() != 3 || !qd[2].isConst() || qd[2].c % heads != 0)
    return im.fail("query must be [batch, sequence, num_heads * head_size] with a static "
                   "hidden size");
  int64_t D = qd[2].c / heads;
  SmallVector<Value> kv;
  for (int k : {1, 2}) {
    SymShape d = inDims(n, k);
    bool ok = n.inType(k).getElementType() == et &&
              ((d.size() == 3 && d[2].isConst() && d[2].c % heads == 0) ||
               (d.size() == 4 && d[1].isConst(heads) && d[3].isConst()));
    if (!ok)
      return im.fail(std::string(k == 1 ? "key" : "value") +
                     " must be [batch, length, num_heads * head_size] or [batch, num_heads, "
                     "length, head_size] with the query's element type");
    Value x = n.in(k);
    if (!x)
      return failure();
    kv.push_back(d.size() == 3 ? toHeads(im, x, heads) : x);
  }
  if (im.dims(kv[0])[3].c != D)
    return im.fail("key head size " + num(im.dims(kv[0])[3].c) + " differs from the query's " +
                   num(D));
  if (n.has(6)) {
    Value pk = n.in(6), pv = n.in(7);
    if (!pk || !pv)
      return failure();
    for (Value p : {pk, pv}) {
      SymShape d = im.dims(p);
      if (d.size() != 4 || !d[1].isConst(heads))
        return im.fail("past_key and past_value must be [batch, num_heads, past, head_size]");
    }
    // the cache's length is one symbol, past + this call's keys
    int sum = im.sumSym({im.dims(pk)[2], im.dims(kv[0])[2]});
    for (int k : {0, 1}) {
      kv[k] = im.concat({k ? pv : pk, kv[k]}, 2);
      SymShape d = im.dims(kv[k]);
      if (sum && !d[2].isConst())
        d[2] = SymExpr::symbol(sum);
      im.setDims(kv[k], d);
    }
  }
  Value q = n.in(0);
  if (!q)
    return failure();
  Value q4 = toHeads(im, q, heads);
  SymExpr S = qd[1], T = im.dims(kv[0])[2];
  SymShape sd{qd[0], SymExpr::constant(heads), S, T};
  Value mask;
  if (n.has(5)) {
    SymShape md = inDims(n, 5), bd;
    if (md.size() != 4 || !isa<FloatType>(n.inType(5).getElementType()) ||
        !im.broadcastShapes({md, sd}, bd))
      return im.errors.empty() ? im.fail("attention_bias must be a float [batch or 1, heads or "
                                         "1, sequence, total length] tensor, got " +
                                         symShapeStr(md))
                               : failure();
    mask = im.convert(n.in(5), et);
    if (!mask)
      return failure();
  }
  // unidirectional is gate.sdpa's bottom-right causal band (the same as the
  // upper-left one when S == T).
  bool bottomRight = causal && !(S == T);
  SymShape yd{qd[0], SymExpr::constant(heads), S, im.dims(kv[1])[3]};
  FloatAttr scaleAttr = scale > 0 ? im.b.getF32FloatAttr(scale) : FloatAttr();
  Value y = gatec::gate::SdpaOp::create(im.b, im.loc, im.typeFor(yd, et), q4, kv[0], kv[1], mask,
                                        Value(), Value(), scaleAttr, FloatAttr(), causal != 0,
                                        gatec::gate::Activation::sigmoid, DenseI64ArrayAttr(),
                                        bottomRight);
  im.setDims(y, yd);
  if (failed(n.out(0, fromHeads(im, y))))
    return failure();
  if (n.wants(1) && failed(n.out(1, kv[0])))
    return failure();
  if (n.wants(2) && failed(n.out(2, kv[1])))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding (com.microsoft)
//===----------------------------------------------------------------------===//
//
// input [B,S,H*D] or [B,H,S,D], position_ids [B,S] (or one offset: position
// offset + s), cos_cache/sin_cache [max_position, rotary_dim / 2]. Without
// num_heads, a 3-D input's head size is the rotary dimension.

LogicalResult handleMsRotaryEmbedding(Importer &im, NodeCtx &n) {
  if (failed(n.arity(4, 4)))
    return failure();
  int64_t interleaved = n.i("interleaved", 0), heads = n.i("num_heads", 0),
          rotDim = n.i("rotary_embedding_dim", 0), packedBatch = n.i("is_packed_batching", 0);
  if (n.bad)
    return failure();
  if (packedBatch)
    return im.fail("is_packed_batching is not supported yet");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("input must be f32, f16 or bf16, got " + str(et));
  SymShape xd = inDims(n, 0), cd = inDims(n, 2), sd = inDims(n, 3), pd = inDims(n, 1);
  if (cd.size() != 2 || sd.size() != 2 || !cd[1].isConst() || cd[1] != sd[1])
    return im.fail("cos_cache and sin_cache must be [max_position, rotary_dim / 2]");
  int64_t rot = rotDim ? rotDim : 2 * cd[1].c;
  int64_t D;
  if (xd.size() == 4) {
    if (!xd[3].isConst())
      return im.fail("the head size must be static");
    D = xd[3].c;
  } else if (xd.size() == 3 && xd[2].isConst()) {
    D = heads > 0 ? xd[2].c / heads : rot;
    if (D <= 0 || xd[2].c % D != 0)
      return im.fail("the hidden size " + num(xd[2].c) + " is not a multiple of the head size " +
                     num(D));
  } else {
    return im.fail("input must be [batch, sequence, hidden] or [batch, heads, sequence, "
                   "head_size] with static sizes past the sequence");
  }
  if (rot <= 0 || rot % 2 || rot > D || rot / 2 > cd[1].c)
    return im.fail("the rotary dimension " + num(rot) + " must be even, at most the head size " +
                   num(D) + " and covered by the caches");
  // onnxruntime-genai's builder passes Qwen3.5's multimodal position ids
  // [3, batch, sequence] here, with no sections to combine them by; for text
  // the three rows are equal, and the first one is read.
  if (!isa<IntegerType>(n.inType(1).getElementType()) ||
      !(pd.size() == 2 || (pd.size() == 1 && pd[0].isConst(1)) ||
        (pd.size() == 3 && pd[0].isConst(3))))
    return im.fail("position_ids must be an integer [batch, sequence] tensor, one offset, or "
                   "[3, batch, sequence] text positions");
  Value x = n.in(0), posIn = n.in(1);
  Value cosC = im.convert(n.in(2), et), sinC = im.convert(n.in(3), et);
  if (!x || !posIn || !cosC || !sinC)
    return failure();
  Value x4 = xd.size() == 4 ? im.transpose(x, {0, 2, 1, 3})
                            : im.reshape(x, {xd[0], xd[1], SymExpr::constant(xd[2].c / D),
                                             SymExpr::constant(D)});
  SymShape x4d = im.dims(x4);
  Value pos = posIn;
  if (pd.size() == 3) {
    SmallVector<OpFoldResult> off{im.b.getIndexAttr(0), im.b.getIndexAttr(0),
                                  im.b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sz{im.b.getIndexAttr(1), im.sizeOf(pd[1]), im.sizeOf(pd[2])};
    SmallVector<OpFoldResult> st(3, im.b.getIndexAttr(1));
    auto rowT = RankedTensorType::get({pd[1].staticSize(), pd[2].staticSize()},
                                      Importer::tt(posIn).getElementType());
    pos = tensor::ExtractSliceOp::create(im.b, im.loc, rowT, posIn, off, sz, st);
    im.setDims(pos, {pd[1], pd[2]});
  }
  if (pd.size() == 1) { // offset + s
    SymShape p2{x4d[0], x4d[1]};
    AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, &im.ctx);
    pos = im.generic({}, im.empty(p2, im.b.getI64Type()), {id2}, {IT::parallel, IT::parallel},
                     [&](OpBuilder &nb, Location l, ValueRange) {
                       Value off = tensor::ExtractOp::create(
                           nb, l, posIn, ValueRange{arith::ConstantIndexOp::create(nb, l, 0)});
                       off = arith::IndexCastOp::create(nb, l, nb.getIndexType(), off);
                       Value p = arith::AddIOp::create(nb, l, off, linalg::IndexOp::create(nb, l, 1));
                       linalg::YieldOp::create(
                           nb, l, arith::IndexCastOp::create(nb, l, nb.getI64Type(), p).getResult());
                     });
  }
  Value y = applyRotary(im, x4, cosC, sinC, pos, false, rot, interleaved != 0);
  Value out = xd.size() == 4 ? im.transpose(y, {0, 2, 1, 3}) : im.reshape(y, xd);
  return n.out(0, im.castTo(out, Importer::tt(x)));
}

//===----------------------------------------------------------------------===//
// LinearAttention, CausalConvWithState (the ONNX opset-27 ops, extended)
//===----------------------------------------------------------------------===//

/// Fails unless every listed attribute has its default: the extensions
/// gatec does not implement yet.
LogicalResult requireDefaults(Importer &im, NodeCtx &n,
                              ArrayRef<std::pair<const char *, int64_t>> attrs) {
  for (auto [name, dflt] : attrs) {
    int64_t v = n.i(name, dflt);
    if (n.bad)
      return failure();
    if (v != dflt)
      return im.fail(std::string(name) + " = " + num(v) + " is not supported yet (only " +
                     num(dflt) + ")");
  }
  return success();
}

/// ONNX Runtime's state_window attribute, validated ([0, 8]).
FailureOr<int64_t> stateWindow(Importer &im, NodeCtx &n) {
  int64_t w = n.i("state_window", 0);
  if (n.bad)
    return failure();
  if (w < 0 || w > 8)
    return im.fail("state_window must be in [0, 8], got " + num(w));
  return w;
}

LogicalResult handleMsLinearAttention(Importer &im, NodeCtx &n) {
  FailureOr<int64_t> w = stateWindow(im, n);
  if (failed(w))
    return failure();
  return importLinearAttention(im, n, *w);
}

LogicalResult handleMsCausalConv(Importer &im, NodeCtx &n) {
  if (failed(requireDefaults(im, n, {{"ndim", 1}, {"dilation", 1}, {"channels_last", 0},
                                     {"state_update_capacity", 0}, {"state_length", 0},
                                     {"input_channel_offset", 0}, {"input_channels", 0}})))
    return failure();
  if (n.wants(2))
    return im.fail("the state_update output is not supported");
  FailureOr<int64_t> w = stateWindow(im, n);
  if (failed(w))
    return failure();
  return importCausalConv(im, n, *w);
}

//===----------------------------------------------------------------------===//
// LinearAttentionGate
//===----------------------------------------------------------------------===//

LogicalResult handleLinearAttentionGate(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 4)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("a must be f32, f16 or bf16, got " + str(et));
  SymShape ad = inDims(n, 0);
  if (ad.size() != 3 || !ad[2].isConst())
    return im.fail("a must be [batch, sequence, heads] with static heads");
  SymExpr H = ad[2];
  for (auto [k, what] : {std::pair{1, "dt_bias"}, {2, "decay_scale"}}) {
    SymShape d = inDims(n, k);
    if (d.size() != 1 || d[0] != H || !isa<FloatType>(n.inType(k).getElementType()))
      return im.fail(std::string(what) + " must be a float [" + num(H.c) + "] vector");
  }
  if (n.wants(1) && !n.has(3))
    return im.fail("the beta output needs input b");
  if (n.has(3) && (inDims(n, 3) != ad || n.inType(3).getElementType() != et))
    return im.fail("b must have a's shape and element type");
  Value a = n.in(0), bias = n.in(1), sc = n.in(2);
  if (!a || !bias || !sc)
    return failure();
  Type f32 = im.b.getF32Type();
  Value af = im.convert(a, f32), bf = im.convert(bias, f32), sf = im.convert(sc, f32);
  AffineMap id = AffineMap::getMultiDimIdentityMap(3, &im.ctx);
  AffineMap lastDim = AffineMap::get(3, 0, {getAffineDimExpr(2, &im.ctx)}, &im.ctx);
  // softplus(x) = max(x, 0) + log1p(exp(-|x|)), which neither overflows nor
  // loses small values
  Value decay = im.generic(
      {af, bf, sf}, im.empty(ad, f32), {id, lastDim, lastDim, id}, SmallVector<IT>(3, IT::parallel),
      [&](OpBuilder &nb, Location l, ValueRange x) {
        Value z = arith::AddFOp::create(nb, l, x[0], x[1]);
        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
        Value pos = arith::MaximumFOp::create(nb, l, z, zero);
        Value negAbs = arith::NegFOp::create(nb, l, math::AbsFOp::create(nb, l, z));
        Value sp = arith::AddFOp::create(nb, l, pos,
                                         math::Log1pOp::create(nb, l, math::ExpOp::create(nb, l, negAbs)));
        linalg::YieldOp::create(nb, l, arith::MulFOp::create(nb, l, sp, x[2]).getResult());
      });
  if (failed(n.out(0, im.convert(decay, et))))
    return failure();
  if (n.wants(1)) {
    Value b = n.in(3);
    if (!b)
      return failure();
    Value beta = im.generic({im.convert(b, f32)}, im.empty(ad, f32), {id, id},
                            SmallVector<IT>(3, IT::parallel),
                            [&](OpBuilder &nb, Location l, ValueRange x) {
                              Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
                              Value e = math::ExpOp::create(nb, l, arith::NegFOp::create(nb, l, x[0]));
                              linalg::YieldOp::create(
                                  nb, l, arith::DivFOp::create(
                                             nb, l, one, arith::AddFOp::create(nb, l, one, e))
                                             .getResult());
                            });
    if (failed(n.out(1, im.convert(beta, et))))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// GatedRMSNorm
//===----------------------------------------------------------------------===//
//
// X (..., H·C), scale (C), gate like X: each group of C elements is divided by
// its root mean square (+ epsilon), times scale and act(gate); f32 arithmetic.

LogicalResult handleGatedRMSNorm(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 3)))
    return failure();
  float eps = n.f("epsilon", 1e-5f);
  std::string act = n.s("activation", "silu");
  if (n.bad)
    return failure();
  bool silu = act == "silu" || act == "swish";
  if (!silu && act != "sigmoid")
    return im.fail("unknown activation '" + act + "' (expected silu, swish or sigmoid)");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et) || n.inType(2).getElementType() != et)
    return im.fail("X and gate must share one of f32, f16, bf16");
  SymShape xd = inDims(n, 0), sd = inDims(n, 1);
  if (xd.empty() || !xd.back().isConst() || sd.size() != 1 || !sd[0].isConst() || sd[0].c <= 0 ||
      xd.back().c % sd[0].c != 0)
    return im.fail("scale must be [C] with C dividing X's static last dimension");
  if (inDims(n, 2) != xd)
    return im.fail("gate must have X's shape");
  int64_t C = sd[0].c, G = xd.back().c / C, r = int64_t(xd.size());
  Value x = n.in(0), scale = n.in(1), gate = n.in(2);
  if (!x || !scale || !gate)
    return failure();
  Type f32 = im.b.getF32Type();
  SymShape gd(xd.begin(), xd.end() - 1);
  gd.push_back(SymExpr::constant(G));
  gd.push_back(SymExpr::constant(C));
  Value xg = im.reshape(im.convert(x, f32), gd), zg = im.reshape(im.convert(gate, f32), gd);
  Value sq = arith::MulFOp::create(im.b, im.loc, xg, xg);
  im.setDims(sq, gd);
  Value ss = im.reduce(sq, {r}, ReduceKind::Sum, true);
  int64_t rank = r + 1;
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(rank), &im.ctx);
  SmallVector<AffineExpr> rowEx, colEx{getAffineDimExpr(unsigned(rank - 1), &im.ctx)};
  for (int64_t k = 0; k < rank - 1; ++k)
    rowEx.push_back(getAffineDimExpr(unsigned(k), &im.ctx));
  rowEx.push_back(getAffineConstantExpr(0, &im.ctx));
  AffineMap rowMap = AffineMap::get(unsigned(rank), 0, rowEx, &im.ctx);
  AffineMap colMap = AffineMap::get(unsigned(rank), 0, colEx, &im.ctx);
  Value y = im.generic(
      {xg, ss, im.convert(scale, f32), zg}, im.empty(gd, f32), {id, rowMap, colMap, id, id},
      SmallVector<IT>(rank, IT::parallel), [&](OpBuilder &nb, Location l, ValueRange a) {
        auto cst = [&](float v) { return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v)); };
        Value ms = arith::AddFOp::create(nb, l, arith::MulFOp::create(nb, l, a[1], cst(1.0f / float(C))),
                                         cst(eps));
        Value inv = math::RsqrtOp::create(nb, l, ms);
        Value sig = arith::DivFOp::create(
            nb, l, cst(1.0f),
            arith::AddFOp::create(nb, l, cst(1.0f),
                                  math::ExpOp::create(nb, l, arith::NegFOp::create(nb, l, a[3]))));
        Value g = silu ? arith::MulFOp::create(nb, l, a[3], sig).getResult() : sig;
        Value v = arith::MulFOp::create(nb, l, arith::MulFOp::create(nb, l, a[0], inv), a[2]);
        linalg::YieldOp::create(nb, l, arith::MulFOp::create(nb, l, v, g).getResult());
      });
  return n.out(0, im.convert(im.reshape(y, xd), et));
}

//===----------------------------------------------------------------------===//
// SkipSimplifiedLayerNormalization
//===----------------------------------------------------------------------===//
//
// s = input + skip (+ bias); output = s / sqrt(mean(s²) + eps) · gamma over
// the last axis (f32 arithmetic); outputs 2 and 3: 1/sqrt(..) and s.

LogicalResult handleSkipSimplifiedLayerNorm(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 4)))
    return failure();
  float eps = n.f("epsilon", 1e-12f);
  if (n.bad)
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("input must be f32, f16 or bf16, got " + str(et));
  for (int k = 1; k < n.numIn(); ++k)
    if (n.has(k) && n.inType(k).getElementType() != et)
      return im.fail("inputs must share the input's element type");
  SymShape xd = inDims(n, 0);
  if (xd.empty() || !xd.back().isConst())
    return im.fail("input must have a static last (hidden) dimension");
  SymExpr hidden = xd.back();
  for (auto [k, what] : {std::pair{2, "gamma"}, {3, "bias"}}) {
    if (!n.has(k))
      continue;
    SymShape d = inDims(n, k);
    if (d.size() != 1 || d[0] != hidden)
      return im.fail(std::string(what) + " must be [" + num(hidden.c) + "], got " +
                     symShapeStr(d));
  }
  SymShape sd = inDims(n, 1), bd;
  if (!im.broadcastShapes({sd, xd}, bd) || bd != xd)
    return im.errors.empty() ? im.fail("skip of shape " + symShapeStr(sd) +
                                       " does not broadcast to the input's " + symShapeStr(xd))
                             : failure();
  Value x = n.in(0), skip = n.in(1), gamma = n.in(2);
  if (!x || !skip || !gamma)
    return failure();
  int64_t r = int64_t(xd.size());
  Value sum = arith::AddFOp::create(im.b, im.loc, x, im.broadcastTo(skip, xd));
  im.setDims(sum, xd);
  if (n.has(3)) {
    Value bias = n.in(3);
    if (!bias)
      return failure();
    sum = arith::AddFOp::create(im.b, im.loc, sum, im.broadcastTo(bias, xd));
    im.setDims(sum, xd);
  }
  Value sf = widen(im, sum);
  Type ct = Importer::tt(sf).getElementType();
  Value sq = arith::MulFOp::create(im.b, im.loc, sf, sf);
  im.setDims(sq, xd);
  Value ms = im.reduce(sq, {r - 1}, ReduceKind::Sum, true);
  SymShape rd = im.dims(ms);
  Value meanSq = arith::MulFOp::create(im.b, im.loc, ms, im.splat(rd, ct, 1.0 / double(hidden.c)));
  Value e = arith::AddFOp::create(im.b, im.loc, meanSq, im.splat(rd, ct, eps));
  Value inv = arith::DivFOp::create(im.b, im.loc, im.splat(rd, ct, 1.0),
                                    math::SqrtOp::create(im.b, im.loc, e));
  im.setDims(inv, rd);
  Value y = arith::MulFOp::create(im.b, im.loc, sf, im.broadcastTo(inv, xd));
  im.setDims(y, xd);
  y = im.convert(y, et);
  y = arith::MulFOp::create(im.b, im.loc, y, im.broadcastTo(gamma, xd));
  im.setDims(y, xd);
  if (failed(n.out(0, y)))
    return failure();
  if (n.wants(1))
    return im.fail("the mean output is not defined for SkipSimplifiedLayerNormalization");
  if (n.wants(2) && failed(n.out(2, inv)))
    return failure();
  if (n.wants(3) && failed(n.out(3, sum)))
    return failure();
  return success();
}

} // namespace

Handler gatec::onnx_frontend::detail::lookupMicrosoftHandler(llvm::StringRef opType) {
  static const llvm::StringMap<Handler> table = {
      {"GroupQueryAttention", handleGroupQueryAttention},
      {"SkipSimplifiedLayerNormalization", handleSkipSimplifiedLayerNorm},
      {"MultiHeadAttention", handleMultiHeadAttention},
      {"RotaryEmbedding", handleMsRotaryEmbedding},
      {"LinearAttention", handleMsLinearAttention},
      {"CausalConvWithState", handleMsCausalConv},
      {"LinearAttentionGate", handleLinearAttentionGate},
      {"GatedRMSNorm", handleGatedRMSNorm},
      {"MoE", handleMsMoE},
      {"GatedAdd", handleMsGatedAdd},
      {"MatMulNBits", handleMsMatMulNBits},
  };
  auto it = table.find(opType);
  return it == table.end() ? nullptr : it->second;
}
