//===- StateWindow.cpp - per-token states of the last W tokens -------------===//
//
// ONNX Runtime's state_window = W on LinearAttention and CausalConvWithState
// (written by onnxruntime-genai's builder with `--extra_options
// state_window=W`, for speculative decoding): present_state gains a leading
// axis of W slots, slot j holding the state after token T - W + j (zeros
// where that token is not in this call), so a decoder can roll back to an
// accepted prefix. ONNX Runtime runs it on CUDA only.
//
// Linear attention: the first T - min(W, T) tokens run as one chunked
// recurrence, the last min(W, T) one token at a time from its state, each
// step's state stored in its slot. The convolution's state after a position
// is a window of the past state followed by the input, read directly.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {
/// Tokens [t0, t0 + len) of a token-major [B, T, ...] tensor.
Value tokens(OpBuilder &b, Location l, Value x, Value t0, OpFoldResult len) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> offs(xt.getRank(), b.getIndexAttr(0)), sizes, strides(
                                                                          xt.getRank(),
                                                                          b.getIndexAttr(1));
  offs[1] = t0;
  for (int64_t d = 0; d < xt.getRank(); ++d)
    sizes.push_back(d == 1 ? len
                    : xt.isDynamicDim(d)
                        ? OpFoldResult(tensor::DimOp::create(b, l, x, d).getResult())
                        : b.getIndexAttr(xt.getDimSize(d)));
  return tensor::ExtractSliceOp::create(b, l, x, offs, sizes, strides);
}

/// `src` written into `dst` at `offs` (sizes: src's, with leading unit dims
/// when src has fewer dimensions).
Value insertAt(OpBuilder &b, Location l, Value src, Value dst, ArrayRef<OpFoldResult> offs) {
  auto st = cast<RankedTensorType>(src.getType());
  auto dt = cast<RankedTensorType>(dst.getType());
  int64_t lead = dt.getRank() - st.getRank();
  SmallVector<OpFoldResult> sizes(lead, b.getIndexAttr(1)), strides(dt.getRank(), b.getIndexAttr(1));
  for (int64_t d = 0; d < st.getRank(); ++d)
    sizes.push_back(st.isDynamicDim(d) ? OpFoldResult(tensor::DimOp::create(b, l, src, d).getResult())
                                       : b.getIndexAttr(st.getDimSize(d)));
  return tensor::InsertSliceOp::create(b, l, src, dst, offs, sizes, strides);
}
} // namespace

std::tuple<Value, Value, Value>
gatec::onnx_frontend::detail::linearAttentionWindow(Importer &im, const LinearAttentionParts &p,
                                                    const SymShape &od, const SymShape &sd,
                                                    Type et, int64_t window) {
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type f32 = b.getF32Type();
  Value T = im.indexOf(od[1]);
  Value inWindow = arith::MinUIOp::create(b, loc, cIdx(b, loc, window), T);
  Value prefix = arith::SubIOp::create(b, loc, T, inWindow);
  Value state0 = p.init ? p.init : im.zeros(sd, f32);
  Value out0 = im.empty(od, et);
  auto outT = cast<RankedTensorType>(out0.getType());
  auto run = [&](OpBuilder &ob, Value t0, OpFoldResult len, Value init) {
    auto at = [&](Value x) { return x ? tokens(ob, loc, x, t0, len) : Value(); };
    Value q = at(p.q);
    auto qt = cast<RankedTensorType>(q.getType());
    auto ot = RankedTensorType::get({outT.getDimSize(0), qt.getDimSize(1), outT.getDimSize(2),
                                     outT.getDimSize(3)},
                                    et);
    auto op = gate::LinearAttentionOp::create(ob, loc, ot, init.getType(), q, at(p.k), at(p.v),
                                              at(p.decay), at(p.beta), init, /*gate=*/Value(), p.rule, p.scale,
                                              uint64_t(p.chunk));
    op.setTokenMajor(true);
    return std::pair<Value, Value>{op.getOutput(), op.getFinalState()};
  };
  SmallVector<OpFoldResult> zero4(4, b.getIndexAttr(0));
  // The tokens before the window, in one chunked pass.
  auto before = scf::IfOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, prefix, cIdx(b, loc, 0)),
      [&](OpBuilder &tb, Location tl) {
        auto [o, s] = run(tb, cIdx(tb, tl, 0), prefix, state0);
        scf::YieldOp::create(tb, tl, ValueRange{insertAt(tb, tl, o, out0, zero4), s});
      },
      [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, ValueRange{out0, state0}); });
  SmallVector<SymExpr> wd{SymExpr::constant(window)};
  wd.append(sd.begin(), sd.end());
  Value win0 = im.zeros(wd, f32);
  // The window's tokens one at a time, each state kept in its slot.
  auto steps = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), inWindow, cIdx(b, loc, 1),
      ValueRange{before.getResult(0), before.getResult(1), win0},
      [&](OpBuilder &fb, Location fl, Value i, ValueRange acc) {
        Value t = arith::AddIOp::create(fb, fl, prefix, i);
        auto [o, s] = run(fb, t, fb.getIndexAttr(1), acc[1]);
        SmallVector<OpFoldResult> outOffs(zero4);
        outOffs[1] = t;
        Value slot = arith::AddIOp::create(
            fb, fl, arith::SubIOp::create(fb, fl, cIdx(fb, fl, window), inWindow), i);
        SmallVector<OpFoldResult> winOffs(5, fb.getIndexAttr(0));
        winOffs[0] = slot;
        scf::YieldOp::create(fb, fl,
                             ValueRange{insertAt(fb, fl, o, acc[0], outOffs), s,
                                        insertAt(fb, fl, s, acc[2], winOffs)});
      });
  Value out = steps.getResult(0), st = steps.getResult(1), win = steps.getResult(2);
  im.setDims(out, od);
  im.setDims(st, sd);
  im.setDims(win, wd);
  return {out, st, win};
}

Value gatec::onnx_frontend::detail::causalConvWindowStates(Importer &im, Value x, Value past,
                                                           int64_t L, int64_t window) {
  SymShape xd = im.dims(x);
  Type et = Importer::tt(x).getElementType();
  if (!past)
    past = im.zeros({xd[0], xd[1], SymExpr::constant(L)}, et);
  // [past | x]: the state after input position t is [t + 1, t + 1 + L).
  Value seq = im.concat({past, x}, 2);
  Value T = im.indexOf(xd[2]);
  SymShape wd{SymExpr::constant(window), xd[0], xd[1], SymExpr::constant(L)};
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, &im.ctx);
  Value res = im.generic(
      {}, im.empty(wd, et), {id}, SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value j = linalg::IndexOp::create(nb, l, 0), bi = linalg::IndexOp::create(nb, l, 1),
              c = linalg::IndexOp::create(nb, l, 2), s = linalg::IndexOp::create(nb, l, 3);
        // slot j holds position T - W + j: none when T + j < W
        Value tj = arith::AddIOp::create(nb, l, T, j);
        Value none = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, tj,
                                           cIdx(nb, l, window));
        Value pos = arith::SubIOp::create(
            nb, l, arith::AddIOp::create(nb, l, tj, arith::AddIOp::create(nb, l, s, cIdx(nb, l, 1))),
            cIdx(nb, l, window));
        pos = arith::SelectOp::create(nb, l, none, cIdx(nb, l, 0), pos);
        Value v = tensor::ExtractOp::create(nb, l, seq, ValueRange{bi, c, pos});
        Value zero = arith::ConstantOp::create(nb, l, nb.getZeroAttr(et));
        linalg::YieldOp::create(nb, l, arith::SelectOp::create(nb, l, none, zero, v).getResult());
      });
  return res;
}
