//===- Activations.cpp - ONNX's parameterized activation functions ---------===//
//
// Gelu (exact and tanh), LeakyRelu, PRelu, Elu, Selu, Celu, HardSigmoid,
// HardSwish, Softsign, Mish and ThresholdedRelu, as elementwise arith / math
// ops on tensors (fused into loops with their neighbours later). Written so
// that NaN inputs give NaN (comparisons are false for NaN, and every select
// keeps x or a function of x on that side) and large inputs do not overflow.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {
enum class Act {
  Gelu,
  LeakyRelu,
  Elu,
  Selu,
  Celu,
  HardSigmoid,
  HardSwish,
  Softsign,
  Mish,
  ThresholdedRelu
};

/// Elementwise builders on tensors of one shape and float type.
struct Ew {
  Importer &im;
  SymShape d;
  Type et;
  OpBuilder &b() { return im.b; }
  Location loc() { return im.loc; }
  Value c(double v) { return im.splat(d, et, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b(), loc(), x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b(), loc(), x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b(), loc(), x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b(), loc(), x, y); }
  Value max(Value x, Value y) { return arith::MaximumFOp::create(b(), loc(), x, y); }
  Value min(Value x, Value y) { return arith::MinimumFOp::create(b(), loc(), x, y); }
  Value exp(Value x) { return math::ExpOp::create(b(), loc(), x); }
  Value expm1(Value x) { return math::ExpM1Op::create(b(), loc(), x); }
  Value tanh(Value x) { return math::TanhOp::create(b(), loc(), x); }
  Value abs(Value x) { return math::AbsFOp::create(b(), loc(), x); }
  Value erf(Value x) { return math::ErfOp::create(b(), loc(), x); }
  /// cond(x) ? then : otherwise, with x NaN taking `otherwise`.
  Value select(arith::CmpFPredicate p, Value x, Value bound, Value then, Value otherwise) {
    Value cond = arith::CmpFOp::create(b(), loc(), p, x, bound);
    return arith::SelectOp::create(b(), loc(), cond, then, otherwise);
  }
  /// clamp(v, 0, 1), NaN kept.
  Value unitClamp(Value v) { return max(min(v, c(1.0)), c(0.0)); }
};

LogicalResult activation(Importer &im, NodeCtx &n, Act k) {
  if (failed(n.arity(1, 1)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isa<FloatType>(et))
    return im.fail("input must be a floating-point tensor, got " + str(et));
  double alpha = 0, beta = 0, gamma = 0;
  std::string approx;
  switch (k) {
  case Act::Gelu:
    approx = n.s("approximate", "none");
    if (approx != "none" && approx != "tanh")
      return im.fail("approximate must be 'none' or 'tanh', got '" + approx + "'");
    break;
  case Act::LeakyRelu:
    alpha = n.f("alpha", 0.01f);
    break;
  case Act::Elu:
  case Act::ThresholdedRelu:
    alpha = n.f("alpha", 1.0f);
    break;
  case Act::Celu:
    alpha = n.f("alpha", 1.0f);
    if (alpha == 0)
      return im.fail("alpha must be nonzero");
    break;
  case Act::Selu:
    alpha = n.f("alpha", 1.67326319217681884765625f);
    gamma = n.f("gamma", 1.05070102214813232421875f);
    break;
  case Act::HardSigmoid:
    alpha = n.f("alpha", 0.2f);
    beta = n.f("beta", 0.5f);
    break;
  default:
    break;
  }
  if (n.bad)
    return failure();
  Value x = n.in(0);
  if (!x)
    return failure();
  Ew e{im, im.dims(x), et};
  using P = arith::CmpFPredicate;
  Value y;
  switch (k) {
  case Act::Gelu:
    if (approx == "none") {
      y = e.mul(e.mul(e.c(0.5), x), e.add(e.c(1.0), e.erf(e.mul(x, e.c(M_SQRT1_2)))));
    } else {
      Value x3 = e.mul(e.mul(x, x), x);
      Value inner = e.mul(e.c(std::sqrt(2.0 / M_PI)), e.add(x, e.mul(e.c(0.044715), x3)));
      y = e.mul(e.mul(e.c(0.5), x), e.add(e.c(1.0), e.tanh(inner)));
    }
    break;
  case Act::LeakyRelu:
    y = e.select(P::OLT, x, e.c(0.0), e.mul(e.c(alpha), x), x);
    break;
  case Act::Elu:
    y = e.select(P::OLT, x, e.c(0.0), e.mul(e.c(alpha), e.expm1(x)), x);
    break;
  case Act::Selu:
    y = e.mul(e.c(gamma), e.select(P::OLE, x, e.c(0.0), e.mul(e.c(alpha), e.expm1(x)), x));
    break;
  case Act::Celu:
    // max(0, x) + min(0, alpha·(exp(x/alpha) - 1)), as a select so NaN stays.
    y = e.select(P::OLT, x, e.c(0.0), e.mul(e.c(alpha), e.expm1(e.div(x, e.c(alpha)))), x);
    break;
  case Act::HardSigmoid:
    y = e.unitClamp(e.add(e.mul(e.c(alpha), x), e.c(beta)));
    break;
  case Act::HardSwish:
    y = e.mul(x, e.unitClamp(e.add(e.mul(e.c(1.0 / 6.0), x), e.c(0.5))));
    break;
  case Act::Softsign:
    y = e.div(x, e.add(e.c(1.0), e.abs(x)));
    break;
  case Act::Mish:
    y = e.mul(x, e.tanh(softplus(im, x)));
    break;
  case Act::ThresholdedRelu:
    y = e.select(P::OGT, x, e.c(alpha), x, e.select(P::UNO, x, x, x, e.c(0.0)));
    break;
  }
  im.setDims(y, e.d);
  return n.out(0, y);
}

template <Act K> LogicalResult act(Importer &im, NodeCtx &n) { return activation(im, n, K); }
} // namespace

namespace gatec::onnx_frontend::detail {

Value softplus(Importer &im, Value x) {
  // max(x, 0) + log1p(exp(-|x|)): exp never overflows.
  Ew e{im, im.dims(x), cast<RankedTensorType>(x.getType()).getElementType()};
  Value l =
      math::Log1pOp::create(e.b(), e.loc(), e.exp(arith::NegFOp::create(e.b(), e.loc(), e.abs(x))));
  return e.add(e.max(x, e.c(0.0)), l);
}

/// PRelu: x < 0 ? slope·x : x, the slope broadcast to x (unidirectionally).
LogicalResult handlePRelu(Importer &im, NodeCtx &n) {
  if (failed(n.arity(2, 2)))
    return failure();
  Type et = n.inType(0).getElementType();
  if (!isa<FloatType>(et) || n.inType(1).getElementType() != et)
    return im.fail("X and slope must share one floating-point element type");
  Value x = n.in(0), slope = n.in(1);
  if (!x || !slope)
    return failure();
  SmallVector<Value> v{x, slope};
  SymShape d;
  if (!im.broadcastAll(v, &d))
    return failure();
  if (d.size() != im.dims(x).size() || d != im.dims(x))
    return im.fail("slope must broadcast to the shape of X");
  Ew e{im, d, et};
  Value y = e.select(arith::CmpFPredicate::OLT, v[0], e.c(0.0), e.mul(v[1], v[0]), v[0]);
  im.setDims(y, d);
  return n.out(0, y);
}

void registerActivations(llvm::StringMap<Handler> &m) {
  m["Gelu"] = act<Act::Gelu>;
  m["LeakyRelu"] = act<Act::LeakyRelu>;
  m["Elu"] = act<Act::Elu>;
  m["Selu"] = act<Act::Selu>;
  m["Celu"] = act<Act::Celu>;
  m["HardSigmoid"] = act<Act::HardSigmoid>;
  m["HardSwish"] = act<Act::HardSwish>;
  m["Softsign"] = act<Act::Softsign>;
  m["Mish"] = act<Act::Mish>;
  m["ThresholdedRelu"] = act<Act::ThresholdedRelu>;
  m["PRelu"] = handlePRelu;
}

} // namespace gatec::onnx_frontend::detail
