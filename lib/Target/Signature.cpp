//===- Signature.cpp - the ABI signature of compiled functions ------------===//
#include "gatec/Target/Signature.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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
