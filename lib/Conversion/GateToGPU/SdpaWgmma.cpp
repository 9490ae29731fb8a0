//===- SdpaWgmma.cpp - gate.sdpa on Hopper: TMA + wgmma -------------------===//
//
// For sm_90a, gate.sdpa with f16 / bf16 tensors also gets a kernel built on
// Hopper's asynchronous tensor cores. Same grid as the mma.sync kernel (a
// block owns 64 query rows of one (batch, head) and ≤ 128 output columns),
// but the block is one warpgroup:
//   - TMA copies Q once and K/V blocks of 64 keys (double-buffered, one
//     mbarrier per stage; block i+1 is in flight while block i is used) into
//     128B-swizzled shared memory; out-of-range rows and columns arrive as 0;
//   - S = Q Kᵀ is m64n64k16 wgmma with both operands in shared memory, the
//     online softmax runs on the accumulator registers (per warp, the same
//     layout as mma.sync's), P goes to shared memory (swizzled like Q) and
//     O += P V is m64nNk16 wgmma with V read N-major (transposed operand).
// The host creates the three TMA descriptors per call (gatec_rt_cuda_tma_map)
// and launches this kernel when all exist; otherwise (another GPU, an
// unaligned tensor) and for split-KV decode the portable kernel runs: the op
// is re-emitted marked kPortableAttr for SdpaToMma.
//
// Shared memory (dynamic, 1024-aligned tiles of 64 rows × 128 bytes):
// Q [Dt tiles], K [2 stages × Dt], V [2 stages × Vt], P [1], 3 mbarriers.
// Element (row, c) of a tile is at row·128 + ((c/8 ⊕ row%8)·16) + (c%8)·2
// (the 128B swizzle, which TMA applies when writing and wgmma when reading).
//
//===----------------------------------------------------------------------===//
#include "GPUKernelUtils.h"
#include "SdpaFragments.h"
#include "gatec/Conversion/GateLowerings.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace gatec;
using namespace gatec::gate;
using namespace gatec::gpu_kernels;
using arith::CmpIPredicate;

namespace {
constexpr int64_t kRows = 64, kBN = 64, kTile = kRows * 128;
constexpr StringLiteral kTmaMapFn = "gatec_rt_cuda_tma_map";

/// A wgmma shared-memory matrix descriptor: 128B swizzle, start address,
/// leading / stride byte offsets (PTX ISA, "Matrix Descriptor Format").
Value descriptor(KernelBuilder &b, Value addr, int64_t lbo, int64_t sbo) {
  auto c = [&](int64_t v) { return arith::ConstantIntOp::create(b, v, 64).getResult(); };
  Value start = arith::ShRUIOp::create(b, arith::AndIOp::create(b, addr, c(0x3FFFF)), c(4));
  int64_t fixed = ((lbo >> 4) << 16) | ((sbo >> 4) << 32) | (int64_t(1) << 62);
  return arith::OrIOp::create(b, start, c(fixed));
}

struct SdpaToWgmma : OpRewritePattern<SdpaOp> {
  SdpaToWgmma(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/4) {}

  LogicalResult matchAndRewrite(SdpaOp op, PatternRewriter &rw) const override {
    if (op->hasAttr(kPortableAttr))
      return rw.notifyMatchFailure(op, "portable kernel requested");
    if (op.getWindow() || op.getBottomRight() || op.getSink())
      return rw.notifyMatchFailure(op, "windows, bottom-right bands, sinks are not here yet: SIMT");
    auto qT = cast<RankedTensorType>(op.getQuery().getType());
    auto kT = cast<RankedTensorType>(op.getKey().getType());
    auto vT = cast<RankedTensorType>(op.getValue().getType());
    Type e = qT.getElementType();
    if (!(e.isF16() || e.isBF16()) || kT.getElementType() != e || vT.getElementType() != e)
      return rw.notifyMatchFailure(op, "TMA needs 16-bit tensors");
    const int64_t D = qT.getDimSize(3), Dv = vT.getDimSize(3);
    // TMA: rows must be 16-byte multiples.
    if (D % 8 || Dv % 8 || D > 256)
      return rw.notifyMatchFailure(op, "head dims not multiples of 8 (or > 256)");

    KernelBuilder b(op.getLoc(), rw);
    Type i64 = b.getI64Type();
    declarePrivateFunc(op->getParentOfType<ModuleOp>(), kTmaMapFn,
                       b.getFunctionType({i64, i64, i64, i64, i64, i64, i64}, {i64}));
    const int64_t Dp = roundUp(D, 16), Dt = (Dp + 63) / 64;
    const int64_t dvSplit = (roundUp(Dv, 16) + 127) / 128;
    const int64_t Dvn = roundUp((Dv + dvSplit - 1) / dvSplit, 16), Vt = (Dvn + 63) / 64;
    // Every V tile of the last column block must start inside V: a box
    // entirely out of bounds is not documented to complete its transaction.
    if ((dvSplit - 1) * Dvn + 64 * (Vt - 1) >= Dv)
      return rw.notifyMatchFailure(op, "value head split leaves a V tile out of bounds");

    // Decode over long KV sequences: the portable split-KV kernel.
    auto dimOf = [&](Value t, int64_t d) {
      return tensor::DimOp::create(b, t, b.idx(d)).getResult();
    };
    Value Sq = dimOf(op.getQuery(), 2), Skv = dimOf(op.getKey(), 2);
    Value notDecode = arith::OrIOp::create(b, b.cmpi(CmpIPredicate::ugt, Sq, b.idx(kRows)),
                                           b.cmpi(CmpIPredicate::ule, Skv, b.idx(512)));
    // The TMA descriptors (0: not usable here).
    Value zero64 = arith::ConstantIntOp::create(b, 0, 64);
    auto maps = scf::IfOp::create(b, TypeRange{i64, i64, i64}, notDecode, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&maps.getThenRegion().front());
      auto map = [&](Value t, int64_t box0, int64_t box1) {
        Value buf = b.toBuffer(t);
        Value ptr = arith::IndexCastOp::create(
            b, i64, memref::ExtractAlignedPointerAsIndexOp::create(b, buf));
        SmallVector<Value> args = {ptr};
        for (int64_t d = 3; d >= 0; --d)
          args.push_back(arith::IndexCastOp::create(b, i64, b.dim(buf, d)));
        args.push_back(arith::ConstantIntOp::create(b, box0, 64));
        args.push_back(arith::ConstantIntOp::create(b, box1, 64));
        return func::CallOp::create(b, kTmaMapFn, TypeRange{i64}, args).getResult(0);
      };
      scf::YieldOp::create(b, ValueRange{map(op.getQuery(), 64, kRows), map(op.getKey(), 64, kBN),
                                         map(op.getValue(), 64, kBN)});
      b.setInsertionPointToStart(&maps.getElseRegion().front());
      scf::YieldOp::create(b, ValueRange{zero64, zero64, zero64});
    }
    Value ok = b.cmpi(CmpIPredicate::ne, maps.getResult(0), zero64);
    for (int64_t i = 1; i < 3; ++i)
      ok = arith::AndIOp::create(b, ok, b.cmpi(CmpIPredicate::ne, maps.getResult(i), zero64));

    auto ifOp = scf::IfOp::create(b, TypeRange{op.getType()}, ok, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      Operation *portable = b.clone(*op);
      portable->setAttr(kPortableAttr, b.getUnitAttr());
      scf::YieldOp::create(b, portable->getResults());

      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      SdpaOperands so(b, op);
      emitKernel(rw, b, op, so, e, Dp, Dt, dvSplit, Dvn, Vt,
                 {maps.getResult(0), maps.getResult(1), maps.getResult(2)});
      scf::YieldOp::create(b, b.toTensor(so.out, so.resT));
    }
    rw.replaceOp(op, ifOp.getResults());
    return success();
  }

  void emitKernel(PatternRewriter &rw, KernelBuilder &b, SdpaOp op, const SdpaOperands &so, Type e, int64_t Dp,
                  int64_t Dt, int64_t dvSplit, int64_t Dvn, int64_t Vt,
                  std::array<Value, 3> maps) const {
    MLIRContext *ctx = b.getContext();
    Type i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
    auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
    auto genericPtr = LLVM::LLVMPointerType::get(ctx);
    // Byte offsets in the (1024-aligned) dynamic shared memory.
    const int64_t qOff = 0, kOff = qOff + Dt * kTile, vOff = kOff + 2 * Dt * kTile,
                  pOff = vOff + 2 * Vt * kTile, barOff = pOff + kTile, bytes = barOff + 3 * 8;
    const int64_t kvBytes = (Dt + Vt) * kTile;
    Value c1 = b.idx(1);
    Value qBlocks = ceilDivIdx(b, so.Sq, kRows);
    auto launch = gpu::LaunchOp::create(
        b, b.muli(qBlocks, b.idx(dvSplit)), so.Hq, so.B, b.idx(128), c1, c1,
        arith::ConstantIntOp::create(b, bytes + 1024, 32));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());

    auto c64 = [&](int64_t v) { return arith::ConstantIntOp::create(b, v, 64).getResult(); };
    auto c32 = [&](int64_t v) { return arith::ConstantIntOp::create(b, v, 32).getResult(); };
    auto toI64 = [&](Value idx) { return arith::IndexCastOp::create(b, i64, idx).getResult(); };
    auto toI32 = [&](Value idx) { return arith::IndexCastOp::create(b, i32, idx).getResult(); };
    // The dynamic shared memory, rounded up to 1024 bytes (the swizzle
    // pattern repeats every 1024 bytes of address).
    Value dyn = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), MemRefLayoutAttrInterface(),
                           gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup)));
    Value base = toI64(memref::ExtractAlignedPointerAsIndexOp::create(b, dyn));
    base = arith::AndIOp::create(b, arith::AddIOp::create(b, base, c64(1023)), c64(~int64_t(1023)));
    auto at = [&](int64_t off, Value dyn = Value()) {
      Value a = arith::AddIOp::create(b, base, c64(off));
      return dyn ? arith::AddIOp::create(b, a, dyn).getResult() : a;
    };
    auto ptr3 = [&](Value addr) { return LLVM::IntToPtrOp::create(b, sharedPtr, addr).getResult(); };
    Value mapPtr[3];
    for (int i = 0; i < 3; ++i)
      mapPtr[i] = LLVM::IntToPtrOp::create(b, genericPtr, maps[i]);

    Value tid = launch.getThreadIds().x;
    Value qb = b.divui(launch.getBlockIds().x, b.idx(dvSplit));
    Value colBase = b.muli(arith::RemUIOp::create(b, launch.getBlockIds().x, b.idx(dvSplit)),
                           b.idx(Dvn));
    Value h = launch.getBlockIds().y, bi = launch.getBlockIds().z;
    Value hk = b.divui(h, b.idx(so.group));
    Value warp = b.divui(tid, b.idx(32)), lane = arith::RemUIOp::create(b, tid, b.idx(32));
    Value g = b.divui(lane, b.idx(4)), tq = arith::RemUIOp::create(b, lane, b.idx(4));
    Value rowBase = b.addi(b.muli(qb, b.idx(kRows)), b.muli(warp, b.idx(16)));
    FragmentRows fr;
    fr.bi = bi;
    fr.h = h;
    fr.rows[0] = b.addi(rowBase, g);
    fr.rows[1] = b.addi(rowBase, b.addi(g, b.idx(8)));
    fr.rowOk[0] = b.cmpi(CmpIPredicate::ult, fr.rows[0], so.Sq);
    fr.rowOk[1] = b.cmpi(CmpIPredicate::ult, fr.rows[1], so.Sq);
    fr.tq2 = b.muli(tq, b.idx(2));

    Value numBlocks = so.causal ? ceilDivIdx(b, b.minui(so.Skv, b.muli(b.addi(qb, c1), b.idx(kRows))), kBN)
                                : ceilDivIdx(b, so.Skv, kBN);
    Value leader = b.cmpi(CmpIPredicate::eq, tid, b.idx(0));
    auto onLeader = [&](function_ref<void()> body) {
      auto ifOp = scf::IfOp::create(b, leader, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      body();
    };
    auto bar = [&](Value stage) { return ptr3(at(barOff, b.muli(toI64(stage), c64(8)))); };
    auto tma = [&](int map, Value dst, std::array<Value, 4> coords, Value mbar) {
      SmallVector<Value> xs;
      for (Value c : coords)
        xs.push_back(toI32(c));
      // The destination as a shared::cluster address (of this CTA).
      Value dst7 = LLVM::AddrSpaceCastOp::create(b, LLVM::LLVMPointerType::get(ctx, 7), ptr3(dst));
      NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          b, dst7, mapPtr[map], xs, mbar, ValueRange{}, Value(), Value(),
          NVVM::TMALoadMode::TILE, false, nullptr, Value());
    };
    // Stage s of the key/value ring: K tiles then V tiles of block `blk`.
    auto loadKV = [&](Value blk, Value stage) {
      Value mbar = bar(b.addi(stage, c1));
      NVVM::MBarrierArriveExpectTxOp::create(b, Type(), mbar, c32(kvBytes),
                                             NVVM::MemScopeKind::CTA, false, Value());
      Value kv0 = b.muli(blk, b.idx(kBN));
      Value st = toI64(stage);
      for (int64_t t = 0; t < Dt; ++t)
        tma(1, at(kOff + t * kTile, arith::MulIOp::create(b, st, c64(Dt * kTile))),
            {b.idx(64 * t), kv0, hk, bi}, mbar);
      for (int64_t t = 0; t < Vt; ++t)
        tma(2, at(vOff + t * kTile, arith::MulIOp::create(b, st, c64(Vt * kTile))),
            {b.addi(colBase, b.idx(64 * t)), kv0, hk, bi}, mbar);
    };

    // Barriers (0: Q, 1 + s: stage s), then Q and the first K/V block.
    onLeader([&] {
      for (int64_t i = 0; i < 3; ++i)
        NVVM::MBarrierInitOp::create(b, ptr3(at(barOff + 8 * i)), c32(1), Value());
      NVVM::FenceMbarrierInitOp::create(b);
      // The descriptors were written through the generic proxy, by a copy
      // from the host: system scope.
      for (Value p : mapPtr)
        NVVM::FenceProxyAcquireOp::create(b, NVVM::MemScopeKind::SYS, p, c32(128),
                                          NVVM::ProxyKind::GENERIC, NVVM::ProxyKind::TENSORMAP);
    });
    barrier(b, op);
    onLeader([&] {
      Value qbar = bar(b.idx(0));
      NVVM::MBarrierArriveExpectTxOp::create(b, Type(), qbar, c32(Dt * kTile),
                                             NVVM::MemScopeKind::CTA, false, Value());
      for (int64_t t = 0; t < Dt; ++t)
        tma(0, at(qOff + t * kTile), {b.idx(64 * t), b.muli(qb, b.idx(kRows)), h, bi}, qbar);
      auto first = scf::IfOp::create(b, b.cmpi(CmpIPredicate::ugt, numBlocks, b.idx(0)), false);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(&first.getThenRegion().front());
      loadKV(b.idx(0), b.idx(0));
    });
    Value ticks = c32(0x989680);
    NVVM::MBarrierTryWaitParityOp::create(b, bar(b.idx(0)), c32(0), ticks);

    auto operandType = NVVM::WGMMATypesAttr::get(
        ctx, e.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16);
    auto accType = [&](int64_t n) {
      return LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(n / 2, f32));
    };
    auto wgmma = [&](Value acc, Value da, Value db, int64_t n, bool accumulate, bool bTransposed) {
      return NVVM::WgmmaMmaAsyncOp::create(
                 b, acc.getType(), acc, da, db, NVVM::MMAShapeAttr::get(ctx, 64, n, 16),
                 operandType, operandType,
                 NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
                 NVVM::WGMMAScaleOutAttr::get(ctx, accumulate ? NVVM::WGMMAScaleOut::one
                                                              : NVVM::WGMMAScaleOut::zero),
                 NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
                 NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
                 NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
                 NVVM::MMALayoutAttr::get(ctx, bTransposed ? NVVM::MMALayout::row
                                                           : NVVM::MMALayout::col),
                 nullptr)
          .getResult();
    };
    auto extract = [&](Value s, int64_t i) {
      return LLVM::ExtractValueOp::create(b, s, ArrayRef<int64_t>{i}).getResult();
    };
    // `asm` (wgmma.fence / wait_group) with the accumulator registers as
    // tied operands: nothing reads them before the wait or writes them after
    // the fence (the PTX ISA leaves that undefined), whatever LLVM schedules.
    auto tied = [&](StringRef text, Value acc) {
      int64_t n = cast<LLVM::LLVMStructType>(acc.getType()).getBody().size();
      SmallVector<Value> regs;
      std::string constraints;
      for (int64_t i = 0; i < n; ++i) {
        regs.push_back(extract(acc, i));
        constraints += (i ? ",=f" : "=f");
      }
      for (int64_t i = 0; i < n; ++i)
        constraints += "," + std::to_string(i);
      return LLVM::InlineAsmOp::create(b, acc.getType(), regs, text, constraints,
                                       /*has_side_effects=*/true, /*is_align_stack=*/false,
                                       LLVM::tailcallkind::TailCallKind::None,
                                       LLVM::AsmDialectAttr(), ArrayAttr())
          .getResult(0);
    };
    auto waitAll = [&](Value acc) {
      NVVM::WgmmaGroupSyncAlignedOp::create(b);
      return tied("wgmma.wait_group.sync.aligned 0;", acc);
    };

    // P·V covers whole 64-column V tiles (N-major operands in 128B-swizzle
    // atoms); columns past Dv are TMA's zeros, and not stored.
    const int64_t Nv = Vt * 64;
    Value oInit = LLVM::PoisonOp::create(b, accType(Nv));
    for (int64_t i = 0; i < Nv / 2; ++i)
      oInit = LLVM::InsertValueOp::create(b, oInit, b.f32(0.0f), ArrayRef<int64_t>{i});
    SmallVector<Value> init = {b.negInf(), b.negInf(), b.f32(0.0f), b.f32(0.0f), oInit};
    // A thread's P elements: row r of its warp's 16, tile j, at
    // row·128 + ((j ⊕ g)·16) + 4·tq (swizzled; rows r and r+8 share g).
    Value pLane[2];
    for (int64_t rr = 0; rr < 2; ++rr)
      pLane[rr] = at(pOff, toI64(b.addi(b.muli(b.addi(b.muli(warp, b.idx(16)),
                                                       b.addi(g, b.idx(8 * rr))),
                                              b.idx(128)),
                                       b.muli(tq, b.idx(4)))));
    Value gI64 = toI64(g);

    // The key-block loop. (Built with `b` itself: the helpers above insert
    // through it.)
    auto loop = scf::ForOp::create(b, b.idx(0), numBlocks, c1, init);
    {
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kvb = loop.getInductionVar();
      ValueRange it = loop.getRegionIterArgs();
      Value stage = arith::AndIOp::create(b, kvb, c1);
      // Prefetch block kvb+1 into the other stage: its last readers (block
      // kvb-1) finished before the barrier that ended that iteration.
      onLeader([&] {
        Value nextBlk = b.addi(kvb, c1);
        auto more = scf::IfOp::create(b, b.cmpi(CmpIPredicate::ult, nextBlk, numBlocks), false);
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&more.getThenRegion().front());
        loadKV(nextBlk, arith::XOrIOp::create(b, stage, c1));
      });
      Value parity = toI32(arith::AndIOp::create(b, b.divui(kvb, b.idx(2)), c1));
      NVVM::MBarrierTryWaitParityOp::create(b, bar(b.addi(stage, c1)), parity, ticks);
      Value st = toI64(stage);
      Value kBase = at(kOff, arith::MulIOp::create(b, st, c64(Dt * kTile)));
      Value vBase = at(vOff, arith::MulIOp::create(b, st, c64(Vt * kTile)));

      // S = Q Kᵀ: k16 step s reads 32 bytes further into a 128-byte row,
      // every 4 steps the next 64-column tile.
      NVVM::WgmmaFenceAlignedOp::create(b);
      Value s = LLVM::PoisonOp::create(b, accType(kBN));
      for (int64_t k = 0; k < Dp / 16; ++k) {
        int64_t off = (k / 4) * kTile + (k % 4) * 32;
        Value da = descriptor(b, at(qOff + off), 16, 1024);
        Value db = descriptor(b, arith::AddIOp::create(b, kBase, c64(off)), 16, 1024);
        s = wgmma(s, da, db, kBN, /*accumulate=*/k > 0, /*bTransposed=*/false);
      }
      s = waitAll(s);

      SmallVector<SmallVector<Value>> sc(kBN / 8);
      for (int64_t j = 0; j < kBN / 8; ++j)
        for (int64_t r = 0; r < 4; ++r)
          sc[j].push_back(extract(s, 4 * j + r));
      Value alpha[2];
      SmallVector<Value> next = softmaxBlock(b, so, fr, b.muli(kvb, b.idx(kBN)), sc,
                                             it.take_front(4), alpha);
      // P to shared memory (the A operand of P·V, laid out like Q).
      for (int64_t j = 0; j < kBN / 8; ++j)
        for (int64_t rr = 0; rr < 2; ++rr) {
          Value swz = arith::ShLIOp::create(b, arith::XOrIOp::create(b, gI64, c64(j)), c64(4));
          Value p = vector::FromElementsOp::create(
              b, VectorType::get({2}, e),
              ValueRange{arith::TruncFOp::create(b, e, sc[j][2 * rr]),
                         arith::TruncFOp::create(b, e, sc[j][2 * rr + 1])});
          LLVM::StoreOp::create(b, p, ptr3(arith::AddIOp::create(b, pLane[rr], swz)));
        }
      Value o = it[4];
      for (int64_t i = 0; i < Nv / 2; ++i)
        o = LLVM::InsertValueOp::create(b, o, b.mul(extract(o, i), alpha[(i % 4) / 2]),
                                        ArrayRef<int64_t>{i});
      // Generic-proxy writes of P before the tensor cores' (async-proxy) reads.
      NVVM::FenceProxyOp::create(b, NVVM::ProxyKind::async_shared,
                                 NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
      barrier(b, op);
      // O += P V: k16 step u = 16 keys = two 8-row groups of 1024 bytes; the
      // N direction crosses 64-column tiles (leading byte offset).
      o = tied("wgmma.fence.sync.aligned;", o);
      for (int64_t u = 0; u < kBN / 16; ++u) {
        Value da = descriptor(b, at(pOff + u * 32), 16, 1024);
        Value db = descriptor(b, arith::AddIOp::create(b, vBase, c64(u * 2048)), kTile, 1024);
        o = wgmma(o, da, db, Nv, /*accumulate=*/true, /*bTransposed=*/true);
      }
      o = waitAll(o);
      // Every thread is done with this stage and with P.
      barrier(b, op);
      next.push_back(o);
      scf::YieldOp::create(b, next);
    }
    ValueRange fin = loop.getResults();
    Value oFin = fin[4];
    storeRows(b, so, fr, colBase, Dvn / 8, dvSplit == 1,
              [&](int64_t t, int64_t r) { return extract(oFin, 4 * t + r); }, fin[2], fin[3]);
    gpu::TerminatorOp::create(b);
    deferNVVMOps(rw, launch);
  }
};
} // namespace

void gatec::populateGateWgmmaPatterns(RewritePatternSet &patterns) {
  patterns.add<SdpaToWgmma>(patterns.getContext());
}
