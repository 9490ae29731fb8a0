//===- QuantizedOps.cpp - com.microsoft MatMulNBits ------------------------===//
//
// MatMulNBits (what onnxruntime-genai's builder writes for int4 models):
// Y = A · Wᵀ (+ bias), W [N, K] quantized in blocks of `block_size` along K,
// `bits` per value packed low bits first:
//   W[n, k] = (q[n, k] - zero_point[n, k / block_size]) · scale[n, k / block_size]
// with zero points packed like the weights (uint8) or unpacked floats, 2^(bits-1)
// when absent. The weights are dequantized at compile time into an f32 [K, N]
// constant, so the product runs on the packed matmul kernels at full f32
// precision (accuracy_level is a lower bound on precision: every level is
// met). For 2- and 4-bit weights the matmul also carries the quantized values
// (gate.quantized_weight), from which gate-matmul-cpu builds a kernel for few
// rows (decode steps) that streams 4-bit weights instead of f32.
//
//===----------------------------------------------------------------------===//
#include "OpsCommon.h"

#include "gatec/Dialect/Gate/IR/ConstantData.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

namespace {

/// Input `i` as a compile-time constant, or null.
ElementsAttr constantInput(NodeCtx &n, int i) {
  Value v = n.in(i);
  ElementsAttr attr;
  if (v && matchPattern(v, m_Constant(&attr)))
    return attr;
  return {};
}

LogicalResult handleMatMulNBits(Importer &im, NodeCtx &n) {
  if (failed(n.arity(3, 6)))
    return failure();
  int64_t K = n.i("K", -1), N = n.i("N", -1), bits = n.i("bits", 4), bs = n.i("block_size", -1);
  int64_t prepacked = n.i("weight_prepacked", 0);
  if (n.bad)
    return failure();
  if (!n.hasAttr("K") || !n.hasAttr("N") || !n.hasAttr("block_size"))
    return im.fail("attributes K, N and block_size are required");
  if (bits != 2 && bits != 4 && bits != 8)
    return im.fail("bits must be 2, 4 or 8, got " + num(bits));
  if (bs < 16 || (bs & (bs - 1)))
    return im.fail("block_size must be a power of two >= 16, got " + num(bs));
  if (K < 1 || N < 1)
    return im.fail("K and N must be >= 1");
  if (prepacked)
    return im.fail("weight_prepacked=" + num(prepacked) + " (a CUDA layout) is not supported");
  if (n.has(4))
    return im.fail("g_idx (deprecated) is not supported");
  Type et = n.inType(0).getElementType();
  if (!isGateFloat(et))
    return im.fail("A must be f32, f16 or bf16, got " + str(et));
  SymShape ad = inDims(n, 0);
  if (ad.empty() || ad.back() != SymExpr::constant(K))
    return im.fail("A's last dimension must be K = " + num(K) + ", got " + symShapeStr(ad));
  int64_t kBlocks = (K + bs - 1) / bs, blob = bs * bits / 8;
  const RawTensor *qb = im.packedBytes(n.inName(1));
  if (!qb)
    return im.fail("B must be a uint8 initializer (weights quantized ahead of time)");
  if (qb->numel() != N * kBlocks * blob)
    return im.fail("B must be uint8 [" + num(N) + ", " + num(kBlocks) + ", " + num(blob) +
                   "], got " + num(qb->numel()) + " bytes");
  auto q = [&](int64_t i) { return uint8_t(qb->bytes[size_t(i)]); };
  ElementsAttr sa = constantInput(n, 2);
  std::optional<std::vector<float>> scale =
      sa ? gatec::constantAsF32(sa) : std::optional<std::vector<float>>();
  if (!scale || int64_t(scale->size()) != N * kBlocks)
    return im.fail("scales must be an initializer of N x k_blocks = " + num(N * kBlocks) +
                   " floats");
  // Zero points: per (n, block), packed bytes or floats.
  int64_t zpRow = (kBlocks * bits + 7) / 8;
  std::vector<float> zp(size_t(N * kBlocks), float(int64_t(1) << (bits - 1)));
  if (n.has(3)) {
    if (const RawTensor *z = im.packedBytes(n.inName(3))) {
      if (z->numel() != N * zpRow)
        return im.fail("packed zero_points must be uint8 [" + num(N) + ", " + num(zpRow) + "]");
      for (int64_t r = 0; r < N; ++r)
        for (int64_t kb = 0; kb < kBlocks; ++kb) {
          int64_t bit = kb * bits;
          zp[r * kBlocks + kb] =
              float((uint8_t(z->bytes[size_t(r * zpRow + bit / 8)]) >> (bit % 8)) & ((1 << bits) - 1));
        }
    } else if (ElementsAttr za = constantInput(n, 3);
               std::optional<std::vector<float>> zf =
                   za ? gatec::constantAsF32(za) : std::optional<std::vector<float>>()) {
      if (int64_t(zf->size()) != N * kBlocks)
        return im.fail("float zero_points must hold N x k_blocks = " + num(N * kBlocks) + " values");
      zp = std::move(*zf);
    } else {
      return im.fail("zero_points must be uint8 or the type of A");
    }
  }
  // W as f32 [K, N] (the matmul's B layout).
  AsmResourceBlob wb = HeapAsmResourceBlob::allocate(size_t(K * N) * 4, 64);
  float *w = reinterpret_cast<float *>(wb.getMutableData().data());
  const int mask = (1 << bits) - 1;
  for (int64_t r = 0; r < N; ++r)
    for (int64_t k = 0; k < K; ++k) {
      int64_t kb = k / bs, bit = (k % bs) * bits;
      int v = (q((r * kBlocks + kb) * blob + bit / 8) >> (bit % 8)) & mask;
      w[k * N + r] = (float(v) - zp[r * kBlocks + kb]) * (*scale)[r * kBlocks + kb];
    }
  OpBuilder &b = im.b;
  Type f32 = b.getF32Type();
  auto wt = RankedTensorType::get({K, N}, f32);
  Value wv = arith::ConstantOp::create(
      b, im.loc, wt, DenseResourceElementsAttr::get(wt, "gatec_dequantized", std::move(wb)));
  im.setDims(wv, {SymExpr::constant(K), SymExpr::constant(N)});
  Value a = n.in(0);
  if (!a)
    return failure();
  std::optional<SymExpr> rows = symProduct(ArrayRef<SymExpr>(ad).drop_back());
  if (!rows)
    return im.fail("the sizes of A overflow");
  Value y = im.matmul(im.convert(im.reshape(a, {*rows, ad.back()}), f32), wv);
  if (!y)
    return failure();
  // The quantized form beside the f32 weights, for kernels that read 4-bit
  // weights directly (a decode step's matrix-vector products).
  if (auto mm = y.getDefiningOp<linalg::MatmulOp>(); mm && bits <= 4) {
    AsmResourceBlob qv = HeapAsmResourceBlob::allocate(size_t(N * K), 64);
    char *qd = qv.getMutableData().data();
    for (int64_t r = 0; r < N; ++r)
      for (int64_t k = 0; k < K; ++k) {
        int64_t kb = k / bs, bit = (k % bs) * bits;
        qd[r * K + k] = char((q((r * kBlocks + kb) * blob + bit / 8) >> (bit % 8)) & mask);
      }
    auto floats = [&](const std::vector<float> &v, StringRef name) {
      AsmResourceBlob fb = HeapAsmResourceBlob::allocate(v.size() * 4, 64);
      std::memcpy(fb.getMutableData().data(), v.data(), v.size() * 4);
      auto t = RankedTensorType::get({N, kBlocks}, f32);
      return DenseResourceElementsAttr::get(t, name, std::move(fb));
    };
    auto qt = RankedTensorType::get({N, K}, b.getIntegerType(8));
    mm->setAttr(gatec::kQuantizedWeightAttr,
                b.getDictionaryAttr(
                    {b.getNamedAttr("block_size", b.getI64IntegerAttr(bs)),
                     b.getNamedAttr("values", DenseResourceElementsAttr::get(
                                                  qt, "gatec_quantized", std::move(qv))),
                     b.getNamedAttr("scales", floats(*scale, "gatec_quantized_scales")),
                     b.getNamedAttr("zero_points", floats(zp, "gatec_quantized_zero_points"))}));
  }
  if (n.has(5)) {
    SymShape bd = inDims(n, 5);
    if (bd.size() != 1 || bd[0] != SymExpr::constant(N))
      return im.fail("bias must be [" + num(N) + "]");
    Value bias = n.in(5);
    if (!bias)
      return failure();
    SmallVector<Value> vals{y, im.convert(bias, f32)};
    if (!im.broadcastAll(vals))
      return failure();
    y = im.generic(vals, im.empty(im.dims(vals[0]), f32),
                   SmallVector<AffineMap>(3, AffineMap::getMultiDimIdentityMap(
                                                 Importer::tt(vals[0]).getRank(), &im.ctx)),
                   SmallVector<utils::IteratorType>(Importer::tt(vals[0]).getRank(),
                                                    utils::IteratorType::parallel),
                   [&](OpBuilder &nb, Location l, ValueRange x) {
                     linalg::YieldOp::create(nb, l,
                                             arith::AddFOp::create(nb, l, x[0], x[1]).getResult());
                   });
  }
  SymShape yd(ad.begin(), ad.end());
  yd.back() = SymExpr::constant(N);
  return n.out(0, im.convert(im.reshape(y, yd), et));
}

} // namespace

namespace gatec::onnx_frontend::detail {
LogicalResult handleMsMatMulNBits(Importer &im, NodeCtx &n) { return handleMatMulNBits(im, n); }
} // namespace gatec::onnx_frontend::detail
