//===- Ops.cpp - elementwise, cast, constant and shape op handlers --------===//
//
// Each handler validates its node (input count, attributes, ranks, static
// sizes) before building anything, folds when all of its inputs are known
// constants or shape tensors, and otherwise emits upstream ops on tensors.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace gatec::onnx_frontend::detail {

bool normAxis(Importer &im, int64_t &axis, int64_t rank, llvm::StringRef what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    (void)im.fail(what + " " + std::to_string(axis) + " is out of range for rank " +
                  std::to_string(rank));
    return false;
  }
  axis = a;
  return true;
}

SymShape inDims(NodeCtx &n, int i) {
  Entry *e = n.has(i) ? n.im.lookup(n.inName(i)) : nullptr;
  if (!e)
    return {};
  if (e->value)
    return n.im.dims(e->value);
  SymShape d;
  for (int64_t s : e->type.getShape())
    d.push_back(SymExpr::constant(s));
  return d;
}

Value scalarInput(NodeCtx &n, int i, Type et) {
  Importer &im = n.im;
  OpBuilder &b = im.b;
  if (auto st = n.shape(i); st && st->elems.size() == 1 && st->elems[0]) {
    Value v = im.indexOf(*st->elems[0]);
    if (et.isIndex())
      return v;
    if (isa<FloatType>(et)) {
      Value w = arith::IndexCastOp::create(b, im.loc, b.getI64Type(), v);
      return arith::SIToFPOp::create(b, im.loc, et, w);
    }
    return arith::IndexCastOp::create(b, im.loc, et, v);
  }
  if (const ConstTensor *c = n.cst(i); c && c->numel() == 1) {
    if (et.isIndex())
      return im.cIndex(c->iv(0));
    return im.scalar(et, c->fv(0));
  }
  Value t = n.in(i);
  if (!t)
    return Value();
  auto tt = Importer::tt(t);
  if (tt.getRank() > 1 || (tt.getRank() == 1 && tt.getDimSize(0) != 1))
    return im.failV("input " + std::to_string(i) + " must be a scalar");
  SmallVector<Value> idx(tt.getRank(), im.cIndex(0));
  Value v;
  // A cast of a one-element tensor built from a scalar (Cast of a size):
  // the scalar cast, so that the value never becomes device data on GPU
  // targets (a 0-d tensor op runs there; reading it back would be a host
  // access of device memory).
  if (auto cast = t.getDefiningOp<arith::SIToFPOp>())
    if (auto fe = cast.getIn().getDefiningOp<tensor::FromElementsOp>();
        fe && fe.getElements().size() == 1)
      v = arith::SIToFPOp::create(b, im.loc, tt.getElementType(), fe.getElements()[0]);
  if (!v)
    v = tensor::ExtractOp::create(b, im.loc, t, idx);
  Type st = v.getType();
  if (st == et)
    return v;
  if (et.isIndex())
    return arith::IndexCastOp::create(b, im.loc, et, v);
  if (isa<FloatType>(et) && isa<FloatType>(st))
    return st.getIntOrFloatBitWidth() < et.getIntOrFloatBitWidth()
               ? arith::ExtFOp::create(b, im.loc, et, v).getResult()
               : arith::TruncFOp::create(b, im.loc, et, v).getResult();
  if (isa<FloatType>(et))
    return arith::SIToFPOp::create(b, im.loc, et, v);
  if (isa<FloatType>(st))
    return arith::FPToSIOp::create(b, im.loc, et, v);
  return st.getIntOrFloatBitWidth() < et.getIntOrFloatBitWidth()
             ? arith::ExtSIOp::create(b, im.loc, et, v).getResult()
             : arith::TruncIOp::create(b, im.loc, et, v).getResult();
}

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream(s) << t;
  return s;
}

Value reduceCombine(OpBuilder &b, Location l, ReduceKind k, Value x, Value y) {
  switch (k) {
  case ReduceKind::Sum:
    return floatOrIntOp<arith::AddFOp, arith::AddIOp>(b, l, x, y);
  case ReduceKind::Prod:
    return floatOrIntOp<arith::MulFOp, arith::MulIOp>(b, l, x, y);
  case ReduceKind::Max:
    return floatOrIntOp<arith::MaximumFOp, arith::MaxSIOp>(b, l, x, y);
  case ReduceKind::Min:
    return floatOrIntOp<arith::MinimumFOp, arith::MinSIOp>(b, l, x, y);
  }
  llvm_unreachable("unknown reduction kind");
}

} // namespace gatec::onnx_frontend::detail

namespace {


//===----------------------------------------------------------------------===//
// Constant folding
//===----------------------------------------------------------------------===//

bool staticBroadcast(llvm::ArrayRef<const ConstTensor *> ins, SmallVector<int64_t, 4> &out) {
  size_t rank = 0;
  for (auto *c : ins)
    rank = std::max(rank, c->shape.size());
  out.assign(rank, 1);
  for (auto *c : ins) {
    size_t off = rank - c->shape.size();
    for (size_t k = 0; k < c->shape.size(); ++k) {
      int64_t d = c->shape[k];
      if (d == 1)
        continue;
      if (out[k + off] == 1)
        out[k + off] = d;
      else if (out[k + off] != d)
        return false;
    }
  }
  return true;
}

/// Elementwise fold with broadcasting: fn(linear input indices, out, k).
template <typename Fn>
std::optional<ConstTensor> foldMap(llvm::ArrayRef<const ConstTensor *> ins, Type outET,
                                   Fn fn) {
  ConstTensor o;
  o.et = outET;
  if (!staticBroadcast(ins, o.shape))
    return std::nullopt;
  int64_t n = o.numel();
  if (n > kFoldLimit)
    return std::nullopt;
  if (o.isFloat())
    o.f.resize(size_t(n));
  else
    o.i.resize(size_t(n));
  size_t rank = o.shape.size();
  SmallVector<SmallVector<int64_t, 4>> strides(ins.size());
  for (auto [j, c] : llvm::enumerate(ins)) {
    strides[j].assign(rank, 0);
    int64_t st = 1;
    size_t off = rank - c->shape.size();
    for (int64_t d = int64_t(c->shape.size()) - 1; d >= 0; --d) {
      if (c->shape[d] != 1)
        strides[j][d + off] = st;
      st *= c->shape[d];
    }
  }
  SmallVector<int64_t, 4> idx(rank, 0), lin(ins.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    for (size_t j = 0; j < ins.size(); ++j) {
      int64_t l = 0;
      for (size_t d = 0; d < rank; ++d)
        l += idx[d] * strides[j][d];
      lin[j] = l;
    }
    if (!fn(llvm::ArrayRef<int64_t>(lin), o, k))
      return std::nullopt;
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      if (++idx[d] < o.shape[d])
        break;
      idx[d] = 0;
    }
  }
  return o;
}

/// The value of `c` at linear index k, converted to element type `et`.
void storeConverted(ConstTensor &o, int64_t k, const ConstTensor &c, int64_t src) {
  Type et = o.et;
  if (isa<FloatType>(et)) {
    o.f[k] = roundToType(et, c.fv(src));
  } else if (et.isInteger(1)) {
    o.i[k] = c.isFloat() ? (c.f[src] != 0.0) : (c.i[src] != 0);
  } else {
    o.i[k] = wrapToType(et, c.iv(src));
  }
}

std::optional<ConstTensor> convertConst(const ConstTensor &c, Type et) {
  ConstTensor o;
  o.et = et;
  o.shape = c.shape;
  int64_t n = c.numel();
  if (o.isFloat())
    o.f.resize(size_t(n));
  else
    o.i.resize(size_t(n));
  for (int64_t k = 0; k < n; ++k)
    storeConverted(o, k, c, k);
  return o;
}

/// Gathers elements of `c` (any rank) at the given linear indices.
ConstTensor gatherLinear(const ConstTensor &c, llvm::ArrayRef<int64_t> shape,
                         llvm::ArrayRef<int64_t> lin) {
  ConstTensor o;
  o.et = c.et;
  o.shape.assign(shape.begin(), shape.end());
  for (int64_t l : lin) {
    if (c.isFloat())
      o.f.push_back(c.f[l]);
    else
      o.i.push_back(c.i[l]);
  }
  return o;
}

ConstTensor reshapeConst(const ConstTensor &c, llvm::ArrayRef<int64_t> shape) {
  ConstTensor o = c;
  o.shape.assign(shape.begin(), shape.end());
  return o;
}

SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 4> s(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

enum class EW {
  Add, Sub, Mul, Div, Pow, Mod, Max, Min,
  Equal, Less, LessEq, Greater, GreaterEq,
  And, Or, Xor,
  Neg, Abs, Exp, Log, Sqrt, Recip, Tanh, Sigmoid, Softplus, Relu, Erf,
  Floor, Ceil, Sin, Cos, Not, Sign
};

bool isCompare(EW k) { return k >= EW::Equal && k <= EW::GreaterEq; }
bool isLogic(EW k) { return k == EW::And || k == EW::Or || k == EW::Xor || k == EW::Not; }
bool floatOnly(EW k) {
  switch (k) {
  case EW::Pow: case EW::Exp: case EW::Log: case EW::Sqrt: case EW::Recip:
  case EW::Tanh: case EW::Sigmoid: case EW::Softplus: case EW::Erf: case EW::Floor:
  case EW::Ceil: case EW::Sin: case EW::Cos:
    return true;
  default:
    return false;
  }
}

int64_t pyMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

/// Folds one element of a binary op; false when it cannot be folded.
bool foldBinary(EW k, bool isF, bool fmod, double fa, double fb, int64_t ia, int64_t ib,
                double &fr, int64_t &ir) {
  if (isF) {
    switch (k) {
    case EW::Add: fr = fa + fb; return true;
    case EW::Sub: fr = fa - fb; return true;
    case EW::Mul: fr = fa * fb; return true;
    case EW::Div: fr = fa / fb; return true;
    case EW::Pow: fr = std::pow(fa, fb); return true;
    case EW::Mod: fr = std::fmod(fa, fb); return true;
    case EW::Max: fr = (std::isnan(fa) || std::isnan(fb)) ? NAN : std::max(fa, fb); return true;
    case EW::Min: fr = (std::isnan(fa) || std::isnan(fb)) ? NAN : std::min(fa, fb); return true;
    case EW::Equal: ir = fa == fb; return true;
    case EW::Less: ir = fa < fb; return true;
    case EW::LessEq: ir = fa <= fb; return true;
    case EW::Greater: ir = fa > fb; return true;
    case EW::GreaterEq: ir = fa >= fb; return true;
    default: return false;
    }
  }
  switch (k) {
  case EW::Add: ir = int64_t(uint64_t(ia) + uint64_t(ib)); return true;
  case EW::Sub: ir = int64_t(uint64_t(ia) - uint64_t(ib)); return true;
  case EW::Mul: ir = int64_t(uint64_t(ia) * uint64_t(ib)); return true;
  case EW::Div:
    if (ib == 0 || (ia == std::numeric_limits<int64_t>::min() && ib == -1))
      return false;
    ir = ia / ib;
    return true;
  case EW::Mod:
    if (ib == 0 || (ia == std::numeric_limits<int64_t>::min() && ib == -1))
      return false;
    ir = fmod ? ia % ib : pyMod(ia, ib);
    return true;
  case EW::Max: ir = std::max(ia, ib); return true;
  case EW::Min: ir = std::min(ia, ib); return true;
  case EW::Equal: ir = ia == ib; return true;
  case EW::Less: ir = ia < ib; return true;
  case EW::LessEq: ir = ia <= ib; return true;
  case EW::Greater: ir = ia > ib; return true;
  case EW::GreaterEq: ir = ia >= ib; return true;
  case EW::And: ir = (ia != 0) && (ib != 0); return true;
  case EW::Or: ir = (ia != 0) || (ib != 0); return true;
  case EW::Xor: ir = (ia != 0) != (ib != 0); return true;
  default: return false;
  }
}

bool foldUnary(EW k, bool isF, double fa, int64_t ia, double &fr, int64_t &ir) {
  if (isF) {
    switch (k) {
    case EW::Neg: fr = -fa; return true;
    case EW::Abs: fr = std::fabs(fa); return true;
    case EW::Exp: fr = std::exp(fa); return true;
    case EW::Log: fr = std::log(fa); return true;
    case EW::Sqrt: fr = std::sqrt(fa); return true;
    case EW::Recip: fr = 1.0 / fa; return true;
    case EW::Tanh: fr = std::tanh(fa); return true;
    case EW::Sigmoid: fr = 1.0 / (1.0 + std::exp(-fa)); return true;
    case EW::Softplus: fr = std::log1p(std::exp(fa)); return true;
    case EW::Relu: fr = fa > 0 ? fa : 0.0; return true;
    case EW::Erf: fr = std::erf(fa); return true;
    case EW::Floor: fr = std::floor(fa); return true;
    case EW::Ceil: fr = std::ceil(fa); return true;
    case EW::Sin: fr = std::sin(fa); return true;
    case EW::Cos: fr = std::cos(fa); return true;
    case EW::Sign: fr = fa > 0 ? 1.0 : fa < 0 ? -1.0 : 0.0; return true;
    default: return false;
    }
  }
  switch (k) {
  case EW::Neg: ir = int64_t(0 - uint64_t(ia)); return true;
  case EW::Abs: ir = ia < 0 ? int64_t(0 - uint64_t(ia)) : ia; return true;
  case EW::Relu: ir = ia > 0 ? ia : 0; return true;
  case EW::Not: ir = ia == 0; return true;
  case EW::Sign: ir = ia > 0 ? 1 : ia < 0 ? -1 : 0; return true;
  default: return false;
  }
}

Value emitBinary(Importer &im, EW k, Value a, Value bv, bool fmod) {
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type et = Importer::tt(a).getElementType();
  bool isF = isa<FloatType>(et);
  bool isBool = et.isInteger(1);
  using FP = arith::CmpFPredicate;
  using IP = arith::CmpIPredicate;
  switch (k) {
  case EW::Add:
    return floatOrIntOp<arith::AddFOp, arith::AddIOp>(b, loc, a, bv);
  case EW::Sub:
    return floatOrIntOp<arith::SubFOp, arith::SubIOp>(b, loc, a, bv);
  case EW::Mul:
    return floatOrIntOp<arith::MulFOp, arith::MulIOp>(b, loc, a, bv);
  case EW::Div:
    return floatOrIntOp<arith::DivFOp, arith::DivSIOp>(b, loc, a, bv);
  case EW::Pow:
    return math::PowFOp::create(b, loc, a, bv);
  case EW::Mod: {
    if (isF)
      return arith::RemFOp::create(b, loc, a, bv);
    Value r = arith::RemSIOp::create(b, loc, a, bv);
    if (fmod)
      return r;
    SymShape d = im.dims(a);
    Value zero = im.zeros(d, et);
    Value rnz = arith::CmpIOp::create(b, loc, IP::ne, r, zero);
    Value rneg = arith::CmpIOp::create(b, loc, IP::slt, r, zero);
    Value bneg = arith::CmpIOp::create(b, loc, IP::slt, bv, zero);
    Value diff = arith::XOrIOp::create(b, loc, rneg, bneg);
    Value fix = arith::AndIOp::create(b, loc, rnz, diff);
    Value rb = arith::AddIOp::create(b, loc, r, bv);
    return arith::SelectOp::create(b, loc, fix, rb, r);
  }
  case EW::Max:
    return floatOrIntOp<arith::MaximumFOp, arith::MaxSIOp>(b, loc, a, bv);
  case EW::Min:
    return floatOrIntOp<arith::MinimumFOp, arith::MinSIOp>(b, loc, a, bv);
  case EW::Equal:
    return isF ? arith::CmpFOp::create(b, loc, FP::OEQ, a, bv).getResult()
               : arith::CmpIOp::create(b, loc, IP::eq, a, bv).getResult();
  case EW::Less:
    return isF ? arith::CmpFOp::create(b, loc, FP::OLT, a, bv).getResult()
               : arith::CmpIOp::create(b, loc, isBool ? IP::ult : IP::slt, a, bv).getResult();
  case EW::LessEq:
    return isF ? arith::CmpFOp::create(b, loc, FP::OLE, a, bv).getResult()
               : arith::CmpIOp::create(b, loc, isBool ? IP::ule : IP::sle, a, bv).getResult();
  case EW::Greater:
    return isF ? arith::CmpFOp::create(b, loc, FP::OGT, a, bv).getResult()
               : arith::CmpIOp::create(b, loc, isBool ? IP::ugt : IP::sgt, a, bv).getResult();
  case EW::GreaterEq:
    return isF ? arith::CmpFOp::create(b, loc, FP::OGE, a, bv).getResult()
               : arith::CmpIOp::create(b, loc, isBool ? IP::uge : IP::sge, a, bv).getResult();
  case EW::And:
    return arith::AndIOp::create(b, loc, a, bv);
  case EW::Or:
    return arith::OrIOp::create(b, loc, a, bv);
  case EW::Xor:
    return arith::XOrIOp::create(b, loc, a, bv);
  default:
    return Value();
  }
}

/// Symbolic arithmetic on shape-tensor elements. A sum that is not one
/// product (T + 1: a KV cache's length after a step) is the importer's symbol
/// for that sum, the one Concat gives the same sum of sizes.
OptSym symBinary(Importer &im, EW k, const OptSym &a, const OptSym &bs) {
  if (!a || !bs)
    return std::nullopt;
  if (a->isConst() && bs->isConst()) {
    double fr;
    int64_t ir;
    if (!foldBinary(k, false, false, 0, 0, a->c, bs->c, fr, ir))
      return std::nullopt;
    return SymExpr::constant(ir);
  }
  switch (k) {
  case EW::Add:
    if (auto sum = likeTermsSum({*a, *bs}))
      return sum;
    if (int sym = im.sumSym({*a, *bs}))
      return SymExpr::symbol(sym);
    return std::nullopt;
  case EW::Sub:
    if (bs->isConst(0))
      return a;
    if (auto d = im.symMinus(*a, *bs))
      return d;
    if (bs->isConst() && bs->c != std::numeric_limits<int64_t>::min())
      if (int sym = im.sumSym({*a, SymExpr::constant(-bs->c)}))
        return SymExpr::symbol(sym);
    return std::nullopt;
  case EW::Mul:
    return symMul(*a, *bs);
  case EW::Div:
    return symDivExact(*a, *bs);
  case EW::Max:
  case EW::Min:
    if (*a == *bs)
      return a;
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

LogicalResult binary(Importer &im, NodeCtx &n, EW k) {
  if (failed(n.arity(2, 2)))
    return failure();
  auto ta = n.inType(0), tb = n.inType(1);
  Type ea = ta.getElementType(), eb = tb.getElementType();
  if (k != EW::Pow && ea != eb)
    return im.fail("input element types " + str(ea) + " and " + str(eb) + " differ");
  bool isF = isa<FloatType>(ea);
  if (isLogic(k) && !ea.isInteger(1))
    return im.fail("inputs must be bool, got " + str(ea));
  if (!isLogic(k) && !isCompare(k) && ea.isInteger(1))
    return im.fail("bool inputs are not supported");
  if (floatOnly(k) && !isF)
    return im.fail("integer inputs are not supported, got " + str(ea));
  if (k == EW::Pow && !isa<FloatType>(eb) && !isa<IntegerType>(eb))
    return im.fail("unsupported exponent type " + str(eb));
  bool fmod = k == EW::Mod && n.i("fmod", 0) != 0;
  if (k == EW::Mod && isF && !fmod)
    return im.fail("floating-point Mod requires fmod=1");
  Type outET = isCompare(k) ? Type(im.b.getI1Type()) : ea;

  const ConstTensor *ca = n.cst(0), *cb = n.cst(1);
  if (ca && cb) {
    auto r = foldMap({ca, cb}, outET, [&](llvm::ArrayRef<int64_t> l, ConstTensor &o, int64_t j) {
      double fr = 0;
      int64_t ir = 0;
      if (!foldBinary(k, isF, fmod, ca->fv(l[0]), cb->fv(l[1]), ca->iv(l[0]), cb->iv(l[1]), fr,
                      ir))
        return false;
      if (o.isFloat())
        o.f[j] = roundToType(o.et, fr);
      else
        o.i[j] = wrapToType(o.et, ir);
      return true;
    });
    if (r)
      return n.outConst(0, std::move(*r));
  }
  if (!isF && !isCompare(k) && !isLogic(k)) {
    auto sa = n.shape(0), sb = n.shape(1);
    if (sa && sb) {
      size_t na = sa->elems.size(), nb = sb->elems.size();
      if (na == nb || na == 1 || nb == 1) {
        ShapeTensor r;
        r.et = ea;
        r.scalar = sa->scalar && sb->scalar;
        size_t cnt = std::max(na, nb);
        for (size_t j = 0; j < cnt; ++j)
          r.elems.push_back(symBinary(im, k, sa->elems[na == 1 ? 0 : j], sb->elems[nb == 1 ? 0 : j]));
        if (r.allKnown())
          return n.outShape(0, std::move(r));
      }
    }
  }
  Value a = n.in(0), bv = n.in(1);
  if (!a || !bv)
    return failure();
  SmallVector<Value> v{a, bv};
  if (k == EW::Pow && eb != ea)
    v[1] = im.convert(v[1], ea);
  SymShape out;
  if (!im.broadcastAll(v, &out))
    return failure();
  Value r = emitBinary(im, k, v[0], v[1], fmod);
  im.setDims(r, out);
  return n.out(0, r);
}

/// Variadic Max / Min / Sum / Mean.
LogicalResult variadic(Importer &im, NodeCtx &n, EW k, bool mean = false) {
  if (failed(n.arity(1, -1)))
    return failure();
  Type et = n.inType(0).getElementType();
  for (int j = 1; j < n.numIn(); ++j)
    if (n.has(j) && n.inType(j).getElementType() != et)
      return im.fail("input element types differ");
  if (et.isInteger(1))
    return im.fail("bool inputs are not supported");
  if (mean && !isa<FloatType>(et))
    return im.fail("Mean needs floating-point inputs");
  SmallVector<Value> vals;
  for (int j = 0; j < n.numIn(); ++j)
    if (n.has(j)) {
      Value v = n.in(j);
      if (!v)
        return failure();
      vals.push_back(v);
    }
  SymShape out;
  if (!im.broadcastAll(vals, &out))
    return failure();
  Value acc = vals[0];
  for (size_t j = 1; j < vals.size(); ++j)
    acc = emitBinary(im, k, acc, vals[j], false);
  if (mean && vals.size() > 1)
    acc = arith::DivFOp::create(im.b, im.loc, acc,
                                im.splat(out, et, double(vals.size())));
  im.setDims(acc, out);
  return n.out(0, acc);
}

Value emitUnary(Importer &im, EW k, Value x) {
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type et = Importer::tt(x).getElementType();
  bool isF = isa<FloatType>(et);
  SymShape d = im.dims(x);
  auto one = [&] { return im.splat(d, et, 1.0); };
  switch (k) {
  case EW::Neg:
    return isF ? arith::NegFOp::create(b, loc, x).getResult()
               : arith::SubIOp::create(b, loc, im.zeros(d, et), x).getResult();
  case EW::Abs:
    return isF ? math::AbsFOp::create(b, loc, x).getResult()
               : math::AbsIOp::create(b, loc, x).getResult();
  case EW::Exp:
    return math::ExpOp::create(b, loc, x);
  case EW::Log:
    return math::LogOp::create(b, loc, x);
  case EW::Sqrt:
    return math::SqrtOp::create(b, loc, x);
  case EW::Recip:
    return arith::DivFOp::create(b, loc, one(), x);
  case EW::Tanh:
    return math::TanhOp::create(b, loc, x);
  case EW::Sigmoid: {
    // The exact form gate-raise-gating recognizes.
    Value c1 = one();
    Value neg = arith::NegFOp::create(b, loc, x);
    Value e = math::ExpOp::create(b, loc, neg);
    Value den = arith::AddFOp::create(b, loc, c1, e);
    return arith::DivFOp::create(b, loc, c1, den);
  }
  case EW::Softplus:
    return softplus(im, x);
  case EW::Relu:
    return isF ? arith::MaximumFOp::create(b, loc, x, im.zeros(d, et)).getResult()
               : arith::MaxSIOp::create(b, loc, x, im.zeros(d, et)).getResult();
  case EW::Erf:
    return math::ErfOp::create(b, loc, x);
  case EW::Floor:
    return math::FloorOp::create(b, loc, x);
  case EW::Ceil:
    return math::CeilOp::create(b, loc, x);
  case EW::Sin:
    return math::SinOp::create(b, loc, x);
  case EW::Cos:
    return math::CosOp::create(b, loc, x);
  case EW::Not:
    return arith::XOrIOp::create(b, loc, x, im.splat(d, et, 1.0));
  case EW::Sign: {
    Value z = im.zeros(d, et);
    Value pos = isF ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, z).getResult()
                    : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, x, z).getResult();
    Value negv = isF ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, z).getResult()
                     : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, z).getResult();
    Value r = arith::SelectOp::create(b, loc, negv, im.splat(d, et, -1.0), z);
    return arith::SelectOp::create(b, loc, pos, im.splat(d, et, 1.0), r);
  }
  default:
    return Value();
  }
}

LogicalResult unary(Importer &im, NodeCtx &n, EW k) {
  if (failed(n.arity(1, 1)))
    return failure();
  Type et = n.inType(0).getElementType();
  bool isF = isa<FloatType>(et);
  if (k == EW::Not && !et.isInteger(1))
    return im.fail("input must be bool, got " + str(et));
  if (k != EW::Not && et.isInteger(1))
    return im.fail("bool inputs are not supported");
  if (floatOnly(k) && !isF)
    return im.fail("integer inputs are not supported, got " + str(et));
  if (const ConstTensor *c = n.cst(0)) {
    auto r = foldMap({c}, et, [&](llvm::ArrayRef<int64_t> l, ConstTensor &o, int64_t j) {
      double fr = 0;
      int64_t ir = 0;
      if (!foldUnary(k, isF, c->fv(l[0]), c->iv(l[0]), fr, ir))
        return false;
      if (o.isFloat())
        o.f[j] = roundToType(o.et, fr);
      else
        o.i[j] = wrapToType(o.et, ir);
      return true;
    });
    if (r)
      return n.outConst(0, std::move(*r));
  }
  if (k == EW::Neg || k == EW::Abs) {
    if (auto s = n.shape(0)) {
      ShapeTensor r = *s;
      bool ok = true;
      for (auto &e : r.elems) {
        if (e && e->isConst()) {
          double fr;
          int64_t ir;
          foldUnary(k, false, 0, e->c, fr, ir);
          e = SymExpr::constant(ir);
        } else if (e && k == EW::Abs) {
          // sizes are non-negative
        } else {
          ok = false;
        }
      }
      if (ok && r.allKnown())
        return n.outShape(0, std::move(r));
    }
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  Value r = emitUnary(im, k, x);
  im.setDims(r, im.dims(x));
  return n.out(0, r);
}

/// IsNaN and IsInf (detect_positive / detect_negative): float in, bool out.
LogicalResult floatClass(Importer &im, NodeCtx &n, bool nan) {
  if (failed(n.arity(1, 1)))
    return failure();
  int64_t pos = nan ? 0 : n.i("detect_positive", 1);
  int64_t neg = nan ? 0 : n.i("detect_negative", 1);
  if (n.bad)
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isa<FloatType>(et))
    return im.fail("input must be a float tensor, got " + str(et));
  auto test = [&](double v) {
    if (nan)
      return std::isnan(v);
    return std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
  };
  Type i1 = im.b.getI1Type();
  if (const ConstTensor *c = n.cst(0)) {
    auto r = foldMap({c}, i1, [&](llvm::ArrayRef<int64_t> l, ConstTensor &o, int64_t j) {
      o.i[j] = test(c->fv(l[0]));
      return true;
    });
    if (r)
      return n.outConst(0, std::move(*r));
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  SymShape d = im.dims(x);
  using P = arith::CmpFPredicate;
  Value r;
  if (nan) {
    r = arith::CmpFOp::create(b, loc, P::UNO, x, x);
  } else {
    auto inf = [&](double s) {
      return arith::CmpFOp::create(b, loc, P::OEQ, x,
                                   im.splat(d, et, s * std::numeric_limits<double>::infinity()))
          .getResult();
    };
    if (pos && neg)
      r = arith::CmpFOp::create(b, loc, P::OEQ, math::AbsFOp::create(b, loc, x),
                                im.splat(d, et, std::numeric_limits<double>::infinity()));
    else if (pos)
      r = inf(1.0);
    else if (neg)
      r = inf(-1.0);
    else
      r = im.zeros(d, i1);
  }
  im.setDims(r, d);
  return n.out(0, r);
}
LogicalResult handleIsNaN(Importer &im, NodeCtx &n) { return floatClass(im, n, true); }
LogicalResult handleIsInf(Importer &im, NodeCtx &n) { return floatClass(im, n, false); }

//===----------------------------------------------------------------------===//
// Identity, Cast, Where, Clip
//===----------------------------------------------------------------------===//

LogicalResult handleIdentity(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  Entry *e = im.lookup(n.inName(0));
  if (!e)
    return im.fail("input '" + n.inName(0) + "' is not defined");
  Entry copy = *e;
  if (!copy.value && !copy.attr && !copy.cst && !copy.shp)
    return im.fail("input '" + n.inName(0) + "' has no value");
  return im.define(n.n.output(0), std::move(copy));
}

LogicalResult handleDropout(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 3)))
    return failure();
  if (n.wants(1))
    return im.fail("the mask output of Dropout is not supported");
  return handleIdentity(im, n);
}

LogicalResult castTo(Importer &im, NodeCtx &n, Type et) {
  Type st = n.inType(0).getElementType();
  if (const ConstTensor *c = n.cst(0))
    if (auto r = convertConst(*c, et))
      return n.outConst(0, std::move(*r));
  if (isa<IntegerType>(et) && !et.isInteger(1) && isa<IntegerType>(st) && !st.isInteger(1)) {
    if (auto s = n.shape(0); s && s->allKnown()) {
      ShapeTensor r = *s;
      r.et = et;
      return n.outShape(0, std::move(r));
    }
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  return n.out(0, im.convert(x, et));
}

LogicalResult handleCast(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  if (!n.hasAttr("to"))
    return im.fail("attribute 'to' is required");
  int64_t to = n.i("to", 0);
  if (n.bad)
    return failure();
  Type et = elementTypeFor(&im.ctx, int32_t(to));
  if (!et)
    return im.fail("unsupported target type " + onnxTypeName(int32_t(to)));
  return castTo(im, n, et);
}

LogicalResult handleCastLike(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  return castTo(im, n, n.inType(1).getElementType());
}

LogicalResult handleWhere(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 3)))
    return failure();
  Type ct = n.inType(0).getElementType(), et = n.inType(1).getElementType();
  if (!ct.isInteger(1))
    return im.fail("the condition must be bool, got " + str(ct));
  if (et != n.inType(2).getElementType())
    return im.fail("input element types " + str(et) + " and " +
                   str(n.inType(2).getElementType()) + " differ");
  const ConstTensor *c = n.cst(0), *a = n.cst(1), *bc = n.cst(2);
  if (c && a && bc) {
    auto r = foldMap({c, a, bc}, et, [&](llvm::ArrayRef<int64_t> l, ConstTensor &o, int64_t j) {
      const ConstTensor *src = c->i[l[0]] ? a : bc;
      storeConverted(o, j, *src, c->i[l[0]] ? l[1] : l[2]);
      return true;
    });
    if (r)
      return n.outConst(0, std::move(*r));
  }
  Value cv = n.in(0), av = n.in(1), bv = n.in(2);
  if (!cv || !av || !bv)
    return failure();
  return n.out(0, im.select(cv, av, bv));
}

LogicalResult handleClip(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 3)))
    return failure();
  Value x = n.in(0);
  if (!x)
    return failure();
  Type et = Importer::tt(x).getElementType();
  if (et.isInteger(1))
    return im.fail("bool inputs are not supported");
  bool isF = isa<FloatType>(et);
  Value r = x;
  SymShape d = im.dims(x);
  auto bound = [&](int idx, const char *attrName) -> Value {
    if (n.has(idx)) {
      if (n.inType(idx).getElementType() != et)
        return im.failV("bound element type differs from the input's");
      Value s = scalarInput(n, idx, et);
      return s ? im.splatValue(d, s) : Value();
    }
    if (im.opset < 11 && n.hasAttr(attrName))
      return im.splat(d, et, n.f(attrName, 0));
    return Value();
  };
  Value lo = bound(1, "min");
  if (n.has(1) && !lo)
    return failure();
  Value hi = bound(2, "max");
  if (n.has(2) && !hi)
    return failure();
  auto rt = Importer::tt(x);
  if (lo) {
    lo = im.castTo(lo, rt);
    r = isF ? arith::MaximumFOp::create(im.b, im.loc, r, lo).getResult()
            : arith::MaxSIOp::create(im.b, im.loc, r, lo).getResult();
  }
  if (hi) {
    hi = im.castTo(hi, rt);
    r = isF ? arith::MinimumFOp::create(im.b, im.loc, r, hi).getResult()
            : arith::MinSIOp::create(im.b, im.loc, r, hi).getResult();
  }
  im.setDims(r, d);
  return n.out(0, r);
}

//===----------------------------------------------------------------------===//
// Constants and shapes
//===----------------------------------------------------------------------===//

LogicalResult handleConstant(Importer &im, NodeCtx &n) {
  if (failed(n.arity(0, 0)))
    return failure();
  if (n.numOut() != 1)
    return im.fail("expects 1 output");
  Entry e;
  RawTensor raw;
  raw.et = Type();
  if (const onnx::TensorProto *t = n.t("value")) {
    std::string err;
    if (!decodeTensor(*t, im.baseDir, &im.ctx, raw, err))
      return im.fail(err);
  } else if (n.hasAttr("value_float")) {
    float v = n.f("value_float", 0);
    raw.et = im.b.getF32Type();
    raw.bytes.resize(4);
    std::memcpy(raw.bytes.data(), &v, 4);
  } else if (n.hasAttr("value_int")) {
    int64_t v = n.i("value_int", 0);
    raw.et = im.b.getI64Type();
    raw.bytes.resize(8);
    std::memcpy(raw.bytes.data(), &v, 8);
  } else if (const auto *a = n.attr("value_floats")) {
    raw.et = im.b.getF32Type();
    raw.shape.push_back(a->floats_size());
    for (float v : a->floats()) {
      char buf[4];
      std::memcpy(buf, &v, 4);
      raw.bytes.insert(raw.bytes.end(), buf, buf + 4);
    }
  } else if (const auto *a = n.attr("value_ints")) {
    raw.et = im.b.getI64Type();
    raw.shape.push_back(a->ints_size());
    for (int64_t v : a->ints()) {
      char buf[8];
      std::memcpy(buf, &v, 8);
      raw.bytes.insert(raw.bytes.end(), buf, buf + 8);
    }
  } else if (n.hasAttr("sparse_value")) {
    return im.fail("sparse constants are not supported");
  } else if (n.hasAttr("value_string") || n.hasAttr("value_strings")) {
    return im.fail("string constants are not supported");
  } else {
    return im.fail("no value attribute");
  }
  if (n.bad)
    return failure();
  e.type = RankedTensorType::get(raw.shape, raw.et);
  e.attr = rawToAttr(raw, nodeLabel(n.n));
  e.cst = rawToConst(raw);
  return im.define(n.n.output(0), std::move(e));
}

LogicalResult handleShape(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  SymShape d = inDims(n, 0);
  int64_t r = d.size();
  int64_t start = n.i("start", 0), end = n.i("end", r);
  if (n.bad)
    return failure();
  auto clampAxis = [&](int64_t a) {
    if (a < 0)
      a += r;
    return std::min(std::max<int64_t>(a, 0), r);
  };
  start = clampAxis(start);
  end = clampAxis(end);
  ShapeTensor st;
  st.et = im.b.getI64Type();
  for (int64_t k = start; k < end; ++k)
    st.elems.push_back(d[k]);
  return n.outShape(0, std::move(st));
}

LogicalResult handleSize(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  auto p = symProduct(inDims(n, 0));
  if (!p)
    return im.fail("the size overflows");
  ShapeTensor st;
  st.et = im.b.getI64Type();
  st.scalar = true;
  st.elems.push_back(*p);
  return n.outShape(0, std::move(st));
}

LogicalResult handleConstantOfShape(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  Type et = im.b.getF32Type();
  double val = 0.0;
  if (const onnx::TensorProto *t = n.t("value")) {
    RawTensor raw;
    std::string err;
    if (!decodeTensor(*t, im.baseDir, &im.ctx, raw, err))
      return im.fail(err);
    if (raw.numel() != 1)
      return im.fail("attribute 'value' must hold one element");
    auto c = rawToConst(raw);
    et = raw.et;
    val = c->isFloat() ? c->f[0] : double(c->i[0]);
  }
  if (n.bad)
    return failure();
  auto inT = n.inType(0);
  if (inT.getRank() != 1 || !isa<IntegerType>(inT.getElementType()))
    return im.fail("the shape input must be a 1-D integer tensor");
  if (auto st = n.shape(0); st && st->allKnown()) {
    SymShape d;
    for (auto &e : st->elems) {
      if (e->isConst() && e->c < 0)
        return im.fail("negative dimension " + std::to_string(e->c));
      d.push_back(*e);
    }
    auto total = symProduct(d);
    bool allConst = llvm::all_of(d, [](const SymExpr &e) { return e.isConst(); });
    if (allConst && total && total->c <= kFoldLimit) {
      ConstTensor c;
      c.et = et;
      for (auto &e : d)
        c.shape.push_back(e.c);
      if (c.isFloat())
        c.f.assign(size_t(total->c), roundToType(et, val));
      else
        c.i.assign(size_t(total->c), wrapToType(et, int64_t(val)));
      return n.outConst(0, std::move(c));
    }
    return n.out(0, im.splat(d, et, val));
  }
  if (inT.isDynamicDim(0))
    return im.fail("the rank of the result must be known at import time");
  Value s = n.in(0);
  if (!s)
    return failure();
  SmallVector<Value> dyn;
  SmallVector<int64_t> shape;
  for (int64_t k = 0; k < inT.getDimSize(0); ++k) {
    Value e = tensor::ExtractOp::create(im.b, im.loc, s, ValueRange{im.cIndex(k)});
    dyn.push_back(arith::IndexCastOp::create(im.b, im.loc, im.b.getIndexType(), e));
    shape.push_back(ShapedType::kDynamic);
  }
  Value r = tensor::SplatOp::create(im.b, im.loc, im.scalar(et, val),
                                    RankedTensorType::get(shape, et), dyn);
  im.setDims(r, {});
  return n.out(0, r);
}

LogicalResult handleRange(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 3)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (n.inType(1).getElementType() != et || n.inType(2).getElementType() != et)
    return im.fail("input element types differ");
  if (et.isInteger(1))
    return im.fail("bool inputs are not supported");
  for (int k = 0; k < 3; ++k)
    if (n.inType(k).getNumElements() != 1 && n.inType(k).hasStaticShape())
      return im.fail("input " + std::to_string(k) + " must be a scalar");
  bool isF = isa<FloatType>(et);
  const ConstTensor *cs = n.cst(0), *cl = n.cst(1), *cd = n.cst(2);
  std::optional<int64_t> staticLen;
  if (cs && cl && cd && cs->numel() == 1 && cl->numel() == 1 && cd->numel() == 1) {
    if (isF) {
      double s = cs->f[0], l = cl->f[0], d = cd->f[0];
      if (d == 0 || !std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d))
        return im.fail("invalid range (delta must be nonzero and the bounds finite)");
      double len = std::ceil((l - s) / d);
      if (len > 1e12)
        return im.fail("the range is too long");
      staticLen = std::max<int64_t>(0, int64_t(len));
      if (*staticLen <= kFoldLimit) {
        ConstTensor c;
        c.et = et;
        c.shape.push_back(*staticLen);
        for (int64_t k = 0; k < *staticLen; ++k)
          c.f.push_back(roundToType(et, s + double(k) * d));
        return n.outConst(0, std::move(c));
      }
    } else {
      int64_t s = cs->i[0], l = cl->i[0], d = cd->i[0];
      if (d == 0)
        return im.fail("delta must be nonzero");
      __int128 diff = __int128(l) - s;
      __int128 len = d > 0 ? (diff + d - 1) / d : (diff + d + 1) / d;
      if (len < 0)
        len = 0;
      if (len > (__int128(1) << 40))
        return im.fail("the range is too long");
      staticLen = int64_t(len);
      if (*staticLen <= kFoldLimit) {
        ConstTensor c;
        c.et = et;
        c.shape.push_back(*staticLen);
        for (int64_t k = 0; k < *staticLen; ++k)
          c.i.push_back(wrapToType(et, s + k * d));
        return n.outConst(0, std::move(c));
      }
    }
  }
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value start = scalarInput(n, 0, et), delta = scalarInput(n, 2, et);
  if (!start || !delta)
    return failure();
  SymExpr len = SymExpr::constant(0);
  if (staticLen) {
    len = SymExpr::constant(*staticLen);
  } else {
    auto ss = n.shape(0), sl = n.shape(1), sd = n.shape(2);
    // Integer ranges with step 1 over known sizes: limit - start, when the
    // importer can name it (0 to n: n; P to P + T: T).
    std::optional<SymExpr> known;
    if (!isF && ss && sl && sd && ss->elems[0] && sl->elems[0] && sd->elems[0] &&
        sd->elems[0]->isConst(1))
      known = ss->elems[0]->isConst(0) ? sl->elems[0] : im.symMinus(*sl->elems[0], *ss->elems[0]);
    if (known) {
      len = *known;
    } else {
      Value limit = scalarInput(n, 1, et);
      if (!limit)
        return failure();
      Value cnt;
      if (isF) {
        Value diff = arith::SubFOp::create(b, loc, limit, start);
        Value q = arith::DivFOp::create(b, loc, diff, delta);
        Value c = math::CeilOp::create(b, loc, q);
        cnt = arith::FPToSIOp::create(b, loc, b.getI64Type(), c);
      } else {
        Value diff = arith::SubIOp::create(b, loc, limit, start);
        cnt = arith::CeilDivSIOp::create(b, loc, diff, delta);
        if (et != b.getI64Type())
          cnt = arith::ExtSIOp::create(b, loc, b.getI64Type(), cnt);
      }
      Value zero = im.scalar(b.getI64Type(), 0);
      cnt = arith::MaxSIOp::create(b, loc, cnt, zero);
      Value idx = arith::IndexCastOp::create(b, loc, b.getIndexType(), cnt);
      Value init = tensor::EmptyOp::create(b, loc, SmallVector<int64_t>{ShapedType::kDynamic},
                                           et, ValueRange{idx});
      im.setDims(init, {});
      len = im.dims(init)[0];
      AffineMap id = AffineMap::getMultiDimIdentityMap(1, &im.ctx);
      Value r = im.generic({}, init, {id}, {utils::IteratorType::parallel},
                           [&](OpBuilder &nb, Location l, ValueRange) {
                             Value i = linalg::IndexOp::create(nb, l, 0);
                             Value iv = arith::IndexCastOp::create(nb, l, nb.getI64Type(), i);
                             Value v = isF ? arith::SIToFPOp::create(nb, l, et, iv).getResult()
                                           : (et == nb.getI64Type()
                                                  ? iv
                                                  : arith::TruncIOp::create(nb, l, et, iv)
                                                        .getResult());
                             Value m = isF ? arith::MulFOp::create(nb, l, v, delta).getResult()
                                           : arith::MulIOp::create(nb, l, v, delta).getResult();
                             Value s = isF ? arith::AddFOp::create(nb, l, m, start).getResult()
                                           : arith::AddIOp::create(nb, l, m, start).getResult();
                             linalg::YieldOp::create(nb, l, s);
                           });
      return n.out(0, r);
    }
  }
  Value init = im.empty({len}, et);
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, &im.ctx);
  Value r = im.generic({}, init, {id}, {utils::IteratorType::parallel},
                       [&](OpBuilder &nb, Location l, ValueRange) {
                         Value i = linalg::IndexOp::create(nb, l, 0);
                         Value iv = arith::IndexCastOp::create(nb, l, nb.getI64Type(), i);
                         Value v = isF ? arith::SIToFPOp::create(nb, l, et, iv).getResult()
                                       : (et == nb.getI64Type()
                                              ? iv
                                              : arith::TruncIOp::create(nb, l, et, iv).getResult());
                         Value m = isF ? arith::MulFOp::create(nb, l, v, delta).getResult()
                                       : arith::MulIOp::create(nb, l, v, delta).getResult();
                         Value s = isF ? arith::AddFOp::create(nb, l, m, start).getResult()
                                       : arith::AddIOp::create(nb, l, m, start).getResult();
                         linalg::YieldOp::create(nb, l, s);
                       });
  return n.out(0, r);
}

LogicalResult handleGather(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  auto dt = n.inType(0), it = n.inType(1);
  if (!isa<IntegerType>(it.getElementType()) || it.getElementType().isInteger(1))
    return im.fail("indices must be int32 or int64");
  int64_t r = dt.getRank();
  if (r == 0)
    return im.fail("data must have rank >= 1");
  int64_t axis = n.i("axis", 0);
  if (n.bad || !normAxis(im, axis, r))
    return failure();
  SymShape dd = inDims(n, 0), id = inDims(n, 1);
  auto idx = n.ints(1);
  // Index validation against a static dimension.
  if (idx && dd[axis].isConst()) {
    for (int64_t &v : *idx) {
      if (v < -dd[axis].c || v >= dd[axis].c)
        return im.fail("index " + std::to_string(v) + " is out of range for dimension " +
                       std::to_string(axis) + " of size " + std::to_string(dd[axis].c));
      if (v < 0)
        v += dd[axis].c;
    }
  }
  const ConstTensor *dc = n.cst(0);
  if (dc && idx) {
    SmallVector<int64_t, 4> oshape;
    for (int64_t k = 0; k < axis; ++k)
      oshape.push_back(dc->shape[k]);
    for (auto &e : id)
      oshape.push_back(e.c);
    for (int64_t k = axis + 1; k < r; ++k)
      oshape.push_back(dc->shape[k]);
    int64_t outer = 1, inner = 1, dim = dc->shape[axis];
    for (int64_t k = 0; k < axis; ++k)
      outer *= dc->shape[k];
    for (int64_t k = axis + 1; k < r; ++k)
      inner *= dc->shape[k];
    if (outer * int64_t(idx->size()) * inner <= kFoldLimit) {
      SmallVector<int64_t> lin;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t v : *idx)
          for (int64_t in = 0; in < inner; ++in)
            lin.push_back((o * dim + v) * inner + in);
      return n.outConst(0, gatherLinear(*dc, oshape, lin));
    }
  }
  if (auto st = n.shape(0); st && !st->scalar && idx && id.size() <= 1) {
    ShapeTensor o;
    o.et = st->et;
    o.scalar = id.empty();
    bool ok = true;
    for (int64_t v : *idx) {
      int64_t sz = int64_t(st->elems.size());
      if (v < 0)
        v += sz;
      if (v < 0 || v >= sz) {
        ok = false;
        break;
      }
      o.elems.push_back(st->elems[v]);
    }
    if (ok && o.allKnown())
      return n.outShape(0, std::move(o));
  }
  Value data = n.in(0);
  if (!data)
    return failure();
  Type et = dt.getElementType();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  // A single constant index: a slice.
  if (idx && id.empty() && idx->size() == 1) {
    int64_t v = (*idx)[0];
    SymShape offs(r, SymExpr::constant(0)), sizes = dd, outD;
    sizes[axis] = SymExpr::constant(1);
    SmallVector<OpFoldResult> offv;
    for (int64_t k = 0; k < r; ++k) {
      if (k != axis) {
        offv.push_back(b.getIndexAttr(0));
        continue;
      }
      if (v >= 0) {
        offv.push_back(b.getIndexAttr(v));
      } else {
        Value dimv = im.indexOf(dd[axis]);
        offv.push_back(arith::AddIOp::create(b, loc, dimv, im.cIndex(v)).getResult());
      }
    }
    Value s = im.extractSliceDyn(data, offv, im.sizesOf(sizes), SmallVector<int64_t>(r, 1),
                                 sizes);
    for (int64_t k = 0; k < r; ++k)
      if (k != axis)
        outD.push_back(dd[k]);
    return n.out(0, im.reshape(s, outD));
  }
  Value indices = n.in(1);
  if (!indices)
    return failure();
  SymShape od;
  for (int64_t k = 0; k < axis; ++k)
    od.push_back(dd[k]);
  od.append(id.begin(), id.end());
  for (int64_t k = axis + 1; k < r; ++k)
    od.push_back(dd[k]);
  int64_t q = id.size(), on = od.size();
  SmallVector<AffineExpr> iexprs;
  for (int64_t k = 0; k < q; ++k)
    iexprs.push_back(getAffineDimExpr(unsigned(axis + k), &im.ctx));
  AffineMap imap = AffineMap::get(unsigned(on), 0, iexprs, &im.ctx);
  AffineMap omap = AffineMap::getMultiDimIdentityMap(unsigned(on), &im.ctx);
  Value dimAxis = im.indexOf(dd[axis]);
  Value zero = im.cIndex(0);
  Value r2 = im.generic(
      {indices}, im.empty(od, et), {imap, omap},
      SmallVector<utils::IteratorType>(on, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value iv = arith::IndexCastOp::create(nb, l, nb.getIndexType(), args[0]);
        Value neg = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, iv, zero);
        Value wrapped = arith::AddIOp::create(nb, l, iv, dimAxis);
        iv = arith::SelectOp::create(nb, l, neg, wrapped, iv);
        SmallVector<Value> coords;
        for (int64_t k = 0; k < axis; ++k)
          coords.push_back(linalg::IndexOp::create(nb, l, k));
        coords.push_back(iv);
        for (int64_t k = axis + 1; k < r; ++k)
          coords.push_back(linalg::IndexOp::create(nb, l, k + q - 1));
        Value v = tensor::ExtractOp::create(nb, l, data, coords);
        linalg::YieldOp::create(nb, l, v);
      });
  return n.out(0, r2);
}

LogicalResult handleExpand(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  auto shT = n.inType(1);
  if (shT.getRank() != 1 || shT.isDynamicDim(0) || !isa<IntegerType>(shT.getElementType()))
    return im.fail("the shape input must be a 1-D integer tensor of static length");
  auto st = n.shape(1);
  SmallVector<OptSym, 4> elems;
  if (st)
    elems = st->elems;
  else
    elems.assign(size_t(shT.getDimSize(0)), std::nullopt);
  SymShape xd = inDims(n, 0);
  for (auto &e : elems)
    if (e && e->isConst() && e->c < 0)
      return im.fail("negative dimension " + std::to_string(e->c) + " in the target shape");
  bool known = llvm::all_of(elems, [](const OptSym &e) { return e.has_value(); });
  SymShape out;
  // Input sizes known only at run time expanded to target sizes known only
  // at run time: either may be 1.
  SmallVector<bool> runtimeBcast;
  if (known) {
    SymShape target;
    for (auto &e : elems)
      target.push_back(*e);
    if (!im.broadcastShapes({xd, target}, out))
      return failure();
  } else {
    // Unknown target sizes: the result takes the target size unless it is 1.
    size_t rank = std::max(xd.size(), elems.size());
    Value shapeV;
    for (size_t i = 0; i < rank; ++i) {
      int64_t xi = int64_t(i) - int64_t(rank - xd.size());
      int64_t ti = int64_t(i) - int64_t(rank - elems.size());
      std::optional<SymExpr> d = xi >= 0 ? std::optional<SymExpr>(xd[xi]) : std::nullopt;
      if (ti < 0) {
        out.push_back(*d);
        continue;
      }
      if (elems[ti]) {
        SymShape o;
        if (!im.broadcastShapes({d ? SymShape{*d} : SymShape{}, SymShape{*elems[ti]}}, o))
          return failure();
        out.push_back(o[0]);
        continue;
      }
      if (d && d->isConst() && d->c != 1) {
        out.push_back(*d);
        continue;
      }
      if (!shapeV)
        shapeV = n.in(1);
      if (!shapeV)
        return failure();
      OpBuilder &b = im.b;
      Value e = tensor::ExtractOp::create(b, im.loc, shapeV, ValueRange{im.cIndex(ti)});
      Value t = arith::IndexCastOp::create(b, im.loc, b.getIndexType(), e);
      if (d && !d->isConst(1)) {
        Value isOne = arith::CmpIOp::create(b, im.loc, arith::CmpIPredicate::eq, t, im.cIndex(1));
        t = arith::SelectOp::create(b, im.loc, isOne, im.indexOf(*d), t);
      }
      out.push_back(SymExpr::symbol(im.newSymValue(t)));
      if (d && !d->isConst()) {
        runtimeBcast.resize(rank, false);
        runtimeBcast[i] = true;
      }
    }
  }
  if (const ConstTensor *c = n.cst(0); c && known) {
    if (llvm::all_of(out, [](const SymExpr &e) { return e.isConst(); })) {
      ConstTensor dummy;
      dummy.et = c->et;
      for (auto &e : out)
        dummy.shape.push_back(e.c);
      if (dummy.numel() <= kFoldLimit) {
        if (dummy.isFloat())
          dummy.f.assign(size_t(dummy.numel()), 0);
        else
          dummy.i.assign(size_t(dummy.numel()), 0);
        auto r = foldMap({c, &dummy}, c->et,
                         [&](llvm::ArrayRef<int64_t> l, ConstTensor &o, int64_t j) {
                           storeConverted(o, j, *c, l[0]);
                           return true;
                         });
        if (r)
          return n.outConst(0, std::move(*r));
      }
    }
  }
  return n.out(0, im.broadcastTo(n.in(0), out, runtimeBcast));
}

LogicalResult handleReshape(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  int64_t allowzero = n.i("allowzero", 0);
  if (n.bad)
    return failure();
  auto shT = n.inType(1);
  if (shT.getRank() != 1 || !isa<IntegerType>(shT.getElementType()))
    return im.fail("the shape input must be a 1-D integer tensor");
  if (shT.isDynamicDim(0))
    return im.fail("the rank of the result must be known at import time");
  SymShape xd = inDims(n, 0);
  auto st = n.shape(1);
  // Resolve 0 and -1 symbolically.
  SmallVector<OptSym> target;
  int minusAt = -1;
  bool known = st.has_value();
  if (st) {
    for (auto [k, e] : llvm::enumerate(st->elems)) {
      if (!e) {
        target.push_back(std::nullopt);
        known = false;
        continue;
      }
      if (e->isConst()) {
        if (e->c == -1) {
          if (minusAt >= 0)
            return im.fail("more than one -1 in the target shape");
          minusAt = int(k);
          target.push_back(std::nullopt);
          continue;
        }
        if (e->c < -1)
          return im.fail("invalid dimension " + std::to_string(e->c) + " in the target shape");
        if (e->c == 0 && !allowzero) {
          if (k >= xd.size())
            return im.fail("dimension " + std::to_string(k) +
                           " is copied from the input (0) but the input has rank " +
                           std::to_string(xd.size()));
          target.push_back(xd[k]);
          continue;
        }
      }
      target.push_back(*e);
    }
    if (minusAt >= 0) {
      SymShape others;
      for (auto [k, e] : llvm::enumerate(target))
        if (int(k) != minusAt && e)
          others.push_back(*e);
      bool othersKnown = llvm::all_of(llvm::enumerate(target), [&](auto p) {
        return int(p.index()) == minusAt || p.value().has_value();
      });
      auto total = symProduct(xd), part = symProduct(others);
      if (othersKnown && total && part) {
        if (auto q = symDivExact(*total, *part)) {
          target[minusAt] = *q;
        } else if (total->isConst() && part->isConst()) {
          return im.fail("cannot reshape a tensor of shape " + symShapeStr(xd) +
                         " with -1 into " + symShapeStr(others) + " plus one dimension");
        } else {
          known = false;
        }
      } else {
        known = false;
      }
    }
  } else {
    target.assign(size_t(shT.getDimSize(0)), std::nullopt);
    known = false;
  }
  if (known) {
    SymShape t;
    for (auto &e : target)
      t.push_back(*e);
    auto a = symProduct(xd), c = symProduct(t);
    if (a && c && a->isConst() && c->isConst() && a->c != c->c)
      return im.fail("cannot reshape a tensor of shape " + symShapeStr(xd) + " (" +
                     std::to_string(a->c) + " elements) into " + symShapeStr(t));
    if (const ConstTensor *cx = n.cst(0);
        cx && llvm::all_of(t, [](const SymExpr &e) { return e.isConst(); })) {
      SmallVector<int64_t> shape;
      for (auto &e : t)
        shape.push_back(e.c);
      return n.outConst(0, reshapeConst(*cx, shape));
    }
    if (auto sx = n.shape(0); sx && t.size() <= 1 && sx->elems.size() == 1 &&
                              (t.empty() || t[0].isConst(1))) {
      ShapeTensor r = *sx;
      r.scalar = t.empty();
      if (r.allKnown())
        return n.outShape(0, std::move(r));
    }
    Value x = n.in(0);
    if (!x)
      return failure();
    Value res = im.reshape(x, t);
    // A reshape that keeps the dims up to a reversed axis commutes with the
    // reversal (it only regroups the blocks the reversal moves whole).
    if (auto it = im.reversals.find(x); it != im.reversals.end()) {
      auto [src, axis] = it->second;
      if (int64_t(t.size()) > axis && ArrayRef<SymExpr>(t).take_front(axis + 1) ==
                                          ArrayRef<SymExpr>(xd).take_front(axis + 1))
        im.reversals[res] = {im.reshape(src, t), axis};
    }
    return n.out(0, res);
  }
  // Runtime target: compute 0 and -1 with index arithmetic.
  Value x = n.in(0), shape = n.in(1);
  if (!x || !shape)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  int64_t len = shT.getDimSize(0);
  Value total = im.indexOf(symProduct(xd).value_or(SymExpr::constant(1)));
  if (!symProduct(xd)) {
    total = im.cIndex(1);
    for (auto &e : xd)
      total = arith::MulIOp::create(b, loc, total, im.indexOf(e));
  }
  SmallVector<Value> vals;
  Value m1 = im.cIndex(-1), c0 = im.cIndex(0), c1 = im.cIndex(1);
  for (int64_t k = 0; k < len; ++k) {
    Value e = tensor::ExtractOp::create(b, loc, shape, ValueRange{im.cIndex(k)});
    Value v = arith::IndexCastOp::create(b, loc, b.getIndexType(), e);
    if (!allowzero && k < int64_t(xd.size())) {
      Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, c0);
      v = arith::SelectOp::create(b, loc, isZero, im.indexOf(xd[k]), v);
    }
    vals.push_back(v);
  }
  Value prod = c1;
  for (Value v : vals) {
    Value isM1 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, m1);
    prod = arith::MulIOp::create(b, loc, prod, arith::SelectOp::create(b, loc, isM1, c1, v));
  }
  Value inferred = arith::DivSIOp::create(b, loc, total, prod);
  SmallVector<Value> finalVals;
  for (Value v : vals) {
    Value isM1 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, m1);
    finalVals.push_back(arith::SelectOp::create(b, loc, isM1, inferred, v));
  }
  Value shapeV = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({len}, b.getIndexType()), finalVals);
  SmallVector<OptSym> staticT;
  for (auto &e : target)
    staticT.push_back(e);
  return n.out(0, im.reshapeDynamic(x, shapeV, staticT));
}

LogicalResult handleFlatten(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size(), axis = n.i("axis", 1);
  if (n.bad)
    return failure();
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis > r)
    return im.fail("axis " + std::to_string(n.i("axis", 1)) + " is out of range for rank " +
                   std::to_string(r));
  auto a = symProduct(llvm::ArrayRef<SymExpr>(xd).take_front(axis));
  auto c = symProduct(llvm::ArrayRef<SymExpr>(xd).drop_front(axis));
  if (!a || !c)
    return im.fail("the size overflows");
  if (const ConstTensor *cx = n.cst(0))
    return n.outConst(0, reshapeConst(*cx, {a->c, c->c}));
  Value x = n.in(0);
  if (!x)
    return failure();
  return n.out(0, im.reshape(x, {*a, *c}));
}

/// Axes from input `idx` (newer opsets) or attribute "axes".
std::optional<SmallVector<int64_t>> axesOf(Importer &im, NodeCtx &n, int idx) {
  if (n.has(idx)) {
    auto v = n.ints(idx);
    if (!v) {
      (void)im.fail("axes must be known at import time");
      return std::nullopt;
    }
    return v;
  }
  return n.is("axes");
}

LogicalResult handleSqueeze(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 2)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  auto axesO = axesOf(im, n, 1);
  if (!axesO || n.bad)
    return failure();
  SmallVector<int64_t> axes = *axesO;
  bool explicitAxes = n.has(1) || n.hasAttr("axes");
  if (!explicitAxes)
    for (int64_t k = 0; k < r; ++k)
      if (xd[k].isConst(1))
        axes.push_back(k);
  for (int64_t &a : axes) {
    if (!normAxis(im, a, r))
      return failure();
    if (xd[a].isConst() && xd[a].c != 1)
      return im.fail("cannot squeeze dimension " + std::to_string(a) + " of size " +
                     std::to_string(xd[a].c));
  }
  SymShape out;
  for (int64_t k = 0; k < r; ++k)
    if (!llvm::is_contained(axes, k))
      out.push_back(xd[k]);
  if (const ConstTensor *c = n.cst(0)) {
    SmallVector<int64_t> shape;
    for (auto &e : out)
      shape.push_back(e.c);
    return n.outConst(0, reshapeConst(*c, shape));
  }
  if (auto s = n.shape(0); s && out.empty() && s->elems.size() == 1 && s->allKnown()) {
    ShapeTensor o = *s;
    o.scalar = true;
    return n.outShape(0, std::move(o));
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  // Dynamic dims squeezed away must be 1: make that static first.
  auto xt = Importer::tt(x);
  SmallVector<int64_t> shape(xt.getShape().begin(), xt.getShape().end());
  bool cast = false;
  for (int64_t a : axes)
    if (xt.isDynamicDim(a)) {
      shape[a] = 1;
      cast = true;
    }
  if (cast)
    x = im.castTo(x, RankedTensorType::get(shape, xt.getElementType()));
  return n.out(0, im.reshape(x, out));
}

LogicalResult handleUnsqueeze(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 2)))
    return failure();
  SymShape xd = inDims(n, 0);
  auto axesO = axesOf(im, n, 1);
  if (!axesO || n.bad)
    return failure();
  SmallVector<int64_t> axes = *axesO;
  int64_t outR = int64_t(xd.size() + axes.size());
  for (int64_t &a : axes)
    if (!normAxis(im, a, outR))
      return failure();
  llvm::sort(axes);
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return im.fail("repeated axes");
  SymShape out;
  size_t src = 0;
  for (int64_t k = 0; k < outR; ++k)
    out.push_back(llvm::is_contained(axes, k) ? SymExpr::constant(1) : xd[src++]);
  if (const ConstTensor *c = n.cst(0)) {
    SmallVector<int64_t> shape;
    for (auto &e : out)
      shape.push_back(e.c);
    return n.outConst(0, reshapeConst(*c, shape));
  }
  if (auto s = n.shape(0); s && s->scalar && outR == 1 && s->allKnown()) {
    ShapeTensor o = *s;
    o.scalar = false;
    return n.outShape(0, std::move(o));
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  return n.out(0, im.reshape(x, out));
}

LogicalResult handleTranspose(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 1)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  SmallVector<int64_t> perm = n.is("perm");
  if (n.bad)
    return failure();
  if (!n.hasAttr("perm"))
    for (int64_t k = r - 1; k >= 0; --k)
      perm.push_back(k);
  if (int64_t(perm.size()) != r)
    return im.fail("perm has " + std::to_string(perm.size()) + " entries for rank " +
                   std::to_string(r));
  SmallVector<bool> seen(r, false);
  for (int64_t &p : perm) {
    if (p < 0)
      p += r;
    if (p < 0 || p >= r || seen[p])
      return im.fail("perm is not a permutation");
    seen[p] = true;
  }
  if (const ConstTensor *c = n.cst(0)) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(c->shape[p]);
    auto inS = stridesOf(c->shape);
    SmallVector<int64_t> lin;
    int64_t total = c->numel();
    SmallVector<int64_t> idx(r, 0);
    for (int64_t k = 0; k < total; ++k) {
      int64_t l = 0;
      for (int64_t d = 0; d < r; ++d)
        l += idx[d] * inS[perm[d]];
      lin.push_back(l);
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++idx[d] < shape[d])
          break;
        idx[d] = 0;
      }
    }
    return n.outConst(0, gatherLinear(*c, shape, lin));
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  return n.out(0, im.transpose(x, perm));
}

LogicalResult handleConcat(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, -1)))
    return failure();
  if (!n.hasAttr("axis"))
    return im.fail("attribute 'axis' is required");
  int64_t axis = n.i("axis", 0);
  if (n.bad)
    return failure();
  SmallVector<int> ins;
  for (int k = 0; k < n.numIn(); ++k)
    if (n.has(k))
      ins.push_back(k);
  auto t0 = n.inType(ins[0]);
  int64_t r = t0.getRank();
  if (r == 0)
    return im.fail("inputs must have rank >= 1");
  if (!normAxis(im, axis, r))
    return failure();
  SymShape d0 = inDims(n, ins[0]);
  for (int k : ins) {
    auto t = n.inType(k);
    if (t.getElementType() != t0.getElementType())
      return im.fail("input element types differ");
    if (t.getRank() != r)
      return im.fail("input ranks differ (" + std::to_string(r) + " and " +
                     std::to_string(t.getRank()) + ")");
    SymShape d = inDims(n, k);
    for (int64_t j = 0; j < r; ++j)
      if (j != axis && d[j].isConst() && d0[j].isConst() && d[j].c != d0[j].c)
        return im.fail("input shapes " + symShapeStr(d0) + " and " + symShapeStr(d) +
                       " differ outside axis " + std::to_string(axis));
  }
  // Shape tensors.
  if (r == 1) {
    ShapeTensor st;
    st.et = t0.getElementType();
    bool ok = isa<IntegerType>(st.et) && !st.et.isInteger(1);
    for (int k : ins) {
      auto s = ok ? n.shape(k) : std::nullopt;
      if (!s) {
        ok = false;
        break;
      }
      st.elems.append(s->elems.begin(), s->elems.end());
    }
    if (ok && st.allKnown())
      return n.outShape(0, std::move(st));
  }
  // Constants.
  bool allConst = true;
  for (int k : ins)
    allConst &= n.cst(k) != nullptr;
  if (allConst) {
    SmallVector<int64_t, 4> shape(n.cst(ins[0])->shape);
    shape[axis] = 0;
    for (int k : ins)
      shape[axis] += n.cst(k)->shape[axis];
    ConstTensor o;
    o.et = t0.getElementType();
    o.shape = shape;
    if (o.numel() <= kFoldLimit) {
      int64_t outer = 1, inner = 1;
      for (int64_t j = 0; j < axis; ++j)
        outer *= shape[j];
      for (int64_t j = axis + 1; j < r; ++j)
        inner *= shape[j];
      for (int64_t oo = 0; oo < outer; ++oo)
        for (int k : ins) {
          const ConstTensor *c = n.cst(k);
          int64_t chunk = c->shape[axis] * inner;
          for (int64_t e = 0; e < chunk; ++e) {
            int64_t l = oo * chunk + e;
            if (o.isFloat())
              o.f.push_back(c->f[l]);
            else
              o.i.push_back(c->i[l]);
          }
        }
      return n.outConst(0, std::move(o));
    }
  }
  SmallVector<Value> vals;
  for (int k : ins) {
    Value v = n.in(k);
    if (!v)
      return failure();
    vals.push_back(v);
  }
  return n.out(0, im.concat(vals, axis));
}

LogicalResult handleSplit(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 2)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size(), axis = n.i("axis", 0);
  if (n.bad || r == 0 || !normAxis(im, axis, r))
    return r == 0 ? im.fail("input must have rank >= 1") : failure();
  int64_t outs = n.numOut();
  SmallVector<SymExpr> sizes;
  if (n.has(1) || n.hasAttr("split")) {
    auto sp = n.has(1) ? n.ints(1) : std::optional<SmallVector<int64_t>>(n.is("split"));
    if (!sp)
      return im.fail("split sizes must be known at import time");
    if (int64_t(sp->size()) != outs)
      return im.fail(std::to_string(sp->size()) + " split sizes for " + std::to_string(outs) +
                     " outputs");
    int64_t sum = 0;
    for (int64_t s : *sp) {
      if (s < 0)
        return im.fail("negative split size");
      sum += s;
      sizes.push_back(SymExpr::constant(s));
    }
    if (xd[axis].isConst() && sum != xd[axis].c)
      return im.fail("split sizes add up to " + std::to_string(sum) + " but dimension " +
                     std::to_string(axis) + " has size " + std::to_string(xd[axis].c));
  } else {
    int64_t parts = n.hasAttr("num_outputs") ? n.i("num_outputs", outs) : outs;
    if (parts != outs || parts <= 0)
      return im.fail("num_outputs (" + std::to_string(parts) + ") differs from the " +
                     std::to_string(outs) + " outputs");
    if (xd[axis].isConst()) {
      int64_t d = xd[axis].c;
      int64_t each = (d + parts - 1) / parts;
      if (!n.hasAttr("num_outputs") && d % parts != 0)
        return im.fail("dimension of size " + std::to_string(d) + " does not split into " +
                       std::to_string(parts) + " equal parts");
      for (int64_t k = 0; k < parts; ++k)
        sizes.push_back(SymExpr::constant(std::max<int64_t>(0, std::min(each, d - k * each))));
    } else {
      auto each = symDivExact(xd[axis], SymExpr::constant(parts));
      if (!each)
        return im.fail("a dynamic dimension must split evenly into " + std::to_string(parts));
      sizes.assign(size_t(parts), *each);
    }
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  SymExpr off = SymExpr::constant(0);
  std::optional<SymExpr> offOk = off;
  Value offV = im.cIndex(0);
  for (int64_t k = 0; k < outs; ++k) {
    SymShape szs = xd;
    szs[axis] = sizes[k];
    SmallVector<OpFoldResult> offs(r, im.b.getIndexAttr(0));
    if (offOk && offOk->isConst())
      offs[axis] = im.b.getIndexAttr(offOk->c);
    else
      offs[axis] = offV;
    Value s = im.extractSliceDyn(x, offs, im.sizesOf(szs), SmallVector<int64_t>(r, 1), szs);
    if (failed(n.out(int(k), s)))
      return failure();
    if (offOk && offOk->isConst() && sizes[k].isConst())
      offOk = SymExpr::constant(offOk->c + sizes[k].c);
    else
      offOk = std::nullopt;
    offV = arith::AddIOp::create(im.b, im.loc, offV, im.indexOf(sizes[k]));
  }
  return success();
}

LogicalResult handleSlice(Importer &im, NodeCtx &n) {
  bool attrForm = im.opset < 10 && !n.has(1);
  if (failed(attrForm ? n.arity(1, 1) : n.arity(3, 5)))
    return failure();
  SymShape xd = inDims(n, 0);
  int64_t r = xd.size();
  std::optional<ShapeTensor> starts, ends;
  SmallVector<int64_t> axes, steps;
  auto fromInts = [&](llvm::ArrayRef<int64_t> v) {
    ShapeTensor s;
    s.et = im.b.getI64Type();
    for (int64_t x : v)
      s.elems.push_back(SymExpr::constant(x));
    return s;
  };
  if (attrForm) {
    starts = fromInts(n.is("starts"));
    ends = fromInts(n.is("ends"));
    axes = n.is("axes");
  } else {
    starts = n.shape(1);
    ends = n.shape(2);
    auto sT = n.inType(1), eT = n.inType(2);
    if (sT.getRank() != 1 || eT.getRank() != 1 || sT.isDynamicDim(0) || eT.isDynamicDim(0))
      return im.fail("starts and ends must be 1-D with a static length");
    if (!starts) {
      starts = ShapeTensor();
      starts->elems.assign(size_t(sT.getDimSize(0)), std::nullopt);
    }
    if (!ends) {
      ends = ShapeTensor();
      ends->elems.assign(size_t(eT.getDimSize(0)), std::nullopt);
    }
    if (n.has(3)) {
      auto a = n.ints(3);
      if (!a)
        return im.fail("axes must be known at import time");
      axes = *a;
    }
    if (n.has(4)) {
      auto s = n.ints(4);
      if (!s)
        return im.fail("steps must be known at import time");
      steps = *s;
    }
  }
  if (n.bad)
    return failure();
  size_t cnt = starts->elems.size();
  if (ends->elems.size() != cnt)
    return im.fail("starts and ends have different lengths");
  if (axes.empty())
    for (size_t k = 0; k < cnt; ++k)
      axes.push_back(int64_t(k));
  if (steps.empty())
    steps.assign(cnt, 1);
  if (axes.size() != cnt || steps.size() != cnt)
    return im.fail("starts, ends, axes and steps have different lengths");
  SmallVector<bool> seen(r, false);
  for (int64_t &a : axes) {
    if (!normAxis(im, a, r))
      return failure();
    if (seen[a])
      return im.fail("repeated axis " + std::to_string(a));
    seen[a] = true;
  }
  // Per output dim: offset, size, stride (static where possible).
  SmallVector<OptSym> offs(r, SymExpr::constant(0)), sizes(r);
  SmallVector<int64_t> strides(r, 1);
  // Axes of a dynamic size reversed whole (torch.flip: start -1, end
  // INT64_MIN, step -1): offset size-1, known only at run time.
  SmallVector<bool> wholeReversed(r, false);
  for (int64_t k = 0; k < r; ++k)
    sizes[k] = xd[k];
  bool allStatic = true;
  for (size_t j = 0; j < cnt; ++j) {
    int64_t a = axes[j], step = steps[j];
    if (step == 0)
      return im.fail("step must be nonzero");
    strides[a] = step;
    const OptSym &s = starts->elems[j], &e = ends->elems[j];
    if (s && e && s->isConst() && e->isConst() && xd[a].isConst()) {
      int64_t d = xd[a].c, st = s->c, en = e->c;
      if (st < 0)
        st += d;
      if (en < 0)
        en += d;
      int64_t size;
      if (step > 0) {
        st = std::clamp<int64_t>(st, 0, d);
        en = std::clamp<int64_t>(en, 0, d);
        size = en > st ? (en - st + step - 1) / step : 0;
      } else {
        st = std::clamp<int64_t>(st, 0, d - 1);
        en = std::clamp<int64_t>(en, -1, d - 1);
        size = st > en ? (st - en + (-step) - 1) / (-step) : 0;
      }
      offs[a] = SymExpr::constant(size == 0 ? 0 : st);
      sizes[a] = SymExpr::constant(size);
      continue;
    }
    if (step == -1 && s && e && s->isConst() && e->isConst() &&
        (s->c == -1 || s->c >= std::numeric_limits<int32_t>::max()) &&
        e->c <= std::numeric_limits<int32_t>::min()) {
      wholeReversed[a] = true;
      sizes[a] = xd[a];
      allStatic = false;
      continue;
    }
    // The first e elements of a dimension known to hold at least e.
    if (step == 1 && s && s->isConst(0) && e && !e->isConst() && xd[a].syms.size() == 1 &&
        xd[a].c == 1) {
      auto it = im.symAtLeast.find(xd[a].syms[0]);
      if (it != im.symAtLeast.end() && it->second == *e) {
        offs[a] = SymExpr::constant(0);
        sizes[a] = *e;
        allStatic = false;
        continue;
      }
    }
    // The whole dimension from a known start.
    if (step == 1 && s && s->isConst(0) && e && e->isConst() &&
        e->c >= std::numeric_limits<int32_t>::max()) {
      offs[a] = SymExpr::constant(0);
      sizes[a] = xd[a];
      continue;
    }
    allStatic = false;
    offs[a] = std::nullopt;
    sizes[a] = std::nullopt;
  }
  // nn.Conv1d(padding=k-1)[..., :T]: the causal convolution of the input.
  if (cnt == 1 && axes[0] == 2 && strides[2] == 1 && offs[2] && offs[2]->isConst(0) && sizes[2] &&
      r == 3 && !n.cst(0))
    if (Value x = n.in(0))
      if (Value y = unpaddedCausalConv(im, x, *sizes[2]))
        return n.out(0, y);
  // Folding.
  if (allStatic) {
    if (const ConstTensor *c = n.cst(0)) {
      SmallVector<int64_t> shape;
      for (auto &e : sizes)
        shape.push_back(e->c);
      int64_t total = 1;
      for (int64_t s : shape)
        total *= s;
      if (total <= kFoldLimit) {
        auto inS = stridesOf(c->shape);
        SmallVector<int64_t> lin, idx(r, 0);
        for (int64_t k = 0; k < total; ++k) {
          int64_t l = 0;
          for (int64_t d = 0; d < r; ++d)
            l += (offs[d]->c + idx[d] * strides[d]) * inS[d];
          lin.push_back(l);
          for (int64_t d = r - 1; d >= 0; --d) {
            if (++idx[d] < shape[d])
              break;
            idx[d] = 0;
          }
        }
        return n.outConst(0, gatherLinear(*c, shape, lin));
      }
    }
    if (auto sx = n.shape(0); sx && !sx->scalar && r == 1) {
      ShapeTensor o = *sx;
      o.elems.clear();
      for (int64_t k = 0; k < sizes[0]->c; ++k)
        o.elems.push_back(sx->elems[offs[0]->c + k * strides[0]]);
      if (o.allKnown())
        return n.outShape(0, std::move(o));
    }
  }
  Value x = n.in(0);
  if (!x)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Value startsV, endsV;
  SmallVector<OpFoldResult> offV, sizeV;
  SymShape outD;
  for (int64_t k = 0; k < r; ++k) {
    if (wholeReversed[k]) {
      offV.push_back(b.getIndexAttr(0)); // set by the gather below
      sizeV.push_back(im.sizeOf(*sizes[k]));
      outD.push_back(*sizes[k]);
      continue;
    }
    if (offs[k] && sizes[k]) {
      offV.push_back(im.sizeOf(*offs[k]));
      sizeV.push_back(im.sizeOf(*sizes[k]));
      outD.push_back(*sizes[k]);
      continue;
    }
    // Runtime: clamp like ONNX does (positive step).
    size_t j = std::find(axes.begin(), axes.end(), k) - axes.begin();
    auto elem = [&](const ShapeTensor &st, int inputIdx, Value &cacheV) -> Value {
      if (st.elems[j])
        return im.indexOf(*st.elems[j]);
      if (!cacheV)
        cacheV = n.in(inputIdx);
      if (!cacheV)
        return Value();
      Value e = tensor::ExtractOp::create(b, loc, cacheV, ValueRange{im.cIndex(int64_t(j))});
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), e);
    };
    Value sv = elem(*starts, 1, startsV), ev = elem(*ends, 2, endsV);
    if (!sv || !ev)
      return failure();
    Value d = im.indexOf(xd[k]), c0 = im.cIndex(0);
    // Negative indices count from the end; then starts clamp to [0, d] and
    // ends to [0, d] (positive step) or to [0, d-1] and [-1, d-1] (negative).
    const bool back = strides[k] < 0;
    auto norm = [&](Value v, Value lo, Value hi) {
      Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v, c0);
      Value w = arith::AddIOp::create(b, loc, v, d);
      v = arith::SelectOp::create(b, loc, neg, w, v);
      v = arith::MaxSIOp::create(b, loc, v, lo);
      return arith::MinSIOp::create(b, loc, v, hi).getResult();
    };
    Value dLast = back ? arith::SubIOp::create(b, loc, d, im.cIndex(1)).getResult() : d;
    sv = norm(sv, c0, dLast);
    ev = norm(ev, back ? im.cIndex(-1) : c0, dLast);
    Value diff = back ? arith::SubIOp::create(b, loc, sv, ev) : arith::SubIOp::create(b, loc, ev, sv);
    Value sz = arith::CeilDivSIOp::create(b, loc, diff, im.cIndex(back ? -strides[k] : strides[k]));
    sz = arith::MaxSIOp::create(b, loc, sz, c0);
    offV.push_back(sv);
    sizeV.push_back(sz);
    outD.push_back(SymExpr::constant(0));
  }
  bool negStep = llvm::any_of(strides, [](int64_t s) { return s < 0; });
  auto rt = RankedTensorType::get(
      llvm::to_vector(llvm::map_range(llvm::seq<int64_t>(0, r), [&](int64_t k) {
        return (offs[k] && sizes[k]) ? sizes[k]->staticSize() : ShapedType::kDynamic;
      })),
      Importer::tt(x).getElementType());
  if (!negStep) {
    SmallVector<OpFoldResult> st;
    for (int64_t s : strides)
      st.push_back(b.getIndexAttr(s));
    Value res = tensor::ExtractSliceOp::create(b, loc, rt, x, offV, sizeV, st);
    SymShape dd;
    for (int64_t k = 0; k < r; ++k)
      dd.push_back((offs[k] && sizes[k]) ? *sizes[k] : SymExpr::constant(0));
    im.setDims(res, dd);
    return n.out(0, res);
  }
  // Negative steps: a gather with computed coordinates. One axis reversed
  // whole, every other axis kept: a recorded reversal (two of them cancel).
  std::optional<int64_t> reversedAxis;
  for (int64_t k = 0; k < r; ++k) {
    bool kept = strides[k] == 1 && offs[k] && offs[k]->isConst(0) && sizes[k] == xd[k];
    bool whole = wholeReversed[k] || (strides[k] == -1 && xd[k].isConst() && sizes[k] == xd[k] &&
                                      offs[k] && offs[k]->isConst(xd[k].c - 1));
    if (whole && !reversedAxis) {
      reversedAxis = k;
    } else if (!kept) {
      reversedAxis.reset();
      break;
    }
  }
  if (reversedAxis) {
    auto it = im.reversals.find(x);
    if (it != im.reversals.end() && it->second.second == *reversedAxis)
      return n.out(0, it->second.first);
    return n.out(0, im.reverseAlong(x, *reversedAxis));
  }
  SmallVector<Value> offsets;
  for (int64_t k = 0; k < r; ++k) {
    if (wholeReversed[k]) // mixed with other cuts: offset size - 1
      offV[k] = arith::SubIOp::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, sizeV[k]),
                                      im.cIndex(1)).getResult();
    offsets.push_back(getValueOrCreateConstantIndexOp(b, loc, offV[k]));
  }
  Value init = tensor::EmptyOp::create(b, loc, sizeV, rt.getElementType());
  AffineMap id = AffineMap::getMultiDimIdentityMap(unsigned(r), &im.ctx);
  Value res = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init}, ArrayRef<AffineMap>{id},
      SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < r; ++k) {
          Value i = linalg::IndexOp::create(nb, l, k);
          Value m = arith::MulIOp::create(
              nb, l, i, arith::ConstantIndexOp::create(nb, l, strides[k]));
          coords.push_back(arith::AddIOp::create(nb, l, m, offsets[k]));
        }
        linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, x, coords).getResult());
      }).getResult(0);
  im.setDims(res, outD);
  return n.out(0, res);
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

template <EW K>
LogicalResult bin(Importer &im, NodeCtx &n) {
  return binary(im, n, K);
}
template <EW K>
LogicalResult un(Importer &im, NodeCtx &n) {
  return unary(im, n, K);
}
LogicalResult handleMax(Importer &im, NodeCtx &n) { return variadic(im, n, EW::Max); }
LogicalResult handleMin(Importer &im, NodeCtx &n) { return variadic(im, n, EW::Min); }
LogicalResult handleSum(Importer &im, NodeCtx &n) { return variadic(im, n, EW::Add); }
LogicalResult handleMean(Importer &im, NodeCtx &n) { return variadic(im, n, EW::Add, true); }

const llvm::StringMap<Handler> &table() {
  static const llvm::StringMap<Handler> t = [] {
    llvm::StringMap<Handler> m;
    m["Add"] = bin<EW::Add>;
    m["Sub"] = bin<EW::Sub>;
    m["Mul"] = bin<EW::Mul>;
    m["Div"] = bin<EW::Div>;
    m["Pow"] = bin<EW::Pow>;
    m["Mod"] = bin<EW::Mod>;
    m["Equal"] = bin<EW::Equal>;
    m["Less"] = bin<EW::Less>;
    m["LessOrEqual"] = bin<EW::LessEq>;
    m["Greater"] = bin<EW::Greater>;
    m["GreaterOrEqual"] = bin<EW::GreaterEq>;
    m["And"] = bin<EW::And>;
    m["Or"] = bin<EW::Or>;
    m["Xor"] = bin<EW::Xor>;
    m["Max"] = handleMax;
    m["Min"] = handleMin;
    m["Sum"] = handleSum;
    m["Mean"] = handleMean;
    m["Neg"] = un<EW::Neg>;
    m["Abs"] = un<EW::Abs>;
    m["Exp"] = un<EW::Exp>;
    m["Log"] = un<EW::Log>;
    m["Sqrt"] = un<EW::Sqrt>;
    m["Reciprocal"] = un<EW::Recip>;
    m["Tanh"] = un<EW::Tanh>;
    m["Sigmoid"] = un<EW::Sigmoid>;
    m["Softplus"] = un<EW::Softplus>;
    m["Relu"] = un<EW::Relu>;
    m["Erf"] = un<EW::Erf>;
    m["Floor"] = un<EW::Floor>;
    m["Ceil"] = un<EW::Ceil>;
    m["Sin"] = un<EW::Sin>;
    m["Cos"] = un<EW::Cos>;
    m["Not"] = un<EW::Not>;
    m["Sign"] = un<EW::Sign>;
    m["IsNaN"] = handleIsNaN;
    m["IsInf"] = handleIsInf;
    m["Identity"] = handleIdentity;
    m["Dropout"] = handleDropout;
    m["Cast"] = handleCast;
    m["CastLike"] = handleCastLike;
    m["Where"] = handleWhere;
    m["Clip"] = handleClip;
    m["Constant"] = handleConstant;
    m["ConstantOfShape"] = handleConstantOfShape;
    m["Shape"] = handleShape;
    m["Size"] = handleSize;
    m["Range"] = handleRange;
    m["Gather"] = handleGather;
    m["GatherElements"] = handleGatherElements;
    m["ReverseSequence"] = handleReverseSequence;
    m["GatherND"] = handleGatherND;
    m["Scatter"] = handleScatter;
    m["ScatterElements"] = handleScatterElements;
    m["ScatterND"] = handleScatterND;
    m["CumSum"] = handleCumSum;
    m["DFT"] = handleDFT;
    m["TopK"] = handleTopK;
    m["Expand"] = handleExpand;
    m["Reshape"] = handleReshape;
    m["Flatten"] = handleFlatten;
    m["Squeeze"] = handleSqueeze;
    m["Unsqueeze"] = handleUnsqueeze;
    m["Transpose"] = handleTranspose;
    m["Concat"] = handleConcat;
    m["Split"] = handleSplit;
    m["Slice"] = handleSlice;
    m["Pad"] = handlePad;
    m["Tile"] = handleTile;
    m["Trilu"] = handleTrilu;
    m["MatMul"] = handleMatMul;
    m["Gemm"] = handleGemm;
    m["Einsum"] = handleEinsum;
    m["Conv"] = handleConv;
    m["Softmax"] = handleSoftmax;
    m["LogSoftmax"] = handleLogSoftmax;
    m["ReduceSum"] = handleReduceSum;
    m["ReduceMean"] = handleReduceMean;
    m["ReduceMax"] = handleReduceMax;
    m["ReduceMin"] = handleReduceMin;
    m["ReduceProd"] = handleReduceProd;
    m["ReduceL2"] = handleReduceL2;
    m["ReduceSumSquare"] = handleReduceSumSquare;
    m["LayerNormalization"] = handleLayerNorm;
    m["RMSNormalization"] = handleRMSNorm;
    m["LpNormalization"] = handleLpNorm;
    // ONNX Runtime registers its RMSNorm in the default domain
    m["SimplifiedLayerNormalization"] = handleRMSNorm;
    m["RotaryEmbedding"] = handleRotary;
    m["Scan"] = handleScan;
    m["Attention"] = handleAttention;
    m["LinearAttention"] = handleLinearAttention;
    m["CausalConvWithState"] = handleCausalConv;
    registerActivations(m);
    return m;
  }();
  return t;
}

} // namespace

Handler gatec::onnx_frontend::detail::lookupHandler(llvm::StringRef opType) {
  auto it = table().find(opType);
  return it == table().end() ? nullptr : it->second;
}

bool gatec::onnx_frontend::detail::isSupportedOp(llvm::StringRef domain,
                                                 llvm::StringRef opType) {
  if (domain == "com.microsoft")
    return lookupMicrosoftHandler(opType) != nullptr;
  if (!domain.empty() && domain != "ai.onnx")
    return false;
  return lookupHandler(opType) != nullptr;
}
