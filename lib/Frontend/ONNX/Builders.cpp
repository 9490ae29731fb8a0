//===- Builders.cpp - tensor-level building blocks of the ONNX importer ---===//
//
// Broadcasting, casts, reshapes, transposes, matmuls and reductions on ranked
// tensors, written with upstream ops only. Every helper records the symbolic
// sizes of what it builds (Importer::setDims), and none of them is handed
// operands that the caller has not checked: shape errors are reported by the
// op handlers before anything is built.
//
//===----------------------------------------------------------------------===//
#include "ImporterImpl.h"
#include "OpsCommon.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

RankedTensorType Importer::typeFor(llvm::ArrayRef<SymExpr> d, Type et) {
  SmallVector<int64_t> s;
  for (const SymExpr &e : d)
    s.push_back(e.staticSize());
  return RankedTensorType::get(s, et);
}

Value Importer::cIndex(int64_t v) { return constantOp(b.getIndexAttr(v)); }

TypedAttr Importer::scalarAttr(Type et, double v) {
  if (isa<FloatType>(et))
    return b.getFloatAttr(et, v);
  if (et.isInteger(1))
    return IntegerAttr::get(et, v != 0 ? 1 : 0);
  if (v >= 9.2e18)
    return IntegerAttr::get(et, std::numeric_limits<int64_t>::max());
  if (v <= -9.2e18)
    return IntegerAttr::get(et, std::numeric_limits<int64_t>::min());
  return IntegerAttr::get(et, int64_t(v));
}

Value Importer::scalar(Type et, double v) { return constantOp(scalarAttr(et, v)); }

Value Importer::empty(llvm::ArrayRef<SymExpr> d, Type et) {
  auto t = typeFor(d, et);
  SmallVector<Value> dyn;
  for (const SymExpr &e : d)
    if (!e.isConst())
      dyn.push_back(indexOf(e));
  Value v = tensor::EmptyOp::create(b, loc, t.getShape(), et, dyn);
  setDims(v, d);
  return v;
}

Value Importer::splatValue(llvm::ArrayRef<SymExpr> d, Value s) {
  auto t = typeFor(d, s.getType());
  SmallVector<Value> dyn;
  for (const SymExpr &e : d)
    if (!e.isConst())
      dyn.push_back(indexOf(e));
  Value v = tensor::SplatOp::create(b, loc, s, t, dyn);
  setDims(v, d);
  return v;
}

Value Importer::splat(llvm::ArrayRef<SymExpr> d, Type et, double v) {
  auto t = typeFor(d, et);
  if (t.hasStaticShape()) {
    Value c = constantOp(DenseElementsAttr::get(t, scalarAttr(et, v)));
    setDims(c, d);
    return c;
  }
  return splatValue(d, scalar(et, v));
}

Value Importer::fill(Value init, Value s) {
  Value r = linalg::FillOp::create(b, loc, ValueRange{s}, ValueRange{init}).getResult(0);
  setDims(r, dims(init));
  return r;
}

Value Importer::castTo(Value v, RankedTensorType t) {
  if (!v || v.getType() == t)
    return v;
  SymShape d = dims(v);
  Value r = tensor::CastOp::create(b, loc, t, v);
  setDims(r, d);
  return r;
}

bool Importer::broadcastShapes(llvm::ArrayRef<SymShape> shapes, SymShape &out) {
  size_t rank = 0;
  for (const SymShape &s : shapes)
    rank = std::max(rank, s.size());
  out.assign(rank, SymExpr::constant(1));
  for (size_t i = 0; i < rank; ++i) {
    std::optional<SymExpr> cur;
    for (const SymShape &s : shapes) {
      int64_t j = int64_t(i) - int64_t(rank - s.size());
      if (j < 0)
        continue;
      const SymExpr &d = s[j];
      if (d.isConst(1))
        continue;
      if (!cur || *cur == d) {
        cur = d;
        continue;
      }
      if (cur->isConst() && d.isConst()) {
        std::string msg = "shapes";
        for (size_t k = 0; k < shapes.size(); ++k)
          msg += (k ? (k + 1 == shapes.size() ? " and " : ", ") : " ") + symShapeStr(shapes[k]);
        (void)fail(msg + " cannot be broadcast together");
        return false;
      }
      if (!cur->isConst() && d.isConst())
        cur = d; // the static size wins; the dynamic one must match at runtime
    }
    if (cur)
      out[i] = *cur;
  }
  return true;
}

Value Importer::broadcastTo(Value v, llvm::ArrayRef<SymExpr> out,
                            llvm::ArrayRef<bool> mayBeOne) {
  if (!v)
    return v;
  SymShape vd = dims(v);
  Type et = tt(v).getElementType();
  int64_t r = vd.size(), rank = out.size();
  if (r > rank)
    return failV("internal: cannot broadcast rank " + std::to_string(r) + " to rank " +
                 std::to_string(rank));
  int64_t off = rank - r;
  bool needGeneric = r != rank;
  // A size known only at run time, broadcast to a static size (or where the
  // caller says so), may be 1 there (ONNX broadcasting). Two different
  // symbols are taken to be equal: exporters' shape code gives one length
  // several symbols, and the first one is the result's size.
  SmallVector<bool> runtimeOne(r, false);
  for (int64_t j = 0; j < r; ++j) {
    if (vd[j] == out[j + off])
      continue;
    if (vd[j].isConst(1))
      needGeneric = true;
    else if (!vd[j].isConst() &&
             (out[j + off].isConst() ||
              (size_t(j + off) < mayBeOne.size() && mayBeOne[j + off])))
      needGeneric = runtimeOne[j] = true;
  }

  auto outT = typeFor(out, et);
  if (!needGeneric) {
    // Same sizes up to what is known statically.
    SmallVector<int64_t> shape;
    for (int64_t j = 0; j < r; ++j)
      shape.push_back(vd[j].isConst() ? vd[j].c : out[j].staticSize());
    return castTo(v, RankedTensorType::get(shape, et));
  }
  DenseElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)) && attr.isSplat()) {
    if (outT.hasStaticShape()) {
      Value c = constantOp(DenseElementsAttr::get(outT, attr.getSplatValue<Attribute>()));
      setDims(c, out);
      return c;
    }
    return splatValue(out, constantOp(cast<TypedAttr>(attr.getSplatValue<Attribute>())));
  }
  AffineMap outMap = AffineMap::getMultiDimIdentityMap(unsigned(rank), &ctx);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  if (llvm::none_of(runtimeOne, [](bool x) { return x; })) {
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < r; ++j)
      exprs.push_back(vd[j].isConst(1) && !out[j + off].isConst(1)
                          ? getAffineConstantExpr(0, &ctx)
                          : getAffineDimExpr(unsigned(j + off), &ctx));
    AffineMap inMap = AffineMap::get(unsigned(rank), 0, exprs, &ctx);
    return generic({v}, empty(out, et), {inMap, outMap}, iters,
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     linalg::YieldOp::create(nb, l, args[0]);
                   });
  }
  // Each size known only at run time: when it is 1 there, the slice at 0
  // broadcast along that axis, else the tensor as it is.
  Value cur = v;
  SymShape cd = vd;
  for (int64_t j = 0; j < r; ++j) {
    if (!runtimeOne[j])
      continue;
    SymShape one = cd, target = cd;
    one[j] = SymExpr::constant(1);
    target[j] = out[j + off];
    Value isOne =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, indexOf(vd[j]), cIndex(1));
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{typeFor(target, et)}, isOne,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value slice = extractSlice(cur, SymShape(r, SymExpr::constant(0)), one,
                                 SmallVector<int64_t>(r, 1));
      scf::YieldOp::create(b, loc, castTo(broadcastTo(slice, target), typeFor(target, et)));
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, loc, castTo(cur, typeFor(target, et)));
    }
    cur = ifOp.getResult(0);
    setDims(cur, target);
    cd = target;
  }
  return broadcastTo(cur, out);
}

bool Importer::broadcastAll(llvm::SmallVectorImpl<Value> &vals, SymShape *outShape) {
  SmallVector<SymShape> shapes;
  for (Value v : vals)
    shapes.push_back(dims(v));
  SymShape out;
  if (!broadcastShapes(shapes, out))
    return false;
  for (Value &v : vals) {
    v = broadcastTo(v, out);
    if (!v)
      return false;
  }
  if (outShape)
    *outShape = out;
  return true;
}

Value Importer::generic(llvm::ArrayRef<Value> ins, Value init, llvm::ArrayRef<AffineMap> maps,
                        llvm::ArrayRef<utils::IteratorType> iters,
                        llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  auto op = linalg::GenericOp::create(b, loc, TypeRange{init.getType()}, ins, ValueRange{init},
                                      maps, iters, body);
  Value r = op.getResult(0);
  setDims(r, dims(init));
  return r;
}

Value Importer::reverseAlong(Value x, int64_t axis) {
  SymShape xd = dims(x);
  int64_t r = int64_t(xd.size());
  auto et = cast<RankedTensorType>(x.getType()).getElementType();
  Value last = arith::SubIOp::create(b, loc, indexOf(xd[axis]), cIndex(1));
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &ctx);
  Value res = generic(
      {}, empty(xd, et), {id}, SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < r; ++k) {
          Value i = linalg::IndexOp::create(nb, l, k);
          coords.push_back(k == axis ? arith::SubIOp::create(nb, l, last, i).getResult() : i);
        }
        linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, x, coords).getResult());
      });
  setDims(res, xd);
  reversals[res] = {x, axis};
  return res;
}

Value Importer::convert(Value v, Type et) {
  if (!v)
    return v;
  auto t = tt(v);
  Type st = t.getElementType();
  if (st == et)
    return v;
  SymShape d = dims(v);
  auto rt = t.clone(et);
  Value r;
  bool sf = isa<FloatType>(st), df = isa<FloatType>(et);
  if (sf && df) {
    unsigned sw = st.getIntOrFloatBitWidth(), dw = et.getIntOrFloatBitWidth();
    if (sw < dw) {
      r = arith::ExtFOp::create(b, loc, rt, v);
    } else if (sw > dw) {
      r = arith::TruncFOp::create(b, loc, rt, v);
    } else {
      // f16 <-> bf16: through f32.
      Value w = arith::ExtFOp::create(b, loc, t.clone(b.getF32Type()), v);
      r = arith::TruncFOp::create(b, loc, rt, w);
    }
  } else if (!sf && df) {
    if (st.isInteger(1))
      r = arith::UIToFPOp::create(b, loc, rt, v);
    else
      r = arith::SIToFPOp::create(b, loc, rt, v);
  } else if (sf && !df) {
    if (et.isInteger(1))
      r = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, splat(d, st, 0.0));
    else
      r = arith::FPToSIOp::create(b, loc, rt, v);
  } else {
    unsigned sw = st.getIntOrFloatBitWidth(), dw = et.getIntOrFloatBitWidth();
    if (dw == 1)
      r = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, splat(d, st, 0.0));
    else if (sw == 1)
      r = arith::ExtUIOp::create(b, loc, rt, v);
    else if (sw < dw)
      r = arith::ExtSIOp::create(b, loc, rt, v);
    else
      r = arith::TruncIOp::create(b, loc, rt, v);
  }
  setDims(r, d);
  return r;
}

Value Importer::transpose(Value v, llvm::ArrayRef<int64_t> perm) {
  bool identity = true;
  for (auto [k, p] : llvm::enumerate(perm))
    identity &= int64_t(k) == p;
  if (identity)
    return v;
  SymShape d = dims(v), od;
  for (int64_t p : perm)
    od.push_back(d[p]);
  Value init = empty(od, tt(v).getElementType());
  Value r = linalg::TransposeOp::create(b, loc, v, init, perm)->getResult(0);
  setDims(r, od);
  return r;
}

/// Groups the dims of `big` into consecutive runs whose products are the dims
/// of `small`.
static bool groupDims(llvm::ArrayRef<SymExpr> big, llvm::ArrayRef<SymExpr> small,
                      SmallVectorImpl<ReassociationIndices> &groups) {
  size_t i = 0;
  for (const SymExpr &target : small) {
    if (i >= big.size())
      return false;
    ReassociationIndices grp;
    SymExpr acc = SymExpr::constant(1);
    do {
      auto m = symMul(acc, big[i]);
      if (!m)
        return false;
      acc = *m;
      grp.push_back(int64_t(i++));
    } while (acc != target && i < big.size() && (acc.isConst(0) ? false : true));
    if (acc != target)
      return false;
    groups.push_back(grp);
  }
  while (i < big.size()) {
    if (!big[i].isConst(1) || groups.empty())
      return false;
    groups.back().push_back(int64_t(i++));
  }
  return true;
}

Value Importer::reshape(Value v, llvm::ArrayRef<SymExpr> target) {
  if (!v)
    return v;
  SymShape src = dims(v);
  Type et = tt(v).getElementType();
  auto outT = typeFor(target, et);
  if (llvm::ArrayRef<SymExpr>(src) == target)
    return castTo(v, outT);
  Value r;
  SmallVector<ReassociationIndices> groups;
  if (src.size() > target.size() && !target.empty() && groupDims(src, target, groups)) {
    r = tensor::CollapseShapeOp::create(b, loc, outT, v, groups);
  } else if (src.size() < target.size() && !src.empty() && groupDims(target, src, groups)) {
    r = tensor::ExpandShapeOp::create(b, loc, outT, v, groups, sizesOf(target));
  } else if (llvm::count_if(src, [](const SymExpr &e) { return !e.isConst(); }) > 1 ||
             llvm::count_if(target, [](const SymExpr &e) { return !e.isConst(); }) > 1) {
    // Several dynamic sizes: a reassociation group could not express it
    // (and memref lowering does not take such groups); reshape by value.
    SmallVector<Value> sizes;
    for (const SymExpr &e : target)
      sizes.push_back(indexOf(e));
    Value shape = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({int64_t(target.size())}, b.getIndexType()), sizes);
    r = tensor::ReshapeOp::create(b, loc, outT, v, shape);
  } else {
    // Through a rank-1 tensor.
    auto total = symProduct(src);
    auto totalOut = symProduct(target);
    Value flat = v;
    SymExpr n = total ? *total : SymExpr::constant(0);
    if (src.size() == 0) {
      flat = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get({1}, et), v,
                                           SmallVector<ReassociationIndices>{},
                                           SmallVector<OpFoldResult>{b.getIndexAttr(1)});
      n = SymExpr::constant(1);
    } else if (src.size() > 1) {
      ReassociationIndices all;
      for (size_t k = 0; k < src.size(); ++k)
        all.push_back(int64_t(k));
      auto flatT = RankedTensorType::get({total ? total->staticSize() : ShapedType::kDynamic}, et);
      flat = tensor::CollapseShapeOp::create(b, loc, flatT, v,
                                             SmallVector<ReassociationIndices>{all});
    }
    if (!total)
      n = SymExpr::symbol(newSym(flat, 0));
    setDims(flat, {n});
    // expand_shape wants the collapsed size dynamic exactly when some
    // expanded size is.
    bool dynTarget = llvm::any_of(target, [](const SymExpr &e) { return !e.isConst(); });
    if (totalOut && totalOut->isConst() && !dynTarget && tt(flat).isDynamicDim(0))
      flat = castTo(flat, RankedTensorType::get({totalOut->c}, et));
    else if (dynTarget && !tt(flat).isDynamicDim(0))
      flat = castTo(flat, RankedTensorType::get({ShapedType::kDynamic}, et));
    if (target.size() == 1) {
      r = castTo(flat, outT);
    } else if (target.empty()) {
      flat = castTo(flat, RankedTensorType::get({1}, et));
      r = tensor::CollapseShapeOp::create(b, loc, outT, flat,
                                          SmallVector<ReassociationIndices>{});
    } else {
      ReassociationIndices all;
      for (size_t k = 0; k < target.size(); ++k)
        all.push_back(int64_t(k));
      r = tensor::ExpandShapeOp::create(b, loc, outT, flat,
                                        SmallVector<ReassociationIndices>{all},
                                        sizesOf(target));
    }
  }
  setDims(r, target);
  return r;
}

Value Importer::reshapeDynamic(Value v, Value shape, llvm::ArrayRef<OptSym> target) {
  SmallVector<int64_t> s;
  SymShape d;
  for (const OptSym &e : target) {
    s.push_back(e ? e->staticSize() : ShapedType::kDynamic);
    d.push_back(e ? *e : SymExpr::constant(0));
  }
  auto t = RankedTensorType::get(s, tt(v).getElementType());
  Value r = tensor::ReshapeOp::create(b, loc, t, v, shape);
  setDims(r, d);
  return r;
}

Value Importer::extractSlice(Value v, llvm::ArrayRef<SymExpr> offsets,
                             llvm::ArrayRef<SymExpr> sizes, llvm::ArrayRef<int64_t> strides) {
  return extractSliceDyn(v, sizesOf(offsets), sizesOf(sizes), strides, sizes);
}

Value Importer::extractSliceDyn(Value v, llvm::ArrayRef<OpFoldResult> offsets,
                                llvm::ArrayRef<OpFoldResult> sizes,
                                llvm::ArrayRef<int64_t> strides,
                                llvm::ArrayRef<SymExpr> outDims) {
  SmallVector<OpFoldResult> st, offs(offsets.begin(), offsets.end());
  for (int64_t s : strides)
    st.push_back(b.getIndexAttr(s));
  // An empty slice may start at the end; the verifier wants it in bounds.
  for (size_t k = 0; k < offs.size(); ++k)
    if (auto c = getConstantIntValue(sizes[k]); c && *c == 0)
      offs[k] = b.getIndexAttr(0);
  auto rt = typeFor(outDims, tt(v).getElementType());
  Value r = tensor::ExtractSliceOp::create(b, loc, rt, v, offs, sizes, st);
  setDims(r, outDims);
  return r;
}

Value Importer::concat(llvm::ArrayRef<Value> vals, int64_t axis) {
  if (vals.size() == 1)
    return vals[0];
  SmallVector<SymShape> ds;
  for (Value v : vals)
    ds.push_back(dims(v));
  SymShape out = ds[0];
  std::optional<SymExpr> sum = SymExpr::constant(0);
  for (auto &d : ds) {
    for (size_t k = 0; k < d.size(); ++k)
      if (int64_t(k) != axis && !out[k].isConst() && d[k].isConst())
        out[k] = d[k];
    if (sum && sum->isConst() && d[axis].isConst())
      sum = SymExpr::constant(sum->c + d[axis].c);
    else if (sum && sum->isConst(0))
      sum = d[axis];
    else if (sum && d[axis].isConst(0))
      ;
    else
      sum = std::nullopt;
  }
  if (!sum) {
    SmallVector<SymExpr> parts;
    for (auto &d : ds)
      parts.push_back(d[axis]);
    if (int s = sumSym(parts))
      sum = SymExpr::symbol(s);
  }
  Value r = tensor::ConcatOp::create(b, loc, axis, vals);
  out[axis] = sum ? *sum : SymExpr::constant(0);
  // Make the result's static dims what the operands tell (the op infers them).
  setDims(r, out);
  return r;
}

Value Importer::matmul(Value a, Value bm) {
  if (!a || !bm)
    return Value();
  Type et = tt(a).getElementType();
  if (et != tt(bm).getElementType())
    return failV("operand element types differ");
  int64_t ra = tt(a).getRank(), rb = tt(bm).getRank();
  if (ra == 0 || rb == 0)
    return failV("operands must have rank >= 1");
  bool squeezeM = ra == 1, squeezeN = rb == 1;
  SymShape ad = dims(a), bd = dims(bm);
  if (squeezeM) {
    a = reshape(a, {SymExpr::constant(1), ad[0]});
    ad = dims(a);
  }
  if (squeezeN) {
    bm = reshape(bm, {bd[0], SymExpr::constant(1)});
    bd = dims(bm);
  }
  SymExpr m = ad[ad.size() - 2], k = ad.back(), k2 = bd[bd.size() - 2], n = bd.back();
  if (k.isConst() && k2.isConst() && k.c != k2.c)
    return failV("inner dimensions " + std::to_string(k.c) + " and " + std::to_string(k2.c) +
                 " differ");
  SymShape ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2), batch;
  if (!broadcastShapes({ab, bb}, batch))
    return Value();
  Type acc = (et.isF16() || et.isBF16()) ? Type(b.getF32Type()) : et;
  auto zeroInit = [&](llvm::ArrayRef<SymExpr> d) {
    return fill(empty(d, acc), scalar(acc, 0.0));
  };
  SymShape outDims = batch;
  outDims.push_back(m);
  outDims.push_back(n);
  Value r;
  if (batch.empty()) {
    Value init = zeroInit({m, n});
    r = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a, bm},
                                 ValueRange{init})
            .getResult(0);
    setDims(r, {m, n});
  } else if (bb.empty() && ab.size() == batch.size()) {
    SymShape lead = ab;
    lead.push_back(m);
    auto rows = symProduct(lead);
    if (!rows)
      return failV("the operand sizes overflow");
    SymExpr rowsE = *rows;
    Value a2 = reshape(a, {rowsE, k});
    Value init = zeroInit({rowsE, n});
    Value r2 = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a2, bm},
                                        ValueRange{init})
                   .getResult(0);
    setDims(r2, {rowsE, n});
    r = reshape(r2, outDims);
  } else {
    SymShape aT = batch, bT = batch;
    aT.append({m, k});
    bT.append({k2, n});
    Value a3 = broadcastTo(a, aT), b3 = broadcastTo(bm, bT);
    if (!a3 || !b3)
      return Value();
    auto bt = symProduct(batch);
    if (!bt)
      return failV("the operand sizes overflow");
    SymExpr btE = *bt;
    if (batch.size() != 1) {
      a3 = reshape(a3, {btE, m, k});
      b3 = reshape(b3, {btE, k2, n});
    }
    Value init = zeroInit({btE, m, n});
    r = linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a3, b3},
                                      ValueRange{init})
            .getResult(0);
    setDims(r, {btE, m, n});
    if (batch.size() != 1)
      r = reshape(r, outDims);
  }
  if (acc != et)
    r = convert(r, et);
  if (squeezeM || squeezeN) {
    SymShape d = dims(r), nd;
    for (size_t j = 0; j < d.size(); ++j) {
      if (squeezeM && j == d.size() - 2)
        continue;
      if (squeezeN && j == d.size() - 1)
        continue;
      nd.push_back(d[j]);
    }
    r = reshape(r, nd);
  }
  return r;
}

Value Importer::reduce(Value x, llvm::ArrayRef<int64_t> axesIn, ReduceKind kind,
                       bool keepDims) {
  if (!x)
    return x;
  SmallVector<int64_t> axes(axesIn.begin(), axesIn.end());
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Type et = tt(x).getElementType();
  SymShape xd = dims(x), od, kd;
  for (size_t k = 0; k < xd.size(); ++k) {
    bool red = llvm::is_contained(axes, int64_t(k));
    if (!red)
      od.push_back(xd[k]);
    kd.push_back(red ? SymExpr::constant(1) : xd[k]);
  }
  if (axes.empty())
    return x;
  bool isF = isa<FloatType>(et);
  Type acc = (isF && et.getIntOrFloatBitWidth() < 32 &&
              (kind == ReduceKind::Sum || kind == ReduceKind::Prod))
                 ? Type(b.getF32Type())
                 : et;
  Value xin = convert(x, acc);
  TypedAttr initAttr;
  switch (kind) {
  case ReduceKind::Sum:
    initAttr = scalarAttr(acc, 0.0);
    break;
  case ReduceKind::Prod:
    initAttr = scalarAttr(acc, 1.0);
    break;
  case ReduceKind::Max:
  case ReduceKind::Min: {
    bool mx = kind == ReduceKind::Max;
    if (isF) {
      initAttr = b.getFloatAttr(
          acc, llvm::APFloat::getInf(cast<FloatType>(acc).getFloatSemantics(), mx));
    } else {
      unsigned w = acc.getIntOrFloatBitWidth();
      llvm::APInt v = w == 1 ? llvm::APInt(1, mx ? 0 : 1)
                             : (mx ? llvm::APInt::getSignedMinValue(w)
                                   : llvm::APInt::getSignedMaxValue(w));
      initAttr = IntegerAttr::get(acc, v);
    }
    break;
  }
  }
  Value init = fill(empty(od, acc), constantOp(initAttr));
  auto op = linalg::ReduceOp::create(
      b, loc, ValueRange{xin}, ValueRange{init}, axes,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = reduceCombine(nb, l, kind, args[0], args[1]);
        linalg::YieldOp::create(nb, l, r);
      });
  Value r = op->getResult(0);
  setDims(r, od);
  r = convert(r, et);
  if (keepDims)
    r = reshape(r, kd);
  return r;
}

Value Importer::softmax(Value x, llvm::ArrayRef<int64_t> axesIn, bool log) {
  if (!x)
    return x;
  SmallVector<int64_t> axes(axesIn.begin(), axesIn.end());
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Type et = tt(x).getElementType();
  Type ct = et.getIntOrFloatBitWidth() < 32 ? Type(b.getF32Type()) : et;
  Value xf = convert(x, ct);
  SymShape xd = dims(x);
  auto back = [&](Value red) {
    Value init = empty(xd, ct);
    Value r = linalg::BroadcastOp::create(b, loc, red, init, axes)->getResult(0);
    setDims(r, xd);
    return r;
  };
  Value m = back(reduce(xf, axes, ReduceKind::Max, false));
  Value s = arith::SubFOp::create(b, loc, xf, m);
  setDims(s, xd);
  Value e = math::ExpOp::create(b, loc, s);
  setDims(e, xd);
  Value sum = back(reduce(e, axes, ReduceKind::Sum, false));
  Value r;
  if (log) {
    Value ls = math::LogOp::create(b, loc, sum);
    setDims(ls, xd);
    r = arith::SubFOp::create(b, loc, s, ls);
  } else {
    r = arith::DivFOp::create(b, loc, e, sum);
  }
  setDims(r, xd);
  return convert(r, et);
}

Value Importer::select(Value cond, Value a, Value bv) {
  SmallVector<Value> vals{cond, a, bv};
  SymShape out;
  if (!broadcastAll(vals, &out))
    return Value();
  Value r = arith::SelectOp::create(b, loc, vals[0], vals[1], vals[2]);
  setDims(r, out);
  return r;
}
