//===- GateOps.cpp - gate dialect ops, verifiers, canonicalization --------===//
#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace gatec::gate;

#include "gatec/Dialect/Gate/IR/GateDialect.cpp.inc"
#include "gatec/Dialect/Gate/IR/GateEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "gatec/Dialect/Gate/IR/GateAttrs.cpp.inc"
#define GET_OP_CLASSES
#include "gatec/Dialect/Gate/IR/GateOps.cpp.inc"

void GateDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "gatec/Dialect/Gate/IR/GateAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "gatec/Dialect/Gate/IR/GateOps.cpp.inc"
      >();
}

namespace {
/// Ties named dimension groups (B, Hq, T, ...) across operands: the first
/// static size seen for a group binds it, and every later static size must
/// agree. Dynamic sizes agree with anything. Errors name operand and dimension.
class DimBinder {
public:
  explicit DimBinder(Operation *op) : op(op) {}

  LogicalResult bind(StringRef group, Value v, StringRef operand, unsigned dim) {
    int64_t size = cast<ShapedType>(v.getType()).getDimSize(dim);
    return bindSize(group, size, operand, dim);
  }
  LogicalResult bindSize(StringRef group, int64_t size, StringRef operand,
                         unsigned dim) {
    if (ShapedType::isDynamic(size))
      return success();
    auto it = sizes.find(group);
    if (it == sizes.end()) {
      sizes[group] = {size, (operand + " dim " + Twine(dim)).str()};
      return success();
    }
    if (it->second.first != size)
      return op->emitOpError() << "'" << operand << "' dimension " << dim << " ("
                               << group << ") is " << size << " but "
                               << it->second.second << " is "
                               << it->second.first;
    return success();
  }
  /// The static size bound to a group, or ShapedType::kDynamic.
  int64_t get(StringRef group) const {
    auto it = sizes.find(group);
    return it == sizes.end() ? ShapedType::kDynamic : it->second.first;
  }

private:
  Operation *op;
  llvm::StringMap<std::pair<int64_t, std::string>> sizes;
};

RankedTensorType rt(Value v) { return cast<RankedTensorType>(v.getType()); }

LogicalResult requireStatic(Operation *op, Value v, StringRef name,
                            unsigned dim, StringRef what) {
  if (rt(v).isDynamicDim(dim))
    return op->emitOpError() << "'" << name << "' dimension " << dim << " ("
                             << what << ") must be static";
  return success();
}

LogicalResult requireSameElementType(Operation *op, Value a, StringRef an,
                                     Value b, StringRef bn) {
  if (rt(a).getElementType() != rt(b).getElementType())
    return op->emitOpError() << "'" << bn << "' element type "
                             << rt(b).getElementType() << " differs from '"
                             << an << "' element type " << rt(a).getElementType();
  return success();
}
/// Head counts and head sizes of query/key/value are static, and the three
/// and the result share one element type.
LogicalResult verifyHeadOperands(Operation *op, Value q, Value k, Value v, Value res,
                                 StringRef resName) {
  for (auto [val, name] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}})
    for (unsigned d : {1u, 3u})
      if (failed(requireStatic(op, val, name, d, d == 1 ? "heads" : "head size")))
        return failure();
  if (failed(requireSameElementType(op, q, "query", k, "key")) ||
      failed(requireSameElementType(op, q, "query", v, "value")) ||
      failed(requireSameElementType(op, q, "query", res, resName)))
    return failure();
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// SdpaOp
//===----------------------------------------------------------------------===//

float SdpaOp::getScaleOrDefault() {
  if (auto s = getScale())
    return s->convertToFloat();
  return 1.0f / std::sqrt(float(rt(getQuery()).getDimSize(3)));
}

LogicalResult SdpaOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKey(), v = getValue(), res = getResult();
  if (failed(verifyHeadOperands(op, q, k, v, res, "result")))
    return failure();

  DimBinder dims(op);
  if (failed(dims.bind("B", q, "query", 0)) || failed(dims.bind("B", k, "key", 0)) ||
      failed(dims.bind("B", v, "value", 0)) ||
      failed(dims.bind("Hq", q, "query", 1)) ||
      failed(dims.bind("Sq", q, "query", 2)) ||
      failed(dims.bind("D", q, "query", 3)) || failed(dims.bind("D", k, "key", 3)) ||
      failed(dims.bind("Hkv", k, "key", 1)) ||
      failed(dims.bind("Hkv", v, "value", 1)) ||
      failed(dims.bind("Skv", k, "key", 2)) ||
      failed(dims.bind("Skv", v, "value", 2)) ||
      failed(dims.bind("Dv", v, "value", 3)) ||
      failed(dims.bind("B", res, "result", 0)) ||
      failed(dims.bind("Hq", res, "result", 1)) ||
      failed(dims.bind("Sq", res, "result", 2)) ||
      failed(dims.bind("Dv", res, "result", 3)))
    return failure();
  int64_t hq = dims.get("Hq"), hkv = dims.get("Hkv");
  if (hkv <= 0 || hq <= 0 || hq % hkv != 0)
    return emitOpError() << "query heads (" << hq
                         << ") must be a positive multiple of key/value heads ("
                         << hkv << ")";
  if (dims.get("D") == 0)
    return emitOpError() << "'query' head size must be positive";
  if (auto w = getWindow()) {
    if (w->size() != 2 || (*w)[0] < 0 || (*w)[1] < 0)
      return emitOpError() << "'window' must hold two non-negative sizes (left, right)";
  }
  if (getBottomRight() && !getCausal() && !getWindow())
    return emitOpError() << "'bottom_right' aligns a causal or window band; the op has neither";

  if (Value m = getMask()) {
    const char *groups[] = {"B", "Hq", "Sq", "Skv"};
    auto mt = rt(m);
    if (!mt.getElementType().isInteger(1) &&
        mt.getElementType() != rt(q).getElementType())
      return emitOpError() << "float 'mask' element type " << mt.getElementType()
                           << " differs from 'query' element type "
                           << rt(q).getElementType();
    for (unsigned d = 0; d < 4; ++d) {
      if (mt.getDimSize(d) == 1)
        continue; // broadcast
      if (failed(dims.bind(groups[d], m, "mask", d)))
        return failure();
    }
  }
  if (Value g = getGate()) {
    if (failed(requireSameElementType(op, q, "query", g, "gate")))
      return failure();
    if (failed(dims.bind("B", g, "gate", 0)) || failed(dims.bind("Hq", g, "gate", 1)) ||
        failed(dims.bind("Sq", g, "gate", 2)))
      return failure();
    int64_t gd = rt(g).getDimSize(3), dv = dims.get("Dv");
    if (gd != 1 && !ShapedType::isDynamic(gd) && gd != dv)
      return emitOpError() << "'gate' must be elementwise [B,Hq,Sq,Dv] or "
                              "headwise [B,Hq,Sq,1]; its last dimension is "
                           << gd << " and Dv is " << dv;
  }
  if (Value sink = getSink())
    if (failed(dims.bind("Hq", sink, "sink", 0)))
      return failure();
  if (auto sc = getSoftcap())
    if (sc->convertToFloat() < 0.0f || std::isnan(sc->convertToFloat()))
      return emitOpError() << "'softcap' must be >= 0, got "
                           << sc->convertToFloat();
  if (auto s = getScale())
    if (!std::isfinite(s->convertToFloat()))
      return emitOpError() << "'scale' must be finite";
  return success();
}

namespace {
/// Whether `v`, used once, is a gate.sdpa without a gate, or a result of an
/// scf.if whose branches both yield such values there (the forms an
/// attention is chosen between at run time, maybe with the KV caches they
/// read as other results): a gate applied to `v` can move into every such
/// sdpa's epilogue.
bool gateableSdpa(Value v) {
  if (!v.hasOneUse())
    return false;
  if (auto sdpa = v.getDefiningOp<SdpaOp>())
    return !sdpa.getGate();
  auto ifOp = v.getDefiningOp<scf::IfOp>();
  if (!ifOp || !ifOp.elseBlock())
    return false;
  unsigned n = cast<OpResult>(v).getResultNumber();
  return llvm::all_of(std::array<Block *, 2>{ifOp.thenBlock(), ifOp.elseBlock()}, [&](Block *b) {
    return gateableSdpa(cast<scf::YieldOp>(b->getTerminator()).getOperand(n));
  });
}

/// Gives every sdpa behind a gateableSdpa value the output gate `g`.
void setGate(RewriterBase &rewriter, Value v, Value g, Activation act) {
  if (auto sdpa = v.getDefiningOp<SdpaOp>()) {
    rewriter.modifyOpInPlace(sdpa, [&] {
      sdpa.getGateMutable().assign(g);
      sdpa.setGateAct(act);
    });
    return;
  }
  auto ifOp = v.getDefiningOp<scf::IfOp>();
  unsigned n = cast<OpResult>(v).getResultNumber();
  for (Block *b : {ifOp.thenBlock(), ifOp.elseBlock()})
    setGate(rewriter, cast<scf::YieldOp>(b->getTerminator()).getOperand(n), g, act);
}

/// Whether every use of `op`'s results other than `keep` comes after `pos`
/// in its block (moving `op` down to `pos` keeps them dominated).
bool otherUsesAfter(Operation *op, Value keep, Operation *pos) {
  for (Value r : op->getResults()) {
    if (r == keep)
      continue;
    for (Operation *user : r.getUsers()) {
      Operation *anc = pos->getBlock()->findAncestorOpInBlock(*user);
      if (!anc || anc == pos || anc->isBeforeInBlock(pos))
        return false;
    }
  }
  return true;
}

/// gate.gate(sdpa(...), g) with the sdpa result used only there folds into
/// the sdpa's output gate when the gate fits the sdpa's gate operand; so
/// does a gate of an scf.if choosing between such sdpas (each gets it).
struct FoldGateIntoSdpa : OpRewritePattern<GateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GateOp gateOp,
                                PatternRewriter &rewriter) const override {
    Value x = gateOp.getInput();
    Operation *sdpa = x.getDefiningOp();
    // Moving the sdpa (or the scf.if) down to the gate is only safe within
    // one block (never into a loop body).
    if (!sdpa || !gateableSdpa(x) || sdpa->getBlock() != gateOp->getBlock() ||
        !otherUsesAfter(sdpa, x, gateOp))
      return failure();
    auto gt = rt(gateOp.getGate());
    auto resT = rt(x);
    if (gt.getRank() != 4 || gt.getElementType() != resT.getElementType())
      return failure();
    for (unsigned d = 0; d < 3; ++d)
      if (gt.getDimSize(d) != resT.getDimSize(d))
        return failure();
    if (gt.getDimSize(3) != 1 && gt.getDimSize(3) != resT.getDimSize(3))
      return failure();
    setGate(rewriter, x, gateOp.getGate(), gateOp.getAct());
    // The gate value must dominate the sdpa: move the sdpa (or the scf.if,
    // whose branches only read values defined before it) down to the gate op.
    rewriter.moveOpBefore(sdpa, gateOp);
    rewriter.replaceOp(gateOp, x);
    return success();
  }
};
/// Whether `v`, used once, is the output of a linear_attention or a
/// causal_conv without a gate (FoldGateIntoEpilogue takes the gate there).
bool gateableEpilogue(Value v) {
  if (!v.hasOneUse())
    return false;
  if (auto la = v.getDefiningOp<LinearAttentionOp>())
    return v == la.getOutput() && !la.getGate();
  if (auto conv = v.getDefiningOp<CausalConvOp>())
    return v == conv.getOutput() && !conv.getGate();
  return false;
}

/// Whether a gateableSdpa (or gateableEpilogue) value reaches `v` through
/// single-use transposes and collapse_shapes only (how exporters lay the
/// attention output back out as [B, T, H·D] before gating it).
bool sdpaThroughLayout(Value v) {
  while (v.hasOneUse()) {
    Operation *def = v.getDefiningOp();
    if (gateableSdpa(v) || gateableEpilogue(v))
      return true;
    if (auto tr = dyn_cast_or_null<linalg::TransposeOp>(def);
        tr && tr.hasPureTensorSemantics())
      v = tr.getInput();
    else if (auto c = dyn_cast_or_null<tensor::CollapseShapeOp>(def))
      v = c.getSrc();
    else
      return false;
  }
  return false;
}

/// gate.gate(layout(y), g) = layout(gate.gate(y, layout⁻¹(g))) for an
/// elementwise gate, where layout is a transpose or a collapse_shape: moves
/// the gate one step toward the gate.sdpa that produced y, so that it folds
/// into the sdpa's epilogue (FoldGateIntoSdpa). Only done when such an sdpa
/// is at the end of the chain.
struct SinkGateTowardSdpa : OpRewritePattern<GateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GateOp gateOp, PatternRewriter &rewriter) const override {
    Value x = gateOp.getInput(), g = gateOp.getGate();
    if (g.getType() != x.getType() || !x.hasOneUse() || !sdpaThroughLayout(x))
      return failure();
    Location loc = gateOp.getLoc();
    Operation *def = x.getDefiningOp();
    // x itself the producer: FoldGateIntoSdpa / FoldGateIntoEpilogue.
    if (def->getBlock() != gateOp->getBlock() ||
        !isa<linalg::TransposeOp, tensor::CollapseShapeOp>(def))
      return failure();
    // Sizes of y come from g (x's shape): dims of y itself would be new uses
    // of the sdpa result, which then could not take the gate.
    if (auto tr = dyn_cast<linalg::TransposeOp>(def)) {
      Value y = tr.getInput();
      SmallVector<int64_t> inv = invertPermutationVector(tr.getPermutation());
      SmallVector<OpFoldResult> ySizes;
      for (int64_t j : inv)
        ySizes.push_back(tensor::getMixedSize(rewriter, loc, g, j));
      Value gInit = tensor::EmptyOp::create(rewriter, loc, ySizes, rt(y).getElementType());
      Value gT = linalg::TransposeOp::create(rewriter, loc, g, gInit,
                                             invertPermutationVector(tr.getPermutation()))
                     ->getResult(0);
      Value gated = GateOp::create(rewriter, loc, y.getType(), y, gT, gateOp.getAct());
      Value out = linalg::TransposeOp::create(rewriter, loc, gated, tr.getInit(),
                                              tr.getPermutation())
                      ->getResult(0);
      rewriter.replaceOp(gateOp, out);
      return success();
    }
    auto c = cast<tensor::CollapseShapeOp>(def);
    Value y = c.getSrc();
    auto yT = rt(y);
    SmallVector<OpFoldResult> ySizes;
    for (auto [gi, group] : llvm::enumerate(c.getReassociationIndices())) {
      if (group.size() == 1) {
        ySizes.push_back(tensor::getMixedSize(rewriter, loc, g, gi));
        continue;
      }
      for (int64_t d : group) {
        if (yT.isDynamicDim(d))
          return failure(); // a dynamic dim inside a merged group
        ySizes.push_back(rewriter.getIndexAttr(yT.getDimSize(d)));
      }
    }
    Value gE = tensor::ExpandShapeOp::create(rewriter, loc, y.getType(), g,
                                             c.getReassociationIndices(), ySizes);
    Value gated = GateOp::create(rewriter, loc, y.getType(), y, gE, gateOp.getAct());
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(gateOp, x.getType(), gated,
                                                         c.getReassociationIndices());
    return success();
  }
};

/// Bottom-right bands that need no alignment: Sq == Skv (the offset is 0:
/// the upper-left band), or one query row, causal without a window, at key
/// position Skv - 1 (it sees every key).
struct SimplifyBottomRightBand : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rewriter) const override {
    if (!op.getBottomRight())
      return failure();
    int64_t sq = rt(op.getQuery()).getDimSize(2), skv = rt(op.getKey()).getDimSize(2);
    bool aligned = !ShapedType::isDynamic(sq) && sq == skv;
    bool seesAll = sq == 1 && op.getCausal() && !op.getWindow();
    if (!aligned && !seesAll)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.setBottomRight(false);
      if (seesAll)
        op.setCausal(false);
    });
    return success();
  }
};
} // namespace

void SdpaOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<FoldGateIntoSdpa, SinkGateTowardSdpa, SimplifyBottomRightBand>(context);
}

//===----------------------------------------------------------------------===//
// GateOp
//===----------------------------------------------------------------------===//

LogicalResult GateOp::verify() {
  auto it = rt(getInput()), gt = rt(getGate()), res = rt(getResult());
  for (auto [t, name] : {std::pair{it, "input"}, {gt, "gate"}, {res, "result"}})
    if (!isa<Float32Type, Float16Type, BFloat16Type>(t.getElementType()))
      return emitOpError() << "'" << name << "' must have f32, f16 or bf16 elements, got "
                           << t.getElementType();
  if (gt.getElementType() != it.getElementType() || res != it)
    return emitOpError() << "'gate' and result must have the element type of "
                            "'input', and the result its type";
  if (gt.getRank() != it.getRank())
    return emitOpError() << "'gate' rank " << gt.getRank()
                         << " differs from 'input' rank " << it.getRank();
  for (int64_t d = 0, e = it.getRank(); d < e; ++d) {
    int64_t g = gt.getDimSize(d), x = it.getDimSize(d);
    if (d == e - 1 && g == 1)
      continue;
    if (!ShapedType::isDynamic(g) && !ShapedType::isDynamic(x) && g != x)
      return emitOpError() << "'gate' dimension " << d << " is " << g
                           << " but 'input' dimension " << d << " is " << x;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

std::pair<std::optional<int64_t>, std::optional<int64_t>> SdpaOp::getKeyBand() {
  std::optional<int64_t> left, right;
  if (auto w = getWindow(); w && w->size() == 2) {
    left = (*w)[0];
    right = (*w)[1];
  }
  if (getCausal())
    right = 0;
  return {left, right};
}

float LinearAttentionOp::getScaleOrDefault() {
  if (auto s = getScale())
    return s->convertToFloat();
  return 1.0f / std::sqrt(float(rt(getQuery()).getDimSize(3)));
}

LogicalResult LinearAttentionOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKey(), v = getValue();
  Value out = getOutput(), st = getFinalState();
  const unsigned hd = headDim(), td = tokenDim();
  for (auto [val, name] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}})
    for (unsigned d : {hd, 3u})
      if (failed(requireStatic(op, val, name, d, d == hd ? "heads" : "head size")))
        return failure();
  if (failed(requireSameElementType(op, q, "query", k, "key")) ||
      failed(requireSameElementType(op, q, "query", v, "value")) ||
      failed(requireSameElementType(op, q, "query", out, "output")))
    return failure();

  DimBinder dims(op);
  for (auto [val, name] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}, {out, "output"}, {st, "final_state"}})
    if (failed(dims.bind("B", val, name, 0)))
      return failure();
  for (auto [val, name] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}, {out, "output"}})
    if (failed(dims.bind("T", val, name, td)))
      return failure();
  if (failed(dims.bind("K", q, "query", 3)) || failed(dims.bind("K", k, "key", 3)) ||
      failed(dims.bind("V", v, "value", 3)) || failed(dims.bind("V", out, "output", 3)) ||
      failed(dims.bind("Hv", v, "value", hd)) ||
      failed(dims.bind("Hv", st, "final_state", 1)) ||
      failed(dims.bind("K", st, "final_state", 2)) ||
      failed(dims.bind("V", st, "final_state", 3)))
    return failure();

  int64_t hq = rt(q).getDimSize(hd), hk = rt(k).getDimSize(hd),
          hv = rt(v).getDimSize(hd);
  if (hq <= 0 || hk <= 0 || hv <= 0)
    return emitOpError() << "head counts must be positive";
  if (hv % hk != 0)
    return emitOpError() << "'value' heads (" << hv
                         << ") must be a multiple of 'key' heads (" << hk << ")";
  int64_t ho;
  if (hq == hk) {
    ho = hv;
  } else if (hk == hv && hq % hv == 0) {
    ho = hq;
  } else {
    return emitOpError() << "'query' heads (" << hq
                         << ") must equal 'key' heads (" << hk
                         << ") or be a multiple of them when key and value "
                            "heads are equal (" << hv << ")";
  }
  if (failed(dims.bindSize("Ho", ho, "query/value head mapping", 1)) ||
      failed(dims.bind("Ho", out, "output", hd)))
    return failure();

  if (Value d = getDecay()) {
    auto dt = rt(d);
    if (dt.getElementType() != rt(q).getElementType() && !dt.getElementType().isF32())
      return emitOpError() << "'decay' element type " << dt.getElementType()
                           << " must be f32 or that of 'query' ("
                           << rt(q).getElementType() << ")";
    if (dt.getRank() != 3 && dt.getRank() != 4)
      return emitOpError() << "'decay' must be [B,Hv,T] (per head) or "
                              "[B,Hv,T,K] (per key channel), got rank "
                           << dt.getRank();
    if (failed(dims.bind("B", d, "decay", 0)) || failed(dims.bind("Hv", d, "decay", hd)) ||
        failed(dims.bind("T", d, "decay", td)))
      return failure();
    if (dt.getRank() == 4 && failed(dims.bind("K", d, "decay", 3)))
      return failure();
  } else if (isGated()) {
    return emitOpError() << "rule '" << stringifyUpdateRule(getRule())
                         << "' requires a 'decay' operand";
  }
  if (Value b = getBeta()) {
    Type bt = rt(b).getElementType();
    if (bt != rt(q).getElementType() && !bt.isF32())
      return emitOpError() << "'beta' element type " << bt
                           << " must be f32 or that of 'query' ("
                           << rt(q).getElementType() << ")";
    if (failed(dims.bind("B", b, "beta", 0)) || failed(dims.bind("Hv", b, "beta", hd)) ||
        failed(dims.bind("T", b, "beta", td)))
      return failure();
  } else if (isDelta()) {
    return emitOpError() << "rule '" << stringifyUpdateRule(getRule())
                         << "' requires a 'beta' operand";
  }
  if (Value s = getInitialState()) {
    if (failed(dims.bind("B", s, "initial_state", 0)) ||
        failed(dims.bind("Hv", s, "initial_state", 1)) ||
        failed(dims.bind("K", s, "initial_state", 2)) ||
        failed(dims.bind("V", s, "initial_state", 3)))
      return failure();
  }
  if (Value g = getGate()) {
    if (failed(requireSameElementType(op, out, "output", g, "gate")))
      return failure();
    auto gt = cast<RankedTensorType>(g.getType()), ot = cast<RankedTensorType>(out.getType());
    if (gt.getRank() != ot.getRank())
      return emitOpError() << "'gate' must have the rank of 'output' (" << ot.getRank() << ")";
    for (int64_t d = 0; d < gt.getRank(); ++d)
      if (failed(dims.bind("o" + std::to_string(d), out, "output", d)) ||
          failed(dims.bind("o" + std::to_string(d), g, "gate", d)))
        return failure();
  }
  if (int64_t chunk = getChunkSizeAttr().getInt(); chunk <= 0)
    return emitOpError() << "'chunk_size' must be positive, got " << chunk;
  if (auto s = getScale())
    if (!std::isfinite(s->convertToFloat()))
      return emitOpError() << "'scale' must be finite";
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConvOp
//===----------------------------------------------------------------------===//

LogicalResult CausalConvOp::verify() {
  Operation *op = getOperation();
  Value x = getInput(), w = getWeight(), out = getOutput(), st = getFinalState();
  if (failed(requireSameElementType(op, x, "input", w, "weight")) ||
      failed(requireSameElementType(op, x, "input", out, "output")) ||
      failed(requireSameElementType(op, x, "input", st, "final_state")))
    return failure();
  if (failed(requireStatic(op, w, "weight", 0, "channels")) ||
      failed(requireStatic(op, w, "weight", 1, "kernel size")))
    return failure();
  int64_t ksz = rt(w).getDimSize(1);
  if (ksz < 1)
    return emitOpError() << "'weight' kernel size must be at least 1, got " << ksz;
  DimBinder dims(op);
  unsigned cd = channelDim(), ld = lengthDim();
  if (failed(dims.bind("B", x, "input", 0)) || failed(dims.bind("C", x, "input", cd)) ||
      failed(dims.bind("L", x, "input", ld)) || failed(dims.bind("C", w, "weight", 0)) ||
      failed(dims.bind("B", out, "output", 0)) ||
      failed(dims.bind("C", out, "output", cd)) ||
      failed(dims.bind("L", out, "output", ld)) ||
      failed(dims.bind("B", st, "final_state", 0)) ||
      failed(dims.bind("C", st, "final_state", 1)) ||
      failed(dims.bindSize("k-1", ksz - 1, "weight kernel size - 1", 1)) ||
      failed(dims.bind("k-1", st, "final_state", 2)))
    return failure();
  if (Value b = getBias())
    if (failed(requireSameElementType(op, x, "input", b, "bias")) ||
        failed(dims.bind("C", b, "bias", 0)))
      return failure();
  if (Value s = getInitialState())
    if (failed(requireSameElementType(op, x, "input", s, "initial_state")) ||
        failed(dims.bind("B", s, "initial_state", 0)) ||
        failed(dims.bind("C", s, "initial_state", 1)) ||
        failed(dims.bind("k-1", s, "initial_state", 2)))
      return failure();
  if (Value g = getGate())
    if (failed(requireSameElementType(op, x, "input", g, "gate")) ||
        failed(dims.bind("B", g, "gate", 0)) || failed(dims.bind("C", g, "gate", cd)) ||
        failed(dims.bind("L", g, "gate", ld)))
      return failure();
  return success();
}

namespace {
/// A [0, 2, 1] transpose of a rank-3 tensor (as ONNX Transpose imports).
bool isSwapLast(linalg::TransposeOp tr) {
  return tr && tr.hasPureTensorSemantics() &&
         tr.getPermutation() == ArrayRef<int64_t>{0, 2, 1};
}

/// transpose([0,2,1]) -> causal_conv -> transpose([0,2,1]), how exporters
/// feed [B, T, C] activations to the channel-major ONNX op, is the token-major
/// causal_conv on the untransposed values: no copies.
struct FoldTransposesIntoCausalConv : OpRewritePattern<CausalConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConvOp op, PatternRewriter &rewriter) const override {
    if (op.getTokenMajor() || op.getGate())
      return failure();
    auto in = op.getInput().getDefiningOp<linalg::TransposeOp>();
    if (!isSwapLast(in) || op.getOutput().use_empty() ||
        !llvm::all_of(op.getOutput().getUsers(), [](Operation *u) {
          return isSwapLast(dyn_cast<linalg::TransposeOp>(u));
        }))
      return failure();
    Type outT = (*op.getOutput().getUsers().begin())->getResult(0).getType();
    auto conv = CausalConvOp::create(rewriter, op.getLoc(), outT, op.getFinalState().getType(),
                                     in.getInput(), op.getWeight(), op.getBias(),
                                     op.getInitialState(), /*gate=*/Value(),
                                     op.getActivation(), /*token_major=*/true);
    for (Operation *user : llvm::make_early_inc_range(op.getOutput().getUsers()))
      rewriter.replaceOp(user, conv.getOutput());
    rewriter.replaceAllUsesWith(op.getFinalState(), conv.getFinalState());
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

namespace {
/// gate.gate(op(...), g), where op (a causal_conv or a linear_attention)
/// has no gate, its output is used only there and g has the output's type,
/// folds into op's epilogue (a gated convolution; SambaY's gated memory unit
/// on a recurrence's readout). op moves down to the gate (g must dominate
/// it), so its final state must be unused or used after the gate only.
template <typename OpT>
struct FoldGateIntoEpilogue : OpRewritePattern<GateOp> {
  using OpRewritePattern<GateOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(GateOp gateOp, PatternRewriter &rewriter) const override {
    auto op = gateOp.getInput().template getDefiningOp<OpT>();
    if (!op || op.getGate() || !op.getOutput().hasOneUse() ||
        op->getBlock() != gateOp->getBlock() ||
        gateOp.getGate().getType() != op.getOutput().getType() ||
        gateOp.getType() != op.getOutput().getType())
      return failure();
    for (Operation *user : op.getFinalState().getUsers())
      if (user->getBlock() != gateOp->getBlock() || !gateOp->isBeforeInBlock(user))
        return failure();
    rewriter.moveOpBefore(op, gateOp);
    rewriter.modifyOpInPlace(op, [&] {
      op.getGateMutable().assign(gateOp.getGate());
      op.setGateAct(gateOp.getAct());
    });
    rewriter.replaceOp(gateOp, op.getOutput());
    return success();
  }
};
} // namespace

void CausalConvOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<FoldTransposesIntoCausalConv, FoldGateIntoEpilogue<CausalConvOp>>(context);
}

void LinearAttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                    MLIRContext *context) {
  results.add<FoldGateIntoEpilogue<LinearAttentionOp>>(context);
}

//===----------------------------------------------------------------------===//
// Result shapes in terms of the operands (for the ABI's output-shape query)
//===----------------------------------------------------------------------===//

namespace {
/// dims[i] < 0 reads dimension -dims[i]-1 of `from`; otherwise a constant.
SmallVector<OpFoldResult> shapeFrom(OpBuilder &b, Location loc, Value from,
                                    ArrayRef<int64_t> dims) {
  SmallVector<OpFoldResult> out;
  for (int64_t d : dims) {
    if (d >= 0)
      out.push_back(b.getIndexAttr(d));
    else
      out.push_back(tensor::getMixedSize(b, loc, from, -d - 1));
  }
  return out;
}
} // namespace

LogicalResult SdpaOp::reifyResultShapes(OpBuilder &b,
                                        ReifiedRankedShapedTypeDims &shapes) {
  // Head counts and sizes are static on the operands (the verifier checks).
  shapes.push_back(shapeFrom(b, getLoc(), getQuery(),
                             {-1, rt(getQuery()).getDimSize(1), -3,
                              rt(getValue()).getDimSize(3)}));
  return success();
}

LogicalResult GateOp::reifyResultShapes(OpBuilder &b,
                                        ReifiedRankedShapedTypeDims &shapes) {
  SmallVector<int64_t> dims;
  for (int64_t d = 0, e = rt(getInput()).getRank(); d < e; ++d)
    dims.push_back(-d - 1);
  shapes.push_back(shapeFrom(b, getLoc(), getInput(), dims));
  return success();
}

LogicalResult LinearAttentionOp::reifyResultShapes(
    OpBuilder &b, ReifiedRankedShapedTypeDims &shapes) {
  unsigned hd = headDim();
  int64_t hq = rt(getQuery()).getDimSize(hd), hk = rt(getKey()).getDimSize(hd),
          hv = rt(getValue()).getDimSize(hd), k = rt(getQuery()).getDimSize(3),
          v = rt(getValue()).getDimSize(3);
  int64_t ho = hq == hk ? hv : hq;
  if (getTokenMajor())
    shapes.push_back(shapeFrom(b, getLoc(), getQuery(), {-1, -2, ho, v}));
  else
    shapes.push_back(shapeFrom(b, getLoc(), getQuery(), {-1, ho, -3, v}));
  shapes.push_back(shapeFrom(b, getLoc(), getQuery(), {-1, hv, k, v}));
  return success();
}

LogicalResult CausalConvOp::reifyResultShapes(
    OpBuilder &b, ReifiedRankedShapedTypeDims &shapes) {
  int64_t c = rt(getWeight()).getDimSize(0), k = rt(getWeight()).getDimSize(1);
  if (getTokenMajor())
    shapes.push_back(shapeFrom(b, getLoc(), getInput(), {-1, -2, c}));
  else
    shapes.push_back(shapeFrom(b, getLoc(), getInput(), {-1, c, -3}));
  shapes.push_back(shapeFrom(b, getLoc(), getInput(), {-1, c, k - 1}));
  return success();
}
