//===- Signature.cpp - the ABI signature of compiled functions ------------===//
#include "gatec/Target/Signature.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <optional>

using namespace mlir;
using namespace gatec;

namespace {
/// constant + Σ input dims.
struct DimExpr {
  int64_t constant = 0;
  SmallVector<std::pair<int, int>> terms;
};

std::optional<DimExpr> sum(std::optional<DimExpr> a, std::optional<DimExpr> b) {
  if (!a || !b)
    return std::nullopt;
  DimExpr r = *a;
  r.constant += b->constant;
  r.terms.append(b->terms.begin(), b->terms.end());
  return r;
}

class DimResolver {
public:
  explicit DimResolver(func::FuncOp f) : func(f) {}

  std::optional<DimExpr> dimOf(Value v, int64_t d, int depth = 0) {
    if (depth > 256)
      return std::nullopt;
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type)
      return std::nullopt;
    if (!type.isDynamicDim(d))
      return DimExpr{type.getDimSize(d), {}};
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == &func.getBody().front())
        return DimExpr{0, {{int(arg.getArgNumber()), int(d)}}};
      return std::nullopt;
    }
    Operation *op = v.getDefiningOp();
    if (auto cast = dyn_cast<tensor::CastOp>(op))
      return dimOf(cast.getSource(), d, depth + 1);
    // (Its reification is not registered: the sizes it names.)
    if (auto ex = dyn_cast<tensor::ExpandShapeOp>(op))
      return indexOf(ex.getMixedOutputShape()[d], depth + 1);
    if (auto reify = dyn_cast<ReifyRankedShapedTypeOpInterface>(op)) {
      OpBuilder b(op);
      ReifiedRankedShapedTypeDims shapes;
      if (succeeded(reify.reifyResultShapes(b, shapes))) {
        unsigned n = cast<OpResult>(v).getResultNumber();
        if (n < shapes.size() && d < int64_t(shapes[n].size()))
          return indexOf(shapes[n][d], depth + 1);
      }
    }
    // Elementwise ops on tensors keep their operands' shape.
    if (op->hasTrait<OpTrait::Elementwise>() || op->hasTrait<OpTrait::SameOperandsAndResultShape>())
      for (Value operand : op->getOperands())
        if (auto ot = dyn_cast<RankedTensorType>(operand.getType());
            ot && ot.getRank() == type.getRank())
          if (auto r = dimOf(operand, d, depth + 1))
            return r;
    return std::nullopt;
  }

  std::optional<DimExpr> indexOf(OpFoldResult ofr, int depth) {
    if (auto attr = dyn_cast<Attribute>(ofr)) {
      if (auto i = dyn_cast<IntegerAttr>(attr))
        return DimExpr{i.getInt(), {}};
      return std::nullopt;
    }
    Value v = cast<Value>(ofr);
    APInt c;
    if (matchPattern(v, m_ConstantInt(&c)))
      return DimExpr{c.getSExtValue(), {}};
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      if (auto i = dim.getConstantIndex())
        return dimOf(dim.getSource(), *i, depth + 1);
      return std::nullopt;
    }
    if (auto add = dyn_cast<arith::AddIOp>(op))
      return sum(indexOf(add.getLhs(), depth + 1), indexOf(add.getRhs(), depth + 1));
    if (auto apply = dyn_cast<affine::AffineApplyOp>(op)) {
      AffineMap map = apply.getAffineMap();
      if (map.getNumResults() != 1)
        return std::nullopt;
      return affine(map.getResult(0), apply.getOperands(), map.getNumDims(), depth);
    }
    return std::nullopt;
  }

private:
  std::optional<DimExpr> affine(AffineExpr e, ValueRange operands,
                                unsigned numDims, int depth) {
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      return DimExpr{c.getValue(), {}};
    if (auto dim = dyn_cast<AffineDimExpr>(e))
      return indexOf(operands[dim.getPosition()], depth + 1);
    if (auto sym = dyn_cast<AffineSymbolExpr>(e))
      return indexOf(operands[numDims + sym.getPosition()], depth + 1);
    if (auto bin = dyn_cast<AffineBinaryOpExpr>(e);
        bin && bin.getKind() == AffineExprKind::Add)
      return sum(affine(bin.getLHS(), operands, numDims, depth),
                 affine(bin.getRHS(), operands, numDims, depth));
    return std::nullopt;
  }

  func::FuncOp func;
};

/// Which dimensions of a function's tensors must be equal, from the ops that
/// use them: elementwise ops, linalg indexing maps, the gate ops' dimension
/// groups and reified result shapes. Dynamic input dims the model does not
/// name get a shared symbol per class, so the runtime checks them against
/// each other (a k shorter than q must be an error, not a read past its end).
class DimClasses {
public:
  explicit DimClasses(func::FuncOp f) {
    f.walk([&](Operation *op) { visit(op); });
  }
  bool same(Value a, int64_t da, Value b, int64_t db) {
    return classes.isEquivalent(key(a, da), key(b, db));
  }

private:
  using Key = std::pair<void *, int64_t>;
  Key key(Value v, int64_t d) { return {v.getAsOpaquePointer(), d}; }
  void unite(Value a, int64_t da, Value b, int64_t db) {
    auto ta = dyn_cast<RankedTensorType>(a.getType());
    auto tb = dyn_cast<RankedTensorType>(b.getType());
    if (!ta || !tb || da >= ta.getRank() || db >= tb.getRank())
      return;
    // A broadcast (size-1) dim is not tied to the dim it broadcasts to.
    if (ta.getDimSize(da) == 1 || tb.getDimSize(db) == 1)
      return;
    classes.unionSets(key(a, da), key(b, db));
  }
  void uniteAll(Value a, Value b) {
    auto ta = dyn_cast<RankedTensorType>(a.getType());
    auto tb = dyn_cast<RankedTensorType>(b.getType());
    if (ta && tb && ta.getRank() == tb.getRank())
      for (int64_t d = 0; d < ta.getRank(); ++d)
        unite(a, d, b, d);
  }
  void group(std::initializer_list<std::pair<Value, int64_t>> members) {
    const std::pair<Value, int64_t> *first = nullptr;
    for (const auto &m : members) {
      if (!m.first)
        continue;
      if (!first)
        first = &m;
      else
        unite(first->first, first->second, m.first, m.second);
    }
  }
  void visit(Operation *op) {
    using namespace gatec::gate;
    if (op->hasTrait<OpTrait::Elementwise>() || op->hasTrait<OpTrait::SameOperandsAndResultShape>() ||
        isa<tensor::CastOp>(op)) {
      for (Value r : op->getResults())
        for (Value o : op->getOperands())
          uniteAll(r, o);
    }
    if (auto lop = dyn_cast<linalg::LinalgOp>(op)) {
      SmallVector<AffineMap> maps = lop.getIndexingMapsArray();
      DenseMap<unsigned, std::pair<Value, int64_t>> byLoop;
      for (auto [operand, map] : llvm::zip(op->getOperands(), maps))
        for (auto [d, e] : llvm::enumerate(map.getResults()))
          if (auto de = dyn_cast<AffineDimExpr>(e)) {
            auto [it, fresh] = byLoop.try_emplace(de.getPosition(), operand, int64_t(d));
            if (!fresh)
              unite(it->second.first, it->second.second, operand, d);
          }
      for (auto [res, init] : llvm::zip(op->getResults(), lop.getDpsInits()))
        uniteAll(res, init);
    }
    if (auto s = dyn_cast<SdpaOp>(op)) {
      Value m = s.getMask(), g = s.getGate();
      group({{s.getQuery(), 0}, {s.getKey(), 0}, {s.getValue(), 0}, {m, 0}, {g, 0}, {s.getResult(), 0}});
      group({{s.getQuery(), 2}, {m, 2}, {g, 2}, {s.getResult(), 2}});
      group({{s.getKey(), 2}, {s.getValue(), 2}, {m, 3}});
    }
    if (auto la = dyn_cast<LinearAttentionOp>(op)) {
      group({{la.getQuery(), 0}, {la.getKey(), 0}, {la.getValue(), 0}, {la.getDecay(), 0},
             {la.getBeta(), 0}, {la.getInitialState(), 0}, {la.getOutput(), 0},
             {la.getFinalState(), 0}});
      int64_t t = la.tokenDim(); // decay and beta keep tokens there too
      group({{la.getQuery(), t}, {la.getKey(), t}, {la.getValue(), t}, {la.getDecay(), t},
             {la.getBeta(), t}, {la.getOutput(), t}});
    }
    if (auto cc = dyn_cast<CausalConvOp>(op)) {
      group({{cc.getInput(), 0}, {cc.getInitialState(), 0}, {cc.getOutput(), 0},
             {cc.getFinalState(), 0}});
      uniteAll(cc.getInput(), cc.getOutput());
      if (Value g = cc.getGate())
        uniteAll(g, cc.getOutput());
    }
    if (auto g = dyn_cast<GateOp>(op)) {
      uniteAll(g.getInput(), g.getResult());
      auto gt = cast<RankedTensorType>(g.getGate().getType());
      for (int64_t d = 0; d < gt.getRank(); ++d)
        unite(g.getInput(), d, g.getGate(), d);
    }
  }

  llvm::EquivalenceClasses<Key> classes;
};

std::optional<std::string> dtypeName(Type t) {
  if (t.isF32()) return "F32";
  if (t.isF16()) return "F16";
  if (t.isBF16()) return "BF16";
  if (t.isF64()) return "F64";
  if (t.isInteger(1)) return "BOOL";
  if (t.isInteger(64)) return "I64";
  if (t.isInteger(32)) return "I32";
  return std::nullopt;
}

std::string stringAttr(DictionaryAttr attrs, StringRef key, std::string fallback) {
  if (attrs)
    if (auto s = attrs.getAs<StringAttr>(key))
      return s.str();
  return fallback;
}

std::string dimSymbol(DictionaryAttr attrs, unsigned d) {
  if (attrs)
    if (auto dims = attrs.getAs<ArrayAttr>("gatec.dims"))
      if (d < dims.size())
        if (auto s = dyn_cast<StringAttr>(dims[d]))
          return s.str();
  return "";
}

constexpr int64_t kMaxRank = 16;
} // namespace

LogicalResult gatec::extractSignatures(ModuleOp module, StringRef libName,
                                       std::vector<FunctionSignature> &sigs,
                                       std::string &error) {
  // Reification builds ops: work on a copy.
  OwningOpRef<ModuleOp> copy = module.clone();
  SmallVector<func::FuncOp> funcs;
  // Entry points: public functions nothing in the module calls.
  for (auto f : copy->getOps<func::FuncOp>())
    if (f.isPublic() && !f.isExternal() && SymbolTable::symbolKnownUseEmpty(f, *copy))
      funcs.push_back(f);
  if (funcs.empty()) {
    error = "the module has no public function to export";
    return failure();
  }
  for (func::FuncOp f : funcs) {
    FunctionSignature sig;
    sig.name = f.getName().str();
    sig.symbol = (funcs.size() == 1 || f.getName() == "main" || f.getName() == libName)
                     ? libName.str()
                     : (libName + "_" + f.getName()).str();
    auto describe = [&](Type type, DictionaryAttr attrs, std::string fallback,
                        ArgInfo &info) -> LogicalResult {
      auto tt = dyn_cast<RankedTensorType>(type);
      std::optional<std::string> dt = tt ? dtypeName(tt.getElementType()) : std::nullopt;
      info.name = stringAttr(attrs, "gatec.name", fallback);
      if (!tt || !dt) {
        error = "function '" + sig.name + "': '" + info.name +
                "' must be a ranked tensor of f32, f16, bf16, f64, i1, i32 or i64";
        return failure();
      }
      if (tt.getRank() > kMaxRank) {
        error = "function '" + sig.name + "': '" + info.name + "' has rank above 16";
        return failure();
      }
      info.dtype = *dt;
      for (int64_t d = 0; d < tt.getRank(); ++d) {
        DimInfo dim;
        if (!tt.isDynamicDim(d))
          dim.size = tt.getDimSize(d);
        else
          dim.symbol = dimSymbol(attrs, d);
        info.dims.push_back(dim);
      }
      return success();
    };
    for (auto [i, type] : llvm::enumerate(f.getArgumentTypes())) {
      ArgInfo info;
      if (failed(describe(type, f.getArgAttrDict(i), "arg" + std::to_string(i), info)))
        return failure();
      sig.inputs.push_back(std::move(info));
    }
    // Unnamed dynamic input dims: the symbol of a tied named dim, else a
    // fresh one shared by the tied dims.
    {
      DimClasses classes(f);
      int fresh = 0;
      for (auto [i, in] : llvm::enumerate(sig.inputs))
        for (auto [d, dim] : llvm::enumerate(in.dims)) {
          if (dim.size >= 0 || !dim.symbol.empty())
            continue;
          std::string sym;
          for (auto [j, other] : llvm::enumerate(sig.inputs))
            for (auto [e, od] : llvm::enumerate(other.dims))
              if (sym.empty() && od.size < 0 && !od.symbol.empty() &&
                  classes.same(f.getArgument(i), d, f.getArgument(j), e))
                sym = od.symbol;
          dim.symbol = sym.empty() ? "_d" + std::to_string(fresh++) : sym;
        }
    }
    auto ret = cast<func::ReturnOp>(f.getBody().back().getTerminator());
    DimResolver resolver(f);
    for (auto [o, value] : llvm::enumerate(ret.getOperands())) {
      ArgInfo info;
      if (failed(describe(value.getType(), f.getResultAttrDict(o),
                          "output" + std::to_string(o), info)))
        return failure();
      for (auto [d, dim] : llvm::enumerate(info.dims)) {
        if (dim.size >= 0)
          continue;
        std::optional<DimExpr> e = resolver.dimOf(value, d);
        if ((!e || e->terms.size() > 2) && !dim.symbol.empty()) {
          // The model names this dim (ONNX dim_param): take it from the
          // first input dim of the same name.
          for (auto [i, in] : llvm::enumerate(sig.inputs))
            for (auto [j, id] : llvm::enumerate(in.dims))
              if (!e && id.size < 0 && id.symbol == dim.symbol)
                e = DimExpr{0, {{int(i), int(j)}}};
        }
        if (!e || e->terms.size() > 2) {
          error = "function '" + sig.name + "': cannot express dimension " +
                  std::to_string(d) + " of output '" + info.name +
                  "' in terms of the input shapes";
          return failure();
        }
        dim.constant = e->constant;
        for (auto [t, term] : llvm::enumerate(e->terms)) {
          dim.input[t] = term.first;
          dim.inputDim[t] = term.second;
        }
        if (dim.symbol.empty() && e->terms.size() == 1 && e->constant == 0)
          dim.symbol = sig.inputs[e->terms[0].first].dims[e->terms[0].second].symbol;
        if (e->terms.empty()) // dynamic type, constant size
          dim.size = e->constant;
      }
      sig.outputs.push_back(std::move(info));
    }
    sigs.push_back(std::move(sig));
  }
  return success();
}
