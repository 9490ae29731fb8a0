//===- Einsum.cpp - ONNX Einsum ----------------------------------------------===//
//
// Two-operand contractions in which every label is a batch, row, column or
// contracted label (each label in two of {A, B, output}, none repeated in a
// term) become transposes, reshapes and one batched MatMul, so they run on
// the packed matmul kernels. Every other equation (one operand, three or
// more, diagonals, labels summed out of one operand, broadcast ellipsis dims)
// is one linalg.generic with a reduction per summed label.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

/// A parsed equation: per input, one label per dimension; labels are the
/// letters, and ellipsis dims get labels from 256 up, right-aligned.
struct Equation {
  SmallVector<SmallVector<int>> ins;
  SmallVector<int> out;
};

bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// Parses `eq` for inputs of ranks `ranks`; "" on success, else the error.
std::string parse(std::string eq, ArrayRef<int64_t> ranks, Equation &e) {
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  std::string lhs = eq, rhs;
  bool explicitOut = false;
  if (size_t arrow = eq.find("->"); arrow != std::string::npos) {
    lhs = eq.substr(0, arrow);
    rhs = eq.substr(arrow + 2);
    explicitOut = true;
  }
  SmallVector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos
                                                                 : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size())
    return "the equation has " + std::to_string(terms.size()) + " input terms for " +
           std::to_string(ranks.size()) + " inputs";
  int64_t ellRank = -1; // dims the ellipsis stands for (the widest input's)
  auto labelsOf = [&](const std::string &t, int64_t rank, SmallVector<int> &labels,
                      const std::string &what) -> std::string {
    size_t ell = t.find("...");
    if (ell != std::string::npos && t.find("...", ell + 3) != std::string::npos)
      return what + " '" + t + "' has more than one ellipsis";
    std::string letters = t;
    if (ell != std::string::npos)
      letters.erase(ell, 3);
    for (char c : letters)
      if (!isLetter(c))
        return what + " '" + t + "' has an invalid character '" + std::string(1, c) + "'";
    int64_t n = int64_t(letters.size());
    int64_t nEll = 0;
    if (ell == std::string::npos) {
      if (rank >= 0 && n != rank)
        return what + " '" + t + "' has " + std::to_string(n) + " labels for rank " +
               std::to_string(rank);
    } else {
      nEll = rank >= 0 ? rank - n : ellRank;
      if (nEll < 0)
        return what + " '" + t + "' has more labels than the rank " + std::to_string(rank);
    }
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, 3, "...") == 0) {
        for (int64_t k = 0; k < nEll; ++k)
          labels.push_back(int(256 + (ellRank - nEll) + k)); // right-aligned
        i += 3;
        continue;
      }
      labels.push_back(int(t[i]));
      ++i;
    }
    return "";
  };
  for (size_t k = 0; k < terms.size(); ++k) {
    size_t ell = terms[k].find("...");
    if (ell != std::string::npos) {
      int64_t letters = int64_t(terms[k].size()) - 3;
      ellRank = std::max(ellRank, ranks[k] - letters);
    }
  }
  if (ellRank < 0)
    ellRank = 0;
  for (size_t k = 0; k < terms.size(); ++k) {
    e.ins.emplace_back();
    if (std::string err = labelsOf(terms[k], ranks[k], e.ins.back(), "term"); !err.empty())
      return err;
  }
  if (explicitOut) {
    if (std::string err = labelsOf(rhs, -1, e.out, "output"); !err.empty())
      return err;
    llvm::SmallDenseSet<int> seen, inputs;
    for (auto &t : e.ins)
      inputs.insert(t.begin(), t.end());
    for (int l : e.out) {
      if (!seen.insert(l).second)
        return "output label '" + std::string(1, char(l)) + "' appears twice";
      if (!inputs.contains(l))
        return "output label '" + std::string(1, char(l)) + "' is not in any input";
    }
    return "";
  }
  // Implicit output: the ellipsis dims, then the letters seen once, sorted.
  for (int64_t k = 0; k < ellRank; ++k)
    e.out.push_back(int(256 + k));
  std::map<int, int> count;
  for (auto &t : e.ins)
    for (int l : t)
      if (l < 256)
        ++count[l];
  SmallVector<int> once;
  for (auto [l, c] : count)
    if (c == 1)
      once.push_back(l);
  // ASCII order puts upper case first, as numpy does.
  e.out.append(once.begin(), once.end());
  return "";
}

std::string labelStr(int l) {
  return l < 256 ? "'" + std::string(1, char(l)) + "'" : "ellipsis dim " + std::to_string(l - 256);
}

} // namespace

namespace gatec::onnx_frontend::detail {

LogicalResult handleEinsum(Importer &im, NodeCtx &n) {
  int nin = int(n.n.input_size());
  if (nin < 1)
    return im.fail("Einsum needs at least one input");
  std::string eq = n.s("equation", "");
  if (n.bad)
    return failure();
  if (eq.empty())
    return im.fail("the equation attribute is missing");
  Type et = n.inType(0).getElementType();
  for (int k = 1; k < nin; ++k)
    if (n.inType(k).getElementType() != et)
      return im.fail("inputs must share one element type");
  if (!isa<FloatType>(et) && !isa<IntegerType>(et))
    return im.fail("element type " + str(et) + " is not supported");
  if (et.isInteger(1))
    return im.fail("bool inputs are not supported");
  SmallVector<SymShape> dims;
  SmallVector<int64_t> ranks;
  for (int k = 0; k < nin; ++k) {
    dims.push_back(inDims(n, k));
    ranks.push_back(int64_t(dims.back().size()));
  }
  Equation e;
  if (std::string err = parse(eq, ranks, e); !err.empty())
    return im.fail("equation '" + eq + "': " + err);

  // The size of every label: equal wherever it appears, except ellipsis
  // dims, which broadcast (size 1 against any size).
  std::map<int, SymExpr> size;
  for (int k = 0; k < nin; ++k)
    for (auto [d, l] : llvm::enumerate(e.ins[k])) {
      const SymExpr &s = dims[k][d];
      auto it = size.find(l);
      if (it == size.end() || it->second.isConst(1)) {
        if (it == size.end() || !s.isConst(1))
          size[l] = s;
        continue;
      }
      if (s == it->second || s.isConst(1))
        continue;
      if (s.isConst() && it->second.isConst())
        return im.fail("equation '" + eq + "': label " + labelStr(l) + " has sizes " +
                       std::to_string(it->second.c) + " and " + std::to_string(s.c));
      return im.fail("equation '" + eq + "': label " + labelStr(l) + " has sizes " +
                     symShapeStr({it->second}) + " and " + symShapeStr({s}) +
                     " that may differ at run time");
    }
  // Ellipsis dims of size 1 against a larger size are read at index 0.
  auto broadcastAt = [&](int k, size_t d) {
    int l = e.ins[k][d];
    return dims[k][d].isConst(1) && !size[l].isConst(1);
  };
  SmallVector<Value> ins;
  for (int k = 0; k < nin; ++k) {
    Value v = n.in(k);
    if (!v)
      return failure();
    ins.push_back(v);
  }
  SymShape outD;
  for (int l : e.out)
    outD.push_back(size[l]);

  // ---- two operands that form a (batched) matmul
  auto has = [](ArrayRef<int> t, int l) { return llvm::is_contained(t, l); };
  auto distinct = [](ArrayRef<int> t) {
    llvm::SmallDenseSet<int> s(t.begin(), t.end());
    return s.size() == t.size();
  };
  bool matmulShaped = nin == 2 && isa<FloatType>(et) && distinct(e.ins[0]) &&
                      distinct(e.ins[1]);
  SmallVector<int> batch, rows, cols, inner;
  if (matmulShaped) {
    ArrayRef<int> A = e.ins[0], B = e.ins[1], O = e.out;
    for (int k = 0; k < 2 && matmulShaped; ++k)
      for (size_t d = 0; d < e.ins[k].size(); ++d)
        if (broadcastAt(k, d))
          matmulShaped = false;
    for (int l : A) {
      bool b = has(B, l), o = has(O, l);
      if (b && o)
        batch.push_back(l);
      else if (o)
        rows.push_back(l);
      else if (b)
        inner.push_back(l);
      else
        matmulShaped = false; // summed out of A alone
    }
    for (int l : B)
      if (!has(A, l)) {
        if (has(O, l))
          cols.push_back(l);
        else
          matmulShaped = false;
      }
  }
  matmulShaped = matmulShaped && !inner.empty(); // nothing contracted: elementwise
  if (matmulShaped) {
    auto perm = [](ArrayRef<int> from, ArrayRef<int> to) {
      SmallVector<int64_t> p;
      for (int l : to)
        p.push_back(std::find(from.begin(), from.end(), l) - from.begin());
      return p;
    };
    auto prod = [&](ArrayRef<int> ls) -> std::optional<SymExpr> {
      SymShape s;
      for (int l : ls)
        s.push_back(size[l]);
      return symProduct(s);
    };
    auto mp = prod(rows), np = prod(cols), kp = prod(inner);
    if (mp && np && kp) {
      auto layout = [&](Value v, ArrayRef<int> from, ArrayRef<int> first, ArrayRef<int> second,
                        SymExpr p1, SymExpr p2) {
        SmallVector<int> order(batch.begin(), batch.end());
        order.append(first.begin(), first.end());
        order.append(second.begin(), second.end());
        SmallVector<int64_t> p = perm(from, order);
        if (!llvm::equal(p, llvm::seq<int64_t>(0, int64_t(p.size()))))
          v = im.transpose(v, p);
        SymShape target;
        for (int l : batch)
          target.push_back(size[l]);
        target.push_back(p1);
        target.push_back(p2);
        return im.reshape(v, target);
      };
      Value a = layout(ins[0], e.ins[0], rows, inner, *mp, *kp);
      Value b = layout(ins[1], e.ins[1], inner, cols, *kp, *np);
      Value y = im.matmul(a, b);
      if (!y)
        return failure();
      SmallVector<int> yl(batch.begin(), batch.end());
      yl.append(rows.begin(), rows.end());
      yl.append(cols.begin(), cols.end());
      SymShape yd;
      for (int l : yl)
        yd.push_back(size[l]);
      y = im.reshape(y, yd);
      SmallVector<int64_t> p = perm(yl, e.out);
      if (!llvm::equal(p, llvm::seq<int64_t>(0, int64_t(p.size()))))
        y = im.transpose(y, p);
      return n.out(0, y);
    }
  }

  // ---- general: one generic, output labels first, then the summed ones
  SmallVector<int> loops(e.out.begin(), e.out.end());
  for (auto &t : e.ins)
    for (int l : t)
      if (!llvm::is_contained(loops, l))
        loops.push_back(l);
  auto pos = [&](int l) {
    return unsigned(std::find(loops.begin(), loops.end(), l) - loops.begin());
  };
  unsigned nl = unsigned(loops.size());
  SmallVector<AffineMap> maps;
  for (int k = 0; k < nin; ++k) {
    SmallVector<AffineExpr> ex;
    for (auto [d, l] : llvm::enumerate(e.ins[k]))
      ex.push_back(broadcastAt(k, d) ? getAffineConstantExpr(0, &im.ctx)
                                     : getAffineDimExpr(pos(l), &im.ctx));
    maps.push_back(AffineMap::get(nl, 0, ex, &im.ctx));
  }
  SmallVector<AffineExpr> oex;
  for (int l : e.out)
    oex.push_back(getAffineDimExpr(pos(l), &im.ctx));
  maps.push_back(AffineMap::get(nl, 0, oex, &im.ctx));
  SmallVector<utils::IteratorType> iters;
  for (unsigned k = 0; k < nl; ++k)
    iters.push_back(k < e.out.size() ? utils::IteratorType::parallel
                                     : utils::IteratorType::reduction);
  // 16-bit floats accumulate in f32.
  bool narrow = isa<FloatType>(et) && et.getIntOrFloatBitWidth() < 32;
  Type acc = narrow ? Type(im.b.getF32Type()) : et;
  Value init = im.splat(outD, acc, 0.0);
  Value y = im.generic(ins, init, maps, iters, [&](OpBuilder &nb, Location l, ValueRange args) {
    Value p;
    for (int k = 0; k < nin; ++k) {
      Value x = args[k];
      if (narrow)
        x = arith::ExtFOp::create(nb, l, acc, x);
      if (!p)
        p = x;
      else
        p = isa<FloatType>(acc) ? arith::MulFOp::create(nb, l, p, x).getResult()
                                : arith::MulIOp::create(nb, l, p, x).getResult();
    }
    Value s = isa<FloatType>(acc) ? arith::AddFOp::create(nb, l, args[nin], p).getResult()
                                  : arith::AddIOp::create(nb, l, args[nin], p).getResult();
    linalg::YieldOp::create(nb, l, s);
  });
  if (narrow)
    y = im.convert(y, et);
  return n.out(0, y);
}

} // namespace gatec::onnx_frontend::detail
