//===- MatmulCPU.cpp - packed, register-blocked, parallel matmuls ---------===//
//
// linalg.matmul and linalg.batch_matmul (what the importer writes for MatMul,
// Gemm and batched MatMul) become GotoBLAS-style kernels:
//
//   B is packed into panels of NR = nr-vectors·W columns, [batch, N/NR, K, NR]
//   f32 (f16/bf16 constants keep their width and are widened in the
//   micro-kernel), zero-padded past N: at compile time when B is a constant (an
//   initializer weight, possibly transposed by Gemm's transB, or one expert
//   of a constant stack, read from the packed stack), else once per
//   call in a parallel loop. f16/bf16 weights are widened to f32 there.
//   A task is (batch, block of nc columns, block of mc rows), row blocks
//   varying fastest: consecutive tasks share their panels of B, which stay in
//   L2 while the smaller blocks of A stream (in a chain of matmuls the other
//   order read every weight from L3 once per row block: 10 % slower). A task
//   walks K in blocks of kc and, for every row tile, runs the MR×NR micro-kernel over
//   the panels of its columns: MR·nr-vectors f32 vector accumulators in
//   registers, one broadcast of A and nr-vectors FMAs per (row, k).
//
// A gate.gate that multiplies the result by another tensor of its shape
// through a sigmoid / SiLU — the matmul computing the gate (SambaY's gated
// memory unit m ⊙ SiLU(x·W), SwiGLU's SiLU(x·W1) ⊙ (x·W3)) or the gated value
// — is applied as C is stored after the last K block (the epilogue), so the
// product is written once and not read back.
//
// A row tile of A (MR·kc floats) stays in L1 while the task's panels of B
// (kc·nc floats, in L2) stream past it; the task's A block is first copied
// row-major into an [mc, kc] scratch (vector copies; rows kc apart rather
// than K). Rows left over after the MR-row tiles run
// in tiles of 4 and 1 rows; columns past N are zeros in the packed panel and
// masked at the store.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Conversion/Passes.h"
#include "gatec/Dialect/Gate/IR/Broadcast.h"
#include "gatec/Dialect/Gate/IR/ConstantData.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cstring>

namespace gatec {
#define GEN_PASS_DEF_GATEMATMULCPU
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;
using namespace gatec;
using arith::CmpIPredicate;

namespace {
/// Register and cache blocking, chosen in one place (pass options override).
struct MatmulTiling {
  int64_t w;  // f32 lanes per vector
  int64_t mr; // rows per micro tile
  int64_t nv; // vectors per micro tile row (NR = nv·w)
  int64_t kc; // K block
  int64_t mc; // rows per task (multiple of mr)
  int64_t nc; // columns per task (multiple of NR)
  int64_t prefetch; // K steps ahead that B is prefetched (0: none)
  int64_t nr() const { return nv * w; }
};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

Value ceilDivIdx(KernelBuilder &b, Value a, int64_t d) {
  return b.divui(b.addi(a, b.idx(d - 1)), b.idx(d));
}

/// The operands of a matmul in one shape: A [batch?, M, K], B [batch?, K, N],
/// C [batch?, M, N] (f32); `batched` when rank 3. `quantized`: B's 4-bit form
/// (kQuantizedWeightAttr), when the matmul carries it.
struct MatmulOperands {
  Value a, b, init, result;
  bool batched;
  DictionaryAttr quantized;
};

/// With c = acc + bias[col] (a Linear layer's bias, when there is one):
/// C = other ⊙ act(c) when the matmul computes the gate, else c ⊙ act(other);
/// `other` is a buffer shaped like C, `bias` one of N elements.
struct MatmulEpilogue {
  Value other, bias;
  bool accIsGate = false;
  bool silu = false;
  Value apply(KernelBuilder &b, Value acc, ValueRange at, int64_t w, bool inBounds) const {
    if (bias)
      acc = b.add(acc, b.vload(bias, {at.back()}, w, inBounds));
    Value o = b.vload(other, at, w, inBounds);
    return accIsGate ? b.gateBy(o, acc, silu) : b.gateBy(acc, o, silu);
  }
};

/// Up to this many rows of A, a matmul with 4-bit weights streams them (a
/// decode step); more rows amortize the f32 panels better.
constexpr int64_t kQuantizedMaxRows = 4;

class MatmulLowering {
public:
  MatmulLowering(KernelBuilder &b, const MatmulTiling &t, MatmulOperands ops,
                 std::optional<MatmulEpilogue> epilogue = std::nullopt)
      : b(b), t(t), ops(ops), epilogue(epilogue) {}

  /// Emits the kernel; returns C as a tensor.
  Value run() {
    auto resT = cast<RankedTensorType>(ops.result.getType());
    std::optional<double> fillValue;
    if (auto fill = ops.init.getDefiningOp<linalg::FillOp>()) {
      FloatAttr c;
      if (matchPattern(fill.getInputs()[0], m_Constant(&c)))
        fillValue = c.getValueAsDouble();
    }
    Value packedB = packConstantB();
    aB = b.toBuffer(ops.a);
    int64_t r = ops.batched ? 1 : 0;
    batch = ops.batched ? b.dim(aB, 0) : b.idx(1);
    M = b.dim(aB, r);
    K = b.dim(aB, r + 1);
    Value bBuf;
    if (!packedB) {
      bBuf = b.toBuffer(ops.b);
      N = b.dim(bBuf, r + 1);
    } else {
      N = b.idx(cast<RankedTensorType>(ops.b.getType()).getDimSize(r + 1));
    }
    SmallVector<Value> sizes;
    if (ops.batched)
      sizes.push_back(batch);
    sizes.append({M, N});
    cB = b.alloc(resT, b.dynSizes(resT, sizes));
    // A result that does not start from a constant: copy the init, then
    // every K block accumulates onto C.
    if (!fillValue)
      memref::CopyOp::create(b, b.toBuffer(ops.init), cB);
    bp = packedB ? b.toBuffer(packedB) : packB(bBuf);
    if (ops.quantized && !ops.batched && fillValue && *fillValue == 0.0 && packQuantizedB()) {
      // (The emitters build with the member builder: it moves into each branch.)
      auto ifOp = scf::IfOp::create(b, TypeRange{},
                                    b.cmpi(CmpIPredicate::ule, M, b.idx(kQuantizedMaxRows)),
                                    /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      emitQuantizedRows();
      b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
      emitTasks(fillValue);
    } else {
      emitTasks(fillValue);
    }
    return b.toTensor(cB, resT);
  }

private:
  KernelBuilder &b;
  const MatmulTiling &t;
  MatmulOperands ops;
  std::optional<MatmulEpilogue> epilogue;
  Value batch, M, K, N, aB, bp, cB;
  // The 4-bit form of B: nibbles [N/NR, K, W] (byte j of a panel row holds
  // columns j and j + W), scales and zero point · scale [N/NR, K/bs, NR].
  Value qp, qs, qz;
  int64_t qBlock = 0;
  // The matrix of a packed constant stack that B is (an expert), or null.
  Value bpMatrix;

  /// Indices into the packed B: (batch or matrix of the stack, panel, k, column).
  SmallVector<Value> packedIndex(Value bi, ArrayRef<Value> rest) {
    if (!bpMatrix)
      return withBatch(bi, rest);
    SmallVector<Value> out{bpMatrix};
    out.append(rest.begin(), rest.end());
    return out;
  }

  SmallVector<Value> withBatch(Value bi, ArrayRef<Value> rest) {
    SmallVector<Value> out;
    if (ops.batched)
      out.push_back(bi);
    out.append(rest.begin(), rest.end());
    return out;
  }

  /// B as a constant (possibly transposed by linalg.transpose [1,0] or
  /// [0,2,1]), packed into [batch, N/NR, K, NR] f32 at compile time.
  Value packConstantB() {
    Value src = ops.b;
    bool transposed = false;
    // One matrix of a constant stack [E, K, N], chosen at run time (an
    // expert of a mixture of experts): the whole stack is packed here and
    // the kernel reads the chosen matrix's panels from it.
    Value sliceAt;
    if (auto ex = src.getDefiningOp<tensor::ExtractSliceOp>(); ex && !ops.batched) {
      auto st = ex.getSourceType();
      if (st.getRank() == 3 && ex.getType().getRank() == 2 && st.hasStaticShape() &&
          ex.hasUnitStride() && ex.getStaticSizes() == ArrayRef<int64_t>{1, st.getDimSize(1), st.getDimSize(2)} &&
          ex.getStaticOffsets().drop_front() == ArrayRef<int64_t>{0, 0}) {
        sliceAt = getValueOrCreateConstantIndexOp(b, b.getLoc(), ex.getMixedOffsets()[0]);
        src = ex.getSource();
      }
    }
    if (auto tr = src.getDefiningOp<linalg::TransposeOp>(); tr && !sliceAt) {
      ArrayRef<int64_t> perm = tr.getPermutation();
      bool swapLast = perm.size() >= 2 && perm[perm.size() - 1] == int64_t(perm.size()) - 2 &&
                      perm[perm.size() - 2] == int64_t(perm.size()) - 1 &&
                      (perm.size() == 2 || perm[0] == 0);
      if (!swapLast)
        return {};
      src = tr.getInput();
      transposed = true;
    }
    ElementsAttr attr;
    if (!matchPattern(src, m_Constant(&attr)))
      return {};
    auto st = cast<RankedTensorType>(attr.getType());
    if (!st.hasStaticShape())
      return {};
    // 16-bit weights stay 16-bit in the panels (half the bytes to stream);
    // the micro-kernel widens each vector as it loads it.
    Type et = st.getElementType();
    bool narrow = isa<Float16Type, BFloat16Type>(et);
    std::optional<ConstantBytes> raw = narrow ? constantBytes(attr) : std::nullopt;
    std::optional<std::vector<float>> vals = narrow ? std::nullopt : constantAsF32(attr);
    if (narrow ? !raw || (!raw->splat && int64_t(raw->data.size()) < st.getNumElements() * 2)
               : !vals)
      return {};
    if (!narrow)
      et = b.getF32Type();
    int64_t rank = st.getRank();
    int64_t nb = rank == 3 ? st.getDimSize(0) : 1;
    int64_t d0 = st.getDimSize(rank - 2), d1 = st.getDimSize(rank - 1);
    int64_t k = transposed ? d1 : d0, n = transposed ? d0 : d1;
    int64_t nr = t.nr(), np = ceilDiv(n, nr);
    if (sliceAt && rank != 3)
      return {};
    SmallVector<int64_t> shape;
    if (ops.batched || sliceAt)
      shape.push_back(nb);
    shape.append({np, k, nr});
    size_t count = size_t(nb * np * k * nr), eb = narrow ? 2 : 4;
    AsmResourceBlob blob = HeapAsmResourceBlob::allocate(count * eb, 64);
    char *out = blob.getMutableData().data();
    for (int64_t bi = 0; bi < nb; ++bi)
      for (int64_t p = 0; p < np; ++p)
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t j = 0; j < nr; ++j) {
            int64_t col = p * nr + j;
            size_t at = size_t(((bi * np + p) * k + kk) * nr + j) * eb;
            int64_t src = col >= n ? -1
                          : transposed ? (bi * n + col) * k + kk
                                       : (bi * k + kk) * n + col;
            if (src < 0)
              std::memset(out + at, 0, eb); // zero padding past N (+0.0 in every format)
            else if (narrow)
              std::memcpy(out + at, raw->data.data() + (raw->splat ? 0 : src * 2), 2);
            else
              std::memcpy(out + at, &(*vals)[size_t(src)], 4);
          }
    auto type = RankedTensorType::get(shape, et);
    auto packed = DenseResourceElementsAttr::get(type, "gatec_packed_weight", std::move(blob));
    // The whole stack stays one buffer, indexed with the matrix first (a
    // slice of it would be copied out to get an identity layout).
    bpMatrix = sliceAt;
    return arith::ConstantOp::create(b, type, packed);
  }

  /// Packs the quantized form of B at compile time (two vectors per panel,
  /// NR = 2·W); false when it cannot be read.
  bool packQuantizedB() {
    DictionaryAttr d = ops.quantized;
    auto bsA = d.getAs<IntegerAttr>("block_size");
    auto valsA = d.getAs<ElementsAttr>("values");
    auto scA = d.getAs<ElementsAttr>("scales"), zpA = d.getAs<ElementsAttr>("zero_points");
    auto bt = cast<RankedTensorType>(ops.b.getType());
    if (!bsA || !valsA || !scA || !zpA || !bt.hasStaticShape())
      return false;
    int64_t k = bt.getDimSize(0), n = bt.getDimSize(1), bs = bsA.getInt();
    int64_t kb = (k + bs - 1) / bs, w = t.w, nr = 2 * w, np = ceilDiv(n, nr);
    std::optional<std::vector<uint8_t>> q = constantAsU8(valsA);
    std::optional<std::vector<float>> sc = constantAsF32(scA), zp = constantAsF32(zpA);
    if (bs <= 0 || !q || !sc || !zp || int64_t(q->size()) != n * k ||
        int64_t(sc->size()) != n * kb || int64_t(zp->size()) != n * kb ||
        llvm::any_of(*q, [](uint8_t v) { return v > 15; }))
      return false;
    AsmResourceBlob nib = HeapAsmResourceBlob::allocate(size_t(np * k * w), 64);
    uint8_t *nd = reinterpret_cast<uint8_t *>(nib.getMutableData().data());
    for (int64_t p = 0; p < np; ++p)
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < w; ++j) {
          int64_t lo = p * nr + j, hi = lo + w;
          uint8_t v = lo < n ? (*q)[lo * k + kk] : 0;
          if (hi < n)
            v |= uint8_t((*q)[hi * k + kk] << 4);
          nd[(p * k + kk) * w + j] = v;
        }
    auto perBlock = [&](bool zeroPoint, StringRef name) {
      AsmResourceBlob blob = HeapAsmResourceBlob::allocate(size_t(np * kb * nr) * 4, 64);
      float *o = reinterpret_cast<float *>(blob.getMutableData().data());
      for (int64_t p = 0; p < np; ++p)
        for (int64_t x = 0; x < kb; ++x)
          for (int64_t j = 0; j < nr; ++j) {
            int64_t col = p * nr + j;
            float s = col < n ? (*sc)[col * kb + x] : 0.0f;
            o[(p * kb + x) * nr + j] = zeroPoint && col < n ? (*zp)[col * kb + x] * s : s;
          }
      auto type = RankedTensorType::get({np, kb, nr}, b.getF32Type());
      return b.toBuffer(arith::ConstantOp::create(
          b, type, DenseResourceElementsAttr::get(type, name, std::move(blob))));
    };
    auto nt = RankedTensorType::get({np, k, w}, b.getIntegerType(8));
    qp = b.toBuffer(arith::ConstantOp::create(
        b, nt, DenseResourceElementsAttr::get(nt, "gatec_packed_nibbles", std::move(nib))));
    qs = perBlock(false, "gatec_packed_scales");
    qz = perBlock(true, "gatec_packed_zero_points");
    qBlock = bs;
    return true;
  }

  /// C = A · B for at most kQuantizedMaxRows rows, reading B's 4-bit form:
  /// per block of K, t = Σ a_k·q_k and Σ a_k, then C += s·t - (zp·s)·Σ a_k.
  /// Tasks of a few panels run in parallel; a panel (K·W bytes) stays in L1
  /// while each row passes over it.
  void emitQuantizedRows() {
    int64_t w = t.w, nr = 2 * w;
    auto vt = VectorType::get({w}, b.getF32Type());
    auto bytesT = VectorType::get({w}, b.getIntegerType(8));
    auto wideT = VectorType::get({w}, b.getI32Type());
    Value np = ceilDivIdx(b, N, nr);
    const int64_t panelsPerTask = 4;
    Value tasks = ceilDivIdx(b, np, panelsPerTask);
    Value kBlocks = ceilDivIdx(b, K, qBlock);
    b.tiles({tasks}, [&](KernelBuilder &b, ValueRange iv) {
      Value p0 = b.muli(iv[0], b.idx(panelsPerTask));
      Value p1 = b.minui(b.addi(p0, b.idx(panelsPerTask)), np);
      b.loop(p0, p1, b.idx(1), [&](KernelBuilder &b, Value p) {
        b.loop(b.idx(0), M, b.idx(1), [&](KernelBuilder &b, Value row) {
          Value zero = b.splat(b.f32(0.0f), w);
          SmallVector<Value> acc = b.loop(
              b.idx(0), kBlocks, b.idx(1), {zero, zero},
              [&](KernelBuilder &b, Value kb, ValueRange acc) {
                Value k0 = b.muli(kb, b.idx(qBlock));
                Value k1 = b.minui(b.addi(k0, b.idx(qBlock)), K);
                SmallVector<Value> part = b.loop(
                    k0, k1, b.idx(1), {zero, zero, b.f32(0.0f)},
                    [&](KernelBuilder &b, Value k, ValueRange tv) {
                      Value a = b.load(aB, {row, k});
                      Value as = b.splat(a, w);
                      Value bytes = vector::LoadOp::create(b, bytesT, qp, ValueRange{p, k, b.idx(0)});
                      Value wide = arith::ExtUIOp::create(b, wideT, bytes);
                      Value lo = arith::AndIOp::create(
                          b, wide, arith::ConstantOp::create(b, DenseElementsAttr::get(wideT, int32_t(15))));
                      Value hi = arith::ShRUIOp::create(
                          b, wide, arith::ConstantOp::create(b, DenseElementsAttr::get(wideT, int32_t(4))));
                      Value lof = arith::UIToFPOp::create(b, vt, lo);
                      Value hif = arith::UIToFPOp::create(b, vt, hi);
                      return SmallVector<Value>{b.fma(as, lof, tv[0]), b.fma(as, hif, tv[1]),
                                                b.add(tv[2], a)};
                    });
                Value negSum = b.splat(b.sub(b.f32(0.0f), part[2]), w);
                SmallVector<Value> next;
                for (int64_t v = 0; v < 2; ++v) {
                  Value s = vector::LoadOp::create(b, vt, qs, ValueRange{p, kb, b.idx(v * w)});
                  Value z = vector::LoadOp::create(b, vt, qz, ValueRange{p, kb, b.idx(v * w)});
                  next.push_back(b.fma(negSum, z, b.fma(s, part[v], acc[v])));
                }
                return next;
              });
          Value col0 = b.muli(p, b.idx(nr));
          for (int64_t v = 0; v < 2; ++v) {
            SmallVector<Value> at{row, b.addi(col0, b.idx(v * w))};
            b.vstore(epilogue ? epilogue->apply(b, acc[v], at, w, false) : acc[v], cB, at, false);
          }
        });
      });
    });
  }

  /// Packs a run-time B once per call, in parallel over (batch, panel).
  Value packB(Value bBuf) {
    int64_t nr = t.nr();
    Value np = ceilDivIdx(b, N, nr);
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    if (ops.batched) {
      shape.push_back(ShapedType::kDynamic);
      dyn.push_back(batch);
    }
    shape.append({ShapedType::kDynamic, ShapedType::kDynamic, nr});
    dyn.append({np, K});
    Value packed = b.allocF32(shape, dyn);
    b.parallel({batch, np}, true, [&](KernelBuilder &b, ValueRange iv) {
      Value bi = iv[0], p = iv[1];
      Value col0 = b.muli(p, b.idx(nr));
      Value full = b.cmpi(CmpIPredicate::ule, b.addi(col0, b.idx(nr)), N);
      b.loop(b.idx(0), K, b.idx(1), [&](KernelBuilder &b, Value k) {
        b.ifThenElse(
            full,
            [&](KernelBuilder &b) {
              for (int64_t v = 0; v < t.nv; ++v) {
                Value col = b.addi(col0, b.idx(v * t.w));
                b.vstore(b.vload(bBuf, withBatch(bi, {k, col}), t.w, true), packed,
                         withBatch(bi, {p, k, b.idx(v * t.w)}), true);
              }
            },
            [&](KernelBuilder &b) {
              for (int64_t v = 0; v < t.nv; ++v) {
                Value col = b.addi(col0, b.idx(v * t.w));
                // Past N the transfer pads with zeros.
                Value x = b.ifElse(
                    b.cmpi(CmpIPredicate::ult, col, N), VectorType::get({t.w}, b.getF32Type()),
                    [&](KernelBuilder &b) {
                      return b.vload(bBuf, withBatch(bi, {k, col}), t.w, false);
                    },
                    [&](KernelBuilder &b) { return b.splat(b.f32(0.0f), t.w); });
                b.vstore(x, packed, withBatch(bi, {p, k, b.idx(v * t.w)}), true);
              }
            });
      });
    });
    return packed;
  }

  void emitTasks(std::optional<double> fillValue) {
    int64_t nr = t.nr();
    Value mBlocks = ceilDivIdx(b, M, t.mc);
    Value nBlocks = ceilDivIdx(b, N, t.nc);
    b.tiles({batch, nBlocks, mBlocks}, [&](KernelBuilder &b, ValueRange iv) {
      Value bi = iv[0];
      Value m0 = b.muli(iv[2], b.idx(t.mc));
      Value n0 = b.muli(iv[1], b.idx(t.nc));
      Value mEnd = b.minui(b.addi(m0, b.idx(t.mc)), M);
      Value nEnd = b.minui(b.addi(n0, b.idx(t.nc)), N);
      // The task's rows of A for one K block, row-major [mc, kc]: rows of A
      // itself are K apart, and with K a multiple of 1024 floats a tile's
      // rows would all fall into the same L1 sets.
      Value ap = b.allocF32({t.mc, t.kc}, {});
      // At least one K block, so that K = 0 still writes the fill value.
      Value kBlocks = arith::MaxUIOp::create(b, ceilDivIdx(b, K, t.kc), b.idx(1));
      b.loop(b.idx(0), kBlocks, b.idx(1), [&](KernelBuilder &b, Value kb) {
        Value k0 = b.muli(kb, b.idx(t.kc));
        Value kLen = b.minui(b.idx(t.kc), b.subi(K, k0));
        Value first = b.cmpi(CmpIPredicate::eq, k0, b.idx(0));
        b.loop(m0, mEnd, b.idx(1), [&](KernelBuilder &b, Value row) {
          Value r = b.subi(row, m0);
          b.loop(b.idx(0), kLen, b.idx(t.w), [&](KernelBuilder &b, Value k) {
            // Lanes past K read zeros; lanes past the block are never used.
            b.vstore(b.vload(aB, withBatch(bi, {row, b.addi(k0, k)}), t.w, false), ap, {r, k},
                     true);
          });
        });
        Value p0 = b.divui(n0, b.idx(nr));
        Value p1 = ceilDivIdx(b, nEnd, nr);
        // Row tiles of MR rows, then of 4 and of 1 (every row read exists);
        // a tile's rows of A stay in L1 while the panels of B stream from L2.
        Value row = m0;
        for (int64_t mr : {t.mr, int64_t(4), int64_t(1)}) {
          if (mr > t.mr)
            continue;
          Value count = b.divui(b.subi(mEnd, row), b.idx(mr));
          b.loop(b.idx(0), count, b.idx(1), [&](KernelBuilder &b, Value i) {
            Value row0 = b.addi(row, b.muli(i, b.idx(mr)));
            b.loop(p0, p1, b.idx(1), [&](KernelBuilder &b, Value p) {
              microKernel(b, mr, bi, ap, m0, row0, p, k0, kLen, first, fillValue);
            });
          });
          row = b.addi(row, b.muli(count, b.idx(mr)));
          if (mr == 1)
            break;
        }
      });
    });
  }

  /// C[row0 : row0+mr, panel p] (+)= A[row0 : row0+mr, k0 : k0+kLen] · Bp[p, k0 : k0+kLen],
  /// A read from the task's copy `ap` (row row0 - m0): the rows of a tile are
  /// constant offsets from one pointer.
  void microKernel(KernelBuilder &b, int64_t mr, Value bi, Value ap, Value m0, Value row0,
                   Value p, Value k0, Value kLen, Value first, std::optional<double> fillValue) {
    int64_t nr = t.nr(), w = t.w;
    auto vt = VectorType::get({w}, b.getF32Type());
    // Panels of 16-bit weights are widened as they are loaded.
    Type bType = cast<MemRefType>(bp.getType()).getElementType();
    int64_t bBytes = bType.getIntOrFloatBitWidth() / 8;
    auto widen = [&](Value v) -> Value {
      return bType.isF32() ? v : arith::ExtFOp::create(b, vt, v).getResult();
    };
    Value col0 = b.muli(p, b.idx(nr));
    Value fullCols = b.cmpi(CmpIPredicate::ule, b.addi(col0, b.idx(nr)), N);
    SmallVector<Value> rows;
    for (int64_t r = 0; r < mr; ++r)
      rows.push_back(b.addi(row0, b.idx(r)));
    auto colOf = [&](KernelBuilder &b, int64_t v) { return b.addi(col0, b.idx(v * w)); };
    // Starting accumulators: the fill value in the first K block, else C.
    SmallVector<Type> types(mr * t.nv, vt);
    auto loadC = [&](KernelBuilder &b) {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t v = 0; v < t.nv; ++v)
          acc.push_back(b.vload(cB, withBatch(bi, {rows[r], colOf(b, v)}), w, false));
      return acc;
    };
    SmallVector<Value> init;
    if (fillValue) {
      auto ifOp = scf::IfOp::create(b, types, first, /*withElseRegion=*/true);
      {
        KernelBuilder tb(b.getLoc(), OpBuilder::atBlockEnd(ifOp.thenBlock()));
        Value s = tb.splat(tb.f32(float(*fillValue)), w);
        scf::YieldOp::create(tb, SmallVector<Value>(types.size(), s));
      }
      {
        KernelBuilder eb(b.getLoc(), OpBuilder::atBlockEnd(ifOp.elseBlock()));
        scf::YieldOp::create(eb, loadC(eb));
      }
      init.assign(ifOp.getResults().begin(), ifOp.getResults().end());
    } else {
      init = loadC(b);
    }
    SmallVector<Value> acc = b.loop(
        b.idx(0), kLen, b.idx(1), init, [&](KernelBuilder &b, Value k, ValueRange acc) {
          Value kk = b.addi(k0, k);
          SmallVector<Value> bv;
          // The panel streams from L2: ask for its rows `prefetch` steps
          // ahead (a cache line of 16 floats per prefetch).
          if (t.prefetch > 0)
            for (int64_t col = 0; col < nr; col += 64 / bBytes)
              memref::PrefetchOp::create(b, bp,
                                         packedIndex(bi, {p, b.addi(kk, b.idx(t.prefetch)),
                                                          b.idx(col)}),
                                         /*isWrite=*/false, /*localityHint=*/3,
                                         /*isDataCache=*/true);
          for (int64_t v = 0; v < t.nv; ++v)
            bv.push_back(widen(vector::LoadOp::create(b, VectorType::get({w}, bType), bp,
                                                      packedIndex(bi, {p, kk, b.idx(v * w)}))));
          SmallVector<Value> next;
          for (int64_t r = 0; r < mr; ++r) {
            Value a = b.splat(b.load(ap, {b.subi(rows[r], m0), k}), w);
            for (int64_t v = 0; v < t.nv; ++v)
              next.push_back(b.fma(a, bv[v], acc[r * t.nv + v]));
          }
          return next;
        });
    auto emitStores = [&](KernelBuilder &b, bool inBounds, bool withEpilogue) {
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t v = 0; v < t.nv; ++v) {
          SmallVector<Value> at = withBatch(bi, {rows[r], colOf(b, v)});
          Value y = acc[r * t.nv + v];
          if (withEpilogue)
            y = epilogue->apply(b, y, at, w, inBounds);
          b.vstore(y, cB, at, inBounds);
        }
    };
    auto store = [&](bool inBounds) {
      return [&, inBounds](KernelBuilder &b) {
        if (!epilogue)
          return emitStores(b, inBounds, false);
        // The epilogue once C is complete: after the last K block.
        Value lastK = b.cmpi(CmpIPredicate::eq, b.addi(k0, kLen), K);
        b.ifThenElse(
            lastK, [&](KernelBuilder &b) { emitStores(b, inBounds, true); },
            [&](KernelBuilder &b) { emitStores(b, inBounds, false); });
      };
    };
    b.ifThenElse(fullCols, store(true), store(false));
  }
};

template <typename OpTy>
struct MatmulToCPU : OpRewritePattern<OpTy> {
  MatmulToCPU(MLIRContext *ctx, MatmulTiling tiling)
      : OpRewritePattern<OpTy>(ctx), tiling(tiling) {}

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!op.hasPureTensorSemantics() || op.hasUserDefinedMaps() || op.getInputs().size() != 2)
      return failure();
    auto resT = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    if (!resT || !resT.getElementType().isF32())
      return rw.notifyMatchFailure(op, "the accumulator is not f32");
    for (Value in : op.getInputs()) {
      auto it = dyn_cast<RankedTensorType>(in.getType());
      if (!it || !isa<Float32Type, Float16Type, BFloat16Type>(it.getElementType()))
        return rw.notifyMatchFailure(op, "operands are not f32, f16 or bf16");
    }
    MatmulOperands ops{op.getInputs()[0], op.getInputs()[1], op.getOutputs()[0],
                       op.getResult(0), std::is_same_v<OpTy, linalg::BatchMatmulOp>,
                       op->template getAttrOfType<DictionaryAttr>(kQuantizedWeightAttr)};
    GatedUse gated = gatedUse(op.getResult(0));
    // With an epilogue the kernel goes where the gate is: its other operand
    // may be defined after the matmul (SwiGLU's second projection).
    if (gated.gate)
      rw.setInsertionPoint(gated.gate);
    KernelBuilder b(op.getLoc(), rw);
    MatmulTiling t = tiling;
    // Few row blocks (decode, small M): narrower column blocks so that every
    // thread gets tasks.
    auto aT = cast<RankedTensorType>(ops.a.getType());
    int64_t m = aT.getDimSize(aT.getRank() - 2);
    int64_t n = resT.getDimSize(resT.getRank() - 1);
    if (!ShapedType::isDynamic(m) && !ShapedType::isDynamic(n) && m <= t.mc) {
      int64_t panels = ceilDiv(n, t.nr());
      t.nc = t.nr() * std::max<int64_t>(1, std::min(t.nc / t.nr(), ceilDiv(panels, 16)));
    } else if (!ShapedType::isDynamic(n) && ceilDiv(n, t.nc) <= 2) {
      // Few column blocks (a narrow projection, e.g. GQA's K/V): shorter row
      // blocks, so that a few hundred rows still make tasks for every thread
      // (512 rows: 11 tasks of 48 rather than 6 of 96).
      t.mc = std::min(t.mc, t.mr * 4);
    }
    if (!gated.gate) {
      rw.replaceOp(op, MatmulLowering(b, t, ops).run());
      return success();
    }
    MatmulEpilogue epi;
    Value out = gated.biasAdd ? gated.biasAdd.getResult()
                : gated.expand ? gated.expand.getResult()
                               : op.getResult(0);
    epi.accIsGate = gated.gate.getGate() == out;
    epi.silu = gated.gate.getAct() == gate::Activation::silu;
    Value other = epi.accIsGate ? gated.gate.getInput() : gated.gate.getGate();
    if (gated.expand) {
      other = tensor::CollapseShapeOp::create(b, other, gated.expand.getReassociationIndices());
      if (other.getType() != resT)
        other = tensor::CastOp::create(b, resT, other);
    }
    epi.other = b.toBuffer(other);
    if (gated.bias)
      epi.bias = b.toBuffer(gated.bias);
    Value y = MatmulLowering(b, t, ops, epi).run();
    if (gated.expand)
      y = tensor::ExpandShapeOp::create(b, gated.expand.getResultType(), y,
                                        gated.expand.getReassociationIndices(),
                                        gated.expand.getMixedOutputShape());
    rw.replaceOp(gated.gate, y);
    if (gated.biasAdd) {
      Operation *bcast = gated.biasAdd.getRhs().getDefiningOp();
      rw.eraseOp(gated.biasAdd);
      if (bcast->use_empty())
        rw.eraseOp(bcast);
    }
    if (gated.expand)
      rw.eraseOp(gated.expand);
    rw.eraseOp(op);
    return success();
  }

  /// A gate.gate that the matmul's result reaches, each step used once:
  /// through one expand_shape, then the addition of a bias broadcast along
  /// the last dimension (a Linear layer), each optional; the gate's other
  /// operand has the same type.
  struct GatedUse {
    gate::GateOp gate;
    tensor::ExpandShapeOp expand;
    arith::AddFOp biasAdd;
    Value bias; // [N]
  };
  static GatedUse gatedUse(Value r) {
    GatedUse u;
    if (!r.hasOneUse())
      return {};
    Operation *user = *r.getUsers().begin();
    if ((u.expand = dyn_cast<tensor::ExpandShapeOp>(user))) {
      r = u.expand.getResult();
      if (!r.hasOneUse())
        return {};
      user = *r.getUsers().begin();
    }
    if (auto add = dyn_cast<arith::AddFOp>(user); add && add.getLhs() == r) {
      u.bias = lastDimBroadcastSource(add.getRhs());
      if (!u.bias || add.getType() != r.getType() || !add.getResult().hasOneUse())
        return {};
      u.biasAdd = add;
      r = add.getResult();
      user = *r.getUsers().begin();
    }
    auto g = dyn_cast<gate::GateOp>(user);
    if (!g || g.getInput() == g.getGate() || g.getInput().getType() != g.getGate().getType() ||
        g.getType() != r.getType())
      return {};
    u.gate = g;
    return u;
  }

  /// The f32 vector [N] that `v` broadcasts along its last dimension (how
  /// the importer broadcasts a bias), or null.
  static Value lastDimBroadcastSource(Value v) {
    SmallVector<int64_t> dims;
    Value src = broadcastSource(v, &dims);
    auto vt = cast<RankedTensorType>(v.getType());
    auto st = src ? dyn_cast<RankedTensorType>(src.getType()) : RankedTensorType();
    int64_t last = vt.getRank() - 1;
    if (!st || st.getRank() != 1 || !st.getElementType().isF32() || st.isDynamicDim(0) ||
        st.getDimSize(0) != vt.getDimSize(last) || int64_t(dims.size()) != last ||
        llvm::is_contained(dims, last))
      return {};
    return src;
  }

  MatmulTiling tiling;
};

struct GateMatmulCPUPass : gatec::impl::GateMatmulCPUBase<GateMatmulCPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(checkVectorWidth(getOperation(), "gate-matmul-cpu", vectorWidth)))
      return signalPassFailure();
    MatmulTiling t;
    t.w = vectorWidth;
    // AVX-512 (32 registers): 12×2 accumulators; 16 registers: 6×2.
    t.mr = mr > 0 ? int64_t(mr) : (vectorWidth >= 16 ? 12 : 6);
    t.nv = nrVectors > 0 ? int64_t(nrVectors) : 2;
    // K blocks are whole vectors (the copy of A moves vectors).
    t.kc = llvm::alignTo(kc > 0 ? int64_t(kc) : 256, t.w);
    t.mc = t.mr * (mcTiles > 0 ? int64_t(mcTiles) : 8);
    t.prefetch = prefetch;
    int64_t ncPanels = ncPanelsOpt > 0 ? int64_t(ncPanelsOpt) : std::max<int64_t>(1, 256 / t.nr());
    t.nc = t.nr() * ncPanels;
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulToCPU<linalg::MatmulOp>, MatmulToCPU<linalg::BatchMatmulOp>>(
        &getContext(), t);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
