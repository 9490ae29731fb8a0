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
