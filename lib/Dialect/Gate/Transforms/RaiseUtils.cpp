//===- RaiseUtils.cpp - matching helpers shared by the gate-raise-* passes ===//
#include "RaiseUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace gatec::gate::raise {


/// The value of a splat float constant.
std::optional<double> splatValue(Value v) {
  DenseElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)) && attr.isSplat() &&
      isa<FloatType>(attr.getElementType()))
    return attr.getSplatValue<APFloat>().convertToDouble();
  FloatAttr f;
  if (matchPattern(v, m_Constant(&f)))
    return f.getValueAsDouble();
  if (auto splat = v.getDefiningOp<tensor::SplatOp>())
    return splatValue(splat.getInput());
  return std::nullopt;
}


/// The input of a broadcast along `dims` (linalg.broadcast, or a
/// linalg.generic that only copies its one input).
Value broadcastSource(Value v, SmallVectorImpl<int64_t> *dims) {
  if (auto bc = v.getDefiningOp<linalg::BroadcastOp>()) {
    if (dims)
      dims->assign(bc.getDimensions().begin(), bc.getDimensions().end());
    return bc.getInput();
  }
  auto gen = v.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumDpsInits() != 1)
    return {};
  Block &body = gen.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 || yield.getValues()[0] != body.getArgument(0))
    return {};
  if (!llvm::all_of(gen.getIteratorTypesArray(),
                    [](utils::IteratorType t) { return t == utils::IteratorType::parallel; }))
    return {};
  AffineMap in = gen.getIndexingMapsArray()[0], out = gen.getIndexingMapsArray()[1];
  if (!out.isIdentity())
    return {};
  // Each input dim is read by an output dim in order, or is a unit dim read
  // at 0 (the importer's expand-then-broadcast).
  int64_t last = -1;
  for (AffineExpr e : in.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      if (int64_t(d.getPosition()) <= last)
        return {};
      last = d.getPosition();
    } else if (auto c = dyn_cast<AffineConstantExpr>(e); !c || c.getValue() != 0) {
      return {};
    }
  }
  if (dims) {
    dims->clear();
    for (unsigned d = 0; d < out.getNumDims(); ++d)
      if (!in.isFunctionOfDim(d))
        dims->push_back(d);
  }
  return gen.getDpsInputs()[0];
}


/// Strips multiplications / divisions by splat constants, folding them into
/// `scale`.
Value stripScale(Value v, double &scale) {
  while (true) {
    if (auto mul = v.getDefiningOp<arith::MulFOp>()) {
      if (auto c = splatValue(mul.getRhs())) { scale *= *c; v = mul.getLhs(); continue; }
      if (auto c = splatValue(mul.getLhs())) { scale *= *c; v = mul.getRhs(); continue; }
    }
    if (auto div = v.getDefiningOp<arith::DivFOp>())
      if (auto c = splatValue(div.getRhs()); c && *c != 0.0) {
        scale /= *c;
        v = div.getLhs();
        continue;
      }
    return v;
  }
}

Value stripReshapes(Value v) {
  while (true) {
    if (auto e = v.getDefiningOp<tensor::ExpandShapeOp>()) { v = e.getSrc(); continue; }
    if (auto c = v.getDefiningOp<tensor::CollapseShapeOp>()) { v = c.getSrc(); continue; }
    return v;
  }
}

} // namespace gatec::gate::raise
