//===- GraphMatcher.h - recognizing exporter subgraphs on the ONNX graph --===//
//
// Some algorithms reach gatec unrolled into many ONNX nodes whose lowered
// form no MLIR pattern can read back (a scatter-based substitution, an FFT
// product). Their matchers work on the ONNX graph itself, from the node that
// yields the result back to the inputs, with these queries: which node
// defines a value, its attributes, constant operands, and symbolic shapes.
// Every query is exact: a node that does not have exactly the expected form
// makes the match fail, and the graph is imported as it is.
//
//===----------------------------------------------------------------------===//
#ifndef GATEC_FRONTEND_ONNX_GRAPHMATCHER_H
#define GATEC_FRONTEND_ONNX_GRAPHMATCHER_H

#include "ImporterImpl.h"

#include <map>

namespace gatec::onnx_frontend::detail {

using Node = onnx::NodeProto;
using Ranges = std::map<int64_t, std::pair<int64_t, int64_t>>; // axis -> [begin, end)

class GraphMatcher {
public:
  GraphMatcher(Importer &im, const onnx::GraphProto &g, const llvm::StringMap<int> &producer)
      : im(im), g(g), producer(producer) {}

protected:
  Importer &im;
  const onnx::GraphProto &g;
  const llvm::StringMap<int> &producer;

  // ------------------------------------------------------------ graph
  const Node *def(llvm::StringRef v, llvm::StringRef op) {
    auto it = producer.find(v);
    if (v.empty() || it == producer.end())
      return nullptr;
    const Node &n = g.node(it->second);
    if (n.op_type() != op || !(n.domain().empty() || n.domain() == "ai.onnx") ||
        n.output(0) != v)
      return nullptr;
    return &n;
  }
  static std::string in(const Node *n, int k) {
    return k < n->input_size() ? n->input(k) : std::string();
  }
  static const onnx::AttributeProto *attr(const Node *n, llvm::StringRef name) {
    for (const auto &a : n->attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  static int64_t attrInt(const Node *n, llvm::StringRef name, int64_t dflt) {
    const onnx::AttributeProto *a = attr(n, name);
    return a && a->type() == onnx::AttributeProto::INT ? a->i() : dflt;
  }
  static bool attrStrIs(const Node *n, llvm::StringRef name, llvm::StringRef dflt,
                        llvm::StringRef want) {
    const onnx::AttributeProto *a = attr(n, name);
    if (!a)
      return dflt == want;
    return a->type() == onnx::AttributeProto::STRING && a->s() == want;
  }
  /// Only the attributes `allowed` (anything else may change the meaning).
  static bool onlyAttrs(const Node *n, std::initializer_list<llvm::StringRef> allowed) {
    llvm::StringSet<> seen;
    for (const auto &a : n->attribute())
      if (!llvm::is_contained(allowed, llvm::StringRef(a.name())) || !seen.insert(a.name()).second)
        return false;
    return true;
  }

  // ------------------------------------------------------------ values
  const ConstTensor *cst(llvm::StringRef v) {
    Entry *e = v.empty() ? nullptr : im.lookup(v);
    if (!e)
      return nullptr;
    if (!e->cst && e->attr)
      e->cst = attrToConst(e->attr);
    return e->cst.get();
  }
  /// The value of a constant whose elements are all equal (any size).
  std::optional<double> splat(llvm::StringRef v) {
    Entry *e = v.empty() ? nullptr : im.lookup(v);
    if (!e)
      return std::nullopt;
    if (e->cst)
      return e->cst->numel() > 0 && e->cst->isSplat() ? std::optional(e->cst->fv(0))
                                                      : std::nullopt;
    auto d = dyn_cast_or_null<DenseElementsAttr>(e->attr);
    if (!d || !d.isSplat())
      return std::nullopt;
    Type et = d.getElementType();
    if (isa<FloatType>(et)) {
      llvm::APFloat f = d.getSplatValue<llvm::APFloat>();
      bool loses;
      f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &loses);
      return f.convertToDouble();
    }
    if (et.isInteger(1))
      return double(d.getSplatValue<bool>());
    if (isa<IntegerType>(et))
      return double(d.getSplatValue<llvm::APInt>().getSExtValue());
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> ints(llvm::StringRef v) {
    const ConstTensor *c = cst(v);
    if (!c || c->isFloat())
      return std::nullopt;
    return c->i;
  }
  SymShape dims(llvm::StringRef v) {
    Entry *e = v.empty() ? nullptr : im.lookup(v);
    if (!e)
      return {};
    if (e->value)
      return im.dims(e->value);
    RankedTensorType t = im.typeOf(v);
    SymShape d;
    if (!t || !t.hasStaticShape())
      return {};
    for (int64_t s : t.getShape())
      d.push_back(SymExpr::constant(s));
    return d;
  }
  bool dimsAre(llvm::StringRef v, llvm::ArrayRef<SymExpr> want) {
    SymShape d = dims(v);
    return d.size() == want.size() && llvm::equal(d, want);
  }
  bool isF32(llvm::StringRef v) {
    RankedTensorType t = im.typeOf(v);
    return t && t.getElementType().isF32();
  }
  static SymExpr c(int64_t v) { return SymExpr::constant(v); }

  // ------------------------------------------------------------ op forms
  /// Both operands of a binary op, either order accepted by the caller.
  bool binary(llvm::StringRef v, llvm::StringRef op, std::string &a, std::string &b) {
    const Node *n = def(v, op);
    if (!n || n->input_size() != 2 || !n->attribute().empty())
      return false;
    a = n->input(0);
    b = n->input(1);
    return true;
  }
  /// The axes of an Unsqueeze / Squeeze: its attribute (before opset 13)
  /// or its constant input 1.
  std::optional<std::vector<int64_t>> axesOf(const Node *n) {
    if (const onnx::AttributeProto *a = attr(n, "axes"))
      return std::vector<int64_t>(a->ints().begin(), a->ints().end());
    return ints(in(n, 1));
  }
  /// `v` = Unsqueeze(src) inserting exactly `axes` (normalized by v's rank).
  bool unsqueeze(llvm::StringRef v, std::vector<int64_t> axes, std::string &src) {
    const Node *n = def(v, "Unsqueeze");
    std::optional<std::vector<int64_t>> axesIn = n ? axesOf(n) : std::nullopt;
    if (!axesIn)
      return false;
    std::vector<int64_t> got = *axesIn;
    int64_t rank = int64_t(dims(v).size());
    for (int64_t &x : got)
      if (x < 0)
        x += rank;
    llvm::sort(got);
    if (got != axes)
      return false;
    src = in(n, 0);
    return true;
  }
  /// `v` = Gather(src, k, axis) with a scalar constant k; returns k
  /// normalized by the gathered dimension.
  std::optional<int64_t> gather(llvm::StringRef v, int64_t axis, std::string &src) {
    const Node *n = def(v, "Gather");
    if (!n || !onlyAttrs(n, {"axis"}))
      return std::nullopt;
    src = in(n, 0);
    SymShape sd = dims(src);
    int64_t ax = attrInt(n, "axis", 0);
    if (ax < 0)
      ax += int64_t(sd.size());
    const ConstTensor *k = cst(in(n, 1));
    if (ax != axis || sd.size() <= size_t(axis) || !sd[axis].isConst() || !k ||
        k->isFloat() || !k->shape.empty())
      return std::nullopt;
    int64_t idx = k->i[0], size = sd[axis].c;
    if (idx < 0)
      idx += size;
    if (idx < 0 || idx >= size)
      return std::nullopt;
    return idx;
  }
  /// `v` = Transpose(src, perm).
  bool transpose(llvm::StringRef v, llvm::ArrayRef<int64_t> perm, std::string &src) {
    const Node *n = def(v, "Transpose");
    const onnx::AttributeProto *p = n ? attr(n, "perm") : nullptr;
    if (!p || !onlyAttrs(n, {"perm"}) ||
        !llvm::equal(llvm::ArrayRef<int64_t>(p->ints().data(), p->ints().size()), perm))
      return false;
    src = in(n, 0);
    return true;
  }
  /// `v` = one Slice of src; the per-axis [begin, end) ranges it takes, with
  /// unit steps (clamped and normalized as ONNX does).
  bool slice(llvm::StringRef v, std::string &src, Ranges &r) {
    const Node *n = def(v, "Slice");
    if (!n || !n->attribute().empty())
      return false;
    src = in(n, 0);
    SymShape sd = dims(src);
    auto starts = ints(in(n, 1)), ends = ints(in(n, 2));
    if (!starts || !ends || starts->size() != ends->size())
      return false;
    std::vector<int64_t> axes;
    if (!in(n, 3).empty()) {
      auto a = ints(in(n, 3));
      if (!a)
        return false;
      axes = *a;
    } else {
      for (size_t k = 0; k < starts->size(); ++k)
        axes.push_back(int64_t(k));
    }
    if (axes.size() != starts->size())
      return false;
    if (!in(n, 4).empty()) {
      auto s = ints(in(n, 4));
      if (!s || s->size() != axes.size() || llvm::any_of(*s, [](int64_t x) { return x != 1; }))
        return false;
    }
    r.clear();
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t ax = axes[k] < 0 ? axes[k] + int64_t(sd.size()) : axes[k];
      if (ax < 0 || ax >= int64_t(sd.size()) || !sd[ax].isConst() || r.count(ax))
        return false;
      int64_t size = sd[ax].c;
      auto norm = [&](int64_t x) {
        if (x < 0)
          x += size;
        return std::clamp<int64_t>(x, 0, size);
      };
      r[ax] = {norm((*starts)[k]), norm((*ends)[k])};
    }
    return true;
  }
  /// `v` takes [0, n) of axes `axes` of `src` through one or more Slices.
  bool prefixSlices(llvm::StringRef v, llvm::StringRef want, std::vector<int64_t> axes,
                    int64_t n) {
    std::string cur = v.str();
    while (!axes.empty()) {
      std::string src;
      Ranges r;
      if (!slice(cur, src, r))
        return false;
      for (auto &[ax, be] : r) {
        auto it = llvm::find(axes, ax);
        if (it == axes.end() || be != std::pair<int64_t, int64_t>{0, n})
          return false;
        axes.erase(it);
      }
      cur = src;
    }
    return cur == want;
  }
  /// `v` = Pad(src) adding `P` zeros at the end of axis `axis` only (P = 0
  /// and `v` itself when there is no Pad).
  std::pair<std::string, int64_t> padEnd(llvm::StringRef v, int64_t rank, int64_t axis = 2) {
    const Node *n = def(v, "Pad");
    if (!n)
      return {v.str(), 0};
    if (!onlyAttrs(n, {"mode"}) || !attrStrIs(n, "mode", "constant", "constant") ||
        !in(n, 3).empty())
      return {"", -1};
    if (!in(n, 2).empty() && splat(in(n, 2)) != 0.0)
      return {"", -1};
    auto pads = ints(in(n, 1));
    if (!pads || int64_t(pads->size()) != 2 * rank)
      return {"", -1};
    for (int64_t k = 0; k < 2 * rank; ++k)
      if (k != rank + axis && (*pads)[k] != 0)
        return {"", -1};
    int64_t p = (*pads)[rank + axis];
    return p < 0 ? std::pair<std::string, int64_t>{"", -1} : std::pair{in(n, 0), p};
  }
  /// A zero-filled tensor: a splat constant or Expand of a scalar zero.
  bool isZeros(llvm::StringRef v) {
    if (splat(v) == 0.0)
      return true;
    const Node *n = def(v, "Expand");
    return n && splat(in(n, 0)) == 0.0 && cst(in(n, 0)) && cst(in(n, 0))->numel() == 1;
  }

};

} // namespace gatec::onnx_frontend::detail

#endif
