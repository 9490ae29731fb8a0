//===- ComputeOps.cpp - matmuls, convolutions, reductions, norms, Scan ----===//
#include "OpsCommon.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

bool isFloatTy(Type t) { return isa<FloatType>(t); }

/// The runtime value of `e + c` as an index.
Value indexPlus(Importer &im, const SymExpr &e, int64_t c) {
  Value v = im.indexOf(e);
  if (c == 0)
    return v;
  return arith::AddIOp::create(im.b, im.loc, v, im.cIndex(c));
}
} // namespace

namespace gatec::onnx_frontend::detail {

//===----------------------------------------------------------------------===//
// MatMul, Gemm
//===----------------------------------------------------------------------===//

LogicalResult handleMatMul(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  Type ea = n.inType(0).getElementType(), eb = n.inType(1).getElementType();
  if (ea != eb)
    return im.fail("input element types " + str(ea) + " and " + str(eb) + " differ");
  if (ea.isInteger(1))
    return im.fail("bool inputs are not supported");
  SymShape ad = inDims(n, 0), bd = inDims(n, 1);
  if (ad.empty() || bd.empty())
    return im.fail("inputs must have rank >= 1");
  SymExpr k = ad.back(), k2 = bd.size() == 1 ? bd[0] : bd[bd.size() - 2];
  if (k.isConst() && k2.isConst() && k.c != k2.c)
    return im.fail("inner dimensions " + std::to_string(k.c) + " and " + std::to_string(k2.c) +
                   " differ");
  SymShape ab(ad.begin(), ad.end() - std::min<size_t>(ad.size(), 2)),
      bb(bd.begin(), bd.end() - std::min<size_t>(bd.size(), 2)), batch;
  if (!im.broadcastShapes({ab, bb}, batch))
    return failure();
  Value a = n.in(0), b = n.in(1);
  if (!a || !b)
    return failure();
  return n.out(0, im.matmul(a, b));
}

LogicalResult handleGemm(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 3)))
    return failure();
  float alpha = n.f("alpha", 1.0f), beta = n.f("beta", 1.0f);
  int64_t ta = n.i("transA", 0), tb = n.i("transB", 0);
  if (n.bad)
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et) || n.inType(1).getElementType() != et ||
      (n.has(2) && n.inType(2).getElementType() != et))
    return im.fail("inputs must share one floating-point element type");
  SymShape ad = inDims(n, 0), bd = inDims(n, 1);
  if (ad.size() != 2 || bd.size() != 2)
    return im.fail("A and B must have rank 2");
  SymExpr m = ta ? ad[1] : ad[0], k = ta ? ad[0] : ad[1];
  SymExpr k2 = tb ? bd[1] : bd[0], nn = tb ? bd[0] : bd[1];
  if (k.isConst() && k2.isConst() && k.c != k2.c)
    return im.fail("inner dimensions " + std::to_string(k.c) + " and " + std::to_string(k2.c) +
                   " differ");
  SymShape out{m, nn};
  if (n.has(2)) {
    SymShape cd = inDims(n, 2), bc;
    if (cd.size() > 2 || !im.broadcastShapes({cd, out}, bc) ||
        (out[0].isConst() && bc[0] != out[0]) || (out[1].isConst() && bc[1] != out[1]))
      return im.errors.empty() ? im.fail("C of shape " + symShapeStr(cd) +
                                         " does not broadcast to " + symShapeStr(out))
                               : failure();
  }
  Value a = n.in(0), b = n.in(1);
  if (!a || !b)
    return failure();
  if (ta)
    a = im.transpose(a, {1, 0});
  if (tb)
    b = im.transpose(b, {1, 0});
  Value y = im.matmul(a, b);
  if (!y)
    return failure();
  out = im.dims(y);
  if (alpha != 1.0f)
    y = arith::MulFOp::create(im.b, im.loc, y, im.splat(out, et, alpha));
  if (n.has(2)) {
    Value c = im.broadcastTo(n.in(2), out);
    if (!c)
      return failure();
    c = im.castTo(c, Importer::tt(y));
    if (beta != 1.0f)
      c = arith::MulFOp::create(im.b, im.loc, c, im.splat(out, et, beta));
    y = arith::AddFOp::create(im.b, im.loc, y, c);
  }
  im.setDims(y, out);
  return n.out(0, y);
}

//===----------------------------------------------------------------------===//
// Conv (N-d, grouped, depthwise)
//===----------------------------------------------------------------------===//

/// A depthwise 1-D Conv whose left padding is k-1 is the causal convolution
/// of long-filter models (Hyena, BaseConv, GAM): gate.causal_conv computes the
/// same sums (ONNX Conv is a correlation, causal_conv reads positions
/// t .. t+k-1 of the input with k-1 zeros before it). Right padding appends
/// zeros to the input, which the causal op then reads like any position.
static LogicalResult importDepthwiseCausalConv(Importer &im, NodeCtx &n, const SymShape &xd,
                                               int64_t C, int64_t ks, int64_t padRight) {
  Type et = n.inType(0).getElementType();
  Value x = n.in(0), w = n.in(1);
  Value bias = n.has(2) ? n.in(2) : Value();
  if (!x || !w || (n.has(2) && !bias))
    return failure();
  SymShape xs{xd[0], SymExpr::constant(C), xd[2]};
  x = im.castTo(x, im.typeFor(xs, et));
  im.setDims(x, xs);
  if (padRight > 0) {
    OpBuilder &b = im.b;
    SmallVector<OpFoldResult> lo(3, b.getIndexAttr(0)), hi(3, b.getIndexAttr(0));
    hi[2] = b.getIndexAttr(padRight);
    SymShape pd = xs;
    if (xd[2].isConst()) {
      pd[2] = SymExpr::constant(xd[2].c + padRight);
    } else {
      int sym = im.newSymValue(indexPlus(im, xd[2], padRight));
      im.symAtLeast[sym] = xd[2];
      pd[2] = SymExpr::symbol(sym);
    }
    x = tensor::PadOp::create(b, im.loc, im.typeFor(pd, et), x, lo, hi, im.scalar(et, 0.0));
    im.setDims(x, pd);
    xs = pd;
  }
  w = im.reshape(w, {SymExpr::constant(C), SymExpr::constant(ks)});
  if (bias)
    bias = im.castTo(bias, RankedTensorType::get({C}, et));
  SymShape sd{xd[0], SymExpr::constant(C), SymExpr::constant(ks - 1)};
  auto op = gate::CausalConvOp::create(im.b, im.loc, im.typeFor(xs, et), im.typeFor(sd, et), x, w,
                                       bias, Value(), /*gate=*/Value(),
                                       gate::ConvActivation::none);
  im.setDims(op.getOutput(), xs);
  im.setDims(op.getFinalState(), sd);
  return n.out(0, op.getOutput());
}

Value unpaddedCausalConv(Importer &im, Value x, const SymExpr &length) {
  auto conv = x.getDefiningOp<gate::CausalConvOp>();
  if (!conv || conv.getOutput() != x || conv.getTokenMajor() || !conv.getFinalState().use_empty())
    return Value();
  auto pad = conv.getInput().getDefiningOp<tensor::PadOp>();
  Value padValue = pad ? pad.getConstantPaddingValue() : Value();
  if (!padValue || !matchPattern(padValue, m_AnyZeroFloat()))
    return Value();
  for (auto [d, lo, hi] : llvm::enumerate(pad.getStaticLow(), pad.getStaticHigh()))
    if (lo != 0 || (d != 2 && hi != 0))
      return Value();
  Value src = pad.getSource();
  SymShape sd = im.dims(src);
  if (sd[2] != length)
    return Value();
  auto type = RankedTensorType::get(im.tt(src).getShape(), im.tt(x).getElementType());
  auto op = gate::CausalConvOp::create(im.b, im.loc, type, conv.getFinalState().getType(), src,
                                       conv.getWeight(), conv.getBias(), conv.getInitialState(),
                                       /*gate=*/Value(), conv.getActivation());
  im.setDims(op.getOutput(), sd);
  return op.getOutput();
}

LogicalResult handleConv(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 3)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et) || n.inType(1).getElementType() != et ||
      (n.has(2) && n.inType(2).getElementType() != et))
    return im.fail("inputs must share one floating-point element type");
  SymShape xd = inDims(n, 0), wd = inDims(n, 1);
  int64_t r = xd.size();
  if (r < 3)
    return im.fail("X must have rank >= 3 (N, C, spatial...)");
  if (int64_t(wd.size()) != r)
    return im.fail("W has rank " + std::to_string(wd.size()) + ", expected " + std::to_string(r));
  int64_t S = r - 2;
  int64_t G = n.i("group", 1);
  std::string autoPad = n.s("auto_pad", "NOTSET");
  SmallVector<int64_t> strides = n.is("strides"), dil = n.is("dilations"), pads = n.is("pads"),
                       ks = n.is("kernel_shape");
  if (n.bad)
    return failure();
  for (int64_t j = 0; j < r; ++j)
    if (!wd[j].isConst())
      return im.fail("the weight shape must be static");
  int64_t M = wd[0].c, Cg = wd[1].c;
  if (G <= 0 || M % G != 0)
    return im.fail("group (" + std::to_string(G) + ") must divide the output channels (" +
                   std::to_string(M) + ")");
  if (xd[1].isConst() && xd[1].c != Cg * G)
    return im.fail("input channels (" + std::to_string(xd[1].c) + ") differ from group (" +
                   std::to_string(G) + ") x weight channels (" + std::to_string(Cg) + ")");
  if (strides.empty())
    strides.assign(S, 1);
  if (dil.empty())
    dil.assign(S, 1);
  if (int64_t(strides.size()) != S || int64_t(dil.size()) != S)
    return im.fail("strides and dilations must have one entry per spatial dimension");
  for (int64_t j = 0; j < S; ++j) {
    if (strides[j] <= 0 || dil[j] <= 0)
      return im.fail("strides and dilations must be positive");
    if (!ks.empty() && (int64_t(ks.size()) != S || ks[j] != wd[2 + j].c))
      return im.fail("kernel_shape does not match the weight");
  }
  if (autoPad == "NOTSET") {
    if (pads.empty())
      pads.assign(2 * S, 0);
    if (int64_t(pads.size()) != 2 * S)
      return im.fail("pads must have 2 entries per spatial dimension");
  } else if (autoPad == "VALID") {
    pads.assign(2 * S, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    pads.assign(2 * S, 0);
    for (int64_t j = 0; j < S; ++j) {
      if (!xd[2 + j].isConst())
        return im.fail("auto_pad " + autoPad + " needs static spatial dimensions");
      int64_t in = xd[2 + j].c, o = (in + strides[j] - 1) / strides[j];
      int64_t total = std::max<int64_t>(0, (o - 1) * strides[j] + (wd[2 + j].c - 1) * dil[j] + 1 - in);
      int64_t small = total / 2;
      pads[j] = autoPad == "SAME_UPPER" ? small : total - small;
      pads[j + S] = total - pads[j];
    }
  } else {
    return im.fail("unknown auto_pad '" + autoPad + "'");
  }
  for (int64_t p : pads)
    if (p < 0)
      return im.fail("negative pads are not supported");
  if (n.has(2)) {
    SymShape bd = inDims(n, 2);
    if (bd.size() != 1 || (bd[0].isConst() && bd[0].c != M))
      return im.fail("B must have shape [" + std::to_string(M) + "]");
  }
  // Static output sizes must be positive.
  for (int64_t j = 0; j < S; ++j) {
    int64_t span = dil[j] * (wd[2 + j].c - 1) + 1;
    int64_t extra = pads[j] + pads[j + S] - span;
    if (xd[2 + j].isConst() && xd[2 + j].c + extra < 0)
      return im.fail("the kernel is larger than the padded input");
  }
  if (S == 1 && G == M && Cg == 1 && strides[0] == 1 && dil[0] == 1 &&
      pads[0] == wd[2].c - 1 && isGateFloat(et))
    return importDepthwiseCausalConv(im, n, xd, M, wd[2].c, pads[1]);
  Value x = n.in(0), w = n.in(1);
  if (!x || !w)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type acc = et.getIntOrFloatBitWidth() < 32 ? Type(b.getF32Type()) : et;
  x = im.convert(x, acc);
  w = im.convert(w, acc);
  // Zero padding.
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    SmallVector<OpFoldResult> lo(r, b.getIndexAttr(0)), hi(r, b.getIndexAttr(0));
    SymShape pd = xd;
    for (int64_t j = 0; j < S; ++j) {
      int64_t add = pads[j] + pads[j + S];
      lo[2 + j] = b.getIndexAttr(pads[j]);
      hi[2 + j] = b.getIndexAttr(pads[j + S]);
      if (xd[2 + j].isConst())
        pd[2 + j] = SymExpr::constant(xd[2 + j].c + add);
      else if (add != 0)
        pd[2 + j] = SymExpr::symbol(im.newSymValue(indexPlus(im, xd[2 + j], add)));
    }
    auto pt = im.typeFor(pd, acc);
    Value p = tensor::PadOp::create(b, loc, pt, x, lo, hi, im.scalar(acc, 0.0));
    im.setDims(p, pd);
    x = p;
  }
  SymShape xpd = im.dims(x);
  // Output sizes: (padded - span) / stride + 1.
  SymShape od{xd[0], SymExpr::constant(M)};
  for (int64_t j = 0; j < S; ++j) {
    int64_t span = dil[j] * (wd[2 + j].c - 1) + 1;
    if (xpd[2 + j].isConst()) {
      od.push_back(SymExpr::constant((xpd[2 + j].c - span) / strides[j] + 1));
      continue;
    }
    Value in = indexPlus(im, xpd[2 + j], -span);
    if (strides[j] != 1)
      in = arith::DivSIOp::create(b, loc, in, im.cIndex(strides[j]));
    Value o = arith::AddIOp::create(b, loc, in, im.cIndex(1));
    od.push_back(SymExpr::symbol(im.newSymValue(o)));
  }
  int64_t Mg = M / G;
  SymShape xr{xpd[0], SymExpr::constant(G), SymExpr::constant(Cg)};
  SymShape wr{SymExpr::constant(G), SymExpr::constant(Mg), SymExpr::constant(Cg)};
  SymShape ord{od[0], SymExpr::constant(G), SymExpr::constant(Mg)};
  for (int64_t j = 0; j < S; ++j) {
    xr.push_back(xpd[2 + j]);
    wr.push_back(wd[2 + j]);
    ord.push_back(od[2 + j]);
  }
  Value x5 = im.reshape(x, xr), w5 = im.reshape(w, wr);
  Value init = im.fill(im.empty(ord, acc), im.scalar(acc, 0.0));
  unsigned nl = unsigned(3 + S + 1 + S);
  auto d = [&](int64_t k) { return getAffineDimExpr(unsigned(k), &im.ctx); };
  SmallVector<AffineExpr> xe{d(0), d(1), d(3 + S)}, we{d(1), d(2), d(3 + S)},
      oe{d(0), d(1), d(2)};
  for (int64_t j = 0; j < S; ++j) {
    xe.push_back(d(3 + j) * strides[j] + d(4 + S + j) * dil[j]);
    we.push_back(d(4 + S + j));
    oe.push_back(d(3 + j));
  }
  SmallVector<AffineMap> maps{AffineMap::get(nl, 0, xe, &im.ctx),
                              AffineMap::get(nl, 0, we, &im.ctx),
                              AffineMap::get(nl, 0, oe, &im.ctx)};
  SmallVector<utils::IteratorType> iters(3 + S, utils::IteratorType::parallel);
  iters.append(1 + S, utils::IteratorType::reduction);
  Value y = im.generic({x5, w5}, init, maps, iters, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value m = arith::MulFOp::create(nb, l, a[0], a[1]);
    linalg::YieldOp::create(nb, l, arith::AddFOp::create(nb, l, a[2], m).getResult());
  });
  SymShape yd{od[0], SymExpr::constant(M)};
  SymShape yr = im.dims(y);
  for (int64_t j = 0; j < S; ++j)
    yd.push_back(yr[3 + j]);
  y = im.reshape(y, yd);
  if (n.has(2)) {
    Value bias = im.convert(n.in(2), acc);
    SymShape bshape(r, SymExpr::constant(1));
    bshape[1] = SymExpr::constant(M);
    bias = im.reshape(bias, bshape);
    SmallVector<Value> v{y, bias};
    if (!im.broadcastAll(v))
      return failure();
    y = arith::AddFOp::create(b, loc, v[0], v[1]);
    im.setDims(y, yd);
  }
  return n.out(0, im.convert(y, et));
}

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

static LogicalResult softmaxImpl(Importer &im, NodeCtx &n, bool log) {
  if (failed(n.arity(1, 1)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et))
    return im.fail("input must be floating point, got " + str(et));
  int64_t r = n.inType(0).getRank();
  if (r == 0)
    return im.fail("input must have rank >= 1");
  bool modern = im.opset >= 13;
  int64_t axis = n.i("axis", modern ? -1 : 1);
  if (n.bad || !normAxis(im, axis, r))
    return failure();
  SmallVector<int64_t> axes;
  if (modern)
    axes.push_back(axis);
  else
    for (int64_t k = axis; k < r; ++k)
      axes.push_back(k);
  Value x = n.in(0);
  if (!x)
    return failure();
  return n.out(0, im.softmax(x, axes, log));
}

LogicalResult handleSoftmax(Importer &im, NodeCtx &n) { return softmaxImpl(im, n, false); }
LogicalResult handleLogSoftmax(Importer &im, NodeCtx &n) { return softmaxImpl(im, n, true); }

enum class RK { Sum, Mean, Max, Min, Prod, L2, SumSquare };

static LogicalResult reduceImpl(Importer &im, NodeCtx &n, RK kind) {
  if (failed(n.arity(1, 2)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (et.isInteger(1))
    return im.fail("bool inputs are not supported");
  if ((kind == RK::Mean || kind == RK::L2) && !isFloatTy(et))
    return im.fail("input must be floating point, got " + str(et));
  int64_t keep = n.i("keepdims", 1), noop = n.i("noop_with_empty_axes", 0);
  SmallVector<int64_t> axes;
  if (n.has(1)) {
    auto a = n.ints(1);
    if (!a)
      return im.fail("axes must be known at import time");
    axes = *a;
  } else {
    axes = n.is("axes");
  }
  if (n.bad)
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  Value x = n.in(0);
  if (!x)
    return failure();
  if (axes.empty()) {
    if (noop || r == 0)
      return n.out(0, x);
    for (int64_t k = 0; k < r; ++k)
      axes.push_back(k);
  }
  for (int64_t &a : axes)
    if (!normAxis(im, a, r))
      return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  if (kind == RK::L2 || kind == RK::SumSquare) {
    x = isFloatTy(et) ? arith::MulFOp::create(b, loc, x, x).getResult()
                      : arith::MulIOp::create(b, loc, x, x).getResult();
    im.setDims(x, xd);
  }
  ReduceKind rk = kind == RK::Max   ? ReduceKind::Max
                  : kind == RK::Min ? ReduceKind::Min
                  : kind == RK::Prod ? ReduceKind::Prod
                                     : ReduceKind::Sum;
  Value y = im.reduce(x, axes, rk, keep != 0);
  if (kind == RK::Mean) {
    SymShape red;
    for (int64_t a : axes)
      red.push_back(xd[a]);
    auto cnt = symProduct(red);
    SymShape yd = im.dims(y);
    Value c;
    if (cnt && cnt->isConst()) {
      c = im.splat(yd, et, double(cnt->c));
    } else {
      Value idx = cnt ? im.indexOf(*cnt) : im.cIndex(1);
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), idx);
      Value f = arith::SIToFPOp::create(b, loc, et, i64);
      c = im.splatValue(yd, f);
    }
    y = arith::DivFOp::create(b, loc, y, c);
    im.setDims(y, yd);
  } else if (kind == RK::L2) {
    SymShape yd = im.dims(y);
    y = math::SqrtOp::create(b, loc, y);
    im.setDims(y, yd);
  }
  return n.out(0, y);
}

LogicalResult handleReduceSum(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::Sum); }
LogicalResult handleReduceMean(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::Mean); }
LogicalResult handleReduceMax(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::Max); }
LogicalResult handleReduceMin(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::Min); }
LogicalResult handleReduceProd(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::Prod); }
LogicalResult handleReduceL2(Importer &im, NodeCtx &n) { return reduceImpl(im, n, RK::L2); }
LogicalResult handleReduceSumSquare(Importer &im, NodeCtx &n) {
  return reduceImpl(im, n, RK::SumSquare);
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// Mean over `axes` (kept as size-1 dims), in the element type of `x`.
static Value meanOver(Importer &im, Value x, llvm::ArrayRef<int64_t> axes) {
  SymShape xd = im.dims(x);
  Type et = Importer::tt(x).getElementType();
  Value s = im.reduce(x, axes, ReduceKind::Sum, true);
  SymShape red;
  for (int64_t a : axes)
    red.push_back(xd[a]);
  auto cnt = symProduct(red);
  SymShape sd = im.dims(s);
  Value c;
  if (cnt && cnt->isConst()) {
    c = im.splat(sd, et, double(cnt->c));
  } else {
    Value idx = cnt ? im.indexOf(*cnt) : im.cIndex(1);
    Value i64 = arith::IndexCastOp::create(im.b, im.loc, im.b.getI64Type(), idx);
    c = im.splatValue(sd, arith::SIToFPOp::create(im.b, im.loc, et, i64));
  }
  Value r = arith::DivFOp::create(im.b, im.loc, s, c);
  im.setDims(r, sd);
  return r;
}

/// 1 / sqrt(v + eps), elementwise.
static Value invStd(Importer &im, Value v, float eps) {
  SymShape d = im.dims(v);
  Type et = Importer::tt(v).getElementType();
  Value e = arith::AddFOp::create(im.b, im.loc, v, im.splat(d, et, eps));
  Value s = math::SqrtOp::create(im.b, im.loc, e);
  Value r = arith::DivFOp::create(im.b, im.loc, im.splat(d, et, 1.0), s);
  im.setDims(r, d);
  return r;
}

static Value mulB(Importer &im, Value a, Value b) {
  SmallVector<Value> v{a, b};
  SymShape out;
  if (!im.broadcastAll(v, &out))
    return Value();
  Value r = arith::MulFOp::create(im.b, im.loc, v[0], v[1]);
  im.setDims(r, out);
  return r;
}
static Value addB(Importer &im, Value a, Value b) {
  SmallVector<Value> v{a, b};
  SymShape out;
  if (!im.broadcastAll(v, &out))
    return Value();
  Value r = arith::AddFOp::create(im.b, im.loc, v[0], v[1]);
  im.setDims(r, out);
  return r;
}
static Value subB(Importer &im, Value a, Value b) {
  SmallVector<Value> v{a, b};
  SymShape out;
  if (!im.broadcastAll(v, &out))
    return Value();
  Value r = arith::SubFOp::create(im.b, im.loc, v[0], v[1]);
  im.setDims(r, out);
  return r;
}

static LogicalResult normCommon(Importer &im, NodeCtx &n, bool rms) {
  if (failed(rms ? n.arity(2, 2) : n.arity(2, 3)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et))
    return im.fail("input must be floating point, got " + str(et));
  for (int k = 1; k < n.numIn(); ++k)
    if (n.has(k) && n.inType(k).getElementType() != et)
      return im.fail("input element types differ");
  int64_t r = n.inType(0).getRank();
  int64_t axis = n.i("axis", -1);
  float eps = n.f("epsilon", 1e-5f);
  int64_t stash = n.i("stash_type", 1);
  if (n.bad)
    return failure();
  if (r == 0)
    return im.fail("input must have rank >= 1");
  if (!normAxis(im, axis, r))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t k = axis; k < r; ++k)
    axes.push_back(k);
  SymShape xd = inDims(n, 0), normD(xd.begin() + axis, xd.end()), tmp;
  for (int k = 1; k < n.numIn(); ++k) {
    if (!n.has(k))
      continue;
    SymShape sd = inDims(n, k);
    if (!im.broadcastShapes({sd, xd}, tmp) || tmp.size() != xd.size() ||
        llvm::any_of(llvm::seq<size_t>(0, xd.size()),
                     [&](size_t j) { return xd[j].isConst() && tmp[j] != xd[j]; }))
      return im.errors.empty() ? im.fail("input " + std::to_string(k) + " of shape " +
                                         symShapeStr(sd) + " does not broadcast to " +
                                         symShapeStr(xd))
                               : failure();
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  Type ct = (stash == 1 && et.getIntOrFloatBitWidth() < 32) ? Type(im.b.getF32Type()) : et;
  Value xf = im.convert(x, ct);
  Value normed, mean, inv;
  if (rms) {
    Value sq = arith::MulFOp::create(im.b, im.loc, xf, xf);
    im.setDims(sq, xd);
    inv = invStd(im, meanOver(im, sq, axes), eps);
    normed = mulB(im, xf, inv);
  } else {
    mean = meanOver(im, xf, axes);
    Value xc = subB(im, xf, mean);
    Value sq = arith::MulFOp::create(im.b, im.loc, xc, xc);
    im.setDims(sq, xd);
    inv = invStd(im, meanOver(im, sq, axes), eps);
    normed = mulB(im, xc, inv);
  }
  if (!normed)
    return failure();
  Value y = im.convert(normed, et);
  Value scale = n.in(1);
  if (!scale)
    return failure();
  y = mulB(im, y, scale);
  if (!rms && n.has(2))
    y = addB(im, y, n.in(2));
  if (!y)
    return failure();
  y = im.castTo(y, Importer::tt(x).clone(et));
  if (failed(n.out(0, y)))
    return failure();
  if (!rms) {
    if (n.wants(1) && failed(n.out(1, mean)))
      return failure();
    if (n.wants(2) && failed(n.out(2, inv)))
      return failure();
  } else if (n.wants(1) && failed(n.out(1, inv))) { // SimplifiedLayerNormalization's
    return failure();
  }
  return success();
}

/// LpNormalization: x / ||x||_p along one axis (p = 1 or 2); a zero norm
/// gives 0, as ONNX's reference does (ONNX Runtime too).
LogicalResult handleLpNorm(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  int64_t axis = n.i("axis", -1), p = n.i("p", 2);
  if (n.bad)
    return failure();
  if (p != 1 && p != 2)
    return im.fail("p must be 1 or 2, got " + std::to_string(p));
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et))
    return im.fail("input must be floating point, got " + str(et));
  SymShape xd = inDims(n, 0);
  int64_t r = int64_t(xd.size());
  if (r == 0 || !normAxis(im, axis, r))
    return r == 0 ? im.fail("input must have rank >= 1") : failure();
  Value x = n.in(0);
  if (!x)
    return failure();
  Type ct = et.getIntOrFloatBitWidth() < 32 ? Type(im.b.getF32Type()) : et;
  Value xf = im.convert(x, ct);
  Value t = p == 2 ? arith::MulFOp::create(im.b, im.loc, xf, xf).getResult()
                   : math::AbsFOp::create(im.b, im.loc, xf).getResult();
  im.setDims(t, xd);
  Value s = im.reduce(t, {axis}, ReduceKind::Sum, true);
  SmallVector<AffineExpr> ex;
  for (int64_t k = 0; k < r; ++k)
    ex.push_back(k == axis ? getAffineConstantExpr(0, &im.ctx) : getAffineDimExpr(unsigned(k), &im.ctx));
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Value y = im.generic({xf, s}, im.empty(xd, ct), {id, AffineMap::get(unsigned(r), 0, ex, &im.ctx), id},
                       SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         Value norm = p == 2 ? math::SqrtOp::create(nb, l, a[1]).getResult() : a[1];
                         Value zero = arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, 0.0));
                         Value isZero = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, norm, zero);
                         Value q = arith::DivFOp::create(nb, l, a[0], norm);
                         linalg::YieldOp::create(
                             nb, l, arith::SelectOp::create(nb, l, isZero, zero, q).getResult());
                       });
  return n.out(0, im.convert(y, et));
}

LogicalResult handleLayerNorm(Importer &im, NodeCtx &n) { return normCommon(im, n, false); }
LogicalResult handleRMSNorm(Importer &im, NodeCtx &n) { return normCommon(im, n, true); }

//===----------------------------------------------------------------------===//
// RotaryEmbedding-23
//===----------------------------------------------------------------------===//

/// RoPE on x [B,S,H,D] (the first `rot` channels of each head): with
/// `pos` [B,S] (integer), the caches are [max_position, rot/2] rows read at
/// pos[b,s]; without, [B or 1, S, rot/2] read at (b, s).
Value applyRotary(Importer &im, Value x4, Value cosC, Value sinC, Value pos, bool cacheB1,
                  int64_t rot, bool interleaved) {
  Type et = Importer::tt(x4).getElementType();
  bool withPos = bool(pos);
  int64_t half = rot / 2;
  SymShape x4d = im.dims(x4);
  Value c1 = im.cIndex(1), c2 = im.cIndex(2), c0 = im.cIndex(0);
  Value halfV = im.cIndex(half), rotV = im.cIndex(rot);
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
  Value y = im.generic(
      {x4}, im.empty(x4d, et), {id, id},
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        using IP = arith::CmpIPredicate;
        Value bi = linalg::IndexOp::create(nb, l, 0), si = linalg::IndexOp::create(nb, l, 1),
              hi = linalg::IndexOp::create(nb, l, 2), di = linalg::IndexOp::create(nb, l, 3);
        Value first, j, partner;
        if (interleaved) {
          Value rem = arith::RemUIOp::create(nb, l, di, c2);
          first = arith::CmpIOp::create(nb, l, IP::eq, rem, c0);
          j = arith::DivUIOp::create(nb, l, di, c2);
          Value up = arith::AddIOp::create(nb, l, di, c1);
          Value down = arith::SubIOp::create(nb, l, di, c1);
          partner = arith::SelectOp::create(nb, l, first, up, down);
        } else {
          first = arith::CmpIOp::create(nb, l, IP::ult, di, halfV);
          Value down = arith::SubIOp::create(nb, l, di, halfV);
          j = arith::SelectOp::create(nb, l, first, di, down);
          Value up = arith::AddIOp::create(nb, l, di, halfV);
          partner = arith::SelectOp::create(nb, l, first, up, down);
        }
        Value inRot = arith::CmpIOp::create(nb, l, IP::ult, di, rotV);
        j = arith::SelectOp::create(nb, l, inRot, j, c0);
        partner = arith::SelectOp::create(nb, l, inRot, partner, di);
        Value cv, sv;
        if (withPos) {
          Value p = tensor::ExtractOp::create(nb, l, pos, ValueRange{bi, si});
          Value pi = arith::IndexCastOp::create(nb, l, nb.getIndexType(), p);
          cv = tensor::ExtractOp::create(nb, l, cosC, ValueRange{pi, j});
          sv = tensor::ExtractOp::create(nb, l, sinC, ValueRange{pi, j});
        } else {
          Value cb = cacheB1 ? c0 : bi;
          cv = tensor::ExtractOp::create(nb, l, cosC, ValueRange{cb, si, j});
          sv = tensor::ExtractOp::create(nb, l, sinC, ValueRange{cb, si, j});
        }
        Value xv = a[0];
        Value xp = tensor::ExtractOp::create(nb, l, x4, ValueRange{bi, si, hi, partner});
        // first: cos*x - sin*x_partner; second: sin*x_partner + cos*x
        Value cx = arith::MulFOp::create(nb, l, cv, xv);
        Value sp = arith::MulFOp::create(nb, l, sv, xp);
        Value re = arith::SubFOp::create(nb, l, cx, sp);
        Value imv = arith::AddFOp::create(nb, l, sp, cx);
        Value rotv = arith::SelectOp::create(nb, l, first, re, imv);
        Value res = arith::SelectOp::create(nb, l, inRot, rotv, xv);
        linalg::YieldOp::create(nb, l, res);
      });
  return y;
}

LogicalResult handleRotary(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 4)))
    return failure();
  int64_t interleaved = n.i("interleaved", 0), numHeads = n.i("num_heads", 0),
          rotDim = n.i("rotary_embedding_dim", 0);
  if (n.bad)
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isFloatTy(et) || n.inType(1).getElementType() != et || n.inType(2).getElementType() != et)
    return im.fail("X, cos_cache and sin_cache must share one floating-point element type");
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  if (r != 3 && r != 4)
    return im.fail("X must have rank 3 or 4");
  SymExpr B = xd[0], S = r == 4 ? xd[2] : xd[1], H = SymExpr::constant(0),
          D = SymExpr::constant(0);
  if (r == 4) {
    H = xd[1];
    D = xd[3];
  } else {
    if (numHeads <= 0)
      return im.fail("num_heads is required for 3-D inputs");
    if (!xd[2].isConst() || xd[2].c % numHeads != 0)
      return im.fail("the hidden size must be static and a multiple of num_heads (" +
                     std::to_string(numHeads) + ")");
    H = SymExpr::constant(numHeads);
    D = SymExpr::constant(xd[2].c / numHeads);
  }
  if (!D.isConst())
    return im.fail("the head size must be static");
  int64_t d = D.c, rot = rotDim ? rotDim : d;
  if (rot <= 0 || rot > d || rot % 2 != 0)
    return im.fail("rotary_embedding_dim (" + std::to_string(rot) +
                   ") must be even and at most the head size (" + std::to_string(d) + ")");
  int64_t half = rot / 2;
  SymShape cd = inDims(n, 1), sd = inDims(n, 2);
  bool withPos = n.has(3);
  if (cd.size() != sd.size() || cd.size() != (withPos ? 2u : 3u))
    return im.fail(withPos ? "caches must be 2-D [max_position, rotary_dim/2] with position_ids"
                           : "caches must be 3-D [batch, sequence, rotary_dim/2] without "
                             "position_ids");
  if (!cd.back().isConst() || cd.back().c < half || !sd.back().isConst() || sd.back().c < half)
    return im.fail("the caches' last dimension must be static and at least " +
                   std::to_string(half));
  if (withPos) {
    SymShape pd = inDims(n, 3);
    if (pd.size() != 2 || !isa<IntegerType>(n.inType(3).getElementType()))
      return im.fail("position_ids must be a 2-D integer tensor [batch, sequence]");
  }
  Value x = n.in(0), cosC = n.in(1), sinC = n.in(2);
  Value pos = withPos ? n.in(3) : Value();
  if (!x || !cosC || !sinC || (withPos && !pos))
    return failure();
  Value x4 = r == 4 ? im.transpose(x, {0, 2, 1, 3}) : im.reshape(x, {B, S, H, D});
  bool cacheB1 = !withPos && cd[0].isConst(1);
  Value y = applyRotary(im, x4, cosC, sinC, pos, cacheB1, rot, interleaved != 0);
  Value out = r == 4 ? im.transpose(y, {0, 2, 1, 3}) : im.reshape(y, xd);
  return n.out(0, im.castTo(out, Importer::tt(x)));
}

//===----------------------------------------------------------------------===//
// Trilu, Tile, Pad
//===----------------------------------------------------------------------===//

LogicalResult handleTrilu(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 2)))
    return failure();
  int64_t upper = n.i("upper", 1);
  if (n.bad)
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  if (r < 2)
    return im.fail("input must have rank >= 2");
  Value x = n.in(0);
  if (!x)
    return failure();
  Type et = Importer::tt(x).getElementType();
  Value k = n.has(1) ? scalarInput(n, 1, im.b.getIndexType()) : im.cIndex(0);
  if (!k)
    return failure();
  Value zero = im.scalar(et, 0.0);
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Value y = im.generic({x}, im.empty(xd, et), {id, id},
                       SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         Value i = linalg::IndexOp::create(nb, l, r - 2);
                         Value j = linalg::IndexOp::create(nb, l, r - 1);
                         Value diff = arith::SubIOp::create(nb, l, j, i);
                         Value keep = arith::CmpIOp::create(
                             nb, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
                             diff, k);
                         linalg::YieldOp::create(
                             nb, l, arith::SelectOp::create(nb, l, keep, a[0], zero).getResult());
                       });
  return n.out(0, y);
}

LogicalResult handleTile(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  auto reps = n.ints(1);
  if (!reps)
    return im.fail("repeats must be known at import time");
  if (int64_t(reps->size()) != r)
    return im.fail("repeats has " + std::to_string(reps->size()) + " entries for rank " +
                   std::to_string(r));
  SymShape od;
  for (int64_t k = 0; k < r; ++k) {
    if ((*reps)[k] < 0)
      return im.fail("negative repeat");
    auto m = symMul(xd[k], SymExpr::constant((*reps)[k]));
    if (!m)
      return im.fail("the result is too large");
    od.push_back(*m);
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  Type et = Importer::tt(x).getElementType();
  SmallVector<Value> dimsV;
  for (int64_t k = 0; k < r; ++k)
    dimsV.push_back((*reps)[k] == 1 ? Value() : im.indexOf(xd[k]));
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Value y = im.generic({}, im.empty(od, et), {id},
                       SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
                       [&](OpBuilder &nb, Location l, ValueRange) {
                         SmallVector<Value> c;
                         for (int64_t k = 0; k < r; ++k) {
                           Value i = linalg::IndexOp::create(nb, l, k);
                           c.push_back(dimsV[k] ? arith::RemUIOp::create(nb, l, i, dimsV[k])
                                                      .getResult()
                                                : i);
                         }
                         linalg::YieldOp::create(nb, l,
                                                 tensor::ExtractOp::create(nb, l, x, c).getResult());
                       });
  return n.out(0, y);
}

LogicalResult handlePad(Importer &im, NodeCtx &n) {
  bool attrForm = im.opset < 11 && !n.has(1);
  if (failed(attrForm ? n.arity(1, 1) : n.arity(2, 4)))
    return failure();
  std::string mode = n.s("mode", "constant");
  if (n.bad)
    return failure();
  if (mode != "constant")
    return im.fail("Pad mode '" + mode + "' is not supported");
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  Type et = n.inType(0).getElementType();
  SmallVector<OptSym, 4> pads;
  if (attrForm) {
    for (int64_t p : n.is("pads"))
      pads.push_back(SymExpr::constant(p));
  } else if (auto st = n.shape(1)) {
    pads = st->elems;
  } else {
    auto pt = n.inType(1);
    if (pt.getRank() != 1 || pt.isDynamicDim(0) || !isa<IntegerType>(pt.getElementType()))
      return im.fail("pads must be a 1-D integer tensor of static length");
    pads.assign(size_t(pt.getDimSize(0)), std::nullopt);
  }
  SmallVector<int64_t> axes;
  if (n.has(3)) {
    auto a = n.ints(3);
    if (!a)
      return im.fail("axes must be known at import time");
    axes = *a;
    for (int64_t &a2 : axes)
      if (!normAxis(im, a2, r))
        return failure();
  } else {
    for (int64_t k = 0; k < r; ++k)
      axes.push_back(k);
  }
  if (pads.size() != 2 * axes.size())
    return im.fail("pads has " + std::to_string(pads.size()) + " entries, expected " +
                   std::to_string(2 * axes.size()));
  SmallVector<OptSym, 4> lo(r, SymExpr::constant(0)), hi(r, SymExpr::constant(0));
  SmallVector<int64_t> loIdx(r, -1), hiIdx(r, -1);
  for (size_t j = 0; j < axes.size(); ++j) {
    lo[axes[j]] = pads[j];
    hi[axes[j]] = pads[j + axes.size()];
    loIdx[axes[j]] = int64_t(j);
    hiIdx[axes[j]] = int64_t(j + axes.size());
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  Value padV;
  if (!attrForm && n.has(2)) {
    if (n.inType(2).getElementType() != et)
      return im.fail("constant_value element type differs from the data's");
    if (n.inType(2).getNumElements() != 1 && n.inType(2).hasStaticShape())
      return im.fail("constant_value must be a scalar");
    padV = scalarInput(n, 2, et);
  } else {
    padV = im.scalar(et, attrForm ? n.f("value", 0.0f) : 0.0);
  }
  if (!padV)
    return failure();
  OpBuilder &b = im.b;
  // Crop for (constant) negative pads.
  auto negConst = [](const OptSym &e) { return e && e->isConst() && e->c < 0; };
  SymShape cur = xd;
  if (llvm::any_of(lo, negConst) || llvm::any_of(hi, negConst)) {
    SymShape offs(r, SymExpr::constant(0)), sizes = xd;
    for (int64_t k = 0; k < r; ++k) {
      int64_t cl = negConst(lo[k]) ? -lo[k]->c : 0;
      int64_t ch = negConst(hi[k]) ? -hi[k]->c : 0;
      if (!cl && !ch)
        continue;
      if (!xd[k].isConst())
        return im.fail("negative pads need static dimensions");
      if (cl + ch > xd[k].c)
        return im.fail("negative pads remove more than the dimension");
      offs[k] = SymExpr::constant(cl);
      sizes[k] = SymExpr::constant(xd[k].c - cl - ch);
      if (cl)
        lo[k] = SymExpr::constant(0);
      if (ch)
        hi[k] = SymExpr::constant(0);
    }
    x = im.extractSlice(x, offs, sizes, SmallVector<int64_t>(r, 1));
    cur = sizes;
  }
  // Pads only known at runtime come from the pads tensor.
  Value padsT;
  auto runtimePad = [&](int64_t idx) -> Value {
    if (!padsT)
      padsT = n.in(1);
    if (!padsT)
      return Value();
    Value e = tensor::ExtractOp::create(b, im.loc, padsT, ValueRange{im.cIndex(idx)});
    return arith::IndexCastOp::create(b, im.loc, b.getIndexType(), e);
  };
  SmallVector<OpFoldResult> loF, hiF;
  SymShape od;
  SmallVector<int64_t> shape;
  bool any = false;
  for (int64_t k = 0; k < r; ++k) {
    for (auto [side, idx, out] : {std::tuple{&lo[k], loIdx[k], &loF}, {&hi[k], hiIdx[k], &hiF}}) {
      if (*side) {
        out->push_back(im.sizeOf(**side));
      } else {
        Value v = runtimePad(idx);
        if (!v)
          return failure();
        out->push_back(v);
      }
    }
    bool zero = lo[k] && hi[k] && lo[k]->isConst(0) && hi[k]->isConst(0);
    any |= !zero;
    if (zero) {
      od.push_back(cur[k]);
      shape.push_back(cur[k].staticSize());
    } else if (cur[k].isConst() && lo[k] && hi[k] && lo[k]->isConst() && hi[k]->isConst()) {
      od.push_back(SymExpr::constant(cur[k].c + lo[k]->c + hi[k]->c));
      shape.push_back(od.back().c);
    } else if (auto m = lo[k] && hi[k] ? likeTermsSum({cur[k], *lo[k], *hi[k]}) : std::nullopt) {
      od.push_back(*m); // e.g. t padded by t: 2t, the size a DFT of the result is told
      shape.push_back(ShapedType::kDynamic);
    } else {
      od.push_back(SymExpr::constant(0)); // dynamic
      shape.push_back(ShapedType::kDynamic);
    }
  }
  if (!any)
    return n.out(0, x);
  auto rt = RankedTensorType::get(shape, et);
  Value p = tensor::PadOp::create(b, im.loc, rt, x, loF, hiF, padV);
  im.setDims(p, od);
  return n.out(0, p);
}

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

LogicalResult handleScan(Importer &im, NodeCtx &n) {
  const onnx::GraphProto *body = n.g("body");
  int64_t M = n.i("num_scan_inputs", -1);
  if (n.bad)
    return failure();
  if (!body)
    return im.fail("attribute 'body' is required");
  if (M < 1)
    return im.fail("num_scan_inputs must be at least 1");
  int64_t nin = n.numIn(), N = nin - M, K = n.numOut() - N;
  if (N < 0 || K < 0)
    return im.fail("inconsistent input/output counts for num_scan_inputs=" + std::to_string(M));
  if (body->input_size() != N + M || body->output_size() != N + K)
    return im.fail("the body has " + std::to_string(body->input_size()) + " inputs and " +
                   std::to_string(body->output_size()) + " outputs, expected " +
                   std::to_string(N + M) + " and " + std::to_string(N + K));
  for (int64_t k = 0; k < nin; ++k)
    if (!n.has(int(k)))
      return im.fail("input " + std::to_string(k) + " is missing");
  SmallVector<int64_t> inAxes = n.is("scan_input_axes"), inDirs = n.is("scan_input_directions"),
                       outAxes = n.is("scan_output_axes"), outDirs = n.is("scan_output_directions");
  if (n.bad)
    return failure();
  if (inAxes.empty())
    inAxes.assign(M, 0);
  if (inDirs.empty())
    inDirs.assign(M, 0);
  if (outAxes.empty())
    outAxes.assign(K, 0);
  if (outDirs.empty())
    outDirs.assign(K, 0);
  if (int64_t(inAxes.size()) != M || int64_t(inDirs.size()) != M ||
      int64_t(outAxes.size()) != K || int64_t(outDirs.size()) != K)
    return im.fail("scan axes/directions have the wrong number of entries");

  SmallVector<Value> states, scans;
  for (int64_t k = 0; k < N; ++k) {
    Value v = n.in(int(k));
    if (!v)
      return failure();
    states.push_back(v);
  }
  std::optional<SymExpr> T;
  for (int64_t j = 0; j < M; ++j) {
    Value v = n.in(int(N + j));
    if (!v)
      return failure();
    SymShape d = im.dims(v);
    if (d.empty())
      return im.fail("scan inputs must have rank >= 1");
    if (!normAxis(im, inAxes[j], int64_t(d.size()), "scan_input_axes entry"))
      return failure();
    SymExpr t = d[inAxes[j]];
    if (T && T->isConst() && t.isConst() && T->c != t.c)
      return im.fail("scan inputs have different lengths (" + std::to_string(T->c) + " and " +
                     std::to_string(t.c) + ")");
    if (!T || (!T->isConst() && t.isConst()))
      T = t;
    scans.push_back(v);
  }
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value Tv = im.indexOf(*T);
  Value c0 = im.cIndex(0), c1 = im.cIndex(1);
  Value Tm1 = arith::SubIOp::create(b, loc, Tv, c1);

  // Import the body into a detached block first: the scan outputs' types
  // decide the loop's iter_args.
  auto tmp = std::make_unique<Block>();
  Value iv = tmp->addArgument(b.getIndexType(), loc);
  SmallVector<Value> bodyIns;
  for (Value s : states) {
    Value a = tmp->addArgument(s.getType(), loc);
    im.dimInfo[a] = im.dims(s);
    bodyIns.push_back(a);
  }
  SmallVector<Value> outs;
  auto cleanup = [&] {
    tmp->dropAllDefinedValueUses();
    tmp->dropAllReferences();
    for (Value a : tmp->getArguments())
      im.dimInfo.erase(a);
  };
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(tmp.get());
    for (int64_t j = 0; j < M; ++j) {
      Value idx = inDirs[j] ? arith::SubIOp::create(b, loc, Tm1, iv).getResult() : iv;
      SymShape d = im.dims(scans[j]), sz = d, od;
      int64_t a = inAxes[j], r = d.size();
      sz[a] = SymExpr::constant(1);
      SmallVector<OpFoldResult> offs(r, b.getIndexAttr(0));
      offs[a] = idx;
      Value s = im.extractSliceDyn(scans[j], offs, im.sizesOf(sz), SmallVector<int64_t>(r, 1), sz);
      for (int64_t k = 0; k < r; ++k)
        if (k != a)
          od.push_back(d[k]);
      bodyIns.push_back(im.reshape(s, od));
    }
    im.bodyBlocks.push_back(tmp.get());
    LogicalResult res = im.importBody(*body, bodyIns, outs);
    im.bodyBlocks.pop_back();
    if (failed(res)) {
      cleanup();
      return failure();
    }
    // States must keep their types.
    for (int64_t k = 0; k < N; ++k) {
      auto st = Importer::tt(states[k]), ot = Importer::tt(outs[k]);
      bool ok = st.getElementType() == ot.getElementType() && st.getRank() == ot.getRank();
      for (int64_t j = 0; ok && j < st.getRank(); ++j)
        ok = st.isDynamicDim(j) || ot.isDynamicDim(j) || st.getDimSize(j) == ot.getDimSize(j);
      if (!ok) {
        std::string a, c;
        llvm::raw_string_ostream(a) << st;
        llvm::raw_string_ostream(c) << ot;
        cleanup();
        return im.fail("the body turns loop-carried state " + std::to_string(k) + " of type " +
                       a + " into " + c);
      }
      outs[k] = im.castTo(outs[k], st);
    }
  }
  // Accumulators for the scan outputs: [T, per-iteration dims...].
  SmallVector<SymShape> perIter;
  SmallVector<Value> inits(states.begin(), states.end());
  for (int64_t k = 0; k < K; ++k) {
    SymShape d = im.dims(outs[N + k]);
    for (const SymExpr &e : d)
      for (int s : e.syms)
        if (!im.symOutside(s, tmp.get())) {
          cleanup();
          return im.fail("scan output " + std::to_string(k) +
                         " has a size that depends on the loop body");
        }
    if (!normAxis(im, outAxes[k], int64_t(d.size()) + 1, "scan_output_axes entry")) {
      cleanup();
      return failure();
    }
    perIter.push_back(d);
    SymShape acc{*T};
    acc.append(d.begin(), d.end());
    inits.push_back(im.empty(acc, Importer::tt(outs[N + k]).getElementType()));
  }
  auto forOp = scf::ForOp::create(b, loc, c0, Tv, c1, inits);
  Block *fb = forOp.getBody();
  fb->getOperations().splice(fb->end(), tmp->getOperations());
  // The body's results may be its own arguments (an Identity body).
  for (Value &o : outs)
    if (auto ba = dyn_cast<BlockArgument>(o); ba && ba.getOwner() == tmp.get())
      o = fb->getArgument(ba.getArgNumber());
  iv.replaceAllUsesWith(forOp.getInductionVar());
  for (int64_t k = 0; k < N; ++k) {
    Value a = tmp->getArgument(unsigned(1 + k));
    a.replaceAllUsesWith(fb->getArgument(unsigned(1 + k)));
    im.dimInfo.erase(a);
  }
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(fb);
    // New states are new tensors (one-shot bufferization needs
    // allow-return-allocs-from-loops for them); scan outputs are inserted
    // into their iter_args.
    SmallVector<Value> yields(outs.begin(), outs.begin() + N);
    Value fiv = forOp.getInductionVar();
    for (int64_t k = 0; k < K; ++k) {
      Value idx = outDirs[k] ? arith::SubIOp::create(b, loc, Tm1, fiv).getResult() : fiv;
      SymShape d = perIter[k], one{SymExpr::constant(1)};
      one.append(d.begin(), d.end());
      Value v = im.reshape(outs[N + k], one);
      Value acc = fb->getArgument(unsigned(1 + N + k));
      int64_t r = one.size();
      SmallVector<OpFoldResult> offs(r, b.getIndexAttr(0)), st(r, b.getIndexAttr(1));
      offs[0] = idx;
      Value ins = tensor::InsertSliceOp::create(b, loc, v, acc, offs, im.sizesOf(one), st);
      yields.push_back(ins);
    }
    scf::YieldOp::create(b, loc, yields);
  }
  for (int64_t k = 0; k < N; ++k) {
    Value res = forOp.getResult(unsigned(k));
    im.setDims(res, im.dims(states[k]));
    if (failed(n.out(int(k), res)))
      return failure();
  }
  for (int64_t k = 0; k < K; ++k) {
    Value res = forOp.getResult(unsigned(N + k));
    SymShape acc{*T};
    acc.append(perIter[k].begin(), perIter[k].end());
    im.setDims(res, acc);
    int64_t a = outAxes[k], r = acc.size();
    if (a != 0) {
      SmallVector<int64_t> perm;
      for (int64_t j = 1; j <= a; ++j)
        perm.push_back(j);
      perm.push_back(0);
      for (int64_t j = a + 1; j < r; ++j)
        perm.push_back(j);
      res = im.transpose(res, perm);
    }
    if (failed(n.out(int(N + k), res)))
      return failure();
  }
  return success();
}

} // namespace gatec::onnx_frontend::detail
