//===- LinearAttentionOperands.cpp ------------------------------------------===//
#include "LinearAttentionOperands.h"

using namespace mlir;
using namespace gatec;

LinearAttentionOperands::LinearAttentionOperands(KernelBuilder &b,
                                                 gate::LinearAttentionOp op)
    : reverse(op.getReverse()) {
  auto type = [](Value x) { return cast<RankedTensorType>(x.getType()); };
  tokenMajor = op.getTokenMajor();
  unsigned hd = op.headDim();
  hq = type(op.getQuery()).getDimSize(hd);
  hk = type(op.getKey()).getDimSize(hd);
  hv = type(op.getValue()).getDimSize(hd);
  K = type(op.getQuery()).getDimSize(3);
  V = type(op.getValue()).getDimSize(3);
  gqa = hq != hk;
  qPerState = gqa ? hq / hv : 1;
  statesPerKey = hv / hk;
  q = b.toBuffer(op.getQuery());
  k = b.toBuffer(op.getKey());
  v = b.toBuffer(op.getValue());
  decay = op.getDecay() ? b.toBuffer(op.getDecay()) : Value();
  beta = op.getBeta() ? b.toBuffer(op.getBeta()) : Value();
  init = op.getInitialState() ? b.toBuffer(op.getInitialState()) : Value();
  gate = op.getGate() ? b.toBuffer(op.getGate()) : Value();
  gateSilu = op.getGateAct() == gate::Activation::silu;
  B = b.dim(q, 0);
  T = b.dim(q, op.tokenDim());
  if (reverse)
    lastToken = b.subi(T, b.idx(1));
  outT = type(op.getOutput());
  stT = type(op.getFinalState());
  Value outHeads = b.idx(gqa ? hq : hv), vSize = b.idx(V);
  out = b.alloc(outT, b.dynSizes(outT, tokenMajor ? SmallVector<Value>{B, T, outHeads, vSize}
                                                  : SmallVector<Value>{B, outHeads, T, vSize}));
  st = b.alloc(stT, b.dynSizes(stT, {B, b.idx(hv), b.idx(K), b.idx(V)}));
}

Value LinearAttentionOperands::gated(KernelBuilder &b, Value o, ValueRange at, int64_t width,
                                     bool inBounds) const {
  if (!gate)
    return o;
  return b.gateBy(o, width ? b.vload(gate, at, width, inBounds) : b.load(gate, at), gateSilu);
}
