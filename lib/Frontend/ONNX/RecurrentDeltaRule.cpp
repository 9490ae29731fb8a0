//===- RecurrentDeltaRule.cpp - transformers' token-by-token delta rule ---===//
//
// transformers' torch_recurrent_gated_delta_rule (what Qwen3-Next runs for a
// decode step, and for the tokens whose states a speculative decoder keeps)
// loops over the tokens in Python; torch's exporter unrolls the loop, so the
// graph holds, per token i, about twenty nodes:
//
//   Sd   = S * unsqueeze(exp(g[:, :, i]), [2, 3])
//   kv   = ReduceSum(Sd * unsqueeze(k[:, :, i], 3), axis 2)      (Sdᵀ k_i)
//   S'   = Sd + unsqueeze(k_i, 3) * unsqueeze((v_i - kv) * unsqueeze(beta_i, 2), 2)
//   out  = ScatterElements(out, i, unsqueeze(ReduceSum(S' * unsqueeze(q_i, 3), axis 2), 2))
//
// which is the gated delta rule, token by token, with scale 1 (the query's
// scaling stays before it). The importer recognises the unrolled loop on the
// ONNX graph when it reaches the last scatter of the output, checks every
// step (ops, attributes, axes, the token index of every Gather and scatter,
// one source tensor per input, shapes), and defines the output, and the
// final state wherever the graph reads it, by one gate.linear_attention.
//
//===----------------------------------------------------------------------===//
#include "GraphMatcher.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

using namespace mlir;

namespace gatec::onnx_frontend::detail {
namespace {

class RecurrentRuleMatcher : GraphMatcher {
public:
  RecurrentRuleMatcher(Importer &im, const onnx::GraphProto &g,
                       const llvm::StringMap<int> &producer)
      : GraphMatcher(im, g, producer) {}

  /// Tries to define the output of the ScatterElements `anchor` (and the
  /// final state) as gate.linear_attention.
  bool run(const Node &anchor);

private:
  // One source tensor per input, set by the first step that reads it.
  std::string Q, K, V, G, Beta;

  /// `v` = Gather(src, i, axis 2), the token i of `src`.
  bool token(llvm::StringRef v, int64_t i, std::string &src) {
    std::string s;
    if (gather(v, 2, s) != i || (!src.empty() && s != src))
      return false;
    src = s;
    return true;
  }
  /// `v` = Unsqueeze(Gather(src, i, axis 2), axes).
  bool tokenUnsqueezed(llvm::StringRef v, std::vector<int64_t> axes, int64_t i,
                       std::string &src) {
    std::string t;
    return unsqueeze(v, std::move(axes), t) && token(t, i, src);
  }
  /// `v` = ReduceSum(x, axis 2, keepdims 0) of a rank-4 x; returns x.
  bool sumAxis2(llvm::StringRef v, std::string &x) {
    const Node *n = def(v, "ReduceSum");
    if (!n || !onlyAttrs(n, {"keepdims", "noop_with_empty_axes", "axes"}) ||
        attrInt(n, "keepdims", 1) != 0 || attrInt(n, "noop_with_empty_axes", 0) != 0)
      return false;
    std::optional<std::vector<int64_t>> axes = axesOf(n);
    if (!axes || axes->size() != 1 || ((*axes)[0] != 2 && (*axes)[0] != -2))
      return false;
    x = in(n, 0);
    return true;
  }
  /// `v` = sᵀ x_i = ReduceSum(s * unsqueeze(x[:, :, i], 3), axis 2).
  bool contract(llvm::StringRef v, int64_t i, std::string &s, std::string &x) {
    std::string prod, a, b;
    if (!sumAxis2(v, prod) || !binary(prod, "Mul", a, b))
      return false;
    for (int swap = 0; swap < 2; ++swap, std::swap(a, b)) {
      std::string xs = x;
      if ((s.empty() || a == s) && tokenUnsqueezed(b, {3}, i, xs)) {
        s = a;
        x = xs;
        return true;
      }
    }
    return false;
  }
  /// `v` = exp(g[:, :, i]) unsqueezed to [B, H, 1, 1] (one Unsqueeze of both
  /// axes, or two).
  bool decay(llvm::StringRef v, int64_t i) {
    std::string e, u;
    if (!unsqueeze(v, {2, 3}, e) && !(unsqueeze(v, {3}, u) && unsqueeze(u, {2}, e)))
      return false;
    const Node *ex = def(e, "Exp");
    return ex && token(in(ex, 0), i, G);
  }
  /// ScatterND(out, idx, upd) writing the row upd [B, H, (1,) Dv] at token
  /// j of out [B, H, T, Dv]: idx [B, H, (1,) 3] a constant holding (b, h, j)
  /// at every b, h; upd = Reshape(Expand(row)), neither changing the shape.
  /// Returns j and the row [B, H, Dv].
  std::optional<int64_t> gridRow(const Node *nd, std::string &row) {
    if (!onlyAttrs(nd, {"reduction"}) || !attrStrIs(nd, "reduction", "none", "none"))
      return std::nullopt;
    SymShape od = dims(in(nd, 0));
    const ConstTensor *idx = cst(in(nd, 1));
    if (od.size() != 4 || !od[0].isConst() || !od[1].isConst() || !idx || idx->isFloat())
      return std::nullopt;
    int64_t nb = od[0].c, nh = od[1].c;
    bool unit = idx->shape.size() == 4;
    if (nb * nh == 0 ||
        idx->shape != (unit ? SmallVector<int64_t, 4>{nb, nh, 1, 3} : SmallVector<int64_t, 4>{nb, nh, 3}))
      return std::nullopt;
    int64_t j = idx->i[2];
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t h = 0; h < nh; ++h) {
        const int64_t *e = &idx->i[(b * nh + h) * 3];
        if (e[0] != b || e[1] != h || e[2] != j)
          return std::nullopt;
      }
    SmallVector<SymExpr> rowDims{od[0], od[1], od[3]};
    SmallVector<SymExpr> updDims = rowDims;
    if (unit)
      updDims.insert(updDims.begin() + 2, c(1));
    // A Reshape from the row, or an Unsqueeze of it, adds the unit axis; an
    // Expand to its own shape changes nothing.
    std::string upd = in(nd, 2);
    if (!dimsAre(upd, updDims))
      return std::nullopt;
    if (const Node *r = unit ? def(upd, "Reshape") : nullptr)
      upd = in(r, 0);
    else if (unit && !unsqueeze(upd, {2}, upd))
      return std::nullopt;
    if (const Node *e = def(upd, "Expand"); e && dims(in(e, 0)) == dims(upd))
      upd = in(e, 0);
    if (!dimsAre(upd, rowDims))
      return std::nullopt;
    row = upd;
    return j;
  }
  /// `s` = the state after token i; sets `prev` to the state before it.
  bool step(llvm::StringRef s, int64_t i, std::string &prev);
};

bool RecurrentRuleMatcher::step(llvm::StringRef s, int64_t i, std::string &prev) {
  std::string a, b;
  if (!binary(s, "Add", a, b))
    return false;
  for (int swap = 0; swap < 2; ++swap, std::swap(a, b)) {
    // a = Sd = prev * decay_i
    std::string p1, p2;
    if (!binary(a, "Mul", p1, p2))
      continue;
    if (!decay(p2, i))
      std::swap(p1, p2);
    if (!decay(p2, i))
      continue;
    // b = unsqueeze(k_i, 3) * unsqueeze(delta, 2)
    std::string o1, o2, dl;
    if (!binary(b, "Mul", o1, o2))
      continue;
    if (!tokenUnsqueezed(o1, {3}, i, K))
      std::swap(o1, o2);
    if (!tokenUnsqueezed(o1, {3}, i, K) || !unsqueeze(o2, {2}, dl))
      continue;
    // delta = (v_i - Sdᵀ k_i) * unsqueeze(beta_i, 2)
    std::string d1, d2, vi, kv;
    if (!binary(dl, "Mul", d1, d2))
      continue;
    if (!binary(d1, "Sub", vi, kv))
      std::swap(d1, d2);
    if (!binary(d1, "Sub", vi, kv) || !tokenUnsqueezed(d2, {2}, i, Beta) || !token(vi, i, V))
      continue;
    std::string sd = a;
    if (!contract(kv, i, sd, K))
      continue;
    prev = p1;
    return true;
  }
  return false;
}

bool RecurrentRuleMatcher::run(const Node &anchor) {
  // ---- the output: scatters of one token row each into a zero tensor
  std::map<int64_t, std::string> rows; // token -> its output row [B, H, Dv]
  std::string cur = anchor.output(0);
  while (true) {
    if (const Node *id = def(cur, "Identity")) {
      cur = in(id, 0);
      continue;
    }
    if (const Node *nd = def(cur, "ScatterND")) {
      // The legacy exporter's index_put: out[:, :, j] = row, with the index
      // grid (b, h, j) folded to a constant.
      std::string row;
      std::optional<int64_t> j = gridRow(nd, row);
      if (!j || !rows.emplace(*j, row).second)
        return false;
      cur = in(nd, 0);
      continue;
    }
    const Node *se = def(cur, "ScatterElements");
    if (!se)
      break;
    if (!onlyAttrs(se, {"axis", "reduction"}) || !attrStrIs(se, "reduction", "none", "none") ||
        (attrInt(se, "axis", 0) != 2 && attrInt(se, "axis", 0) != -2))
      return false;
    std::string idx = in(se, 1), upd = in(se, 2), src;
    std::optional<double> j = splat(idx);
    if (const Node *ex = j ? nullptr : def(idx, "Expand")) {
      // Expand(i, Shape(updates)): indices shaped as the updates.
      const Node *sh = def(in(ex, 1), "Shape");
      const ConstTensor *k = cst(in(ex, 0));
      if (!sh || in(sh, 0) != upd || !onlyAttrs(sh, {"start"}) || attrInt(sh, "start", 0) != 0 ||
          !k || k->numel() != 1)
        return false;
      j = splat(in(ex, 0));
    } else if (j && dims(idx) != dims(upd)) {
      return false;
    }
    if (!j || *j != std::floor(*j) || !unsqueeze(upd, {2}, src) ||
        !rows.emplace(int64_t(*j), src).second)
      return false;
    cur = in(se, 0);
  }
  SymShape od = dims(cur);
  if (!isZeros(cur) || od.size() != 4 || !od[2].isConst() || !od[3].isConst() || !isF32(cur))
    return false;
  SymExpr B = od[0], H = od[1];
  int64_t T = od[2].c, Dv = od[3].c;
  // Every token written once (ScatterElements takes indices in [-T, T)).
  std::map<int64_t, std::string> out;
  for (auto &[j, v] : rows)
    if (j < -T || j >= T || !out.emplace(j < 0 ? j + T : j, v).second)
      return false;
  if (T < 1 || int64_t(out.size()) != T)
    return false;

  // ---- per token: the output reads the state after it, which the step
  // computes from the state before.
  std::vector<std::string> states(T);
  for (int64_t i = 0; i < T; ++i)
    if (!contract(out[i], i, states[i], Q))
      return false;
  std::string s0;
  for (int64_t i = T - 1; i >= 0; --i) {
    std::string prev;
    if (!step(states[i], i, prev) || (i > 0 && prev != states[i - 1]))
      return false;
    if (i == 0)
      s0 = prev;
  }

  // ---- shapes and types
  SymShape kd = dims(K);
  if (kd.size() != 4 || !kd[3].isConst())
    return false;
  int64_t Dk = kd[3].c;
  // Sizes the graph leaves symbolic where the steps broadcast them against
  // static ones (transformers' exporter names even a cache's fixed sizes,
  // and head counts reach the rule through reshapes of such tensors): the
  // operands are broadcast to the static sizes first, as the steps' products
  // would (a size that is 1 at run time broadcasts; elementwise steps commute
  // with broadcasting).
  SmallVector<SymExpr> qkDims{B, H, c(T), c(Dk)}, vDims{B, H, c(T), c(Dv)}, tDims{B, H, c(T)},
      stDims{B, H, c(Dk), c(Dv)};
  auto fits = [&](llvm::StringRef v, llvm::ArrayRef<SymExpr> want) {
    SymShape d = dims(v);
    if (d.size() != want.size() || !isF32(v))
      return false;
    for (size_t a = 0; a < d.size(); ++a)
      if (!(d[a] == want[a] || (!d[a].isConst() && want[a].isConst())))
        return false;
    return true;
  };
  if (!fits(Q, qkDims) || !fits(K, qkDims) || !fits(V, vDims) || !fits(G, tDims) ||
      !fits(Beta, tDims) || !fits(s0, stDims))
    return false;

  // ---- build
  OpBuilder &bld = im.b;
  Type f32 = bld.getF32Type();
  auto operand = [&](llvm::StringRef name, llvm::ArrayRef<SymExpr> want) {
    Value x = im.materialize(name);
    if (!x || llvm::equal(im.dims(x), want))
      return x;
    x = im.castTo(im.broadcastTo(x, want), im.typeFor(want, f32));
    im.setDims(x, want);
    return x;
  };
  Value q = operand(Q, qkDims), k = operand(K, qkDims), v = operand(V, vDims),
        gv = operand(G, tDims), bv = operand(Beta, tDims);
  bool zeroInit = isZeros(s0);
  Value init = zeroInit ? Value() : operand(s0, stDims);
  if (!q || !k || !v || !gv || !bv || (!zeroInit && !init))
    return false;
  SmallVector<SymExpr> outDims = vDims;
  auto op = gate::LinearAttentionOp::create(
      bld, im.loc, im.typeFor(outDims, f32), im.typeFor(stDims, f32), q, k, v, gv, bv, init,
      /*gate=*/Value(), gate::UpdateRule::gated_delta, bld.getF32FloatAttr(1.0f),
      uint64_t(64));
  im.setDims(op.getOutput(), outDims);
  im.setDims(op.getFinalState(), stDims);
  Importer::hoistAfterOperands(op);
  im.redefine(anchor.output(0), op.getOutput());
  // The state after the last token, read by the graph or by nodes.
  im.redefine(states[T - 1], op.getFinalState());
  return true;
}

} // namespace

bool raiseRecurrentDeltaRule(Importer &im, const onnx::GraphProto &g,
                             const llvm::StringMap<int> &producer, const onnx::NodeProto &n) {
  if ((n.op_type() != "ScatterElements" && n.op_type() != "ScatterND") || n.output_size() != 1 ||
      !(n.domain().empty() || n.domain() == "ai.onnx"))
    return false;
  return RecurrentRuleMatcher(im, g, producer).run(n);
}

} // namespace gatec::onnx_frontend::detail
