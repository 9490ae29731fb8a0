//===- DeviceBuffers.cpp - buffers of CUDA functions live on the device ---===//
//
// After gate-parallel-to-gpu, a CUDA function's host code only allocates,
// copies and launches. Its buffers move to the device (stream-ordered
// gpu.alloc in the runtime), constants are uploaded once per CUDA context
// (the runtime keeps them), and the scratch
// that kernels allocate becomes thread-local. What is left touching memory on
// the host cannot run (arguments are device pointers) and is reported.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/Passes.h"
#include "GPUKernelUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/TypeSwitch.h"

namespace gatec {
#define GEN_PASS_DEF_GATEGPUDEVICEBUFFERS
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
/// Buffers of indices are shapes computed on the host (operands of
/// memref.reshape): they stay in host memory.
bool isHostShape(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementType().isIndex();
}

/// Allocations, frees and element accesses of such buffers stay as they are.
bool touchesHostShape(Operation *op) {
  Value buffer = TypeSwitch<Operation *, Value>(op)
                     .Case([](memref::AllocOp o) { return o.getResult(); })
                     .Case([](memref::DeallocOp o) { return o.getMemref(); })
                     .Case([](memref::LoadOp o) { return o.getMemref(); })
                     .Case([](memref::StoreOp o) { return o.getMemref(); })
                     .Default([](Operation *) { return Value(); });
  return buffer && isHostShape(buffer);
}

constexpr StringLiteral kConstantFn = "gatec_rt_cuda_constant";

bool inKernel(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() || op->getParentOfType<gpu::GPUModuleOp>();
}

/// Replaces the uses of a constant global by its device copy from the
/// runtime's per-context cache (gatec_rt_cuda_constant), as a memref: a
/// descriptor built around the device pointer, which the memref-to-LLVM
/// conversion folds.
void useDeviceConstant(ImplicitLocOpBuilder &b, func::FuncOp func, memref::GetGlobalOp global) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  gatec::gpu_kernels::declarePrivateFunc(func->getParentOfType<ModuleOp>(), kConstantFn,
                                         b.getFunctionType({i64, i64}, {i64}));
  MemRefType type = global.getType();
  int64_t bytes = type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  auto hostPtr = memref::ExtractAlignedPointerAsIndexOp::create(b, global.getResult());
  Value host = arith::IndexCastOp::create(b, i64, hostPtr);
  Value devPtr = func::CallOp::create(b, kConstantFn, TypeRange{i64},
                                      ValueRange{host, arith::ConstantIntOp::create(b, bytes, 64)})
                     .getResult(0);
  auto ptrT = LLVM::LLVMPointerType::get(ctx);
  Value ptr = LLVM::IntToPtrOp::create(b, ptrT, devPtr);
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptrT, ptrT, i64};
  if (rank > 0)
    fields.append(2, LLVM::LLVMArrayType::get(i64, rank));
  auto descT = LLVM::LLVMStructType::getLiteral(ctx, fields);
  Value desc = LLVM::PoisonOp::create(b, descT);
  auto insert = [&](Value v, ArrayRef<int64_t> pos) {
    desc = LLVM::InsertValueOp::create(b, desc, v, pos);
  };
  auto c = [&](int64_t v) { return LLVM::ConstantOp::create(b, i64, b.getI64IntegerAttr(v)); };
  insert(ptr, {0});
  insert(ptr, {1});
  insert(c(0), {2});
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    insert(c(type.getDimSize(d)), {3, d});
    insert(c(stride), {4, d});
    stride *= type.getDimSize(d);
  }
  Value dev = UnrealizedConversionCastOp::create(
                  b, MemRefType::get(type.getShape(), type.getElementType()), desc)
                  .getResult(0);
  global.getResult().replaceUsesWithIf(
      dev, [&](OpOperand &use) { return use.getOwner() != hostPtr; });
}

struct GateGPUDeviceBuffersPass
    : gatec::impl::GateGPUDeviceBuffersBase<GateGPUDeviceBuffersPass> {
  LogicalResult run(func::FuncOp func) {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops) {
      ImplicitLocOpBuilder b(op->getLoc(), op);
      if (inKernel(op)) {
        // Kernel scratch (static shapes): thread-local memory.
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          if (!alloc.getType().hasStaticShape())
            return alloc.emitError("a kernel allocates a dynamically sized buffer; "
                                   "not supported on the GPU");
          Value a = memref::AllocaOp::create(b, alloc.getType());
          alloc.replaceAllUsesWith(a);
          alloc.erase();
        } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
          if (dealloc.getMemref().getDefiningOp<memref::AllocaOp>())
            dealloc.erase();
        }
        continue;
      }
      if (touchesHostShape(op))
        continue;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto g = gpu::AllocOp::create(b, alloc.getType(), Type(), ValueRange{},
                                      alloc.getDynamicSizes(), alloc.getSymbolOperands());
        alloc.replaceAllUsesWith(g.getMemref());
        alloc.erase();
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(b, Type(), ValueRange{}, dealloc.getMemref());
        dealloc.erase();
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        gpu::MemcpyOp::create(b, Type(), ValueRange{}, copy.getTarget(), copy.getSource());
        copy.erase();
      } else if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
        b.setInsertionPointAfter(global);
        auto def = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(global,
                                                                          global.getNameAttr());
        if (def && def.getConstant() && global.getType().hasStaticShape() &&
            global.getType().getLayout().isIdentity()) {
          // Constants (weights): uploaded once per CUDA context.
          useDeviceConstant(b, func, global);
          continue;
        }
        // Other globals: a device copy per call.
        auto type = global.getType();
        auto dev = gpu::AllocOp::create(b, MemRefType::get(type.getShape(), type.getElementType()),
                                        Type(), ValueRange{}, ValueRange{}, ValueRange{});
        global.getResult().replaceAllUsesWith(dev.getMemref());
        gpu::MemcpyOp::create(b, Type(), ValueRange{}, dev.getMemref(), global.getResult());
        // Freed when the function returns.
        for (Block &block : func.getBody())
          if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator())) {
            ImplicitLocOpBuilder rb(ret.getLoc(), ret);
            gpu::DeallocOp::create(rb, Type(), ValueRange{}, dev.getMemref());
          }
      } else if (isa<memref::LoadOp, memref::StoreOp, affine::AffineLoadOp,
                     affine::AffineStoreOp, vector::TransferReadOp,
                     vector::TransferWriteOp, vector::LoadOp, vector::StoreOp,
                     memref::AllocaOp>(op)) {
        return op->emitError() << "'" << op->getName()
                               << "' would access device memory on the host: this "
                                  "model cannot run on the CUDA target yet";
      }
    }
    return success();
  }

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(run(func)))
        return signalPassFailure();
    gatec::gpu_kernels::restoreDeferredOps(getOperation());
  }
};
} // namespace
