//===- SpectralOps.cpp - ONNX DFT, and FFT convolutions as causal_conv ----===//
//
// DFT (opsets 17 and 20) imports as a direct transform: one linalg.generic
// summing x[j]·e^{∓2πi·fj/n} over the signal, the twiddles read from cos/sin
// tables of a static length n (indices f·j mod n, so no angle loses
// precision) or computed per term in double when n is known at run time only.
// O(n²) per signal: right for the short transforms of feature extractors,
// not for long convolutions.
//
// Long convolutions written with torch.fft (Hyena): y = irfft(rfft(u, n) · K,
// n)[..., :L]. The importer recognizes the whole product on the ONNX graph
// when it reaches its result and defines that result as one gate.causal_conv
// — only when that is the same function: the circular convolution of length
// n equals the causal one on the first L outputs iff no lag above n - L
// contributes. K constant (a static-length export folds rfft(h)): the taps
// are irfft(K), computed here in double, and the lags that wrap around must
// vanish (relative to the largest tap, 1e-5: the rounding of an f32
// spectrum). K the transform of h[:, :L] padded by L, n = 2L (a
// dynamic-length export): the taps are h. Otherwise the DFTs stay.
//
//===----------------------------------------------------------------------===//
#include "GraphMatcher.h"
#include "OpsCommon.h"

#include "gatec/Dialect/Gate/IR/ConstantData.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <complex>

using namespace mlir;

namespace gatec::onnx_frontend::detail {
namespace {

using cplx = std::complex<double>;

/// In-place radix-2 FFT of a power-of-two length (sign -1: forward, +1:
/// inverse without the 1/n).
void fft(std::vector<cplx> &a, int sign) {
  size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    double ang = sign * 2 * M_PI / double(len);
    for (size_t i = 0; i < n; i += len)
      for (size_t k = 0; k < len / 2; ++k) {
        cplx w = std::polar(1.0, ang * double(k));
        cplx u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
  }
}

/// The DFT of any length (sign -1: forward, +1: inverse without the 1/n):
/// radix 2 for powers of two, else Bluestein's chirp-z transform, a circular
/// convolution of power-of-two length (jk = (j² + k² − (k − j)²) / 2).
std::vector<cplx> dftAnyLength(std::vector<cplx> x, int sign) {
  const int64_t n = int64_t(x.size());
  if ((n & (n - 1)) == 0) {
    fft(x, sign);
    return x;
  }
  int64_t m = 1;
  while (m < 2 * n - 1)
    m <<= 1;
  auto chirp = [&](int64_t j) { // e^{sign·πi·j²/n}, j² reduced mod 2n first
    int64_t q = int64_t((__int128(j) * j) % (2 * n));
    return std::polar(1.0, sign * M_PI * double(q) / double(n));
  };
  std::vector<cplx> a(static_cast<size_t>(m)), b(static_cast<size_t>(m));
  for (int64_t j = 0; j < n; ++j) {
    a[size_t(j)] = x[size_t(j)] * chirp(j);
    b[size_t(j)] = std::conj(chirp(j));
    if (j > 0)
      b[size_t(m - j)] = b[size_t(j)];
  }
  fft(a, -1);
  fft(b, -1);
  for (int64_t k = 0; k < m; ++k)
    a[size_t(k)] *= b[size_t(k)];
  fft(a, +1);
  for (int64_t k = 0; k < n; ++k)
    x[size_t(k)] = chirp(k) * a[size_t(k)] / double(m);
  return x;
}

/// numpy's irfft of the one-sided spectrum `spec` (n/2 + 1 bins) to length
/// n: the imaginary parts of bin 0 (and n/2 when n is even) do not count.
std::vector<double> irfft(llvm::ArrayRef<cplx> spec, int64_t n) {
  std::vector<cplx> full(static_cast<size_t>(n));
  for (int64_t f = 0; f <= n / 2; ++f) {
    cplx x = spec[size_t(f)];
    if (f == 0 || 2 * f == n)
      x = cplx(x.real(), 0.0);
    full[size_t(f)] = x;
    if (f > 0 && f < n - f)
      full[size_t(n - f)] = std::conj(x);
  }
  full = dftAnyLength(std::move(full), +1);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t)
    out[size_t(t)] = full[size_t(t)].real() / double(n);
  return out;
}

// ------------------------------------------------------------------ DFT

/// A size known at import time (a SymExpr) with its index value.
struct Size {
  SymExpr sym;
  Value idx;
};

/// A size computed at run time: a symbol of its own unless constant.
Size runtimeSize(Importer &im, Value idx) {
  if (auto c = getConstantIntValue(idx))
    return {SymExpr::constant(*c), idx};
  return {SymExpr::symbol(im.newSymValue(idx)), idx};
}

} // namespace

LogicalResult handleDFT(Importer &im, NodeCtx &n) {
  if (failed(n.arity(1, 3)))
    return failure();
  auto xt = n.inType(0);
  Type et = xt.getElementType();
  if (!isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(et))
    return im.fail("input must be float16, bfloat16, float or double, got " + str(et));
  SymShape xd = inDims(n, 0);
  int64_t r = int64_t(xd.size());
  if (r < 2)
    return im.fail("input must have rank >= 2 ([..., signal, 1 or 2])");
  if (!xd[r - 1].isConst() || (xd[r - 1].c != 1 && xd[r - 1].c != 2))
    return im.fail("the last dimension of the input must be 1 (real) or 2 (complex)");
  bool complexIn = xd[r - 1].c == 2;
  int64_t inverse, onesided;
  if (failed(checkBool01(im, n, "inverse", inverse, 0)) ||
      failed(checkBool01(im, n, "onesided", onesided, 0)))
    return failure();
  int64_t axis;
  if (im.opset >= 20) {
    if (n.hasAttr("axis"))
      return im.fail("DFT-20 takes the axis as input 2, not an attribute");
    axis = -2;
    if (n.has(2) &&
        failed(constOneValue(im, n, 2, "axis", "an axis computed at run time is not supported",
                             axis)))
      return failure();
  } else {
    if (n.has(2))
      return im.fail("DFT-17 has no input 2 (the axis is an attribute before opset 20)");
    axis = n.i("axis", 1);
    if (n.bad)
      return failure();
  }
  if (!normAxis(im, axis, r))
    return failure();
  if (axis == r - 1)
    return im.fail("axis must not be the last dimension (it holds the real/imaginary parts)");
  bool irfftForm = inverse && onesided;
  Value x = n.in(0);
  if (!x)
    return failure();
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type ct = et.isF64() ? Type(b.getF64Type()) : Type(b.getF32Type());
  x = im.convert(x, ct);
  // n: dft_length, else the signal length (irfft: 2·(bins - 1)). A dynamic
  // n must be a size (derived from shapes: never negative, and when it is
  // 0 the output is empty, so no term divides by it).
  Value lenIdx = im.indexOf(xd[axis]);
  Size N;
  if (n.has(1)) {
    auto st = n.shape(1);
    if (!st || st->elems.size() != 1 || !st->elems[0])
      return im.fail("dft_length '" + n.inName(1).str() +
                     "' must be a constant or a size derived from shapes");
    N = {*st->elems[0], im.indexOf(*st->elems[0])};
  } else if (irfftForm) {
    if (xd[axis].isConst()) {
      N = {SymExpr::constant(2 * (xd[axis].c - 1)), im.cIndex(2 * (xd[axis].c - 1))};
    } else {
      Value twoLm2 = arith::MulIOp::create(
          b, loc, arith::SubIOp::create(b, loc, lenIdx, im.cIndex(1)), im.cIndex(2));
      N = runtimeSize(im, arith::MaxSIOp::create(b, loc, twoLm2, im.cIndex(0)));
    }
  } else {
    N = {xd[axis], lenIdx};
  }
  if (N.sym.isConst() && N.sym.c < 1)
    return im.fail("the transform length must be positive, got " + std::to_string(N.sym.c));
  // Only the first n samples (irfft: n/2 + 1 bins) take part; a shorter
  // signal is zero-padded (no terms).
  Value half1 = arith::AddIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, N.idx, im.cIndex(2)), im.cIndex(1));
  Size half;
  if (N.sym.isConst()) {
    half = {SymExpr::constant(N.sym.c / 2 + 1), half1};
  } else if (N.sym.c % 2 == 0) { // n = 2m: n/2 + 1 = m + 1, a size the signature can express
    SymExpr m = N.sym;
    m.c /= 2;
    int s = im.sumSym({m, SymExpr::constant(1)});
    half = s ? Size{SymExpr::symbol(s), im.symValue(s)} : runtimeSize(im, half1);
  } else {
    half = runtimeSize(im, half1);
  }
  Size used = irfftForm ? half : N;
  Size terms;
  if (xd[axis].isConst() && used.sym.isConst())
    terms.sym = SymExpr::constant(std::min(xd[axis].c, used.sym.c));
  else if (xd[axis] == used.sym)
    terms.sym = used.sym;
  else
    terms = runtimeSize(im, arith::MinSIOp::create(b, loc, lenIdx, used.idx));
  // The real and imaginary parts as [..., signal, ...] tensors.
  SymShape partDims(xd.begin(), xd.end() - 1);
  partDims[axis] = terms.sym;
  auto part = [&](int64_t comp) {
    SymShape offs(size_t(r), SymExpr::constant(0)), sizes = partDims;
    offs[r - 1] = SymExpr::constant(comp);
    sizes.push_back(SymExpr::constant(1));
    Value p = im.extractSlice(x, offs, sizes, SmallVector<int64_t>(size_t(r), 1));
    return im.reshape(p, partDims);
  };
  SmallVector<Value> parts{part(0)};
  if (complexIn)
    parts.push_back(part(1));

  // cos/sin of 2π·m/n for m < n. A static n: tables computed in double
  // from the angle folded into one quadrant, so that the axis points (m = 0,
  // n/4, n/2, 3n/4) are exact (sin of bin n/2 must be 0: an irfft ignores
  // that bin's imaginary part). A dynamic n: computed per term in double.
  Value cosV, sinV;
  if (N.sym.isConst()) {
    const int64_t n0 = N.sym.c;
    ConstTensor cosT, sinT;
    for (ConstTensor *t : {&cosT, &sinT}) {
      t->et = ct;
      t->shape = {n0};
      t->f.resize(size_t(n0));
    }
    for (int64_t m = 0; m < n0; ++m) {
      int64_t q = (4 * m) / n0, rem = 4 * m - q * n0; // angle = q·π/2 + rem/(4n)·2π
      double rest = 2 * M_PI * double(rem) / double(4 * n0);
      double c = rem == 0 ? 1.0 : std::cos(rest), sn = rem == 0 ? 0.0 : std::sin(rest);
      const double cq[4] = {c, -sn, -c, sn}, sq[4] = {sn, c, -sn, -c};
      cosT.f[size_t(m)] = cq[q];
      sinT.f[size_t(m)] = sq[q];
    }
    cosV = im.constantOp(cast<TypedAttr>(constToAttr(cosT, &im.ctx)));
    sinV = im.constantOp(cast<TypedAttr>(constToAttr(sinT, &im.ctx)));
  }

  SymShape od = xd;
  od[axis] = (onesided && !inverse) ? half.sym : N.sym;
  od[r - 1] = SymExpr::constant(irfftForm ? 1 : 2);
  // Iteration space: the output dims, then the sum over the input samples
  // j; the parts are read at (..., j at the signal axis, ...).
  MLIRContext *ctx = &im.ctx;
  SmallVector<AffineExpr> outExprs, inExprs;
  for (int64_t k = 0; k < r; ++k)
    outExprs.push_back(getAffineDimExpr(unsigned(k), ctx));
  for (int64_t k = 0; k + 1 < r; ++k)
    inExprs.push_back(getAffineDimExpr(unsigned(k == axis ? r : k), ctx));
  AffineMap outMap = AffineMap::get(unsigned(r + 1), 0, outExprs, ctx);
  AffineMap inMap = AffineMap::get(unsigned(r + 1), 0, inExprs, ctx);
  SmallVector<AffineMap> maps(parts.size(), inMap);
  maps.push_back(outMap);
  SmallVector<utils::IteratorType> iters(size_t(r), utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  // 1/n of the inverse transforms (dynamic n: converted at run time).
  Value nF = arith::SIToFPOp::create(
      b, loc, ct, arith::IndexCastOp::create(b, loc, b.getI64Type(), N.idx));
  Value scale = inverse ? arith::DivFOp::create(b, loc, im.scalar(ct, 1.0), nF).getResult()
                        : im.scalar(ct, 1.0);
  Value y = im.generic(
      parts, im.zeros(od, ct), maps, iters, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value f = linalg::IndexOp::create(nb, l, axis);
        Value comp = linalg::IndexOp::create(nb, l, r - 1);
        Value j = linalg::IndexOp::create(nb, l, r);
        Value xr = a[0];
        Value xi = complexIn ? a[1]
                             : arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, 0.0)).getResult();
        Value acc = a.back();
        Value m = arith::RemUIOp::create(nb, l, arith::MulIOp::create(nb, l, f, j), N.idx);
        Value c, s;
        if (cosV) {
          c = tensor::ExtractOp::create(nb, l, cosV, m);
          s = tensor::ExtractOp::create(nb, l, sinV, m);
        } else {
          auto f64 = nb.getF64Type();
          auto toF64 = [&](Value i) {
            return arith::SIToFPOp::create(
                nb, l, f64, arith::IndexCastOp::create(nb, l, nb.getI64Type(), i));
          };
          Value ang = arith::DivFOp::create(
              nb, l,
              arith::MulFOp::create(nb, l, toF64(m),
                                    arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(2 * M_PI))),
              toF64(N.idx));
          c = math::CosOp::create(nb, l, ang);
          s = math::SinOp::create(nb, l, ang);
          if (ct != f64) {
            c = arith::TruncFOp::create(nb, l, ct, c);
            s = arith::TruncFOp::create(nb, l, ct, s);
          }
        }
        auto mul = [&](Value p, Value q) { return arith::MulFOp::create(nb, l, p, q); };
        // e^{-iθ} forward, e^{+iθ} inverse: re = xr·c ± xi·s, im = xi·c ∓ xr·s.
        Value re, imv;
        if (inverse) {
          re = arith::SubFOp::create(nb, l, mul(xr, c), mul(xi, s));
          imv = arith::AddFOp::create(nb, l, mul(xi, c), mul(xr, s));
        } else {
          re = arith::AddFOp::create(nb, l, mul(xr, c), mul(xi, s));
          imv = arith::SubFOp::create(nb, l, mul(xi, c), mul(xr, s));
        }
        Value term = arith::SelectOp::create(
            nb, l, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, comp, cIdx(nb, l, 0)),
            re, imv);
        if (irfftForm) { // the bins above 0 and n/2 stand for a conjugate pair
          Value j2 = arith::MulIOp::create(nb, l, j, cIdx(nb, l, 2));
          Value single = arith::OrIOp::create(
              nb, l, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, j, cIdx(nb, l, 0)),
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, j2, N.idx));
          // bin n/2 (n even): its imaginary part does not count (sin is 0
          // in the tables; at run time select the real part).
          term = arith::SelectOp::create(
              nb, l, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, j2, N.idx),
              mul(xr, c), term);
          Value w = arith::SelectOp::create(nb, l, single, scale,
                                            arith::AddFOp::create(nb, l, scale, scale));
          term = mul(term, w);
        } else if (inverse) {
          term = mul(term, scale);
        }
        linalg::YieldOp::create(nb, l, arith::AddFOp::create(nb, l, acc, term).getResult());
      });
  return n.out(0, im.convert(y, et));
}

// ---------------------------------------------------------- FFT convolution

namespace {

class FFTConvMatcher : GraphMatcher {
public:
  using GraphMatcher::GraphMatcher;

  /// Tries to define the output of `anchor` as gate.causal_conv.
  bool run(const Node &anchor);

private:
  SymExpr L;  // the input's length
  SymExpr N;  // the transform length
  int64_t C = 0, nb = 0;

  /// The elements of an integer value of rank <= 1 as sizes (constants or
  /// sizes derived from shapes), when all are known.
  std::optional<SmallVector<SymExpr>> sizes(llvm::StringRef v) {
    Entry *e = v.empty() ? nullptr : im.lookup(v);
    if (!e)
      return std::nullopt;
    SmallVector<SymExpr> out;
    if (e->shp) {
      for (const OptSym &x : e->shp->elems) {
        if (!x)
          return std::nullopt;
        out.push_back(*x);
      }
      return out;
    }
    auto c = ints(v);
    if (!c)
      return std::nullopt;
    for (int64_t x : *c)
      out.push_back(SymExpr::constant(x));
    return out;
  }
  std::optional<SymExpr> size(llvm::StringRef v) {
    auto s = sizes(v);
    return s && s->size() == 1 ? std::optional((*s)[0]) : std::nullopt;
  }
  /// `v` = Slice(src) of [0, end) of one axis (normalized by the rank of
  /// src), unit step; the end as a size.
  std::optional<SymExpr> prefix(llvm::StringRef v, int64_t axis, std::string &src) {
    const Node *n = def(v, "Slice");
    if (!n || !n->attribute().empty())
      return std::nullopt;
    src = in(n, 0);
    int64_t rank = int64_t(dims(src).size());
    auto st = sizes(in(n, 1)), en = sizes(in(n, 2));
    auto ax = in(n, 3).empty() ? std::optional<std::vector<int64_t>>({0}) : ints(in(n, 3));
    if (!st || !en || !ax || st->size() != 1 || en->size() != 1 || ax->size() != 1 ||
        !(*st)[0].isConst(0) || ((*ax)[0] + rank) % rank != axis)
      return std::nullopt;
    if (!in(n, 4).empty()) {
      auto step = ints(in(n, 4));
      if (!step || step->size() != 1 || (*step)[0] != 1)
        return std::nullopt;
    }
    return (*en)[0];
  }
  /// `v` = Pad(src) adding zeros at the end of the last axis only; the
  /// amount as a size (0 without a Pad).
  std::optional<SymExpr> padLast(llvm::StringRef v, std::string &src) {
    const Node *n = def(v, "Pad");
    if (!n) {
      src = v.str();
      return SymExpr::constant(0);
    }
    if (!onlyAttrs(n, {"mode"}) || !attrStrIs(n, "mode", "constant", "constant") ||
        !in(n, 3).empty() || (!in(n, 2).empty() && splat(in(n, 2)) != 0.0))
      return std::nullopt;
    size_t rank = dims(v).size();
    auto pads = sizes(in(n, 1));
    if (!pads || pads->size() != 2 * rank)
      return std::nullopt;
    for (size_t k = 0; k + 1 < 2 * rank; ++k)
      if (!(*pads)[k].isConst(0))
        return std::nullopt;
    src = in(n, 0);
    return pads->back();
  }
  /// `v` = DFT(x, n) of a rank-3 or rank-4 x along its signal axis (the
  /// one before the component axis), one-sided, forward or inverse; the
  /// transform length as a size.
  std::optional<SymExpr> dft(llvm::StringRef v, bool inverse, std::string &x) {
    const Node *d = def(v, "DFT");
    if (!d || !onlyAttrs(d, {"inverse", "onesided", "axis"}) ||
        attrInt(d, "inverse", 0) != int64_t(inverse) || attrInt(d, "onesided", 0) != 1)
      return std::nullopt;
    int64_t axis;
    if (im.opset >= 20) {
      auto a = in(d, 2).empty() ? std::optional<std::vector<int64_t>>({-2}) : ints(in(d, 2));
      if (attr(d, "axis") || !a || a->size() != 1)
        return std::nullopt;
      axis = (*a)[0];
    } else {
      axis = attrInt(d, "axis", 1);
    }
    x = in(d, 0);
    int64_t rank = int64_t(dims(x).size());
    if ((rank != 3 && rank != 4) || (axis != rank - 2 && axis != -2))
      return std::nullopt;
    return size(in(d, 1));
  }
  /// `v` = the forward transform of a zero-padded signal along its last
  /// axis, every sample used (the transform length is the padded length,
  /// which must be N when `lengthN`). Returns the unpadded signal and its pad
  /// amount.
  std::optional<SymExpr> paddedSignalDFT(llvm::StringRef v, std::string &sig, bool lengthN) {
    std::string x, padded;
    auto n = dft(v, false, x);
    if (!n || (lengthN && *n != N))
      return std::nullopt;
    int64_t rank = int64_t(dims(x).size());
    if (!unsqueeze(x, {rank - 1}, padded) || dims(padded).back() != *n || !isF32(padded))
      return std::nullopt;
    return padLast(padded, sig);
  }
  /// The real (part 0) or imaginary (part 1) component of a DFT output:
  /// Slice [part, part + 1) of its last axis.
  bool component(llvm::StringRef v, int64_t part, std::string &f) {
    Ranges r;
    if (!slice(v, f, r) || r.size() != 1)
      return false;
    int64_t last = int64_t(dims(f).size()) - 1;
    return r.count(last) && r[last] == std::pair<int64_t, int64_t>{part, part + 1};
  }
  /// `v` = Mul(x, y) in either order: y.
  std::optional<std::string> mulWith(llvm::StringRef v, llvm::StringRef x) {
    std::string p, q;
    if (!binary(v, "Mul", p, q))
      return std::nullopt;
    if (q == x)
      std::swap(p, q);
    return p == x ? std::optional(q) : std::nullopt;
  }
  bool isConst(llvm::StringRef v) {
    Entry *e = im.lookup(v);
    return e && (e->attr || e->cst);
  }
  /// Values of a constant as f32 with its shape.
  std::optional<std::vector<float>> constValues(llvm::StringRef name, SmallVector<int64_t> &shape) {
    Entry *e = im.lookup(name);
    if (!e)
      return std::nullopt;
    if (e->cst) {
      if (!e->cst->isFloat())
        return std::nullopt;
      shape.assign(e->cst->shape.begin(), e->cst->shape.end());
      return std::vector<float>(e->cst->f.begin(), e->cst->f.end());
    }
    if (!e->attr)
      return std::nullopt;
    auto t = cast<ShapedType>(e->attr.getType());
    shape.assign(t.getShape().begin(), t.getShape().end());
    return constantAsF32(e->attr);
  }
  /// A constant broadcastable to [C, inner] from [.., C|1, inner, (1)]
  /// (leading dims of size 1), as [C, inner] values.
  std::optional<std::vector<double>> perChannel(llvm::StringRef name, int64_t inner,
                                                bool trailingOne) {
    SmallVector<int64_t> shape;
    auto vals = constValues(name, shape);
    if (!vals)
      return std::nullopt;
    if (trailingOne) {
      if (shape.empty() || shape.back() != 1)
        return std::nullopt;
      shape.pop_back();
    }
    while (shape.size() < 2)
      shape.insert(shape.begin(), 1);
    size_t s = shape.size();
    if (shape[s - 1] != inner || (shape[s - 2] != C && shape[s - 2] != 1))
      return std::nullopt;
    for (size_t k = 0; k + 2 < s; ++k)
      if (shape[k] != 1)
        return std::nullopt;
    std::vector<double> out(size_t(C * inner));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t f = 0; f < inner; ++f)
        out[size_t(c * inner + f)] = (*vals)[size_t((shape[s - 2] == 1 ? 0 : c) * inner + f)];
    return out;
  }
  /// Filter taps h [C, k] (lag-major) from a constant spectrum (re, im
  /// [C, nb]): irfft(K, n), when the lags that wrap around into the first L
  /// outputs vanish; k = the lags that may be used.
  std::optional<std::vector<double>> tapsFromSpectrum(llvm::StringRef reName,
                                                      llvm::StringRef imName, int64_t &k);
  /// Filter taps from the transform of a zero-padded constant filter
  /// (its first len taps, len the input's length).
  std::optional<std::vector<double>> tapsFromFilter(llvm::StringRef fRe, int64_t &k);
  /// Defines the anchor's output as the causal convolution of u with taps
  /// [C, stride] (lag-major, the first k used), its first `keep` outputs.
  bool define(const Node &anchor, llvm::StringRef u, const std::vector<double> &taps, int64_t k,
              const SymExpr &keep);
};

std::optional<std::vector<double>>
FFTConvMatcher::tapsFromSpectrum(llvm::StringRef reName, llvm::StringRef imName, int64_t &k) {
  if (!N.isConst() || !L.isConst())
    return std::nullopt;
  const int64_t n = N.c, len = L.c;
  auto re = perChannel(reName, nb, true), imag = perChannel(imName, nb, true);
  if (!re || !imag)
    return std::nullopt;
  k = std::min(len, n - len + 1);
  std::vector<double> taps(size_t(C * k));
  std::vector<cplx> bins(static_cast<size_t>(nb));
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t f = 0; f < nb; ++f)
      bins[size_t(f)] = cplx((*re)[size_t(c * nb + f)], (*imag)[size_t(c * nb + f)]);
    std::vector<double> h = irfft(bins, n);
    double peak = 0, tail = 0; // largest lag that may be used, that wraps
    for (int64_t j = 0; j < n; ++j) {
      double &m = j <= n - len ? peak : tail;
      m = std::max(m, std::abs(h[size_t(j)]));
    }
    if (!std::isfinite(peak) || !std::isfinite(tail) || tail > 1e-5 * peak)
      return std::nullopt;
    for (int64_t j = 0; j < k; ++j)
      taps[size_t(c * k + j)] = h[size_t(j)];
  }
  return taps;
}

std::optional<std::vector<double>> FFTConvMatcher::tapsFromFilter(llvm::StringRef fRe,
                                                                  int64_t &k) {
  // K = rfft(pad(filter[:, :e], P), n') with e and P both the input's
  // length L, n' the padded length min(L, K) + L, and N = 2L: the product
  // with U has N/2 + 1 = L + 1 bins only when n' = N, i.e. K ≥ L, so
  // wherever the model runs (otherwise the product's shapes disagree and
  // the graph fails) the taps are the filter's own, and lags ≥ L reach no
  // kept output. (torch's rfft(k[:, :L], n=2L), which the exporter wrote
  // this way, is that convolution for every L.)
  std::string sig, src;
  auto pad = paddedSignalDFT(fRe, sig, /*lengthN=*/false);
  if (!pad || *pad != L)
    return std::nullopt;
  SymShape sd = dims(sig);
  if (sd.size() != 2 && !(sd.size() == 3 && sd[0].isConst(1)))
    return std::nullopt;
  src = sig;
  if (auto end = prefix(sig, int64_t(sd.size()) - 1, src); end && *end != L)
    return std::nullopt;
  SymShape fd = dims(src);
  if (!isConst(src) || fd.size() != sd.size() || !fd.back().isConst())
    return std::nullopt;
  k = fd.back().c;
  return perChannel(src, k, false);
}

bool FFTConvMatcher::run(const Node &anchor) {
  std::string cur = anchor.output(0), src;
  SymShape yd = dims(cur);
  if (yd.size() != 3 || !isF32(cur))
    return false;
  // [..., :Lout] of the transform's real output (none: all n samples).
  std::optional<SymExpr> lout;
  if (auto e = prefix(cur, 2, src)) {
    lout = e;
    cur = src;
  }
  // Squeeze of the component axis, after an optional real-part Slice.
  const Node *sq = def(cur, "Squeeze");
  auto axes = sq && onlyAttrs(sq, {"axes"}) ? axesOf(sq) : std::nullopt;
  if (!axes || axes->size() != 1 || ((*axes)[0] != 3 && (*axes)[0] != -1))
    return false;
  cur = in(sq, 0);
  Ranges r;
  if (slice(cur, src, r)) {
    if (r.size() != 1 || !r.count(3) || r[3] != std::pair<int64_t, int64_t>{0, 1})
      return false;
    cur = src;
  }
  // The inverse one-sided DFT of the spectrum product.
  std::string prod;
  auto n3 = dft(cur, true, prod);
  if (!n3)
    return false;
  N = *n3;
  SymShape pd = dims(prod);
  if (!pd[1].isConst() || !pd[3].isConst(2))
    return false;
  C = pd[1].c;
  nb = pd[2].isConst() ? pd[2].c : 0;
  // Concat([re(U)·re(K) - im(U)·im(K), re(U)·im(K) + im(U)·re(K)], -1);
  // which factor is the input's transform U is found by trying both.
  const Node *cat = def(prod, "Concat");
  if (!cat || cat->input_size() != 2 || !onlyAttrs(cat, {"axis"}) ||
      (attrInt(cat, "axis", 0) != 3 && attrInt(cat, "axis", 0) != -1))
    return false;
  std::string s1, s2, a1, a2;
  if (!binary(cat->input(0), "Sub", s1, s2) || !binary(cat->input(1), "Add", a1, a2))
    return false;
  const Node *m1 = def(s1, "Mul"), *m2 = def(s2, "Mul");
  if (!m1 || !m2)
    return false;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      std::string ur = m1->input(i), ui = m2->input(j), kr = m1->input(1 - i),
                  ki = m2->input(1 - j), fU, fU2, u;
      if (!component(ur, 0, fU) || !component(ui, 1, fU2) || fU != fU2)
        continue;
      auto p3 = mulWith(a1, ur), p4 = mulWith(a2, ui);
      if (!p3 || !p4) {
        p3 = mulWith(a2, ur);
        p4 = mulWith(a1, ui);
      }
      if (!p3 || !p4 || *p3 != ki || *p4 != kr)
        continue;
      // U: the forward transform of the input u [B, C, L] padded to N.
      auto pad = paddedSignalDFT(fU, u, /*lengthN=*/true);
      if (!pad || isConst(u))
        continue;
      SymShape ud = dims(u);
      if (ud.size() != 3 || ud[1] != SymExpr::constant(C))
        continue;
      L = ud[2];
      // N = L + pad; no output may see a wrapped-around lag: N ≥ L + k - 1.
      if (likeTermsSum({L, *pad}) != N)
        continue;
      std::optional<std::vector<double>> taps;
      int64_t k = 0;
      std::string fK, fK2;
      if (isConst(kr) && isConst(ki)) {
        if (!N.isConst() || nb != N.c / 2 + 1)
          continue;
        taps = tapsFromSpectrum(kr, ki, k);
      } else if (component(kr, 0, fK) && component(ki, 1, fK2) && fK == fK2) {
        if (*pad != L) // lags < L are used: N = 2L leaves them unwrapped
          continue;
        taps = tapsFromFilter(fK, k);
      }
      if (!taps || k < 1)
        continue;
      // The outputs kept: the first Lout ≤ L (all N without a Slice).
      SymExpr keep = lout.value_or(N);
      if (!(keep == L || (keep.isConst() && L.isConst() && keep.c <= L.c)))
        continue;
      if (keep.isConst() && keep.c < k)
        k = keep.c; // lags ≥ Lout reach no kept output
      return define(anchor, u, *taps, k, keep);
    }
  return false;
}

bool FFTConvMatcher::define(const Node &anchor, llvm::StringRef u,
                            const std::vector<double> &taps, int64_t k, const SymExpr &keep) {
  int64_t stride = int64_t(taps.size()) / C; // taps per channel in `taps`
  RawTensor w;
  w.et = im.b.getF32Type();
  w.shape = {C, k};
  w.bytes.resize(size_t(C * k * 4));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t j = 0; j < k; ++j) { // weight[c, k-1-j] multiplies lag j
      float v = float(taps[size_t(c * stride + j)]);
      std::memcpy(w.bytes.data() + 4 * size_t(c * k + (k - 1 - j)), &v, 4);
    }
  Value uv = im.materialize(u);
  if (!uv)
    return false;
  Value wv = im.constantOp(cast<TypedAttr>(rawToAttr(w, "fft_conv_filter")));
  Type f32 = im.b.getF32Type();
  SymShape ud = dims(u);
  SymShape sd{ud[0], SymExpr::constant(C), SymExpr::constant(k - 1)};
  auto op = gate::CausalConvOp::create(im.b, im.loc, im.typeFor(ud, f32), im.typeFor(sd, f32), uv,
                                       wv, Value(), Value(), /*gate=*/Value(),
                                       gate::ConvActivation::none);
  im.setDims(op.getOutput(), ud);
  im.setDims(op.getFinalState(), sd);
  Value y = op.getOutput();
  if (keep != ud[2]) {
    SymShape sizes = ud;
    sizes[2] = keep;
    y = im.extractSlice(y, SymShape(3, SymExpr::constant(0)), sizes, {1, 1, 1});
  }
  Entry e;
  e.value = y;
  e.type = Importer::tt(y);
  im.scope->entries[anchor.output(0)] = std::move(e);
  return true;
}

} // namespace

bool raiseFFTConv(Importer &im, const onnx::GraphProto &g, const llvm::StringMap<int> &producer,
                  const onnx::NodeProto &n) {
  if (n.output_size() < 1 || (n.op_type() != "Slice" && n.op_type() != "Squeeze") ||
      !(n.domain().empty() || n.domain() == "ai.onnx"))
    return false;
  return FFTConvMatcher(im, g, producer).run(n);
}

} // namespace gatec::onnx_frontend::detail
