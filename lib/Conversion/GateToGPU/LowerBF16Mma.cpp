//===- LowerBF16Mma.cpp - nvgpu.mma.sync with bf16 operands ---------------===//
//
// nvgpu.mma.sync verifies with bf16 operands, but its NVVM lowering cannot
// deduce their PTX type. These become nvvm.mma.sync with explicit bf16
// multiplicand types on packed 32-bit registers, which is what the f16 form
// lowers to as well. Runs on the kernels, before convert-nvgpu-to-nvvm.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gatec {
#define GEN_PASS_DEF_GATELOWERBF16MMA
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
struct BF16MmaToNVVM : OpRewritePattern<nvgpu::MmaSyncOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(nvgpu::MmaSyncOp op, PatternRewriter &rw) const override {
    auto aT = cast<VectorType>(op.getMatrixA().getType());
    auto cT = cast<VectorType>(op.getMatrixC().getType());
    if (!aT.getElementType().isBF16() || !cT.getElementType().isF32())
      return rw.notifyMatchFailure(op, "not bf16 x bf16 -> f32");
    Location loc = op.getLoc();
    Type i32 = rw.getI32Type(), f32 = rw.getF32Type();
    // Rows of vector<Nx2xbf16> are the lane's 32-bit registers.
    auto regs = [&](Value v) {
      SmallVector<Value> out;
      for (int64_t i = 0, n = cast<VectorType>(v.getType()).getDimSize(0); i < n; ++i) {
        Value row = vector::ExtractOp::create(rw, loc, v, ArrayRef<int64_t>{i});
        out.push_back(LLVM::BitcastOp::create(rw, loc, i32, row));
      }
      return out;
    };
    SmallVector<Value> acc;
    for (int64_t i = 0; i < cT.getNumElements(); ++i)
      acc.push_back(vector::ExtractOp::create(
          rw, loc, op.getMatrixC(), ArrayRef<int64_t>{i / cT.getDimSize(1), i % cT.getDimSize(1)}));
    SmallVector<Type> fields(acc.size(), f32);
    auto resT = LLVM::LLVMStructType::getLiteral(rw.getContext(), fields);
    SmallVector<int64_t> shape;
    for (Attribute a : op.getMmaShape())
      shape.push_back(cast<IntegerAttr>(a).getInt());
    Value r = NVVM::MmaOp::create(
        rw, loc, resT, regs(op.getMatrixA()), regs(op.getMatrixB()), acc, shape, std::nullopt,
        std::nullopt, std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    SmallVector<Value> elems;
    for (int64_t i = 0; i < (int64_t)acc.size(); ++i)
      elems.push_back(LLVM::ExtractValueOp::create(rw, loc, r, ArrayRef<int64_t>{i}));
    rw.replaceOpWithNewOp<vector::FromElementsOp>(op, cT, elems);
    return success();
  }
};

struct GateLowerBF16MmaPass : gatec::impl::GateLowerBF16MmaBase<GateLowerBF16MmaPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<BF16MmaToNVVM>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
