//===- Broadcast.cpp - recognizing broadcasts of tensors ------------------===//
#include "gatec/Dialect/Gate/IR/Broadcast.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;

namespace gatec {

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

} // namespace gatec
