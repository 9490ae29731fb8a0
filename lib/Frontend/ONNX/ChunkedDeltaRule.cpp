//===- ChunkedDeltaRule.cpp - transformers' chunked gated delta rule ------===//
//
// torch's exporters unroll transformers' torch_chunk_gated_delta_rule (what
// Qwen3-Next's Gated DeltaNet layers run on a CPU) into about a thousand ONNX
// nodes per layer: padding to whole chunks, the per-chunk decay masks, a
// forward substitution written as C-1 Gather/Slice/ScatterND/ScatterElements
// steps, and the chunk loop. Once lowered, the substitution is a chain of
// scatter loops no MLIR pattern can read back, so the importer recognises the
// algorithm on the ONNX graph, when it reaches the node that yields the
// output, and defines that output as one gate.linear_attention.
//
// Recognition is exact. Every node between the inputs (q, k, v [B,H,T,d],
// g, beta [B,H,T], the initial state) and the output is checked against the
// algorithm: op, attributes, constant operands (indices, masks, the identity,
// the zero fill) and shapes. That algorithm is the gated delta rule
// recurrence rearranged by chunks (the UT transform), so the two agree in
// exact arithmetic for every input. Any difference leaves the graph as it was
// imported; the nodes imported before the match stay and become dead.
//
//===----------------------------------------------------------------------===//
#include "GraphMatcher.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include <cmath>
#include <map>

using namespace mlir;

namespace gatec::onnx_frontend::detail {
namespace {

class DeltaRuleMatcher : GraphMatcher {
public:
  DeltaRuleMatcher(Importer &im, const onnx::GraphProto &g, const llvm::StringMap<int> &producer)
      : GraphMatcher(im, g, producer) {}

  /// Tries to define the output of `anchor` as gate.linear_attention.
  bool run(const Node &anchor);

private:
  // Sizes shared by the whole subgraph.
  SymExpr B, H;
  int64_t N = 0, C = 0, Dk = 0, Dv = 0, T = 0;

  /// `v` = Reshape(src) splitting axis 2 of [B,H,N*C,(d)] into [N, C].
  bool chunkReshape(llvm::StringRef v, std::optional<int64_t> d, std::string &src) {
    const Node *n = def(v, "Reshape");
    if (!n)
      return false;
    src = in(n, 0);
    SmallVector<SymExpr> out{B, H, c(N), c(C)}, from{B, H, c(N * C)};
    if (d) {
      out.push_back(c(*d));
      from.push_back(c(*d));
    }
    return dimsAre(v, out) && dimsAre(src, from);
  }

  // ------------------------------------------------------------ pieces
  bool substitution(std::string x, std::string &x0);

  /// s = sPrev * cdu[:, :, i] + kd[:, :, i]ᵀ @ vn: the state after chunk i.
  /// `cdu` and `kd` are set when empty, else must match.
  bool stateUpdate(llvm::StringRef s, llvm::StringRef sPrev, llvm::StringRef vn, int64_t i,
                   std::string &cdu, std::string &kd) {
    std::string u1, u2;
    if (!binary(s, "Add", u1, u2))
      return false;
    for (int swap = 0; swap < 2; ++swap, std::swap(u1, u2)) {
      std::string d1, d2, t1, t2, cduSrc, kt, kdSrc;
      if (!binary(u1, "Mul", d1, d2) || !binary(u2, "MatMul", t1, t2) || t2 != vn)
        continue;
      if (d1 != sPrev)
        std::swap(d1, d2);
      if (d1 != sPrev || gather(d2, 2, cduSrc) != i || (!cdu.empty() && cduSrc != cdu))
        continue;
      if (!transpose(t1, {0, 1, 3, 2}, kt) || gather(kt, 2, kdSrc) != i ||
          (!kd.empty() && kdSrc != kd))
        continue;
      cdu = cduSrc;
      kd = kdSrc;
      return true;
    }
    return false;
  }
};

/// The forward substitution that solves the chunk's UT system: for rows
/// i = C-1 down to 1 (walking back from the result),
///   X_i = X_{i-1} with row i, columns < i, replaced by
///         row + (row[:, None] * X_{i-1}[:i, :i]).sum(-2), row = X_{i-1}[i, :i],
/// written by torch as Gather/Slice, a ScatterND into the transposed row and
/// a ScatterElements of the row. Returns X_0.
bool DeltaRuleMatcher::substitution(std::string x, std::string &x0) {
  const std::vector<int64_t> p{3, 1, 2, 0};
  for (int64_t i = C - 1; i >= 1; --i) {
    const Node *se = def(x, "ScatterElements");
    if (!se || !onlyAttrs(se, {"axis", "reduction"}) || !attrStrIs(se, "reduction", "none", "none"))
      return false;
    int64_t ax = attrInt(se, "axis", 0);
    if (ax < 0)
      ax += 5;
    std::string prev = in(se, 0), idx = in(se, 1), upd = in(se, 2);
    SmallVector<SymExpr> rowShape{B, H, c(N), c(1), c(C)};
    std::optional<double> k = splat(idx);
    if (ax != 3 || !k || (*k != double(i) && *k != double(i - C)) || !dimsAre(idx, rowShape) ||
        !dimsAre(upd, rowShape) || !dimsAre(prev, {B, H, c(N), c(C), c(C)}))
      return false;
    std::string rn, sn, dt, nt, sel, newRow;
    if (!unsqueeze(upd, {3}, rn) || !transpose(rn, p, sn))
      return false;
    const Node *nd = def(sn, "ScatterND");
    if (!nd || !onlyAttrs(nd, {"reduction"}) || !attrStrIs(nd, "reduction", "none", "none") ||
        !transpose(in(nd, 0), p, sel) || !transpose(in(nd, 2), p, newRow))
      return false;
    const ConstTensor *ind = cst(in(nd, 1));
    if (!ind || ind->isFloat() || ind->shape != SmallVector<int64_t, 4>{i, 1})
      return false;
    for (int64_t r = 0; r < i; ++r)
      if (ind->i[r] != r && ind->i[r] != r - C)
        return false;
    std::string gsrc;
    if (gather(sel, 3, gsrc) != i || gsrc != prev)
      return false;
    // newRow = row + ReduceSum(Unsqueeze(row, -1) * X_{i-1}[:i, :i], -2)
    std::string a, b;
    if (!binary(newRow, "Add", a, b))
      return false;
    auto tryRow = [&](const std::string &row, const std::string &sum) {
      std::string rsrc;
      Ranges r;
      if (!slice(row, rsrc, r) || rsrc != sel || r != Ranges{{3, {0, i}}})
        return false;
      const Node *rs = def(sum, "ReduceSum");
      if (!rs || !onlyAttrs(rs, {"keepdims", "noop_with_empty_axes"}) ||
          attrInt(rs, "keepdims", 1) != 0)
        return false;
      auto axes = ints(in(rs, 1));
      if (!axes || axes->size() != 1 || ((*axes)[0] != 3 && (*axes)[0] != -2))
        return false;
      std::string m1, m2, u;
      if (!binary(in(rs, 0), "Mul", m1, m2))
        return false;
      for (int swap = 0; swap < 2; ++swap, std::swap(m1, m2))
        if (unsqueeze(m1, {4}, u) && u == row && prefixSlices(m2, prev, {3, 4}, i))
          return true;
      return false;
    };
    if (!tryRow(a, b) && !tryRow(b, a))
      return false;
    x = prev;
  }
  x0 = x;
  return true;
}

bool DeltaRuleMatcher::run(const Node &anchor) {
  // ---- the output: Reshape(core) [B,H,N*C,Dv], optionally Slice [:T]
  std::string out = anchor.output(0), r = out, core;
  int64_t sliceEnd = -1;
  if (anchor.op_type() == "Slice") {
    Ranges rg;
    if (!slice(out, r, rg) || rg.size() != 1 || !rg.count(2) || rg[2].first != 0)
      return false;
    sliceEnd = rg[2].second;
  }
  const Node *rs = def(r, "Reshape");
  if (!rs)
    return false;
  core = in(rs, 0);
  SymShape cd = dims(core);
  if (cd.size() != 5 || !cd[2].isConst() || !cd[3].isConst() || !cd[4].isConst())
    return false;
  B = cd[0];
  H = cd[1];
  N = cd[2].c;
  C = cd[3].c;
  Dv = cd[4].c;
  if (N < 1 || C < 2 || !dimsAre(r, {B, H, c(N * C), c(Dv)}) || !isF32(core))
    return false;

  // ---- the output chunks: ScatterElements(axis 2) of each chunk into zeros
  std::vector<std::string> chunkOut(static_cast<size_t>(N));
  std::string x = core;
  while (const Node *se = def(x, "ScatterElements")) {
    if (!onlyAttrs(se, {"axis", "reduction"}) || !attrStrIs(se, "reduction", "none", "none"))
      return false;
    int64_t ax = attrInt(se, "axis", 0);
    std::optional<double> k = splat(in(se, 1));
    SmallVector<SymExpr> chunkShape{B, H, c(1), c(C), c(Dv)};
    if ((ax != 2 && ax != -3) || !k || !dimsAre(in(se, 1), chunkShape) ||
        !dimsAre(in(se, 2), chunkShape))
      return false;
    int64_t idx = int64_t(*k) < 0 ? int64_t(*k) + N : int64_t(*k);
    if (double(int64_t(*k)) != *k || idx < 0 || idx >= N || !chunkOut[idx].empty() ||
        !unsqueeze(in(se, 2), {2}, chunkOut[idx]))
      return false;
    x = in(se, 0);
  }
  if (!isZeros(x) || !dimsAre(x, cd) ||
      llvm::any_of(chunkOut, [](const std::string &s) { return s.empty(); }))
    return false;

  // ---- the chunk loop
  // out_i = (qd_i @ S_i) + intra_i @ vnew_i,   vnew_i = nv_i - kcum_i @ S_i,
  // S_{i+1} = S_i * cdecay_i + kd_iᵀ @ vnew_i.
  std::string qd, intra, nv, kcum, kd, cdu, s0, sPrev, vnPrev;
  for (int64_t i = 0; i < N; ++i) {
    std::string a, b, s, vn;
    if (!binary(chunkOut[i], "Add", a, b))
      return false;
    auto tryOut = [&](const std::string &inter, const std::string &intraMm) {
      std::string m1, m2, v1, v2, src;
      if (!binary(inter, "MatMul", m1, m2) || !binary(intraMm, "MatMul", v1, v2))
        return false;
      if (gather(m1, 2, src) != i || (!qd.empty() && src != qd))
        return false;
      std::string qdSrc = src;
      if (gather(v1, 2, src) != i || (!intra.empty() && src != intra))
        return false;
      std::string intraSrc = src;
      // vnew = nv_i - kcum_i @ S
      std::string n1, n2, k1, k2;
      if (!binary(v2, "Sub", n1, n2) || gather(n1, 2, src) != i || (!nv.empty() && src != nv))
        return false;
      std::string nvSrc = src;
      if (!binary(n2, "MatMul", k1, k2) || k2 != m2 || gather(k1, 2, src) != i ||
          (!kcum.empty() && src != kcum))
        return false;
      qd = qdSrc;
      intra = intraSrc;
      nv = nvSrc;
      kcum = src;
      s = m2;
      vn = v2;
      return true;
    };
    if (!tryOut(a, b) && !tryOut(b, a))
      return false;
    if (i == 0) {
      s0 = s;
    } else {
      if (!stateUpdate(s, sPrev, vnPrev, i - 1, cdu, kd))
        return false;
    }
    sPrev = s;
    vnPrev = vn;
  }
  SymShape sd = dims(s0);
  if (sd.size() != 4 || !sd[2].isConst() || !isF32(s0))
    return false;
  // The state after the last chunk, wherever the graph or a node reads it.
  std::string finalState;
  for (const Node &n : g.node()) {
    std::string cduF = cdu, kdF = kd;
    if (n.op_type() != "Add" || n.output_size() != 1 ||
        !stateUpdate(n.output(0), sPrev, vnPrev, N - 1, cduF, kdF))
      continue;
    finalState = n.output(0);
    cdu = cduF;
    kd = kdF;
    break;
  }
  Dk = sd[2].c;
  if (!dimsAre(s0, {B, H, c(Dk), c(Dv)}))
    return false;

  // ---- per-chunk tensors
  // qd = qc * ec, ec = exp(cum)[..., None]
  std::string qc, ec, cum, tmp, a, b;
  if (!binary(qd, "Mul", a, b))
    return false;
  if (!def(a, "Reshape"))
    std::swap(a, b);
  qc = a;
  ec = b;
  if (!unsqueeze(ec, {4}, tmp) || !def(tmp, "Exp"))
    return false;
  cum = in(def(tmp, "Exp"), 0);
  // cum = CumSum(reshape(pad(g)), axis 3)
  const Node *cs = def(cum, "CumSum");
  if (!cs || !onlyAttrs(cs, {"exclusive", "reverse"}) || attrInt(cs, "exclusive", 0) != 0 ||
      attrInt(cs, "reverse", 0) != 0)
    return false;
  {
    auto axis = ints(in(cs, 1));
    if (!axis || axis->size() != 1 || ((*axis)[0] != 3 && (*axis)[0] != -1))
      return false;
  }
  std::string pg;
  if (!chunkReshape(in(cs, 0), std::nullopt, pg))
    return false;
  auto [gIn, padG] = padEnd(pg, 3);

  // intra = (qc @ kcᵀ) * pd;  pd = exp(where(triu(1), -inf, cum_i - cum_j))
  std::string kcT, pd;
  auto productTimesPd = [&](llvm::StringRef v, const std::string &lhs, std::string &rhsT,
                            std::string &pdOut) {
    std::string p1, p2, l, r2;
    if (!binary(v, "Mul", p1, p2))
      return false;
    for (int swap = 0; swap < 2; ++swap, std::swap(p1, p2))
      if (binary(p1, "MatMul", l, r2) && (lhs.empty() || l == lhs)) {
        rhsT = r2;
        pdOut = p2;
        return true;
      }
    return false;
  };
  if (!productTimesPd(intra, qc, kcT, pd))
    return false;
  {
    const Node *e = def(pd, "Exp");
    const Node *w = e ? def(in(e, 0), "Where") : nullptr;
    if (!w)
      return false;
    const ConstTensor *m = cst(in(w, 0));
    std::optional<double> fill = splat(in(w, 1));
    if (!m || m->isFloat() || m->shape != SmallVector<int64_t, 4>{C, C} || !fill ||
        !(std::isinf(*fill) && *fill < 0) || !cst(in(w, 1)) || cst(in(w, 1))->numel() != 1)
      return false;
    for (int64_t r = 0; r < C; ++r)
      for (int64_t col = 0; col < C; ++col)
        if ((m->i[r * C + col] != 0) != (col > r))
          return false;
    std::string s1, s2, u1, u2;
    if (!binary(in(w, 2), "Sub", s1, s2) || !unsqueeze(s1, {4}, u1) || u1 != cum ||
        !unsqueeze(s2, {3}, u2) || u2 != cum)
      return false;
  }
  std::string kc;
  if (!transpose(kcT, {0, 1, 2, 4, 3}, kc))
    return false;

  // nv = ut @ vb;  kcum = ut @ (kb * ec);  ut = X + I
  std::string ut, vb, ut2, dkb, kb;
  if (!binary(nv, "MatMul", ut, vb) || !binary(kcum, "MatMul", ut2, dkb) || ut2 != ut)
    return false;
  if (!binary(dkb, "Mul", a, b))
    return false;
  if (a == ec)
    std::swap(a, b);
  if (b != ec)
    return false;
  kb = a;
  std::string xf, eye;
  if (!binary(ut, "Add", xf, eye))
    return false;
  auto isEye = [&](llvm::StringRef v) {
    const ConstTensor *e = cst(v);
    if (!e || !e->isFloat() || e->shape != SmallVector<int64_t, 4>{C, C})
      return false;
    for (int64_t r = 0; r < C; ++r)
      for (int64_t col = 0; col < C; ++col)
        if (e->f[r * C + col] != (r == col ? 1.0 : 0.0))
          return false;
    return true;
  };
  if (isEye(xf))
    std::swap(xf, eye);
  if (!isEye(eye))
    return false;
  // X = substitution(-tril(uts, -1)), uts = (kb @ kcᵀ) * pd
  std::string x0, tril, uts, kcT2, pd2;
  if (!substitution(xf, x0))
    return false;
  const Node *neg = def(x0, "Neg");
  const Node *tr = neg ? def(in(neg, 0), "Trilu") : nullptr;
  if (!tr || !onlyAttrs(tr, {"upper"}) || attrInt(tr, "upper", 1) != 0)
    return false;
  {
    const ConstTensor *k = cst(in(tr, 1));
    if (!k || k->isFloat() || k->numel() != 1 || k->i[0] != -1)
      return false;
  }
  if (!productTimesPd(in(tr, 0), kb, kcT2, pd2) || kcT2 != kcT || pd2 != pd)
    return false;

  // The decayed keys and chunk decays of the state updates (when there are):
  // kd = kc * exp(cum[..., -1:] - cum)[..., None], cdu = exp(cum[..., -1])[..., None, None].
  if (!kd.empty()) {
    if (!binary(kd, "Mul", a, b))
      return false;
    if (a != kc)
      std::swap(a, b);
    std::string e1, s1, s2, last, lsrc, csrc;
    Ranges rg;
    if (a != kc || !unsqueeze(b, {4}, e1) || !def(e1, "Exp") ||
        !binary(in(def(e1, "Exp"), 0), "Sub", s1, s2) || s2 != cum || !slice(s1, lsrc, rg) ||
        lsrc != cum || rg != Ranges{{3, {C - 1, C}}})
      return false;
    std::string ce;
    if (!unsqueeze(cdu, {3, 4}, ce) || !def(ce, "Exp") ||
        gather(in(def(ce, "Exp"), 0), 3, csrc) != C - 1 || csrc != cum)
      return false;
  }

  // ---- the inputs: qc = chunks(pad(q * scale)), kc = chunks(pad(k)),
  // kb = chunks(pad(k) * pad(beta)[..., None]), vb = chunks(pad(v) * pad(beta)[..., None])
  std::string pq, pk, kbm, vbm, bu, pv, pb;
  if (!chunkReshape(qc, Dk, pq) || !chunkReshape(kc, Dk, pk) || !chunkReshape(kb, Dk, kbm) ||
      !chunkReshape(vb, Dv, vbm))
    return false;
  // One operand of each product is known (the padded keys, then the beta
  // column); the other is what the product reads.
  auto other = [&](llvm::StringRef v, llvm::StringRef known, std::string &rest) {
    std::string x1, x2;
    if (!binary(v, "Mul", x1, x2) || (x1 != known && x2 != known))
      return false;
    rest = x1 == known ? x2 : x1;
    return true;
  };
  if (!other(kbm, pk, bu) || !other(vbm, bu, pv) || !unsqueeze(bu, {3}, pb))
    return false;
  auto [qs, padQ] = padEnd(pq, 4);
  auto [kIn, padK] = padEnd(pk, 4);
  auto [vIn, padV] = padEnd(pv, 4);
  auto [betaIn, padB] = padEnd(pb, 3);
  std::string qIn, scaleName;
  if (!binary(qs, "Mul", qIn, scaleName))
    return false;
  auto scalarConst = [&](llvm::StringRef v) {
    const ConstTensor *k = cst(v);
    return k && k->isFloat() && k->numel() == 1;
  };
  if (scalarConst(qIn))
    std::swap(qIn, scaleName);
  if (!scalarConst(scaleName))
    return false;
  double scale = cst(scaleName)->f[0];

  // ---- shapes and padding
  SymShape qdims = dims(qIn);
  if (qdims.size() != 4 || !qdims[2].isConst())
    return false;
  T = qdims[2].c;
  int64_t pad = N * C - T;
  if (T < 1 || pad < 0 || pad >= C || padQ != pad || padK != pad || padV != pad ||
      padB != pad || padG != pad)
    return false;
  if (sliceEnd >= 0 ? sliceEnd != T : pad != 0)
    return false;
  if (!dimsAre(qIn, {B, H, c(T), c(Dk)}) || !dimsAre(kIn, {B, H, c(T), c(Dk)}) ||
      !dimsAre(vIn, {B, H, c(T), c(Dv)}) || !dimsAre(gIn, {B, H, c(T)}) ||
      !dimsAre(betaIn, {B, H, c(T)}))
    return false;
  for (const std::string &v : {qIn, kIn, vIn, gIn, betaIn})
    if (!isF32(v))
      return false;
  if (!std::isfinite(scale) || double(float(scale)) != scale)
    return false;

  // ---- build
  Value q = im.materialize(qIn), k = im.materialize(kIn), v = im.materialize(vIn),
        gv = im.materialize(gIn), bv = im.materialize(betaIn);
  Value init = isZeros(s0) ? Value() : im.materialize(s0);
  if (!q || !k || !v || !gv || !bv || (!isZeros(s0) && !init))
    return false;
  OpBuilder &bld = im.b;
  Type f32 = bld.getF32Type();
  SmallVector<SymExpr> od{B, H, c(T), c(Dv)}, st{B, H, c(Dk), c(Dv)};
  auto op = gate::LinearAttentionOp::create(
      bld, im.loc, im.typeFor(od, f32), im.typeFor(st, f32), q, k, v, gv, bv, init,
      /*gate=*/Value(), gate::UpdateRule::gated_delta, bld.getF32FloatAttr(float(scale)), uint64_t(C));
  im.setDims(op.getOutput(), od);
  im.setDims(op.getFinalState(), st);
  Importer::hoistAfterOperands(op);
  im.redefine(out, op.getOutput());
  if (!finalState.empty())
    im.redefine(finalState, op.getFinalState());
  return true;
}

} // namespace

bool raiseChunkedDeltaRule(Importer &im, const onnx::GraphProto &g,
                           const llvm::StringMap<int> &producer, const onnx::NodeProto &n) {
  if (n.output_size() < 1 || (n.op_type() != "Slice" && n.op_type() != "Reshape") ||
      !(n.domain().empty() || n.domain() == "ai.onnx"))
    return false;
  return DeltaRuleMatcher(im, g, producer).run(n);
}

} // namespace gatec::onnx_frontend::detail
