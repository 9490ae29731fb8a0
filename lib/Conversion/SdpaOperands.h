//===- SdpaOperands.h - what the gate.sdpa lowerings read -----------------===//
#ifndef GATEC_LIB_CONVERSION_SDPAOPERANDS_H
#define GATEC_LIB_CONVERSION_SDPAOPERANDS_H

#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include <optional>
#include <tuple>

namespace gatec {

/// The buffers, sizes and attributes of a gate.sdpa, and its result buffer.
struct SdpaOperands {
  SdpaOperands(KernelBuilder &b, gate::SdpaOp op) {
    auto type = [](mlir::Value x) { return mlir::cast<mlir::RankedTensorType>(x.getType()); };
    q = b.toBuffer(op.getQuery());
    k = b.toBuffer(op.getKey());
    v = b.toBuffer(op.getValue());
    mask = op.getMask() ? b.toBuffer(op.getMask()) : mlir::Value();
    gate = op.getGate() ? b.toBuffer(op.getGate()) : mlir::Value();
    sink = op.getSink() ? b.toBuffer(op.getSink()) : mlir::Value();
    resT = type(op.getResult());
    D = type(op.getQuery()).getDimSize(3);
    Dv = type(op.getValue()).getDimSize(3);
    group = type(op.getQuery()).getDimSize(1) / type(op.getKey()).getDimSize(1);
    B = b.dim(q, 0);
    Hq = b.dim(q, 1);
    Sq = b.dim(q, 2);
    Skv = b.dim(k, 2);
    out = b.alloc(resT, b.dynSizes(resT, {B, Hq, Sq, b.idx(Dv)}));
    scale = op.getScaleOrDefault();
    softcap = op.getSoftcap() ? op.getSoftcap()->convertToFloat() : 0.0f;
    causal = op.getCausal();
    std::tie(left, right) = op.getKeyBand();
    windowed = op.getWindow().has_value();
    bottomRight = op.getBottomRight();
    boolMask = mask && type(op.getMask()).getElementType().isInteger(1);
    siluGate = op.getGateAct() == gate::Activation::silu;
  }

  mlir::Value q, k, v, mask, gate; // mask and gate may be null
  mlir::Value sink;                // [Hq] f32, may be null: SIMT only
  mlir::RankedTensorType resT;
  int64_t D, Dv, group;            // head dims; query heads per kv head
  mlir::Value B, Hq, Sq, Skv;
  mlir::Value out;
  float scale, softcap;            // softcap 0: none
  bool causal, boolMask, siluGate;
  bool windowed;                   // a `window`: only the SIMT kernels take it
  bool bottomRight;                // query i at key i + Skv - Sq: SIMT only too
  std::optional<int64_t> left, right; // keys [p - left, p + right] (unbounded: none)
};

} // namespace gatec

#endif
