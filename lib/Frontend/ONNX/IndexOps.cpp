//===- IndexOps.cpp - CumSum, Scatter*/Gather* by index, TopK -------------===//
//
// Ops whose results are addressed through data-dependent indices or carry a
// sequential dependency:
//
//   GatherElements, GatherND  linalg.generic over the result, reading the
//                             data with tensor.extract at computed indices;
//   ScatterElements, ScatterND, Scatter (opset <= 10)
//                             scf.for nests over the indices, in row-major
//                             index order, carrying a copy of the data
//                             (tensor.extract / tensor.insert); duplicates
//                             therefore apply in order: with reduction
//                             'none' the last write wins;
//   CumSum                    scf.for nests, the scanned axis innermost with
//                             a scalar accumulator (f32 for f16/bf16);
//   TopK                      per row (scf.for nests), one pass over the axis
//                             that keeps the best K so far sorted by
//                             insertion (an element that does not beat the
//                             K-th costs one comparison): O(n) for typical
//                             data, O(n K) at worst. Order: value, then the
//                             lower index first (ONNX Runtime's ties); NaN
//                             counts as larger than every number. Results
//                             are always sorted (also for sorted = 0).
//
// Indices read at run time never address memory outside the tensors:
//   * gathers: an index i in [-d, d) reads element i (i + d when negative);
//     an index outside that range is clamped into [0, d - 1]; reading from a
//     dimension that is empty at run time yields 0;
//   * scatters: an update whose index lies outside [-d, d) is skipped (the
//     data keeps its value there);
//   * loops run over the common extent of indices/updates/data where their
//     sizes are only known at run time.
// Indices that are known at import time are checked and reported instead.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

using IT = utils::IteratorType;

bool isIndexElt(Type t) { return t.isInteger(32) || t.isInteger(64); }
bool isNumeric(Type t) { return isa<FloatType>(t) || t.isInteger(32) || t.isInteger(64); }

std::string dimStr(const SymExpr &e) { return symShapeStr({e}); }

/// True when `a <= b` holds for every run (equal symbols or static sizes).
bool provablyLE(const SymExpr &a, const SymExpr &b) {
  if (a == b)
    return true;
  return a.isConst() && b.isConst() && a.c <= b.c;
}

/// True when the two sizes certainly differ.
bool staticMismatch(const SymExpr &a, const SymExpr &b) {
  return a.isConst() && b.isConst() && a.c != b.c;
}

/// i + d when i < 0.
Value wrapNeg(OpBuilder &b, Location l, Value i, Value d) {
  Value zero = cIdx(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  Value w = arith::AddIOp::create(b, l, i, d);
  return arith::SelectOp::create(b, l, neg, w, i);
}

/// max(min(i, d - 1), 0).
Value clampIdx(OpBuilder &b, Location l, Value i, Value d) {
  Value hi = arith::SubIOp::create(b, l, d, cIdx(b, l, 1));
  Value m = arith::MinSIOp::create(b, l, i, hi);
  return arith::MaxSIOp::create(b, l, m, cIdx(b, l, 0));
}

/// 0 <= i < d.
Value inRange(OpBuilder &b, Location l, Value i, Value d) {
  Value ge = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, cIdx(b, l, 0));
  Value lt = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, d);
  return arith::AndIOp::create(b, l, ge, lt);
}

/// Checks indices known at import time against static sizes; `dimOf(k)`
/// gives the size the k-th index (in row-major order) addresses, or -1.
LogicalResult checkConstIndices(Importer &im, llvm::ArrayRef<int64_t> idx,
                                llvm::function_ref<int64_t(int64_t)> dimOf) {
  for (int64_t k = 0; k < int64_t(idx.size()); ++k) {
    int64_t d = dimOf(k);
    if (d < 0)
      continue;
    int64_t v = idx[k];
    if (v < -d || v >= d)
      return im.fail("index " + std::to_string(v) + " is out of range for a dimension of size " +
                     std::to_string(d));
  }
  return success();
}

/// GatherElements / ScatterElements: fails when dimension `k` (not the
/// axis) of the indices is statically larger than that of the data.
LogicalResult checkIndexDimFits(Importer &im, const SymShape &dd, const SymShape &id, int64_t k,
                                int64_t axis) {
  if (k != axis && id[k].isConst() && dd[k].isConst() && id[k].c > dd[k].c)
    return im.fail("indices dimension " + std::to_string(k) + " (" + dimStr(id[k]) +
                   ") is larger than data dimension " + std::to_string(k) + " (" + dimStr(dd[k]) +
                   ")");
  return success();
}

/// GatherElements / ScatterElements: checks the indices (input 1) against
/// the size of data along `axis` when both are known at import time.
LogicalResult checkConstAxisIndices(Importer &im, NodeCtx &n, const SymShape &dd, int64_t axis) {
  if (auto idx = n.ints(1); idx && dd[axis].isConst())
    return checkConstIndices(im, *idx, [&](int64_t) { return dd[axis].c; });
  return success();
}

/// The AND of `d > 0` over the sizes of `dims` that are not static and
/// positive: false when a read along them would address an empty dimension
/// (null when every size is static and positive).
Value nonEmptyFlag(Importer &im, llvm::ArrayRef<SymExpr> dims) {
  Value flag;
  for (const SymExpr &e : dims) {
    if (e.isConst() && e.c > 0)
      continue;
    Value d = im.indexOf(e);
    Value pos = arith::CmpIOp::create(im.b, im.loc, arith::CmpIPredicate::sgt, d, im.cIndex(0));
    flag = flag ? arith::AndIOp::create(im.b, im.loc, flag, pos).getResult() : pos;
  }
  return flag;
}

/// The dimensions of data a gather clamps its reads into.
struct GatherClamps {
  SmallVector<bool> clampK; // per data dimension: clamped
  SmallVector<Value> dimV;  // the size of each clamped dimension
  Value guard;              // nonEmptyFlag of the clamped dimensions

  /// Clamps dimension k < `nd` of data (sizes `dd`) where `clamp(k)`.
  GatherClamps(Importer &im, const SymShape &dd, int64_t nd,
               llvm::function_ref<bool(int64_t)> clamp)
      : clampK(dd.size(), false), dimV(dd.size()) {
    for (int64_t k = 0; k < nd; ++k) {
      clampK[k] = clamp(k);
      if (clampK[k])
        dimV[k] = im.indexOf(dd[k]);
    }
    // Only the clamped dims can be read while empty (the others bound the loops).
    SymShape clamped;
    for (int64_t k = 0; k < nd; ++k)
      if (clampK[k])
        clamped.push_back(dd[k]);
    guard = nonEmptyFlag(im, clamped);
  }
};

/// Reads data[coords], or 0 when `guard` (if any) is false.
Value guardedExtract(OpBuilder &b, Location l, Value data, ValueRange coords, Value guard) {
  Type et = cast<RankedTensorType>(data.getType()).getElementType();
  if (!guard)
    return tensor::ExtractOp::create(b, l, data, coords);
  auto ifOp = scf::IfOp::create(
      b, l, guard,
      [&](OpBuilder &tb, Location tl) {
        Value v = tensor::ExtractOp::create(tb, tl, data, coords);
        scf::YieldOp::create(tb, tl, v);
      },
      [&](OpBuilder &eb, Location el) {
        Value z = isa<FloatType>(et)
                      ? arith::ConstantOp::create(eb, el, eb.getFloatAttr(et, 0.0)).getResult()
                      : arith::ConstantOp::create(eb, el, IntegerAttr::get(et, 0)).getResult();
        scf::YieldOp::create(eb, el, z);
      });
  return ifOp.getResult(0);
}

/// A fresh copy of `data` that the scatter loops may update in place (the
/// inputs of the compiled function must never be written).
Value freshCopy(Importer &im, Value data) {
  SymShape d = im.dims(data);
  Value c =
      bufferization::AllocTensorOp::create(im.b, im.loc, Importer::tt(data), ValueRange{}, data);
  im.setDims(c, d);
  return c;
}

/// The `reduction` attribute of a scatter: std::nullopt for 'none', else
/// how an update combines with the value it replaces.
using Red = std::optional<ReduceKind>;

/// Parses the `reduction` attribute into `red`; fails with an error when
/// unsupported.
LogicalResult reductionOf(Importer &im, NodeCtx &n, Type et, Red &red) {
  std::string s = n.s("reduction", "none");
  if (n.bad)
    return failure();
  if (s == "none")
    red = std::nullopt;
  else if (s == "add")
    red = ReduceKind::Sum;
  else if (s == "mul")
    red = ReduceKind::Prod;
  else if (s == "max")
    red = ReduceKind::Max;
  else if (s == "min")
    red = ReduceKind::Min;
  else
    return im.fail("unsupported reduction '" + s + "' (expected none, add, mul, max or min)");
  if (red && et.isInteger(1))
    return im.fail("reduction '" + s + "' is not supported for bool data");
  return success();
}

/// Writes the update `u` into `out` at `coords`, combined with the value
/// there unless the reduction is 'none'.
Value scatterStore(OpBuilder &b, Location l, Red red, Value u, Value out, ValueRange coords) {
  if (red)
    u = reduceCombine(b, l, *red, tensor::ExtractOp::create(b, l, out, coords), u);
  return tensor::InsertOp::create(b, l, u, out, coords);
}

/// min(a, b) of two sizes as an index value, `a` alone when b is absent.
Value minSize(Importer &im, Value a, const SymExpr *b) {
  if (!b)
    return a;
  return arith::MinSIOp::create(im.b, im.loc, a, im.indexOf(*b));
}

/// A loop bound over a dimension of size `a` that must also stay below `b`:
/// min(a, b), or `a` alone when the two sizes are the same symbol.
Value loopBound(Importer &im, const SymExpr &a, const SymExpr &b) {
  Value ub = im.indexOf(a);
  return a == b ? ub : minSize(im, ub, &b);
}

/// An index read from `indices` at `coords`, as `index`, i + d when negative.
Value readIndex(OpBuilder &b, Location l, Value indices, ValueRange coords, Value d) {
  return wrapNeg(b, l, toIndex(b, l, tensor::ExtractOp::create(b, l, indices, coords)), d);
}

/// `then(out)` when `ok`, else `out` unchanged.
Value ifOrKeep(OpBuilder &b, Location l, Value ok, Value out,
               llvm::function_ref<Value(OpBuilder &, Location)> then) {
  auto ifOp = scf::IfOp::create(
      b, l, ok, [&](OpBuilder &tb, Location tl) { scf::YieldOp::create(tb, tl, then(tb, tl)); },
      [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, out); });
  return ifOp.getResult(0);
}

LogicalResult checkIndicesType(Importer &im, RankedTensorType it) {
  if (!it)
    return im.fail("required input 1 is missing");
  if (!isIndexElt(it.getElementType()))
    return im.fail("indices must be int32 or int64, got " + str(it.getElementType()));
  return success();
}

/// The inputs of the gathers (data, indices) and scatters (data, indices,
/// updates).
struct IndexOperands {
  bool scatter = false;
  RankedTensorType dt, it, ut;
  Type et;   // the element type of data (and updates)
  int64_t r; // the rank of data
  SymShape dd, id, ud;
  Value data, indices, updates;

  /// Materializes the inputs; false when one is missing.
  bool load(NodeCtx &n) {
    data = n.in(0), indices = n.in(1);
    if (scatter)
      updates = n.in(2);
    return data && indices && (!scatter || updates);
  }
};

/// The checks every gather and scatter starts with: two inputs (three for a
/// scatter), integer indices, updates of the data element type and data of
/// rank >= 1.
LogicalResult checkIndexOperands(Importer &im, NodeCtx &n, bool scatter, IndexOperands &s) {
  s.scatter = scatter;
  int nIn = scatter ? 3 : 2;
  if (failed(n.arity(nIn, nIn)))
    return failure();
  s.dt = n.inType(0), s.it = n.inType(1);
  if (failed(checkIndicesType(im, s.it)))
    return failure();
  s.et = s.dt.getElementType();
  if (scatter) {
    s.ut = n.inType(2);
    if (s.ut.getElementType() != s.et)
      return im.fail("updates element type " + str(s.ut.getElementType()) +
                     " differs from the data element type " + str(s.et));
    s.ud = inDims(n, 2);
  }
  s.r = s.dt.getRank();
  if (s.r < 1)
    return im.fail("data must have rank >= 1");
  s.dd = inDims(n, 0), s.id = inDims(n, 1);
  return success();
}

/// The result of a scatter: the final copy of the data (the fresh copy
/// `init` itself when the loop nest is empty).
LogicalResult scatterResult(Importer &im, NodeCtx &n, const scf::LoopNest &nest, Value init,
                            const SymShape &dd) {
  Value res = nest.results.empty() ? init : nest.results[0];
  im.setDims(res, dd);
  return n.out(0, res);
}

/// Loops over the rows along `axis` of a tensor of sizes `xd`: over every
/// dimension but `axis`.
struct RowLoops {
  SmallVector<Value> lbs, ubs, steps;
  RowLoops(Importer &im, const SymShape &xd, int64_t axis) {
    for (int64_t k = 0; k < int64_t(xd.size()); ++k) {
      if (k == axis)
        continue;
      lbs.push_back(im.cIndex(0));
      ubs.push_back(im.indexOf(xd[k]));
      steps.push_back(im.cIndex(1));
    }
  }
};

/// The coordinates of element `p` of the row at `ivs` (the RowLoops ivs).
SmallVector<Value> rowCoords(ValueRange ivs, int64_t axis, Value p) {
  SmallVector<Value> c;
  for (int64_t k = 0, j = 0; k < int64_t(ivs.size()) + 1; ++k)
    c.push_back(k == axis ? p : ivs[j++]);
  return c;
}

} // namespace

namespace gatec::onnx_frontend::detail {

/// The one value of input `i` (`what` in errors), which must be known at
/// import time; `runTime` says why a value computed at run time is refused.
LogicalResult constOneValue(Importer &im, NodeCtx &n, int i, llvm::StringRef what,
                            llvm::StringRef runTime, int64_t &v) {
  auto vals = n.ints(i);
  if (!vals)
    return im.fail(what + " input '" + n.inName(i) +
                   "' must be a constant (known at import time); " + runTime);
  if (vals->size() != 1)
    return im.fail(what + " must hold one value, got " + std::to_string(vals->size()));
  v = (*vals)[0];
  return success();
}

LogicalResult checkBool01(Importer &im, NodeCtx &n, llvm::StringRef name, int64_t &v,
                          int64_t dflt) {
  v = n.i(name, dflt);
  if (n.bad)
    return failure();
  if (v != 0 && v != 1)
    return im.fail("attribute '" + name + "' must be 0 or 1, got " + std::to_string(v));
  return success();
}


//===----------------------------------------------------------------------===//
// GatherElements
//===----------------------------------------------------------------------===//

LogicalResult handleGatherElements(Importer &im, NodeCtx &n) {
  IndexOperands s;
  if (failed(checkIndexOperands(im, n, /*scatter=*/false, s)))
    return failure();
  int64_t r = s.r;
  if (s.it.getRank() != r)
    return im.fail("indices must have the rank of data (" + std::to_string(r) + "), got rank " +
                   std::to_string(s.it.getRank()));
  int64_t axis = n.i("axis", 0);
  if (n.bad || !normAxis(im, axis, r))
    return failure();
  const SymShape &dd = s.dd, &id = s.id;
  for (int64_t k = 0; k < r; ++k)
    if (failed(checkIndexDimFits(im, dd, id, k, axis)))
      return failure();
  if (failed(checkConstAxisIndices(im, n, dd, axis)))
    return failure();
  if (!s.load(n))
    return failure();
  Value data = s.data, indices = s.indices;
  Type et = s.et;
  GatherClamps gc(im, dd, r, [&](int64_t k) { return k == axis || !provablyLE(id[k], dd[k]); });
  AffineMap idm = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Value res = im.generic(
      {indices}, im.empty(id, et), {idm, idm}, SmallVector<IT>(r, IT::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < r; ++k) {
          Value c;
          if (k == axis)
            c = clampIdx(nb, l, wrapNeg(nb, l, toIndex(nb, l, args[0]), gc.dimV[k]), gc.dimV[k]);
          else {
            c = linalg::IndexOp::create(nb, l, k);
            if (gc.clampK[k])
              c = clampIdx(nb, l, c, gc.dimV[k]);
          }
          coords.push_back(c);
        }
        linalg::YieldOp::create(nb, l, guardedExtract(nb, l, data, coords, gc.guard));
      });
  return n.out(0, res);
}

//===----------------------------------------------------------------------===//
// GatherND
//===----------------------------------------------------------------------===//

LogicalResult handleGatherND(Importer &im, NodeCtx &n) {
  IndexOperands s;
  if (failed(checkIndexOperands(im, n, /*scatter=*/false, s)))
    return failure();
  int64_t r = s.r, q = s.it.getRank();
  if (q < 1)
    return im.fail("indices must have rank >= 1");
  int64_t bd = n.i("batch_dims", 0);
  if (n.bad)
    return failure();
  if (bd < 0 || bd >= std::min(q, r))
    return im.fail("batch_dims " + std::to_string(bd) + " must be in [0, min(rank(data), " +
                   "rank(indices))) = [0, " + std::to_string(std::min(q, r)) + ")");
  const SymShape &dd = s.dd, &id = s.id;
  if (!id[q - 1].isConst())
    return im.fail("the last dimension of indices must be static");
  int64_t m = id[q - 1].c;
  if (m < 1 || m > r - bd)
    return im.fail("the last dimension of indices (" + std::to_string(m) + ") must be in [1, " +
                   std::to_string(r - bd) + "] for data of rank " + std::to_string(r) +
                   " and batch_dims " + std::to_string(bd));
  for (int64_t k = 0; k < bd; ++k)
    if (staticMismatch(id[k], dd[k]))
      return im.fail("batch dimension " + std::to_string(k) + " of indices (" + dimStr(id[k]) +
                     ") and data (" + dimStr(dd[k]) + ") differ");
  if (auto idx = n.ints(1))
    if (failed(checkConstIndices(im, *idx, [&](int64_t k) {
          const SymExpr &d = dd[bd + k % m];
          return d.isConst() ? d.c : int64_t(-1);
        })))
      return failure();
  if (!s.load(n))
    return failure();
  Value data = s.data, indices = s.indices;
  Type et = s.et;
  SymShape od(id.begin(), id.end() - 1);
  od.append(dd.begin() + bd + m, dd.end());
  int64_t on = od.size();
  GatherClamps gc(im, dd, bd + m, [&](int64_t k) { return k >= bd || !provablyLE(id[k], dd[k]); });
  AffineMap omap = AffineMap::getMultiDimIdentityMap(unsigned(on), &im.ctx);
  Value res = im.generic(
      {}, im.empty(od, et), {omap}, SmallVector<IT>(on, IT::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> outer, coords;
        for (int64_t k = 0; k < q - 1; ++k)
          outer.push_back(linalg::IndexOp::create(nb, l, k));
        for (int64_t k = 0; k < bd; ++k)
          coords.push_back(gc.clampK[k] ? clampIdx(nb, l, outer[k], gc.dimV[k]) : outer[k]);
        for (int64_t j = 0; j < m; ++j) {
          SmallVector<Value> ic(outer);
          ic.push_back(cIdx(nb, l, j));
          Value d = gc.dimV[bd + j];
          coords.push_back(clampIdx(nb, l, readIndex(nb, l, indices, ic, d), d));
        }
        for (int64_t k = bd + m; k < r; ++k)
          coords.push_back(linalg::IndexOp::create(nb, l, q - 1 + (k - bd - m)));
        linalg::YieldOp::create(nb, l, guardedExtract(nb, l, data, coords, gc.guard));
      });
  return n.out(0, res);
}

//===----------------------------------------------------------------------===//
// ScatterElements (and Scatter, its opset <= 10 name)
//===----------------------------------------------------------------------===//

LogicalResult handleScatterElements(Importer &im, NodeCtx &n) {
  IndexOperands s;
  if (failed(checkIndexOperands(im, n, /*scatter=*/true, s)))
    return failure();
  int64_t r = s.r;
  if (s.it.getRank() != r || s.ut.getRank() != r)
    return im.fail("indices and updates must have the rank of data (" + std::to_string(r) +
                   "), got ranks " + std::to_string(s.it.getRank()) + " and " +
                   std::to_string(s.ut.getRank()));
  int64_t axis = n.i("axis", 0);
  if (n.bad || !normAxis(im, axis, r))
    return failure();
  Red red;
  if (failed(reductionOf(im, n, s.et, red)))
    return failure();
  const SymShape &dd = s.dd, &id = s.id, &ud = s.ud;
  for (int64_t k = 0; k < r; ++k) {
    if (staticMismatch(id[k], ud[k]))
      return im.fail("indices shape " + symShapeStr(id) + " and updates shape " + symShapeStr(ud) +
                     " differ");
    if (failed(checkIndexDimFits(im, dd, id, k, axis)))
      return failure();
  }
  if (failed(checkConstAxisIndices(im, n, dd, axis)))
    return failure();
  if (!s.load(n))
    return failure();
  SmallVector<Value> lbs(r, im.cIndex(0)), steps(r, im.cIndex(1)), ubs;
  for (int64_t k = 0; k < r; ++k) {
    Value ub = loopBound(im, id[k], ud[k]);
    if (k != axis && !provablyLE(id[k], dd[k]))
      ub = minSize(im, ub, &dd[k]);
    ubs.push_back(ub);
  }
  Value dimAxis = im.indexOf(dd[axis]);
  Value init = freshCopy(im, s.data);
  scf::LoopNest nest = scf::buildLoopNest(
      im.b, im.loc, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
        Value out = iter[0];
        Value i = readIndex(nb, l, s.indices, ivs, dimAxis);
        return {ifOrKeep(nb, l, inRange(nb, l, i, dimAxis), out, [&](OpBuilder &tb, Location tl) {
          SmallVector<Value> coords(ivs.begin(), ivs.end());
          coords[axis] = i;
          Value u = tensor::ExtractOp::create(tb, tl, s.updates, ivs);
          return scatterStore(tb, tl, red, u, out, coords);
        })};
      });
  return scatterResult(im, n, nest, init, dd);
}

//===----------------------------------------------------------------------===//
// ScatterND
//===----------------------------------------------------------------------===//

LogicalResult handleScatterND(Importer &im, NodeCtx &n) {
  IndexOperands s;
  if (failed(checkIndexOperands(im, n, /*scatter=*/true, s)))
    return failure();
  int64_t r = s.r, q = s.it.getRank();
  if (q < 1)
    return im.fail("indices must have rank >= 1");
  Red red;
  if (failed(reductionOf(im, n, s.et, red)))
    return failure();
  const SymShape &dd = s.dd, &id = s.id, &ud = s.ud;
  if (!id[q - 1].isConst())
    return im.fail("the last dimension of indices must be static");
  int64_t m = id[q - 1].c;
  if (m < 1 || m > r)
    return im.fail("the last dimension of indices (" + std::to_string(m) + ") must be in [1, " +
                   std::to_string(r) + "] for data of rank " + std::to_string(r));
  // updates: indices.shape[:-1] + data.shape[m:]
  SymShape want(id.begin(), id.end() - 1);
  want.append(dd.begin() + m, dd.end());
  if (int64_t(ud.size()) != int64_t(want.size()))
    return im.fail("updates must have rank " + std::to_string(want.size()) +
                   " (indices.shape[:-1] + data.shape[" + std::to_string(m) +
                   ":] = " + symShapeStr(want) + "), got shape " + symShapeStr(ud));
  for (size_t k = 0; k < want.size(); ++k)
    if (staticMismatch(ud[k], want[k]))
      return im.fail("updates shape " + symShapeStr(ud) + " must be indices.shape[:-1] + " +
                     "data.shape[" + std::to_string(m) + ":] = " + symShapeStr(want));
  if (auto idx = n.ints(1))
    if (failed(checkConstIndices(im, *idx, [&](int64_t k) {
          const SymExpr &d = dd[k % m];
          return d.isConst() ? d.c : int64_t(-1);
        })))
      return failure();
  if (!s.load(n))
    return failure();
  // Outer loops over the index tuples, inner loops over the updated slice.
  SmallVector<Value> olbs(q - 1, im.cIndex(0)), osteps(q - 1, im.cIndex(1)), oubs;
  for (int64_t k = 0; k < q - 1; ++k)
    oubs.push_back(loopBound(im, id[k], ud[k]));
  int64_t tn = r - m;
  SmallVector<Value> ilbs(tn, im.cIndex(0)), isteps(tn, im.cIndex(1)), iubs;
  for (int64_t k = 0; k < tn; ++k)
    iubs.push_back(loopBound(im, dd[m + k], ud[q - 1 + k]));
  SmallVector<Value> dimV;
  for (int64_t j = 0; j < m; ++j)
    dimV.push_back(im.indexOf(dd[j]));
  Value init = freshCopy(im, s.data);
  scf::LoopNest nest = scf::buildLoopNest(
      im.b, im.loc, olbs, oubs, osteps, ValueRange{init},
      [&](OpBuilder &nb, Location l, ValueRange oivs, ValueRange iter) -> scf::ValueVector {
        Value out = iter[0];
        SmallVector<Value> base;
        Value ok;
        for (int64_t j = 0; j < m; ++j) {
          SmallVector<Value> ic(oivs.begin(), oivs.end());
          ic.push_back(cIdx(nb, l, j));
          Value v = readIndex(nb, l, s.indices, ic, dimV[j]);
          Value inr = inRange(nb, l, v, dimV[j]);
          ok = ok ? arith::AndIOp::create(nb, l, ok, inr).getResult() : inr;
          base.push_back(v);
        }
        return {ifOrKeep(nb, l, ok, out, [&](OpBuilder &tb, Location tl) {
          scf::LoopNest inner = scf::buildLoopNest(
              tb, tl, ilbs, iubs, isteps, ValueRange{out},
              [&](OpBuilder &ib, Location il, ValueRange iivs, ValueRange iit) -> scf::ValueVector {
                SmallVector<Value> coords(base), uc(oivs.begin(), oivs.end());
                coords.append(iivs.begin(), iivs.end());
                uc.append(iivs.begin(), iivs.end());
                Value u = tensor::ExtractOp::create(ib, il, s.updates, uc);
                return {scatterStore(ib, il, red, u, iit[0], coords)};
              });
          return inner.results.empty() ? out : inner.results[0];
        })};
      });
  return scatterResult(im, n, nest, init, dd);
}

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

LogicalResult handleCumSum(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  auto xt = n.inType(0), at = n.inType(1);
  Type et = xt.getElementType();
  if (!isNumeric(et))
    return im.fail("input must be float, int32 or int64, got " + str(et));
  int64_t r = xt.getRank();
  if (r == 0)
    return im.fail("input must have rank >= 1");
  if (!isIndexElt(at.getElementType()))
    return im.fail("axis must be int32 or int64, got " + str(at.getElementType()));
  if (at.getRank() > 1 || (at.hasStaticShape() && at.getNumElements() != 1))
    return im.fail("axis must be a scalar (or a 1-element tensor)");
  int64_t exclusive, reverse;
  if (failed(checkBool01(im, n, "exclusive", exclusive, 0)) ||
      failed(checkBool01(im, n, "reverse", reverse, 0)))
    return failure();
  int64_t axis;
  if (failed(
          constOneValue(im, n, 1, "axis", "an axis computed at run time is not supported", axis)))
    return failure();
  if (!normAxis(im, axis, r))
    return failure();
  SymShape xd = inDims(n, 0);
  bool isF = isa<FloatType>(et);
  // Constant input: fold.
  if (const ConstTensor *c = n.cst(0); c && c->numel() <= kFoldLimit) {
    ConstTensor o;
    o.et = et;
    o.shape = c->shape;
    int64_t N = c->numel();
    if (isF)
      o.f.assign(size_t(N), 0.0);
    else
      o.i.assign(size_t(N), 0);
    int64_t len = c->shape[axis], inner = 1;
    for (int64_t k = axis + 1; k < r; ++k)
      inner *= c->shape[k];
    int64_t outer = (len == 0 || inner == 0) ? 0 : N / (len * inner);
    for (int64_t ob = 0; ob < outer; ++ob)
      for (int64_t ib = 0; ib < inner; ++ib) {
        double fs = 0;
        int64_t is = 0;
        for (int64_t s = 0; s < len; ++s) {
          int64_t p = reverse ? len - 1 - s : s;
          int64_t lin = (ob * len + p) * inner + ib;
          if (exclusive) {
            if (isF)
              o.f[lin] = roundToType(et, fs);
            else
              o.i[lin] = wrapToType(et, is);
          }
          if (isF)
            fs += c->f[lin];
          else
            is = int64_t(uint64_t(is) + uint64_t(c->i[lin]));
          if (!exclusive) {
            if (isF)
              o.f[lin] = roundToType(et, fs);
            else
              o.i[lin] = wrapToType(et, is);
          }
        }
      }
    return n.outConst(0, std::move(o));
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type acc = isF && et.getIntOrFloatBitWidth() < 32 ? Type(b.getF32Type()) : et;
  RowLoops rows(im, xd, axis);
  Value len = im.indexOf(xd[axis]);
  Value lenM1 = arith::SubIOp::create(b, loc, len, im.cIndex(1));
  Value zeroAcc = im.scalar(acc, 0.0);
  Value init = im.empty(xd, et);
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, rows.lbs, rows.ubs, rows.steps, ValueRange{init},
      [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
        auto loop = scf::ForOp::create(
            nb, l, cIdx(nb, l, 0), len, cIdx(nb, l, 1), ValueRange{zeroAcc, iter[0]},
            [&](OpBuilder &fb, Location fl, Value s, ValueRange a) {
              Value p = reverse ? arith::SubIOp::create(fb, fl, lenM1, s).getResult() : s;
              SmallVector<Value> coords = rowCoords(ivs, axis, p);
              Value v = tensor::ExtractOp::create(fb, fl, x, coords);
              if (acc != et)
                v = arith::ExtFOp::create(fb, fl, acc, v);
              Value sum = floatOrIntOp<arith::AddFOp, arith::AddIOp>(fb, fl, a[0], v);
              Value w = exclusive ? a[0] : sum;
              if (acc != et)
                w = arith::TruncFOp::create(fb, fl, et, w);
              Value out = tensor::InsertOp::create(fb, fl, w, a[1], coords);
              scf::YieldOp::create(fb, fl, ValueRange{sum, out});
            });
        return {loop.getResult(1)};
      });
  Value res = nest.results[0];
  im.setDims(res, xd);
  return n.out(0, res);
}

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

LogicalResult handleTopK(Importer &im, NodeCtx &n) {
  bool kAttr = im.opset < 10;
  if (failed(n.arity(kAttr ? 1 : 2, kAttr ? 1 : 2)))
    return failure();
  auto xt = n.inType(0);
  Type et = xt.getElementType();
  if (!isNumeric(et))
    return im.fail("input must be float, int32 or int64, got " + str(et));
  int64_t r = xt.getRank();
  if (r == 0)
    return im.fail("input must have rank >= 1");
  int64_t axis = n.i("axis", -1), largest, sortedAttr;
  if (n.bad || failed(checkBool01(im, n, "largest", largest, 1)) ||
      failed(checkBool01(im, n, "sorted", sortedAttr, 1)))
    return failure();
  if (!normAxis(im, axis, r))
    return failure();
  int64_t K = 0;
  SymShape xd = inDims(n, 0);
  // K: a constant, or the axis' own (symbolic) length, which makes TopK a
  // full sort (exporters sort MoE routing indices that way).
  std::optional<SymExpr> kSym;
  if (kAttr) {
    if (!n.hasAttr("k"))
      return im.fail("attribute 'k' is required");
    K = n.i("k", 0);
    if (n.bad)
      return failure();
  } else {
    auto kt = n.inType(1);
    if (!kt.getElementType().isInteger(64))
      return im.fail("K must be int64, got " + str(kt.getElementType()));
    if (auto st = n.shape(1); st && st->elems.size() == 1 && st->elems[0] &&
                              !st->elems[0]->isConst() && *st->elems[0] == xd[axis])
      kSym = *st->elems[0];
    else if (failed(constOneValue(im, n, 1, "K",
                                  "a K computed at run time is not supported (the result "
                                  "shape would depend on it) unless it is the length of the "
                                  "axis",
                                  K)))
      return failure();
  }
  if (K < 0)
    return im.fail("K must be >= 0, got " + std::to_string(K));
  if (xd[axis].isConst() && K > xd[axis].c)
    return im.fail("K (" + std::to_string(K) + ") is larger than dimension " +
                   std::to_string(axis) + " of the input (" + std::to_string(xd[axis].c) + ")");
  Value x = n.in(0);
  if (!x)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type i64 = b.getI64Type();
  bool isF = isa<FloatType>(et);
  SymShape od = xd;
  od[axis] = kSym ? *kSym : SymExpr::constant(K);
  Value outV = im.fill(im.empty(od, et), im.scalar(et, 0.0));
  Value outI = im.fill(im.empty(od, i64), im.scalar(i64, -1));
  // With a symbolic K (= the length), an empty axis runs no iteration.
  if (K > 0 || kSym) {
    // a > c in the order that puts NaN above every number.
    auto gt = [&](OpBuilder &nb, Location l, Value a, Value c) -> Value {
      if (!isF)
        return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sgt, a, c);
      Value ogt = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a, c);
      Value an = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO, a, a);
      Value cn = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::ORD, c, c);
      return arith::OrIOp::create(nb, l, ogt, arith::AndIOp::create(nb, l, an, cn));
    };
    // A new element goes before a kept one only when strictly better: a kept
    // element has the lower index and wins ties.
    auto better = [&](OpBuilder &nb, Location l, Value a, Value c) -> Value {
      return largest ? gt(nb, l, a, c) : gt(nb, l, c, a);
    };
    RowLoops rows(im, xd, axis);
    Value len = im.indexOf(xd[axis]);
    Value c0 = im.cIndex(0), c1 = im.cIndex(1);
    Value cK = kSym ? im.indexOf(*kSym) : im.cIndex(K);
    Value cKm1 = kSym ? arith::SubIOp::create(b, loc, cK, c1).getResult() : im.cIndex(K - 1);
    // Per row: one pass over the axis keeping the best K so far sorted
    // (insertion; an element that does not beat the K-th is dropped after
    // one comparison).
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, rows.lbs, rows.ubs, rows.steps, ValueRange{outV, outI},
        [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange rowIter) -> scf::ValueVector {
          auto at = [&](Value p) { return rowCoords(ivs, axis, p); };
          auto scan = scf::ForOp::create(
              nb, l, c0, len, c1, ValueRange{c0, rowIter[0], rowIter[1]},
              [&](OpBuilder &fb, Location fl, Value j, ValueRange a) {
                Value cnt = a[0], ov = a[1], oi = a[2];
                Value v = tensor::ExtractOp::create(fb, fl, x, at(j));
                Value notFull = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::slt, cnt, cK);
                Value last = tensor::ExtractOp::create(fb, fl, ov, at(cKm1));
                Value ins = arith::OrIOp::create(fb, fl, notFull, better(fb, fl, v, last));
                Value pos0 = arith::MinSIOp::create(fb, fl, cnt, cKm1);
                Value ncnt = arith::MinSIOp::create(
                    fb, fl, arith::AddIOp::create(fb, fl, cnt, c1).getResult(), cK);
                Value j64 = arith::IndexCastOp::create(fb, fl, i64, j);
                auto ifOp = scf::IfOp::create(
                    fb, fl, ins,
                    [&](OpBuilder &tb, Location tl) {
                      // Shift the kept elements that v beats one slot down.
                      auto w = scf::WhileOp::create(
                          tb, tl, TypeRange{tb.getIndexType(), ov.getType(), oi.getType()},
                          ValueRange{pos0, ov, oi},
                          [&](OpBuilder &cb, Location cl, ValueRange s) {
                            Value pos = s[0];
                            Value gt0 = arith::CmpIOp::create(cb, cl, arith::CmpIPredicate::sgt,
                                                              pos, cIdx(cb, cl, 0));
                            // Clamped read: only used when pos > 0.
                            Value pm1 = arith::MaxSIOp::create(
                                cb, cl, arith::SubIOp::create(cb, cl, pos, cIdx(cb, cl, 1)),
                                cIdx(cb, cl, 0));
                            Value pv = tensor::ExtractOp::create(cb, cl, s[1], at(pm1));
                            Value go = arith::AndIOp::create(cb, cl, gt0, better(cb, cl, v, pv));
                            scf::ConditionOp::create(cb, cl, go, s);
                          },
                          [&](OpBuilder &bb, Location bl, ValueRange s) {
                            Value pos = s[0];
                            Value pm1 = arith::SubIOp::create(bb, bl, pos, cIdx(bb, bl, 1));
                            Value mv = tensor::ExtractOp::create(bb, bl, s[1], at(pm1));
                            Value mi = tensor::ExtractOp::create(bb, bl, s[2], at(pm1));
                            Value nv = tensor::InsertOp::create(bb, bl, mv, s[1], at(pos));
                            Value ni = tensor::InsertOp::create(bb, bl, mi, s[2], at(pos));
                            scf::YieldOp::create(bb, bl, ValueRange{pm1, nv, ni});
                          });
                      Value pos = w.getResult(0);
                      Value nv = tensor::InsertOp::create(tb, tl, v, w.getResult(1), at(pos));
                      Value ni = tensor::InsertOp::create(tb, tl, j64, w.getResult(2), at(pos));
                      scf::YieldOp::create(tb, tl, ValueRange{ncnt, nv, ni});
                    },
                    [&](OpBuilder &eb, Location el) {
                      scf::YieldOp::create(eb, el, ValueRange{cnt, ov, oi});
                    });
                scf::YieldOp::create(fb, fl, ifOp.getResults());
              });
          return {scan.getResult(1), scan.getResult(2)};
        });
    outV = nest.results[0];
    outI = nest.results[1];
  }
  im.setDims(outV, od);
  im.setDims(outI, od);
  if (failed(n.out(0, outV)))
    return failure();
  return n.out(1, outI);
}

//===----------------------------------------------------------------------===//
// Scatter (opset 9-10): ScatterElements without reduction
//===----------------------------------------------------------------------===//

LogicalResult handleScatter(Importer &im, NodeCtx &n) {
  if (n.hasAttr("reduction"))
    return im.fail("Scatter has no attribute 'reduction' (use ScatterElements)");
  return handleScatterElements(im, n);
}


//===----------------------------------------------------------------------===//
// ReverseSequence
//===----------------------------------------------------------------------===//

/// out[.., t, ..] of batch entry b = input[.., len[b] - 1 - t, ..] for
/// t < len[b], input[.., t, ..] past it. Lengths outside [0, T] are clamped
/// into it (ONNX Runtime rejects them). Constant lengths that all equal a
/// static T are a whole reversal (recorded, so that LinearAttention can run
/// backwards on the input).
LogicalResult handleReverseSequence(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  int64_t batchAxis = n.i("batch_axis", 1), timeAxis = n.i("time_axis", 0);
  if (n.bad)
    return failure();
  if (!((batchAxis == 0 && timeAxis == 1) || (batchAxis == 1 && timeAxis == 0)))
    return im.fail("batch_axis and time_axis must be 0 and 1 in either order, got " +
                   std::to_string(batchAxis) + " and " + std::to_string(timeAxis));
  SymShape xd = inDims(n, 0);
  int64_t r = int64_t(xd.size());
  if (r < 2)
    return im.fail("input must have rank >= 2, got rank " + std::to_string(r));
  auto lt = n.inType(1);
  if (lt.getRank() != 1 || !lt.getElementType().isInteger(64))
    return im.fail("sequence_lens must be a 1-D int64 tensor");
  SymShape ld = inDims(n, 1);
  if (ld[0].isConst() && xd[batchAxis].isConst() && ld[0].c != xd[batchAxis].c)
    return im.fail("sequence_lens has " + std::to_string(ld[0].c) + " entries for a batch of " +
                   std::to_string(xd[batchAxis].c));
  if (const ConstTensor *c = n.cst(1); c && xd[timeAxis].isConst() &&
                                      llvm::all_of(c->i, [&](int64_t l) {
                                        return l == xd[timeAxis].c;
                                      })) {
    Value x = n.in(0);
    if (!x)
      return failure();
    auto it = im.reversals.find(x);
    if (it != im.reversals.end() && it->second.second == timeAxis)
      return n.out(0, it->second.first);
    return n.out(0, im.reverseAlong(x, timeAxis));
  }
  Value x = n.in(0), lens = n.in(1);
  if (!x || !lens)
    return failure();
  Value T = im.indexOf(xd[timeAxis]);
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Type et = cast<RankedTensorType>(x.getType()).getElementType();
  Value res = im.generic(
      {}, im.empty(xd, et), {id}, SmallVector<IT>(r, IT::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < r; ++k)
          coords.push_back(linalg::IndexOp::create(nb, l, k));
        Value len = tensor::ExtractOp::create(nb, l, lens, ValueRange{coords[batchAxis]});
        len = arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
        len = arith::MaxSIOp::create(nb, l, len, arith::ConstantIndexOp::create(nb, l, 0));
        len = arith::MinSIOp::create(nb, l, len, T);
        Value t = coords[timeAxis];
        Value inside = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, t, len);
        Value mirrored = arith::SubIOp::create(
            nb, l, arith::SubIOp::create(nb, l, len, arith::ConstantIndexOp::create(nb, l, 1)), t);
        coords[timeAxis] = arith::SelectOp::create(nb, l, inside, mirrored, t);
        linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, x, coords).getResult());
      });
  return n.out(0, res);
}

} // namespace gatec::onnx_frontend::detail
