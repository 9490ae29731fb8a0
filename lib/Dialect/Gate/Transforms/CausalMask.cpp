//===- CausalMask.cpp - proving that an attention mask is causal ----------===//
//
// Used by gate-raise-sdpa: a mask becomes gate.sdpa's `causal` flag only
// with a proof that it equals the causal pattern everywhere.
//
//===----------------------------------------------------------------------===//

#include "CausalMask.h"
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APSInt.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <variant>

using namespace mlir;
using namespace gatec::gate::raise;

namespace {
//===----------------------------------------------------------------------===//
// Causal masks
//===----------------------------------------------------------------------===//
//
// A mask [B,H,Sq,Skv] becomes the `causal` flag only when it provably equals
// the upper-left causal pattern (keep key j for query i iff j <= i) at every
// position and for every size the function accepts. Exporters build such
// masks from indices (Range, Trilu, comparisons, Where) or bake them into
// constants, and near misses (sliding windows, one edited entry, -1e4 fills)
// must stay masks: probing a few positions cannot tell them apart.
//
// The proof walks the mask's def-DAG with symbolic subscripts, affine forms
// of the mask coordinates (b, h, i, j). Each value is classified as
//  - Affine: exactly an integer affine form of (b, h, i, j) (indices, Range,
//    constants, exact casts and sums);
//  - Piecewise: a function of comparisons `a·(j - i) + c <op> 0` of Affine
//    values and of constants only, so a function of d = j - i that is
//    constant between the breakpoints d = -c/a;
//  - Table: a non-affine constant read at affine subscripts.
// A Piecewise mask is then evaluated exactly at a few d around every
// breakpoint and at the ends of the domain, which decides every position. A
// mask that reads other constant data is compared position by position when
// its shape is static and small enough. Everything else is kept.
//
//===----------------------------------------------------------------------===//

/// The mask coordinates (b, h, i, j).
constexpr unsigned kNumCoords = 4;
/// Variables of an affine form: the mask coordinates, then the running index
/// of scans (cumulative sums) being proven constant, then symbols: dynamic
/// sizes (tensor.dim results) the mask's index arithmetic reads.
constexpr unsigned kFirstScanVar = kNumCoords;
constexpr unsigned kNumScanVars = 2;
constexpr unsigned kFirstSymbol = kFirstScanVar + kNumScanVars;
constexpr unsigned kNumSymbols = 4;
constexpr unsigned kNumVars = kFirstSymbol + kNumSymbols;
/// Dynamic sizes are assumed below 2^53: the scores of a longer sequence
/// cannot be materialized. The bound keeps f64 index arithmetic exact.
constexpr int64_t kMaxDynamicExtent = int64_t(1) << 53;
/// Largest static mask that is compared position by position: directly
/// against a constant, or by evaluating the whole graph at every position.
constexpr int64_t kMaxTablePositions = int64_t(1) << 22;
constexpr int64_t kMaxEvaluatedPositions = int64_t(1) << 16;
/// Largest non-splat constant tested for being affine in its indices.
constexpr int64_t kMaxAffineTableElements = int64_t(1) << 20;

// int64 arithmetic that reports overflow (llvm::checkedAdd & co. go through
// APInt, too slow for the position-by-position checks).
std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  return llvm::AddOverflow(a, b, r) ? std::nullopt : std::optional(r);
}
std::optional<int64_t> checkedSub(int64_t a, int64_t b) {
  int64_t r;
  return llvm::SubOverflow(a, b, r) ? std::nullopt : std::optional(r);
}
std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t r;
  return llvm::MulOverflow(a, b, r) ? std::nullopt : std::optional(r);
}

/// coeffs · (b, h, i, j, scan indices, symbols) + cst, with exact integer
/// coefficients.
struct AffineForm {
  std::array<int64_t, kNumVars> coeffs{};
  int64_t cst = 0;

  static AffineForm constant(int64_t c) {
    AffineForm f;
    f.cst = c;
    return f;
  }
  static AffineForm coord(unsigned k) {
    AffineForm f;
    f.coeffs[k] = 1;
    return f;
  }
  bool isConstant() const {
    return llvm::all_of(coeffs, [](int64_t c) { return c == 0; });
  }
  bool dependsOn(unsigned k) const { return coeffs[k] != 0; }
  bool operator==(const AffineForm &o) const { return coeffs == o.coeffs && cst == o.cst; }
  /// Whether only the mask coordinates appear.
  bool onlyCoords() const {
    return llvm::all_of(llvm::drop_begin(coeffs, kNumCoords), [](int64_t c) { return c == 0; });
  }
  /// The value at `point` (mask coordinates), nullopt on overflow or when a
  /// scan index or a symbol appears.
  std::optional<int64_t> at(ArrayRef<int64_t> point) const {
    if (!onlyCoords())
      return std::nullopt;
    std::optional<int64_t> v = cst;
    for (unsigned k = 0; k < kNumCoords && v; ++k)
      if (auto t = checkedMul(coeffs[k], point[k]))
        v = checkedAdd(*v, *t);
      else
        return std::nullopt;
    return v;
  }
};

/// fa·a + fb·b, or nullopt on int64 overflow.
std::optional<AffineForm> combine(const AffineForm &a, int64_t fa, const AffineForm &b,
                                  int64_t fb) {
  auto term = [](int64_t x, int64_t fx, int64_t y, int64_t fy) -> std::optional<int64_t> {
    auto l = checkedMul(x, fx), r = checkedMul(y, fy);
    if (!l || !r)
      return std::nullopt;
    return checkedAdd(*l, *r);
  };
  AffineForm f;
  for (unsigned k = 0; k < kNumVars; ++k) {
    auto c = term(a.coeffs[k], fa, b.coeffs[k], fb);
    if (!c)
      return std::nullopt;
    f.coeffs[k] = *c;
  }
  auto c = term(a.cst, fa, b.cst, fb);
  if (!c)
    return std::nullopt;
  f.cst = *c;
  return f;
}

/// The subscript `e` of a map whose dims read `dims`. Only affine
/// combinations are kept symbolic; divisions need constant operands.
std::optional<AffineForm> compose(AffineExpr e, ArrayRef<AffineForm> dims) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return AffineForm::constant(c.getValue());
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return std::nullopt;
  auto l = compose(bin.getLHS(), dims), r = compose(bin.getRHS(), dims);
  if (!l || !r)
    return std::nullopt;
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return combine(*l, 1, *r, 1);
  case AffineExprKind::Mul:
    if (r->isConstant())
      return combine(*l, r->cst, AffineForm(), 0);
    if (l->isConstant())
      return combine(*r, l->cst, AffineForm(), 0);
    return std::nullopt;
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv:
  case AffineExprKind::Mod: {
    if (!l->isConstant() || !r->isConstant() || r->cst <= 0)
      return std::nullopt;
    int64_t q = e.getKind() == AffineExprKind::CeilDiv ? llvm::divideCeilSigned(l->cst, r->cst)
                                                       : llvm::divideFloorSigned(l->cst, r->cst);
    return AffineForm::constant(e.getKind() == AffineExprKind::Mod ? l->cst - q * r->cst : q);
  }
  default:
    return std::nullopt;
  }
}

/// A concrete scalar: the bits of an integer (index: 64 bits) or a float.
using Scalar = std::variant<APInt, APFloat>;

/// Element `flat` (row-major) of a constant.
std::optional<Scalar> elementAt(ElementsAttr attr, int64_t flat) {
  Type et = attr.getElementType();
  if (attr.isSplat())
    flat = 0;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isa<FloatType>(et))
      return Scalar(*(dense.getValues<APFloat>().begin() + flat));
    if (isa<IntegerType, IndexType>(et))
      return Scalar(*(dense.getValues<APInt>().begin() + flat));
    return std::nullopt;
  }
  // Large imported constants live in resource blobs (host byte order).
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res || !isa<IntegerType, FloatType>(et))
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  unsigned bits = et.getIntOrFloatBitWidth();
  if (!blob || !llvm::is_contained({8u, 16u, 32u, 64u}, bits))
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  size_t bytes = bits / 8;
  if (size_t(flat + 1) * bytes > data.size())
    return std::nullopt;
  const char *p = data.data() + size_t(flat) * bytes;
  auto load = [&](auto word) {
    std::memcpy(&word, p, sizeof(word));
    return uint64_t(word);
  };
  APInt raw(bits, bytes == 1   ? load(uint8_t())
                  : bytes == 2 ? load(uint16_t())
                  : bytes == 4 ? load(uint32_t())
                               : load(uint64_t()));
  if (auto ft = dyn_cast<FloatType>(et))
    return Scalar(APFloat(ft.getFloatSemantics(), raw));
  return Scalar(raw);
}

/// Row-major flat index of `idx` in `shape`, nullopt when out of bounds.
std::optional<int64_t> flatIndex(ArrayRef<int64_t> shape, ArrayRef<int64_t> idx) {
  int64_t flat = 0;
  for (auto [size, x] : llvm::zip_equal(shape, idx)) {
    if (x < 0 || x >= size)
      return std::nullopt;
    flat = flat * size + x;
  }
  return flat;
}

/// The runtime size of dim `d` of `v` as an index value, when `v` is a tensor
/// whose dynamic size the IR names (tensor.empty/splat operands, slice and
/// expand_shape sizes, through elementwise ops and destination operands).
Value dynamicSize(Value v, int64_t d, int depth = 0) {
  auto t = rtt(v);
  if (!t || d >= t.getRank() || !t.isDynamicDim(d) || depth > 32)
    return {};
  Operation *op = v.getDefiningOp();
  if (!op)
    return {};
  auto dynIndex = [&](RankedTensorType type) {
    return llvm::count_if(type.getShape().take_front(d), ShapedType::isDynamic);
  };
  if (auto e = dyn_cast<tensor::EmptyOp>(op))
    return e.getDynamicSize(unsigned(d));
  if (auto s = dyn_cast<tensor::SplatOp>(op))
    return s.getDynamicSizes()[dynIndex(s.getType())];
  if (auto sl = dyn_cast<tensor::ExtractSliceOp>(op)) {
    if (sl.getDroppedDims().any())
      return {};
    return dyn_cast<Value>(sl.getMixedSizes()[d]);
  }
  if (auto ex = dyn_cast<tensor::ExpandShapeOp>(op))
    return dyn_cast<Value>(ex.getMixedOutputShape()[d]);
  if (auto c = dyn_cast<tensor::CastOp>(op))
    return dynamicSize(c.getSource(), d, depth + 1);
  if (auto f = dyn_cast<scf::ForOp>(op))
    return dynamicSize(f.getInits()[cast<OpResult>(v).getResultNumber()], d, depth + 1);
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    return dynamicSize(dps.getDpsInits()[cast<OpResult>(v).getResultNumber()], d, depth + 1);
  if (op->hasTrait<OpTrait::Elementwise>())
    for (Value o : op->getOperands())
      if (rtt(o))
        return dynamicSize(o, d, depth + 1);
  return {};
}

/// `size` as a sum of sizes plus a small constant, through arith.addi: a KV
/// cache's length after appending c tokens (x + c) or T tokens (x + T).
/// ({size}, 0) when it is no such sum.
struct SizeTerms {
  SmallVector<Value, 2> terms;
  int64_t c = 0;
};
SizeTerms sizeTerms(Value size) {
  SizeTerms r;
  SmallVector<Value> work{size};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (std::optional<int64_t> c = getConstantIntValue(v); c && v != size) {
      if (*c <= 0 || r.c + *c >= (1 << 20))
        return {{size}, 0};
      r.c += *c;
    } else if (auto add = v.getDefiningOp<arith::AddIOp>(); add && r.terms.size() < 4) {
      work.append({add.getRhs(), add.getLhs()});
    } else {
      r.terms.push_back(v);
    }
  }
  if (r.terms.empty())
    return {{size}, 0};
  return r;
}

/// The step of a proven-constant scan: scf.for %t = 0 to L step 1 carrying
/// (acc, out) with acc' = acc + x[..., t, ...], out[..., t, ...] = acc' (an
/// inclusive cumulative sum along one axis, as the importer lowers CumSum),
/// where x is one value c at every t: element s of `out` is acc0 + c·(s+1).
struct ScanFacts {
  DenseMap<Operation *, std::optional<int64_t>> step;
};

/// The parts of such a scan, or nullopt when `op` is not one.
struct ScanShape {
  Value x;                  // the summed tensor
  Value init;               // acc0 (scalar)
  Value length;             // L
  unsigned axis;            // where t indexes x and out
  SmallVector<Value> index; // the other subscripts (constants), t at `axis`
};
std::optional<ScanShape> matchScan(scf::ForOp f) {
  if (f.getNumResults() != 2 || !matchPattern(f.getLowerBound(), m_Zero()) ||
      !matchPattern(f.getStep(), m_One()) || !isa<IntegerType>(f.getResult(0).getType()) ||
      !rtt(f.getResult(1)))
    return std::nullopt;
  Block *body = f.getBody();
  auto yield = cast<scf::YieldOp>(body->getTerminator());
  if (body->getOperations().size() != 4)
    return std::nullopt;
  auto ins = yield.getOperand(1).getDefiningOp<tensor::InsertOp>();
  auto add = yield.getOperand(0).getDefiningOp<arith::AddIOp>();
  if (!ins || !add || ins.getScalar() != add.getResult() ||
      ins.getDest() != f.getRegionIterArgs()[1] || add.getLhs() != f.getRegionIterArgs()[0])
    return std::nullopt;
  auto ext = add.getRhs().getDefiningOp<tensor::ExtractOp>();
  if (!ext || ext.getIndices() != ins.getIndices())
    return std::nullopt;
  ScanShape s;
  s.x = ext.getTensor();
  s.init = f.getInits()[0];
  s.length = f.getUpperBound();
  std::optional<unsigned> axis;
  for (auto [k, idx] : llvm::enumerate(ins.getIndices())) {
    if (idx == f.getInductionVar()) {
      if (axis)
        return std::nullopt;
      axis = k;
    } else if (!matchPattern(idx, m_Constant())) {
      return std::nullopt;
    }
    s.index.push_back(idx);
  }
  if (!axis || rtt(s.x).getShape() != rtt(f.getResult(1)).getShape())
    return std::nullopt;
  s.axis = *axis;
  // Every element along the axis is written: L is the result's size there
  // (the other dims are read only at the constants the loop writes).
  auto outT = rtt(f.getResult(1));
  if (outT.isDynamicDim(*axis) ? dynamicSize(f.getResult(1), *axis) != s.length
                               : getConstantIntValue(s.length) != outT.getDimSize(*axis))
    return std::nullopt;
  return s;
}

class SymbolicDomain;

/// Walks a mask's def-DAG, reading tensors at affine subscripts of the mask
/// coordinates, and combines the values through `Domain`:
///   Val                 the value of one element;
///   constant(attr, subs), index(sub), asSubscript(val), apply(op, vals),
///   decided(val) (a known i1), size(value) (a dynamic size), inRange(x,
///   lo, hi) (lo <= x < hi, when decided), same(a, b), scanValue(...).
/// Handles data movement (broadcasts, transposes, reshapes, slices, concats),
/// splats and fills, elementwise ops, linalg.generic maps (their bodies read
/// on demand, so a select or scf.if only reads the branch it takes), the
/// importer's gathers (tensor.extract at computed subscripts) and cumulative
/// sums of a constant; fails on anything else (function arguments,
/// reductions, unknown ops).
template <typename Domain> class MaskWalker {
public:
  using Val = typename Domain::Val;

  explicit MaskWalker(Domain &dom) : dom(dom) {}

  std::optional<Val> evaluate(Value v, ArrayRef<AffineForm> subs) {
    steps = 0;
    return at(v, subs);
  }

private:
  // A bound on the walk: masks are small graphs, but a DAG read through many
  // paths would be walked once per path.
  static constexpr int kMaxSteps = 8192;

  std::optional<AffineForm> scalarForm(Value v) {
    auto x = at(v, {});
    return x ? dom.asSubscript(*x) : std::nullopt;
  }

  /// Size of dim `d` of `v` as a form (a constant when static).
  std::optional<AffineForm> sizeForm(Value v, int64_t d) {
    int64_t n = rtt(v).getDimSize(d);
    if (!ShapedType::isDynamic(n))
      return AffineForm::constant(n);
    Value size = dynamicSize(v, d);
    return size ? scalarForm(size) : std::nullopt;
  }

  std::optional<Val> at(Value v, ArrayRef<AffineForm> subs) {
    if (++steps > kMaxSteps)
      return std::nullopt;
    auto shaped = dyn_cast<ShapedType>(v.getType());
    if (shaped ? !isa<RankedTensorType>(shaped) || shaped.getRank() != int64_t(subs.size())
               : !subs.empty())
      return std::nullopt;
    if (v.getType().isIndex())
      if (auto s = dom.size(v))
        return s;
    Attribute attr;
    if (matchPattern(v, m_Constant(&attr)))
      return dom.constant(attr, subs);
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto g = dyn_cast<linalg::GenericOp>(op))
      return atGeneric(g, cast<OpResult>(v).getResultNumber(), subs);
    if (auto f = dyn_cast<scf::ForOp>(op))
      return atScan(f, cast<OpResult>(v).getResultNumber(), subs);
    if (auto bc = dyn_cast<linalg::BroadcastOp>(op)) {
      SmallVector<AffineForm> in;
      for (auto [d, s] : llvm::enumerate(subs))
        if (!llvm::is_contained(bc.getDimensions(), int64_t(d)))
          in.push_back(s);
      return at(bc.getInput(), in);
    }
    if (auto tr = dyn_cast<linalg::TransposeOp>(op)) {
      SmallVector<AffineForm> in(subs.size());
      for (auto [d, p] : llvm::enumerate(tr.getPermutation()))
        in[p] = subs[d];
      return at(tr.getInput(), in);
    }
    if (auto fill = dyn_cast<linalg::FillOp>(op))
      return at(fill.getInputs()[0], {});
    if (auto splat = dyn_cast<tensor::SplatOp>(op))
      return at(splat.getInput(), {});
    if (auto fe = dyn_cast<tensor::FromElementsOp>(op)) {
      SmallVector<int64_t> idx;
      for (const AffineForm &s : subs) {
        if (!s.isConstant())
          return std::nullopt;
        idx.push_back(s.cst);
      }
      auto flat = flatIndex(fe.getType().getShape(), idx);
      if (!flat)
        return std::nullopt;
      return at(fe.getElements()[*flat], {});
    }
    if (auto ex = dyn_cast<tensor::ExpandShapeOp>(op)) {
      // A source index is the row-major linearization of its group; a
      // dynamic size only matters to the dims outside it that are not 0.
      ArrayRef<int64_t> shape = ex.getResultType().getShape();
      SmallVector<AffineForm> in;
      for (const ReassociationIndices &group : ex.getReassociationIndices()) {
        std::optional<AffineForm> src = AffineForm();
        std::optional<int64_t> stride = 1;
        for (int64_t d : llvm::reverse(group)) {
          const AffineForm &s = subs[d];
          if (!s.isConstant() || s.cst != 0) {
            if (!stride)
              return std::nullopt;
            src = combine(*src, 1, s, *stride);
            if (!src)
              return std::nullopt;
          }
          if (stride && !ShapedType::isDynamic(shape[d]))
            stride = checkedMul(*stride, shape[d]);
          else
            stride.reset();
        }
        in.push_back(*src);
      }
      return at(ex.getSrc(), in);
    }
    if (auto co = dyn_cast<tensor::CollapseShapeOp>(op)) {
      // Delinearizing is affine only when the rest of the group is unit dims
      // (or the subscript is a known constant).
      ArrayRef<int64_t> shape = co.getSrcType().getShape();
      SmallVector<AffineForm> in(shape.size());
      for (auto [r, group] : llvm::enumerate(co.getReassociationIndices())) {
        auto wide = llvm::to_vector(
            llvm::make_filter_range(group, [&](int64_t d) { return shape[d] != 1; }));
        if (wide.size() <= 1) {
          for (int64_t d : group)
            in[d] = llvm::is_contained(wide, d) ? subs[r] : AffineForm();
          continue;
        }
        if (!subs[r].isConstant())
          return std::nullopt;
        int64_t rest = subs[r].cst;
        for (int64_t d : llvm::reverse(group)) {
          if (d == group.front()) {
            in[d] = AffineForm::constant(rest);
            break;
          }
          if (ShapedType::isDynamic(shape[d]))
            return std::nullopt;
          in[d] = AffineForm::constant(rest % shape[d]);
          rest /= shape[d];
        }
      }
      return at(co.getSrc(), in);
    }
    if (auto sl = dyn_cast<tensor::ExtractSliceOp>(op)) {
      if (ShapedType::isDynamicShape(sl.getStaticStrides()))
        return std::nullopt;
      llvm::SmallBitVector dropped = sl.getDroppedDims();
      SmallVector<AffineForm> in;
      auto sub = subs.begin();
      for (auto [d, offset, stride] :
           llvm::enumerate(sl.getMixedOffsets(), sl.getStaticStrides())) {
        std::optional<AffineForm> off;
        if (auto c = getConstantIntValue(offset))
          off = AffineForm::constant(*c);
        else
          off = scalarForm(cast<Value>(offset));
        if (!off)
          return std::nullopt;
        auto s = combine(dropped[d] ? AffineForm() : *sub++, stride, *off, 1);
        if (!s)
          return std::nullopt;
        in.push_back(*s);
      }
      return at(sl.getSource(), in);
    }
    if (auto cat = dyn_cast<tensor::ConcatOp>(op))
      return atConcat(cat, subs);
    if (auto ext = dyn_cast<tensor::ExtractOp>(op)) {
      SmallVector<AffineForm> in;
      for (Value idx : ext.getIndices()) {
        auto s = scalarForm(idx);
        if (!s)
          return std::nullopt;
        in.push_back(*s);
      }
      return at(ext.getTensor(), in);
    }
    if (auto sel = dyn_cast<arith::SelectOp>(op)) {
      // Only the branch taken, when the condition is known.
      Value c = sel.getCondition();
      auto cv = at(c, rtt(c) ? subs : ArrayRef<AffineForm>());
      if (!cv)
        return std::nullopt;
      if (auto taken = dom.decided(*cv))
        return at(*taken ? sel.getTrueValue() : sel.getFalseValue(), subs);
      auto a = at(sel.getTrueValue(), subs), b = at(sel.getFalseValue(), subs);
      if (!a || !b)
        return std::nullopt;
      return dom.apply(op, {*cv, *a, *b});
    }
    if (op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1 &&
        op->getNumRegions() == 0) {
      SmallVector<Val, 4> args;
      for (Value o : op->getOperands()) {
        auto x = at(o, isa<ShapedType>(o.getType()) ? subs : ArrayRef<AffineForm>());
        if (!x)
          return std::nullopt;
        args.push_back(std::move(*x));
      }
      return dom.apply(op, args);
    }
    return std::nullopt;
  }

  /// tensor.concat: the part that holds the subscript. When that depends on
  /// the position, every part that may hold it must give the same value.
  std::optional<Val> atConcat(tensor::ConcatOp cat, ArrayRef<AffineForm> subs) {
    int64_t axis = int64_t(cat.getDim());
    AffineForm offset;
    std::optional<Val> found;
    for (Value part : cat.getInputs()) {
      auto size = sizeForm(part, axis);
      if (!size)
        return std::nullopt;
      auto end = combine(offset, 1, *size, 1);
      if (!end)
        return std::nullopt;
      std::optional<bool> inside = dom.inRange(subs[axis], offset, *end);
      if (inside != false) {
        SmallVector<AffineForm> in(subs);
        auto local = combine(subs[axis], 1, offset, -1);
        if (!local)
          return std::nullopt;
        in[axis] = *local;
        auto x = at(part, in);
        if (!x)
          return std::nullopt;
        if (inside == true)
          return x;
        if (found && !dom.same(*found, *x))
          return std::nullopt;
        found = std::move(x);
      }
      offset = *end;
    }
    return found;
  }

  /// A read of a cumulative sum (see ScanShape) whose summand is constant.
  std::optional<Val> atScan(scf::ForOp f, unsigned resultNo, ArrayRef<AffineForm> subs) {
    auto scan = matchScan(f);
    if (!scan || resultNo != 1)
      return std::nullopt;
    // Other subscripts must be the ones the loop writes.
    for (auto [k, idx] : llvm::enumerate(scan->index)) {
      if (k == scan->axis)
        continue;
      auto c = getConstantIntValue(idx);
      if (!c || !subs[k].isConstant() || subs[k].cst != *c)
        return std::nullopt;
    }
    auto it = facts().step.find(f);
    if (it == facts().step.end()) {
      std::optional<int64_t> step;
      if constexpr (std::is_same_v<Domain, SymbolicDomain>)
        step = proveScanStep(*scan);
      it = facts().step.try_emplace(f, step).first;
    }
    if (!it->second)
      return std::nullopt;
    auto init = at(scan->init, {});
    if (!init)
      return std::nullopt;
    return dom.scanValue(*init, *it->second, subs[scan->axis], f.getResult(0).getType());
  }

  /// The constant value of the summand at every t in [0, L), or nullopt.
  std::optional<int64_t> proveScanStep(const ScanShape &scan) {
    auto length = scalarForm(scan.length);
    if (!length)
      return std::nullopt;
    auto t = dom.pushScanVar(*length);
    if (!t)
      return std::nullopt;
    SmallVector<AffineForm> in;
    for (auto [k, idx] : llvm::enumerate(scan.index))
      in.push_back(k == scan.axis ? AffineForm::coord(*t)
                                  : AffineForm::constant(*getConstantIntValue(idx)));
    auto x = at(scan.x, in);
    dom.popScanVar();
    auto form = x ? dom.asSubscript(*x) : std::nullopt;
    if (!form || !form->isConstant())
      return std::nullopt;
    return form->cst;
  }

  ScanFacts &facts() { return dom.scanFacts(); }

  /// A parallel linalg.generic: its body evaluated on the inputs it reads.
  std::optional<Val> atGeneric(linalg::GenericOp g, unsigned resultNo, ArrayRef<AffineForm> subs) {
    if (g.getNumReductionLoops() != 0 || !g.hasPureTensorSemantics())
      return std::nullopt;
    AffineMap outMap = g.getMatchingIndexingMap(g.getDpsInitOperand(resultNo));
    if (!outMap.isPermutation())
      return std::nullopt;
    SmallVector<AffineForm> loops(g.getNumLoops());
    for (unsigned r = 0; r < outMap.getNumResults(); ++r)
      loops[outMap.getDimPosition(r)] = subs[r];

    Region &region = g.getRegion();
    Block &body = region.front();
    DenseMap<Value, Val> env;
    // Body values on demand: an input read at its map, an op evaluated once,
    // a select or scf.if through the branch it takes; values from above
    // (constants, sizes) are read as scalars.
    std::function<std::optional<Val>(Value)> eval = [&](Value v) -> std::optional<Val> {
      if (auto it = env.find(v); it != env.end())
        return it->second;
      if (++steps > kMaxSteps)
        return std::nullopt;
      std::optional<Val> r;
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        if (arg.getOwner() != &body || arg.getArgNumber() >= g.getNumDpsInputs())
          return std::nullopt; // inits are not values of a pure map
        OpOperand *in = g.getDpsInputOperand(arg.getArgNumber());
        SmallVector<AffineForm> inSubs;
        for (AffineExpr e : g.getMatchingIndexingMap(in).getResults()) {
          auto s = compose(e, loops);
          if (!s)
            return std::nullopt;
          inSubs.push_back(*s);
        }
        r = at(in->get(), inSubs);
      } else if (!region.isAncestor(v.getParentRegion())) {
        r = at(v, {});
      } else {
        Operation *inner = v.getDefiningOp();
        if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
          r = dom.index(loops[idx.getDim()]);
        } else if (auto sel = dyn_cast<arith::SelectOp>(inner)) {
          auto c = eval(sel.getCondition());
          if (!c)
            return std::nullopt;
          if (auto taken = dom.decided(*c)) {
            r = eval(*taken ? sel.getTrueValue() : sel.getFalseValue());
          } else {
            auto a = eval(sel.getTrueValue()), b = eval(sel.getFalseValue());
            if (!a || !b)
              return std::nullopt;
            r = dom.apply(inner, {*c, *a, *b});
          }
        } else if (auto ifOp = dyn_cast<scf::IfOp>(inner)) {
          auto c = eval(ifOp.getCondition());
          auto taken = c ? dom.decided(*c) : std::nullopt;
          if (!taken)
            return std::nullopt;
          Block *blk = *taken ? ifOp.thenBlock() : ifOp.elseBlock();
          if (!blk)
            return std::nullopt;
          r = eval(cast<scf::YieldOp>(blk->getTerminator())
                       .getOperand(cast<OpResult>(v).getResultNumber()));
        } else if (auto ext = dyn_cast<tensor::ExtractOp>(inner)) {
          SmallVector<AffineForm> in;
          for (Value idx : ext.getIndices()) {
            auto x = eval(idx);
            auto s = x ? dom.asSubscript(*x) : std::nullopt;
            if (!s)
              return std::nullopt;
            in.push_back(*s);
          }
          if (region.isAncestor(ext.getTensor().getParentRegion()))
            return std::nullopt;
          r = at(ext.getTensor(), in);
        } else if (inner->getNumResults() == 1 && inner->getNumRegions() == 0) {
          SmallVector<Val, 4> args;
          for (Value o : inner->getOperands()) {
            auto x = eval(o);
            if (!x)
              return std::nullopt;
            args.push_back(std::move(*x));
          }
          r = dom.apply(inner, args);
        }
      }
      if (r)
        env.try_emplace(v, *r);
      return r;
    };
    return eval(cast<linalg::YieldOp>(body.getTerminator()).getValues()[resultNo]);
  }

  Domain &dom;
  int steps = 0;
};

/// Exact scalar semantics of the ops a mask is built from, at one position:
/// subscripts are constant forms, integers keep their width and wrap, floats
/// round as the arith ops do.
class ConcreteDomain {
public:
  using Val = Scalar;

  /// `sizes`: the dynamic sizes, by the value that names them; `facts`: the
  /// scans the symbolic walk proved.
  ConcreteDomain(ScanFacts &facts, DenseMap<Value, int64_t> sizes)
      : facts(facts), sizes(std::move(sizes)) {}

  ScanFacts &scanFacts() { return facts; }

  std::optional<bool> decided(const Scalar &v) {
    auto *i = std::get_if<APInt>(&v);
    if (!i || i->getBitWidth() != 1)
      return std::nullopt;
    return !i->isZero();
  }

  std::optional<Scalar> size(Value v) {
    auto it = sizes.find(v);
    if (it == sizes.end())
      return std::nullopt;
    return Scalar(APInt(64, it->second, /*isSigned=*/true));
  }

  std::optional<bool> inRange(const AffineForm &x, const AffineForm &lo, const AffineForm &hi) {
    if (!x.isConstant() || !lo.isConstant() || !hi.isConstant())
      return std::nullopt;
    return lo.cst <= x.cst && x.cst < hi.cst;
  }

  bool same(const Scalar &a, const Scalar &b) {
    auto *x = std::get_if<APInt>(&a), *y = std::get_if<APInt>(&b);
    return x && y && x->getBitWidth() == y->getBitWidth() && *x == *y;
  }

  /// acc0 + step·(s + 1), wrapped to the accumulator's width.
  std::optional<Scalar> scanValue(const Scalar &init, int64_t step, const AffineForm &sub,
                                  Type) {
    auto *i = std::get_if<APInt>(&init);
    if (!i || !sub.isConstant())
      return std::nullopt;
    auto n = checkedAdd(sub.cst, 1);
    auto t = n ? checkedMul(step, *n) : std::nullopt;
    if (!t)
      return std::nullopt;
    return Scalar(*i + APInt(i->getBitWidth(), uint64_t(*t), /*isSigned=*/true,
                             /*implicitTrunc=*/true));
  }

  std::optional<Scalar> constant(Attribute attr, ArrayRef<AffineForm> subs) {
    if (auto i = dyn_cast<IntegerAttr>(attr))
      return Scalar(i.getValue());
    if (auto f = dyn_cast<FloatAttr>(attr))
      return Scalar(f.getValue());
    auto elems = dyn_cast<ElementsAttr>(attr);
    if (!elems)
      return std::nullopt;
    SmallVector<int64_t> idx;
    for (const AffineForm &s : subs)
      idx.push_back(s.cst);
    auto flat = flatIndex(elems.getShapedType().getShape(), idx);
    if (!flat)
      return std::nullopt;
    return elementAt(elems, *flat);
  }

  std::optional<Scalar> index(const AffineForm &sub) {
    return Scalar(APInt(64, sub.cst, /*isSigned=*/true));
  }

  std::optional<AffineForm> asSubscript(const Scalar &v) {
    auto *i = std::get_if<APInt>(&v);
    if (!i || i->getBitWidth() > 64)
      return std::nullopt;
    return AffineForm::constant(i->getSExtValue());
  }

  std::optional<Scalar> apply(Operation *op, ArrayRef<Scalar> args) {
    for (auto [o, a] : llvm::zip_equal(op->getOperands(), args))
      if (isa<FloatType>(getElementTypeOrSelf(o.getType())) != std::holds_alternative<APFloat>(a))
        return std::nullopt;
    // Flags that make infinities poison, or rounding other than the default,
    // would change the values compared below.
    if (auto fm = dyn_cast<arith::ArithFastMathInterface>(op))
      if (arith::bitEnumContainsAny(fm.getFastMathFlagsAttr().getValue(),
                                    arith::FastMathFlags::nnan | arith::FastMathFlags::ninf))
        return std::nullopt;
    if (auto rm = dyn_cast<arith::ArithRoundingModeInterface>(op))
      if (auto mode = rm.getRoundingModeAttr();
          mode && mode.getValue() != arith::RoundingMode::to_nearest_even)
        return std::nullopt;

    Type rt = getElementTypeOrSelf(op->getResult(0).getType());
    unsigned width = rt.isIndex() ? 64 : rt.isIntOrFloat() ? rt.getIntOrFloatBitWidth() : 0;
    auto I = [&](unsigned k) -> const APInt & { return std::get<APInt>(args[k]); };
    auto F = [&](unsigned k) -> const APFloat & { return std::get<APFloat>(args[k]); };
    constexpr auto rne = APFloat::rmNearestTiesToEven;
    using R = std::optional<Scalar>;
    using OvFn = APInt (APInt::*)(const APInt &, bool &) const;
    // nsw / nuw make an overflowing result poison.
    auto wrapping = [&](arith::IntegerOverflowFlags flags, OvFn sop, OvFn uop) -> R {
      bool sov = false, uov = false;
      APInt r = (I(0).*sop)(I(1), sov);
      (void)(I(0).*uop)(I(1), uov);
      if ((sov && arith::bitEnumContainsAny(flags, arith::IntegerOverflowFlags::nsw)) ||
          (uov && arith::bitEnumContainsAny(flags, arith::IntegerOverflowFlags::nuw)))
        return std::nullopt;
      return Scalar(r);
    };
    auto floatOp =
        [&](APFloat::opStatus (APFloat::*fn)(const APFloat &, APFloat::roundingMode)) -> R {
      APFloat r = F(0);
      (r.*fn)(F(1), rne);
      return Scalar(r);
    };
    auto toFloat = [&](bool isSigned) -> R {
      APFloat r(cast<FloatType>(rt).getFloatSemantics());
      r.convertFromAPInt(I(0), isSigned, rne);
      return Scalar(r);
    };
    auto toInt = [&](bool isUnsigned) -> R {
      APSInt r(width, isUnsigned);
      bool exact;
      if (F(0).convertToInteger(r, APFloat::rmTowardZero, &exact) & APFloat::opInvalidOp)
        return std::nullopt; // out of range: poison
      return Scalar(APInt(r));
    };
    auto convert = [&]() -> R {
      APFloat r = F(0);
      bool loses;
      r.convert(cast<FloatType>(rt).getFloatSemantics(), rne, &loses);
      return Scalar(r);
    };
    return llvm::TypeSwitch<Operation *, R>(op)
        .Case([&](arith::AddIOp o) {
          return wrapping(o.getOverflowFlags(), &APInt::sadd_ov, &APInt::uadd_ov);
        })
        .Case([&](arith::SubIOp o) {
          return wrapping(o.getOverflowFlags(), &APInt::ssub_ov, &APInt::usub_ov);
        })
        .Case([&](arith::MulIOp o) {
          return wrapping(o.getOverflowFlags(), &APInt::smul_ov, &APInt::umul_ov);
        })
        .Case([&](arith::AndIOp) { return Scalar(I(0) & I(1)); })
        .Case([&](arith::OrIOp) { return Scalar(I(0) | I(1)); })
        .Case([&](arith::XOrIOp) { return Scalar(I(0) ^ I(1)); })
        .Case([&](arith::MaxSIOp) { return Scalar(llvm::APIntOps::smax(I(0), I(1))); })
        .Case([&](arith::MinSIOp) { return Scalar(llvm::APIntOps::smin(I(0), I(1))); })
        .Case([&](arith::MaxUIOp) { return Scalar(llvm::APIntOps::umax(I(0), I(1))); })
        .Case([&](arith::MinUIOp) { return Scalar(llvm::APIntOps::umin(I(0), I(1))); })
        .Case([&](arith::CmpIOp o) {
          return Scalar(APInt(1, arith::applyCmpPredicate(o.getPredicate(), I(0), I(1))));
        })
        .Case([&](arith::CmpFOp o) {
          return Scalar(APInt(1, arith::applyCmpPredicate(o.getPredicate(), F(0), F(1))));
        })
        .Case([&](arith::SelectOp) { return I(0).isZero() ? args[2] : args[1]; })
        .Case([&](arith::ExtUIOp) { return Scalar(I(0).zext(width)); })
        .Case([&](arith::ExtSIOp) { return Scalar(I(0).sext(width)); })
        .Case([&](arith::TruncIOp) { return Scalar(I(0).trunc(width)); })
        .Case([&](arith::IndexCastOp) { return Scalar(I(0).sextOrTrunc(width)); })
        .Case([&](arith::IndexCastUIOp) { return Scalar(I(0).zextOrTrunc(width)); })
        .Case([&](arith::SIToFPOp) { return toFloat(/*isSigned=*/true); })
        .Case([&](arith::UIToFPOp) { return toFloat(/*isSigned=*/false); })
        .Case([&](arith::FPToSIOp) { return toInt(/*isUnsigned=*/false); })
        .Case([&](arith::FPToUIOp) { return toInt(/*isUnsigned=*/true); })
        .Case([&](arith::AddFOp) { return floatOp(&APFloat::add); })
        .Case([&](arith::SubFOp) { return floatOp(&APFloat::subtract); })
        .Case([&](arith::MulFOp) { return floatOp(&APFloat::multiply); })
        .Case([&](arith::DivFOp) { return floatOp(&APFloat::divide); })
        .Case([&](arith::NegFOp) { return Scalar(neg(F(0))); })
        .Case<arith::ExtFOp, arith::TruncFOp>([&](Operation *) { return convert(); })
        .Case([&](arith::MaximumFOp) { return Scalar(llvm::maximum(F(0), F(1))); })
        .Case([&](arith::MinimumFOp) { return Scalar(llvm::minimum(F(0), F(1))); })
        .Case([&](arith::MaxNumFOp) { return Scalar(llvm::maxnum(F(0), F(1))); })
        .Case([&](arith::MinNumFOp) { return Scalar(llvm::minnum(F(0), F(1))); })
        .Default([](Operation *) -> R { return std::nullopt; });
  }

private:
  ScanFacts &facts;
  DenseMap<Value, int64_t> sizes;
};

/// What the symbolic walk knows about one element of a mask value.
struct SymVal {
  enum class Kind { Affine, Piecewise, Table } kind;
  AffineForm form;    // Affine: the exact value
  ElementsAttr table; // Table: table[subs]
  SmallVector<AffineForm, 4> subs;
  std::optional<bool> known; // Piecewise i1: the same value everywhere

  static SymVal affine(const AffineForm &f) { return {Kind::Affine, f, {}, {}, {}}; }
  static SymVal piecewise() { return {Kind::Piecewise, {}, {}, {}, {}}; }
  static SymVal boolean(bool b) { return {Kind::Piecewise, {}, {}, {}, b}; }
  static SymVal tableAt(ElementsAttr t, ArrayRef<AffineForm> subs) {
    return {Kind::Table, {}, t, SmallVector<AffineForm, 4>(subs), {}};
  }
  /// Constant over the whole mask, or a function of the comparisons alone.
  bool isPiecewise() const {
    return kind == Kind::Piecewise || (kind == Kind::Affine && form.isConstant());
  }
};

/// Classifies mask values (see the section comment) and collects the values
/// of d = j - i around which a Piecewise value may change.
class SymbolicDomain {
public:
  using Val = SymVal;

  SymbolicDomain(MLIRContext *ctx, ArrayRef<int64_t> extents, ScanFacts &facts)
      : ctx(ctx), facts(facts) {
    llvm::copy(extents, this->extents.begin());
    for (unsigned k = 0; k < kNumCoords; ++k) {
      upper[k] = AffineForm::constant(std::max<int64_t>(extents[k] - 1, 0));
      exact[k] = extents[k] != kMaxDynamicExtent;
    }
  }

  ArrayRef<int64_t> breakpoints() const { return points; }
  ScanFacts &scanFacts() { return facts; }

  /// Bottom-right frame: comparisons are read as functions of
  /// d = j - i - (Skv - Sq) (query i at key position i + Skv - Sq), the
  /// offset a form of the extents' symbols. Call after setExtent.
  bool alignToLastKey() {
    // Both extents static or named: an unnamed dynamic extent's form is a
    // placeholder, not its size.
    if (!exact[2] || !exact[3])
      return false;
    shift = combine(upper[3], 1, upper[2], -1);
    return shift && llvm::none_of(llvm::seq(0u, kFirstSymbol),
                         [&](unsigned k) { return shift->dependsOn(k); });
  }
  /// Whether the offset Skv - Sq is >= 0 for every size.
  bool shiftNonNegative() const { return shift && signNonNegative(*shift) == true; }

  /// Names the dynamic extent of mask coordinate `k`: `size` is a symbol of
  /// at least 1 (a mask with an element has every extent >= 1) and the
  /// coordinate is at most size - 1.
  bool setExtent(unsigned k, Value size) {
    // x + c or x + y (a KV cache's length after appending c or y tokens):
    // the extent in terms of x (and y), which the mask's positions may read
    // too.
    auto form = sumForm(size);
    if (!form)
      return false;
    upper[k] = *form;
    upper[k].cst -= 1;
    exact[k] = true;
    return true;
  }

  std::optional<SymVal> size(Value v) {
    // A size named as a mask extent, or any other tensor.dim (at least 0),
    // or a sum of those.
    if (!llvm::is_contained(symbols, v) && !v.getDefiningOp<tensor::DimOp>() &&
        !v.getDefiningOp<arith::AddIOp>())
      return std::nullopt;
    auto form = sumForm(v);
    if (!form)
      return std::nullopt;
    return SymVal::affine(*form);
  }

  std::optional<bool> decided(const SymVal &v) { return v.known; }

  std::optional<bool> inRange(const AffineForm &x, const AffineForm &lo, const AffineForm &hi) {
    auto fromLo = combine(x, 1, lo, -1), toHi = combine(hi, 1, x, -1);
    if (!fromLo || !toHi)
      return std::nullopt;
    toHi->cst -= 1;
    auto a = signNonNegative(*fromLo), b = signNonNegative(*toHi);
    if (a == false || b == false)
      return false;
    if (a && b)
      return true;
    return std::nullopt;
  }

  bool same(const SymVal &a, const SymVal &b) {
    if (a.kind == SymVal::Kind::Affine && b.kind == SymVal::Kind::Affine)
      return a.form == b.form;
    return a.known && b.known && *a.known == *b.known;
  }

  std::optional<SymVal> scanValue(const SymVal &init, int64_t step, const AffineForm &sub,
                                  Type t) {
    if (init.kind != SymVal::Kind::Affine)
      return std::nullopt;
    auto n = combine(sub, step, AffineForm::constant(1), step);
    auto f = n ? combine(init.form, 1, *n, 1) : std::nullopt;
    return f ? affine(*f, t) : std::nullopt;
  }

  /// A fresh running index in [0, length): its variable, or nullopt.
  std::optional<unsigned> pushScanVar(const AffineForm &length) {
    if (numScans == kNumScanVars ||
        llvm::any_of(llvm::seq(0u, kFirstSymbol), [&](unsigned k) { return length.dependsOn(k); }))
      return std::nullopt;
    unsigned var = kFirstScanVar + numScans++;
    upper[var] = length;
    upper[var].cst -= 1;
    return var;
  }
  void popScanVar() { --numScans; }

  std::optional<SymVal> constant(Attribute attr, ArrayRef<AffineForm> subs) {
    if (isa<IntegerAttr>(attr))
      return fromScalar(cast<IntegerAttr>(attr).getValue());
    if (isa<FloatAttr>(attr))
      return fromScalar(cast<FloatAttr>(attr).getValue());
    auto elems = dyn_cast<ElementsAttr>(attr);
    if (!elems)
      return std::nullopt;
    if (elems.isSplat()) {
      auto s = elementAt(elems, 0);
      return s ? fromScalar(*s) : std::nullopt;
    }
    // An index table (a folded Range) stays symbolic; other data is only
    // read position by position.
    if (auto f = affineTable(elems, subs))
      return affine(*f, elems.getElementType());
    return SymVal::tableAt(elems, subs);
  }

  std::optional<SymVal> index(const AffineForm &sub) { return affine(sub, IndexType::get(ctx)); }

  std::optional<AffineForm> asSubscript(const SymVal &v) {
    if (v.kind != SymVal::Kind::Affine)
      return std::nullopt;
    return v.form;
  }

  std::optional<SymVal> apply(Operation *op, ArrayRef<SymVal> args) {
    auto is = [&](auto pred) { return llvm::all_of(args, pred); };
    bool allAffine = is([](const SymVal &v) { return v.kind == SymVal::Kind::Affine; });
    bool allPiecewise = is([](const SymVal &v) { return v.isPiecewise(); });
    if (isa<arith::CmpIOp, arith::CmpFOp>(op)) {
      if (allAffine)
        return compare(op, args[0].form, args[1].form);
      if (!allPiecewise)
        return std::nullopt;
    }
    if (auto r = logic(op, args))
      return r;
    if (allAffine)
      if (auto f = affineOp(op, args))
        return f;
    // Any other op on comparisons and constants: evaluated exactly later.
    if (allPiecewise)
      return SymVal::piecewise();
    return std::nullopt;
  }

private:
  /// Selects and boolean logic on values known everywhere.
  std::optional<SymVal> logic(Operation *op, ArrayRef<SymVal> args) {
    if (isa<arith::SelectOp>(op)) {
      if (args[0].known)
        return *args[0].known ? args[1] : args[2];
      if (same(args[1], args[2]))
        return args[1];
      return std::nullopt;
    }
    if (!isa<arith::AndIOp, arith::OrIOp, arith::XOrIOp, arith::ExtUIOp, arith::ExtSIOp>(op) ||
        !getElementTypeOrSelf(op->getOperand(0).getType()).isInteger(1))
      return std::nullopt;
    if (isa<arith::ExtUIOp, arith::ExtSIOp>(op)) {
      if (!args[0].known)
        return std::nullopt;
      int64_t v = *args[0].known ? (isa<arith::ExtSIOp>(op) ? -1 : 1) : 0;
      return affine(AffineForm::constant(v), getElementTypeOrSelf(op->getResult(0).getType()));
    }
    const SymVal &a = args[0], &b = args[1];
    if (a.known && b.known) {
      bool x = *a.known, y = *b.known;
      return SymVal::boolean(isa<arith::AndIOp>(op) ? (x && y)
                             : isa<arith::OrIOp>(op) ? (x || y)
                                                     : (x != y));
    }
    // One side known: the other side, or a constant.
    for (auto [k, o] : {std::pair(a, b), std::pair(b, a)}) {
      if (!k.known)
        continue;
      if (isa<arith::AndIOp>(op))
        return *k.known ? o : SymVal::boolean(false);
      if (isa<arith::OrIOp>(op))
        return *k.known ? SymVal::boolean(true) : o;
      if (!*k.known && o.isPiecewise())
        return o; // x ^ false
    }
    return std::nullopt;
  }

  /// Lower (or upper) bound of `f` over the positions and sizes: each
  /// coordinate and running index at 0 or at its upper form, then each
  /// symbol at its least value or at kMaxDynamicExtent. nullopt on overflow.
  std::optional<int64_t> bound(const AffineForm &f, bool wantUpper) const {
    std::optional<AffineForm> g = AffineForm::constant(f.cst);
    for (unsigned k = 0; k < kFirstSymbol && g; ++k) {
      int64_t a = f.coeffs[k];
      if ((a > 0) == wantUpper && a != 0)
        g = combine(*g, 1, upper[k], a);
    }
    for (unsigned k = kFirstSymbol; k < kNumVars && g; ++k) {
      auto c = checkedAdd(g->coeffs[k], f.coeffs[k]);
      if (!c)
        return std::nullopt;
      g->coeffs[k] = *c;
    }
    if (!g)
      return std::nullopt;
    std::optional<int64_t> v = g->cst;
    for (unsigned k = kFirstSymbol; k < kNumVars && v; ++k) {
      int64_t a = g->coeffs[k];
      if (a == 0)
        continue;
      int64_t lo = symLower[k - kFirstSymbol];
      auto t = checkedMul(a, (a > 0) == wantUpper ? kMaxDynamicExtent : lo);
      v = t ? checkedAdd(*v, *t) : std::nullopt;
    }
    return v;
  }

  /// Whether f >= 0 at every position and size (true), at none (false).
  std::optional<bool> signNonNegative(const AffineForm &f) const {
    if (auto lo = bound(f, false); lo && *lo >= 0)
      return true;
    if (auto hi = bound(f, true); hi && *hi < 0)
      return false;
    return std::nullopt;
  }

  /// `size` as an affine form of symbols (its sizeTerms), each at least 0;
  /// a lone x + c at least 1 - c (a mask extent is at least 1).
  std::optional<AffineForm> sumForm(Value size) {
    SizeTerms st = sizeTerms(size);
    AffineForm f = AffineForm::constant(st.c);
    for (Value t : st.terms) {
      if (st.terms.size() > 1 && !llvm::is_contained(symbols, t) &&
          !t.getDefiningOp<tensor::DimOp>())
        return std::nullopt;
      auto var = symbol(t, st.terms.size() == 1 ? std::max<int64_t>(0, 1 - st.c) : 0);
      if (!var)
        return std::nullopt;
      f.coeffs[*var] += 1;
    }
    return f;
  }

  std::optional<unsigned> symbol(Value v, int64_t lower) {
    if (auto it = llvm::find(symbols, v); it != symbols.end())
      return kFirstSymbol + unsigned(it - symbols.begin());
    if (symbols.size() == kNumSymbols)
      return std::nullopt;
    symbols.push_back(v);
    symLower.push_back(lower);
    return kFirstSymbol + unsigned(symbols.size() - 1);
  }

  /// The predicate `x <op> y` decided from the bounds, when it is.
  std::optional<bool> decide(Operation *op, const AffineForm &x, const AffineForm &y) {
    auto diff = combine(x, 1, y, -1);
    auto negDiff = combine(y, 1, x, -1);
    if (!diff || !negDiff)
      return std::nullopt;
    auto shifted = [](AffineForm f) {
      f.cst -= 1;
      return f;
    };
    enum { EQ, NE, LT, LE, GT, GE, TRUE, FALSE } p;
    if (auto c = dyn_cast<arith::CmpIOp>(op)) {
      using P = arith::CmpIPredicate;
      switch (c.getPredicate()) {
      case P::eq: p = EQ; break;
      case P::ne: p = NE; break;
      case P::slt: case P::ult: p = LT; break;
      case P::sle: case P::ule: p = LE; break;
      case P::sgt: case P::ugt: p = GT; break;
      case P::sge: case P::uge: p = GE; break;
      }
    } else {
      // Affine float values are exact integers: ordered, never NaN.
      using P = arith::CmpFPredicate;
      switch (cast<arith::CmpFOp>(op).getPredicate()) {
      case P::OEQ: case P::UEQ: p = EQ; break;
      case P::ONE: case P::UNE: p = NE; break;
      case P::OLT: case P::ULT: p = LT; break;
      case P::OLE: case P::ULE: p = LE; break;
      case P::OGT: case P::UGT: p = GT; break;
      case P::OGE: case P::UGE: p = GE; break;
      case P::ORD: case P::AlwaysTrue: p = TRUE; break;
      case P::UNO: case P::AlwaysFalse: p = FALSE; break;
      }
    }
    auto negate = [](std::optional<bool> b) { return b ? std::optional(!*b) : std::nullopt; };
    switch (p) {
    case TRUE: return true;
    case FALSE: return false;
    case GE: return signNonNegative(*diff);
    case LT: return negate(signNonNegative(*diff));
    case LE: return signNonNegative(*negDiff);
    case GT: return negate(signNonNegative(*negDiff));
    case EQ:
    case NE: {
      std::optional<bool> eq;
      if (diff->isConstant())
        eq = diff->cst == 0;
      else if (signNonNegative(shifted(*diff)) == true || signNonNegative(shifted(*negDiff)) == true)
        eq = false;
      return p == EQ ? eq : negate(eq);
    }
    }
    return std::nullopt;
  }

  /// Exact integer arithmetic on affine forms; the result type must hold
  /// every value the result takes over the mask.
  std::optional<SymVal> affineOp(Operation *op, ArrayRef<SymVal> args) {
    const AffineForm &a = args[0].form;
    auto nonNegative = [&](const AffineForm &f) {
      auto r = range(f);
      return r && r->first >= 0;
    };
    std::optional<AffineForm> f;
    llvm::TypeSwitch<Operation *>(op)
        .Case<arith::AddIOp, arith::AddFOp>(
            [&](Operation *) { f = combine(a, 1, args[1].form, 1); })
        .Case<arith::SubIOp, arith::SubFOp>(
            [&](Operation *) { f = combine(a, 1, args[1].form, -1); })
        .Case<arith::MulIOp, arith::MulFOp>([&](Operation *) {
          const AffineForm &b = args[1].form;
          if (b.isConstant())
            f = combine(a, b.cst, AffineForm(), 0);
          else if (a.isConstant())
            f = combine(b, a.cst, AffineForm(), 0);
        })
        .Case<arith::NegFOp>([&](Operation *) { f = combine(a, -1, AffineForm(), 0); })
        .Case<arith::MinSIOp, arith::MaxSIOp>([&](Operation *) {
          // The smaller (larger) side, when the bounds order them.
          const AffineForm &b = args[1].form;
          auto ba = combine(b, 1, a, -1), ab = combine(a, 1, b, -1);
          if (!ba || !ab)
            return;
          bool min = isa<arith::MinSIOp>(op);
          if (signNonNegative(*ba) == true) // a <= b
            f = min ? a : b;
          else if (signNonNegative(*ab) == true) // b <= a
            f = min ? b : a;
        })
        .Case<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp, arith::SIToFPOp, arith::FPToSIOp,
              arith::ExtFOp, arith::TruncFOp>([&](Operation *) { f = a; })
        // Unsigned reinterpretations keep the value only when it is >= 0.
        .Case<arith::IndexCastUIOp, arith::ExtUIOp, arith::UIToFPOp, arith::FPToUIOp>(
            [&](Operation *) {
              if (nonNegative(a))
                f = a;
            })
        .Default([](Operation *) {});
    if (!f)
      return std::nullopt;
    return affine(*f, getElementTypeOrSelf(op->getResult(0).getType()));
  }

  /// [min, max] of `f` over the mask, nullopt on overflow.
  std::optional<std::pair<int64_t, int64_t>> range(const AffineForm &f) const {
    auto lo = bound(f, false), hi = bound(f, true);
    if (!lo || !hi)
      return std::nullopt;
    return std::make_pair(*lo, *hi);
  }

  /// `f` as a value of type `t`, when `t` holds each of its values exactly.
  std::optional<SymVal> affine(const AffineForm &f, Type t) {
    auto r = range(f);
    if (!r)
      return std::nullopt;
    auto [lo, hi] = *r;
    if (auto it = dyn_cast<IntegerType>(t)) {
      // i1 values are predicates, never affine.
      unsigned w = it.getWidth();
      if (w < 2 || (w < 64 && (lo < -(int64_t(1) << (w - 1)) || hi >= (int64_t(1) << (w - 1)))))
        return std::nullopt;
    } else if (auto ft = dyn_cast<FloatType>(t)) {
      // Integers up to 2^p are exact; past that a float index rounds and the
      // graph's own comparisons differ from integer ones.
      unsigned p = ft.getFPMantissaWidth();
      int64_t bound = p < 63 ? int64_t(1) << p : std::numeric_limits<int64_t>::max();
      if (lo < -bound || hi > bound)
        return std::nullopt;
    } else if (!t.isIndex()) {
      return std::nullopt;
    }
    return SymVal::affine(f);
  }

  std::optional<SymVal> fromScalar(const Scalar &s) {
    if (auto *i = std::get_if<APInt>(&s)) {
      if (i->getBitWidth() == 1)
        return SymVal::boolean(!i->isZero());
      if (i->getSignificantBits() > 64)
        return SymVal::piecewise();
      return SymVal::affine(AffineForm::constant(i->getSExtValue()));
    }
    const APFloat &f = std::get<APFloat>(s);
    if (auto v = exactInteger(f))
      return SymVal::affine(AffineForm::constant(*v));
    return SymVal::piecewise();
  }

  /// The value of `f` when it is an integer of magnitude at most 2^53.
  static std::optional<int64_t> exactInteger(const APFloat &f) {
    if (!f.isFinite() || !f.isInteger())
      return std::nullopt;
    APSInt r(64, /*isUnsigned=*/false);
    bool exact;
    if (f.convertToInteger(r, APFloat::rmTowardZero, &exact) != APFloat::opOK || !exact)
      return std::nullopt;
    int64_t v = r.getSExtValue();
    if (v < -kMaxDynamicExtent || v > kMaxDynamicExtent)
      return std::nullopt;
    return v;
  }

  /// table[subs] when every element of `table` is c0 + Σ a_k·idx_k.
  std::optional<AffineForm> affineTable(ElementsAttr table, ArrayRef<AffineForm> subs) {
    auto [it, inserted] = affineTables.try_emplace(table);
    if (inserted)
      it->second = affineCoefficients(table);
    if (!it->second)
      return std::nullopt;
    ArrayRef<int64_t> c = *it->second; // c0, a_0, a_1, ...
    std::optional<AffineForm> f = AffineForm::constant(c[0]);
    for (auto [s, a] : llvm::zip_equal(subs, c.drop_front()))
      if (f)
        f = combine(*f, 1, s, a);
    return f;
  }

  /// [c0, a_0, a_1, ...] when every element of `table` is c0 + Σ a_k·idx_k,
  /// checked on every element.
  static std::optional<SmallVector<int64_t>> affineCoefficients(ElementsAttr table) {
    ArrayRef<int64_t> shape = table.getShapedType().getShape();
    int64_t n = table.getNumElements();
    if (n == 0 || n > kMaxAffineTableElements || table.getElementType().isInteger(1))
      return std::nullopt;
    auto valueAt = [&](int64_t flat) -> std::optional<int64_t> {
      auto s = elementAt(table, flat);
      if (!s)
        return std::nullopt;
      if (auto *i = std::get_if<APInt>(&*s))
        return i->getSignificantBits() <= 62 ? std::optional(i->getSExtValue()) : std::nullopt;
      return exactInteger(std::get<APFloat>(*s));
    };
    auto c0 = valueAt(0);
    if (!c0)
      return std::nullopt;
    SmallVector<int64_t> coeffs = {*c0}, strides(shape.size(), 1);
    for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * shape[d + 1];
    for (auto [size, stride] : llvm::zip_equal(shape, strides)) {
      auto v = size > 1 ? valueAt(stride) : c0;
      if (!v)
        return std::nullopt;
      coeffs.push_back(*v - *c0);
    }
    SmallVector<int64_t> idx(shape.size(), 0);
    for (int64_t flat = 0; flat < n; ++flat) {
      std::optional<int64_t> want = *c0;
      for (size_t d = 0; d < shape.size() && want; ++d)
        if (auto t = checkedMul(coeffs[d + 1], idx[d]))
          want = checkedAdd(*want, *t);
        else
          want.reset();
      if (!want || valueAt(flat) != want)
        return std::nullopt;
      for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
        if (++idx[d] < shape[d])
          break;
        idx[d] = 0;
      }
    }
    return coeffs;
  }

  /// x <op> y is a predicate on x - y = a·(j - i) + c: record where it flips.
  std::optional<SymVal> compare(Operation *op, const AffineForm &x, const AffineForm &y) {
    // Unsigned predicates order bit patterns: the integer order only when
    // both sides are non-negative.
    if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
      using P = arith::CmpIPredicate;
      P p = cmp.getPredicate();
      if (p == P::ult || p == P::ule || p == P::ugt || p == P::uge) {
        auto rx = range(x), ry = range(y);
        if (!rx || !ry || rx->first < 0 || ry->first < 0)
          return std::nullopt;
      }
    }
    if (auto known = decide(op, x, y))
      return SymVal::boolean(*known);
    auto diff = combine(x, 1, y, -1);
    // a·(j - i) - a·shift + c = a·d + c in the bottom-right frame.
    if (diff && shift)
      diff = combine(*diff, 1, *shift, diff->coeffs[3]);
    // One query row: i is 0, a·j is a·(j - i).
    if (diff && extents[2] == 1)
      diff->coeffs[2] = -diff->coeffs[3];
    if (!diff || !diff->onlyCoords() || diff->dependsOn(0) || diff->dependsOn(1) ||
        diff->coeffs[2] != -diff->coeffs[3])
      return std::nullopt;
    int64_t a = diff->coeffs[3], c = diff->cst;
    if (a != 0) {
      auto negC = checkedMul(c, int64_t(-1));
      if (!negC)
        return std::nullopt;
      int64_t lo = llvm::divideFloorSigned(*negC, a), hi = llvm::divideCeilSigned(*negC, a);
      auto below = checkedSub(lo, int64_t(1)), above = checkedAdd(hi, int64_t(1));
      if (!below || !above)
        return std::nullopt;
      points.append({*below, lo, hi, *above});
    }
    return SymVal::piecewise();
  }

  MLIRContext *ctx;
  ScanFacts &facts;
  std::array<int64_t, kNumCoords> extents{};
  /// Per coordinate and running index: its largest value, a form of symbols.
  std::array<AffineForm, kFirstSymbol> upper{};
  /// Per coordinate: whether `upper` is its size (static, or named by
  /// setExtent).
  std::array<bool, kNumCoords> exact{};
  /// Bottom-right frame: Skv - Sq.
  std::optional<AffineForm> shift;
  unsigned numScans = 0;
  /// The symbols (dynamic sizes) and their least values.
  SmallVector<Value, kNumSymbols> symbols;
  SmallVector<int64_t, kNumSymbols> symLower;
  SmallVector<int64_t> points;
  // Per constant: its value as c0 + Σ a_k·idx_k, when it is one.
  DenseMap<Attribute, std::optional<SmallVector<int64_t>>> affineTables;
};

/// Whether a mask element keeps its key; nullopt for anything that is neither
/// a clean keep nor a clean drop (a finite bias, NaN, a -1e4 "drop").
std::optional<bool> keeps(const Scalar &v, bool additive, bool dropMask = false) {
  if (!additive) {
    auto *i = std::get_if<APInt>(&v);
    if (!i || i->getBitWidth() != 1)
      return std::nullopt;
    return i->isZero() == dropMask;
  }
  // -inf drops exactly as the flag does, and so does a fill at or below
  // -2^126 (the "lowest float" exporters write) for the finite scores raising
  // assumes: |s| < 2^100 leaves s + fill - max below -2^125, whose exp is 0.
  // A -1e4 or -1e9 "drop" is a bias that real scores can overcome: it stays.
  auto *f = std::get_if<APFloat>(&v);
  if (!f)
    return std::nullopt;
  if (f->isZero())
    return true;
  if (f->isInfinity() && f->isNegative())
    return false;
  if (f->isNegative() && !f->isNaN() && f->convertToDouble() <= -0x1p126)
    return false;
  return std::nullopt;
}

SmallVector<AffineForm, 4> constantSubs(ArrayRef<int64_t> point) {
  return llvm::map_to_vector<4>(point, [](int64_t x) { return AffineForm::constant(x); });
}

/// The band of a mask given by `classAt(b, h, i, j)` (1 keep, 0 drop, -1
/// neither) over the static `extents`, read at every position: the least and
/// greatest kept d = j - i, then every position checked against them.
std::optional<std::pair<int64_t, int64_t>>
bandOfPositions(ArrayRef<int64_t> extents, int64_t nb, int64_t nh,
                function_ref<int8_t(int64_t, int64_t, int64_t, int64_t)> classAt) {
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (int64_t i = 0; i < extents[2]; ++i)
    for (int64_t j = 0; j < extents[3]; ++j)
      if (classAt(0, 0, i, j) == 1) {
        lo = std::min(lo, j - i);
        hi = std::max(hi, j - i);
      }
  if (lo > hi)
    return std::nullopt;
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t i = 0; i < extents[2]; ++i)
        for (int64_t j = 0; j < extents[3]; ++j)
          if (classAt(b, h, i, j) != int8_t(lo <= j - i && j - i <= hi))
            return std::nullopt;
  return std::pair{lo, hi};
}

/// The band of the mask table[subs(b, h, i, j)] over the static `extents`,
/// read at every position.
std::optional<std::pair<int64_t, int64_t>> tableBand(ElementsAttr table,
                                                     ArrayRef<AffineForm> subs,
                                                     ArrayRef<int64_t> extents, bool additive,
                                                     bool dropMask) {
  // A table read independently of b (or h) is checked at b = 0 (h = 0).
  auto reads = [&](unsigned k) {
    return llvm::any_of(subs, [&](const AffineForm &s) { return s.dependsOn(k); });
  };
  int64_t nb = reads(0) ? extents[0] : 1, nh = reads(1) ? extents[1] : 1;
  if (nb * nh * extents[2] * extents[3] > kMaxTablePositions)
    return std::nullopt;

  // keeps() of the elements: all at once for a dense table no larger than the
  // largest mask checked, else one at a time.
  ArrayRef<int64_t> shape = table.getShapedType().getShape();
  SmallVector<int8_t> classes;
  auto classify = [&](const Scalar &v) -> int8_t {
    auto k = keeps(v, additive, dropMask);
    return k ? int8_t(*k) : int8_t(-1);
  };
  auto dense = dyn_cast<DenseElementsAttr>(table);
  if (dense && dense.getNumElements() <= kMaxTablePositions) {
    classes.reserve(dense.getNumElements());
    if (isa<FloatType>(dense.getElementType()))
      for (const APFloat &v : dense.getValues<APFloat>())
        classes.push_back(classify(v));
    else if (dense.getElementType().isInteger(1))
      for (const APInt &v : dense.getValues<APInt>())
        classes.push_back(classify(v));
    else
      return std::nullopt;
  }
  auto classAt = [&](int64_t flat) -> int8_t {
    if (!classes.empty())
      return classes[flat];
    auto v = elementAt(table, flat);
    return v ? classify(*v) : int8_t(-1);
  };

  SmallVector<int64_t, 4> idx(shape.size());
  return bandOfPositions(extents, nb, nh, [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    int64_t point[] = {b, h, i, j};
    for (auto [x, s] : llvm::zip_equal(idx, subs))
      x = s.at(point).value_or(-1);
    auto flat = flatIndex(shape, idx);
    return flat ? classAt(*flat) : int8_t(-1);
  });
}

} // namespace

namespace gatec::gate::raise {

std::optional<KeyBand> maskBand(Value mask, bool additive, bool dropMask, bool bottomRight) {
  auto t = rtt(mask);
  if (!t || t.getRank() != kNumCoords)
    return std::nullopt;
  SmallVector<int64_t, 4> extents;
  for (int64_t d : t.getShape())
    extents.push_back(ShapedType::isDynamic(d) ? kMaxDynamicExtent : d);
  if (llvm::is_contained(extents, 0))
    return std::nullopt;

  // Dynamic extents by the values that name them: symbols for the proof,
  // the largest extent for the evaluation.
  ScanFacts facts;
  SymbolicDomain sym(mask.getContext(), extents, facts);
  DenseMap<Value, int64_t> sizes;
  Value dynSize[kNumCoords];
  for (unsigned k = 0; k < kNumCoords; ++k)
    if (t.isDynamicDim(k))
      if (Value size = dynamicSize(mask, k); size && sym.setExtent(k, size)) {
        // Concrete sizes that add up to the extent: terms already sized keep
        // their size, the first new one takes the rest, others are 0.
        SizeTerms st = sizeTerms(size);
        int64_t rest = kMaxDynamicExtent - st.c;
        for (Value x : st.terms)
          if (auto it = sizes.find(x); it != sizes.end())
            rest -= it->second;
        for (Value x : st.terms)
          if (sizes.try_emplace(x, rest).second)
            rest = 0;
        if (rest != 0 || llvm::any_of(st.terms, [&](Value x) {
              return sizes[x] < (st.terms.size() == 1 ? 1 - st.c : 0);
            }))
          return std::nullopt;
        sizes[size] = kMaxDynamicExtent;
        dynSize[k] = size;
      }
  if (bottomRight && !sym.alignToLastKey())
    return std::nullopt;
  MaskWalker<SymbolicDomain> symbolic(sym);
  // A coordinate along a unit dim is 0.
  SmallVector<AffineForm, 4> coords;
  for (unsigned k = 0; k < kNumCoords; ++k)
    coords.push_back(extents[k] == 1 ? AffineForm() : AffineForm::coord(k));
  std::optional<SymVal> root = symbolic.evaluate(mask, coords);

  ConcreteDomain concrete(facts, std::move(sizes));
  MaskWalker<ConcreteDomain> eval(concrete);
  auto classAt = [&](int64_t b, int64_t h, int64_t i, int64_t j) -> int8_t {
    auto v = eval.evaluate(mask, constantSubs({b, h, i, j}));
    auto k = v ? keeps(*v, additive, dropMask) : std::nullopt;
    return k ? int8_t(*k) : int8_t(-1);
  };

  // d = j - i ranges over [first, last]; a side of the band that reaches its
  // end is unbounded. Bottom-right: d = j - i - off over [1 - Skv, Sq - 1],
  // read at row Sq - 1 - max(d, 0), key row + d + off.
  int64_t off = bottomRight ? extents[3] - extents[2] : 0;
  int64_t first = -(extents[2] - 1) - off, last = extents[3] - 1 - off;
  auto readAt = [&](int64_t d) -> int8_t {
    int64_t i = bottomRight ? extents[2] - 1 - std::max<int64_t>(d, 0) : std::max<int64_t>(-d, 0);
    return classAt(0, 0, i, i + d + off);
  };
  std::optional<std::pair<int64_t, int64_t>> band;
  if (root && root->isPiecewise()) {
    // A function of d, constant between breakpoints: the kept d are read at
    // every breakpoint's neighbours and the ends of the domain. They must be
    // one run, and every change between neighbouring samples one step apart
    // (the breakpoints are exactly where the function may change).
    SmallVector<int64_t> ds(sym.breakpoints());
    ds.append({-1, 0, 1, first, last});
    llvm::erase_if(ds, [&](int64_t d) { return d < first || d > last; });
    llvm::sort(ds);
    ds.erase(llvm::unique(ds), ds.end());
    std::optional<int64_t> lo, hi;
    int8_t prev = -2;
    for (auto [n, d] : llvm::enumerate(ds)) {
      int8_t c = readAt(d);
      if (c < 0)
        return std::nullopt;
      if (n > 0 && c != prev && d != ds[n - 1] + 1)
        return std::nullopt;
      if (c == 1) {
        if (hi && *hi != ds[n - 1])
          return std::nullopt; // a second run
        lo = lo ? lo : d;
        hi = d;
      }
      prev = c;
    }
    if (!lo)
      return std::nullopt;
    band = std::pair{*lo, *hi};
  } else {
    // Other masks are read position by position, when that is affordable
    // (in the upper-left frame; a static offset shifts that band below).
    if (!t.hasStaticShape() || bottomRight)
      return std::nullopt;
    if (root && root->kind == SymVal::Kind::Table)
      band = tableBand(root->table, root->subs, extents, additive, dropMask);
    else if (t.getNumElements() <= kMaxEvaluatedPositions)
      band = bandOfPositions(extents, extents[0], extents[1], classAt);
    if (!band)
      return std::nullopt;
  }
  KeyBand kb;
  kb.lo = band->first;
  kb.hi = band->second;
  kb.toFirst = kb.lo == first;
  kb.toLast = kb.hi == last;
  kb.bottomRight = bottomRight;
  // Row i keeps [max(0, i + lo), min(Skv - 1, i + hi)]: never empty when
  // lo <= 0 <= hi and Sq + lo <= Skv (Sq = Skv when both are one dynamic size).
  // Bottom-right, row i keeps [max(0, p + lo), min(Skv - 1, p + hi)] with
  // p = i + off <= Skv - 1: never empty when off >= 0 (p >= 0), or when the
  // band reaches the last key.
  bool sameLength = dynSize[2] && dynSize[2] == dynSize[3];
  bool fits = bottomRight ? kb.toLast || sym.shiftNonNegative()
                          : kb.toFirst ||
                                (!t.isDynamicDim(2) && !t.isDynamicDim(3) &&
                                 extents[2] + kb.lo <= extents[3]) ||
                                sameLength;
  kb.everyRowKeeps = (kb.toFirst || kb.lo <= 0) && (kb.toLast || kb.hi >= 0) && fits;
  return kb;
}

/// True when `mask` [B,H,Sq,Skv] is, provably, the upper-left causal pattern:
/// additive 0 / -inf, or bool true / false, keeping key j for query i iff
/// j <= i, at every position and for every dynamic size.
bool isCausalMask(Value mask, bool additive) {
  std::optional<KeyBand> band = maskBand(mask, additive);
  return band && band->isCausal();
}

} // namespace gatec::gate::raise
