//===- OpsCommon.h - shared by the op handler files -------------*- C++ -*-===//
#ifndef GATEC_LIB_FRONTEND_ONNX_OPSCOMMON_H
#define GATEC_LIB_FRONTEND_ONNX_OPSCOMMON_H

#include "ImporterImpl.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/IR/TypeUtilities.h"

namespace gatec::onnx_frontend::detail {

/// Normalizes `axis` into [0, rank); false (with an error) when out of range.
bool normAxis(Importer &im, int64_t &axis, int64_t rank, llvm::StringRef what = "axis");

/// The one value of input `i` (`what` in errors), which must be known at
/// import time; `runTime` says why a value computed at run time is refused.
LogicalResult constOneValue(Importer &im, NodeCtx &n, int i, llvm::StringRef what,
                            llvm::StringRef runTime, int64_t &v);
/// Attribute `name` (default `dflt`), which must be 0 or 1.
LogicalResult checkBool01(Importer &im, NodeCtx &n, llvm::StringRef name, int64_t &v,
                          int64_t dflt);

/// The symbolic sizes of input `i`, without materializing it.
SymShape inDims(NodeCtx &n, int i);

/// A scalar (rank 0 or 1 with one element) of input `i` as a value of type
/// `et` (index or an integer/float type), constant when known.
Value scalarInput(NodeCtx &n, int i, Type et);

/// A type as it prints, for error messages.
std::string str(Type t);

/// An index constant, and an integer value cast to index.
inline Value cIdx(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}
inline Value toIndex(OpBuilder &b, Location l, Value v) {
  return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
}

/// `FOp` on float operands (scalars or tensors), `IOp` on integer ones.
template <typename FOp, typename IOp>
Value floatOrIntOp(OpBuilder &b, Location l, Value x, Value y) {
  if (isa<FloatType>(getElementTypeOrSelf(x.getType())))
    return FOp::create(b, l, x, y);
  return IOp::create(b, l, x, y);
}

/// `x` combined with `y` by a reduction kind (add, mul, max, min; floats
/// or signed integers, NaN-propagating max/min for floats).
Value reduceCombine(OpBuilder &b, Location l, ReduceKind k, Value x, Value y);

// Shared by the attention handlers (AttentionOps.cpp).
std::string num(int64_t v);
bool isGateFloat(Type t);
/// Checks a static size against an expected one; "" when fine.
std::string mismatch(llvm::StringRef what, const SymExpr &a, const SymExpr &b);
/// The first pair of static sizes that differ among `sizes`; "" when none.
std::string mismatchAll(llvm::StringRef what, llvm::ArrayRef<SymExpr> sizes);
/// [B, S, H*D] -> [B, H, S, D] and back.
Value toHeads(Importer &im, Value v, int64_t h);
Value fromHeads(Importer &im, Value v);
/// i1 [1, 1, Sq, T]: query i sees keys 0 .. i + offset (the keys of a cache
/// of `offset` entries come before the queries' own: causal aligned to the
/// bottom right).
Value causalKeepMask(Importer &im, const SymExpr &sq, const SymExpr &t, Value offset);

// Handlers implemented in the other files.
LogicalResult handleMatMul(Importer &, NodeCtx &);
LogicalResult handleGemm(Importer &, NodeCtx &);
LogicalResult handleEinsum(Importer &, NodeCtx &);
LogicalResult handleLpNorm(Importer &, NodeCtx &);
Value applyRotary(Importer &im, Value x4, Value cosC, Value sinC, Value pos, bool cacheB1,
                  int64_t rot, bool interleaved);

/// The opset-27 LinearAttention / CausalConvWithState with ONNX Runtime's
/// state_window = `window` (0: none): past_state gains a leading [W] axis
/// (slot W-1 read) and present_state holds the states after each of the last
/// W tokens, right-aligned, zeros where the call has no such token.
LogicalResult importLinearAttention(Importer &, NodeCtx &, int64_t window);
LogicalResult importCausalConv(Importer &, NodeCtx &, int64_t window);

/// A token-major gate.linear_attention's operands (StateWindow.cpp).
struct LinearAttentionParts {
  Value q, k, v, decay, beta, init; // [B, T, H, D]; init: f32 state or null
  gate::UpdateRule rule;
  FloatAttr scale;
  int64_t chunk;
};
/// The recurrence over every token, keeping the states after each of the
/// last `window` tokens: (output `od`, final state `sd`, [window, sd...]).
std::tuple<Value, Value, Value> linearAttentionWindow(Importer &im, const LinearAttentionParts &p,
                                                      const SymShape &od, const SymShape &sd,
                                                      Type et, int64_t window);
/// A causal convolution's states [window, B, C, L] after each of the last
/// `window` positions of x [B, C, T], past [B, C, L] (null: zeros) before it.
Value causalConvWindowStates(Importer &im, Value x, Value past, int64_t L, int64_t window);

LogicalResult handleMsMoE(Importer &, NodeCtx &);
LogicalResult handleMsGatedAdd(Importer &, NodeCtx &);
LogicalResult handleMsMatMulNBits(Importer &, NodeCtx &);

LogicalResult handleConv(Importer &, NodeCtx &);
/// Gelu, LeakyRelu, PRelu, Elu, Selu, Celu, HardSigmoid, HardSwish, Softsign,
/// Mish, ThresholdedRelu (Activations.cpp).
void registerActivations(llvm::StringMap<Handler> &table);
/// log(1 + exp(x)) on a float tensor, without overflow.
Value softplus(Importer &im, Value x);
/// The first `length` positions of `x`, when `x` is a channel-major
/// gate.causal_conv of an input padded with zeros after its end and `length`
/// is that input's own length: the causal convolution of the unpadded input
/// (position t reads positions <= t only). Null otherwise.
Value unpaddedCausalConv(Importer &im, Value x, const SymExpr &length);
LogicalResult handleSoftmax(Importer &, NodeCtx &);
LogicalResult handleLogSoftmax(Importer &, NodeCtx &);
LogicalResult handleReduceSum(Importer &, NodeCtx &);
LogicalResult handleReduceMean(Importer &, NodeCtx &);
LogicalResult handleReduceMax(Importer &, NodeCtx &);
LogicalResult handleReduceMin(Importer &, NodeCtx &);
LogicalResult handleReduceProd(Importer &, NodeCtx &);
LogicalResult handleReduceL2(Importer &, NodeCtx &);
LogicalResult handleReduceSumSquare(Importer &, NodeCtx &);
LogicalResult handleLayerNorm(Importer &, NodeCtx &);
LogicalResult handleRMSNorm(Importer &, NodeCtx &);
LogicalResult handleRotary(Importer &, NodeCtx &);
LogicalResult handleScan(Importer &, NodeCtx &);
LogicalResult handleTrilu(Importer &, NodeCtx &);
LogicalResult handleTile(Importer &, NodeCtx &);
LogicalResult handlePad(Importer &, NodeCtx &);
LogicalResult handleAttention(Importer &, NodeCtx &);
LogicalResult handleLinearAttention(Importer &, NodeCtx &);
LogicalResult handleCausalConv(Importer &, NodeCtx &);
LogicalResult handleCumSum(Importer &, NodeCtx &);
LogicalResult handleDFT(Importer &, NodeCtx &);
LogicalResult handleGatherElements(Importer &, NodeCtx &);
LogicalResult handleReverseSequence(Importer &, NodeCtx &);
LogicalResult handleGatherND(Importer &, NodeCtx &);
LogicalResult handleScatter(Importer &, NodeCtx &);
LogicalResult handleScatterElements(Importer &, NodeCtx &);
LogicalResult handleScatterND(Importer &, NodeCtx &);
LogicalResult handleTopK(Importer &, NodeCtx &);

} // namespace gatec::onnx_frontend::detail

#endif
