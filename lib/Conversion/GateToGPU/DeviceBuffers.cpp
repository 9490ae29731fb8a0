//===- DeviceBuffers.cpp - buffers of CUDA functions live on the device ---===//
//
// After gate-parallel-to-gpu, a CUDA function's host code only allocates,
// copies and launches. Its buffers move to the device (stream-ordered
// gpu.alloc in the runtime), constants are copied there, and the scratch
// that kernels allocate becomes thread-local. What is left touching memory on
// the host cannot run (arguments are device pointers) and is reported.
//
//===----------------------------------------------------------------------===//
#include "gatec/Conversion/GateLowerings.h"
#include "gatec/Conversion/Passes.h"
#include "GPUKernelUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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

bool inKernel(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() || op->getParentOfType<gpu::GPUModuleOp>();
}

struct GateGPUDeviceBuffersPass
    : gatec::impl::GateGPUDeviceBuffersBase<GateGPUDeviceBuffersPass> {
  LogicalResult run(func::FuncOp func) {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops) {
      ImplicitLocOpBuilder b(op->getLoc(), op);
      if (auto call = dyn_cast<func::CallOp>(op); call && call.getCallee() == gatec::kGPUBarrierMarker) {
        if (!inKernel(op))
          return call.emitError("a GPU barrier outside a kernel");
        gpu::BarrierOp::create(b);
        call.erase();
        continue;
      }
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
        // Constants (weights): a device copy per call.
        auto type = global.getType();
        b.setInsertionPointAfter(global);
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
    if (auto marker = getOperation().lookupSymbol<func::FuncOp>(gatec::kGPUBarrierMarker))
      marker.erase();
    gatec::gpu_kernels::restoreDeferredOps(getOperation());
  }
};
} // namespace
