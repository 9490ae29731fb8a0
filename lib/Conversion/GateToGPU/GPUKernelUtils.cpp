//===- GPUKernelUtils.cpp - building blocks of the CUDA kernels -----------===//
#include "GPUKernelUtils.h"
#include "gatec/Conversion/GateLowerings.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace gatec;

namespace gatec::gpu_kernels {
int64_t roundUp(int64_t a, int64_t m) { return (a + m - 1) / m * m; }
Value ceilDivIdx(KernelBuilder &b, Value a, int64_t d) {
  return b.divui(b.addi(a, b.idx(d - 1)), b.idx(d));
}

/// The MMA operand type for an op's element type: f16 or bf16, f32 for tf32
/// operands, or null when the op runs on SIMT f32 math.
Type mmaOperandType(Type elem, StringRef precision) {
  MLIRContext *ctx = elem.getContext();
  if (elem.isF16() || elem.isBF16())
    return elem;
  if (precision == "bf16")
    return BFloat16Type::get(ctx);
  if (precision == "f16")
    return Float16Type::get(ctx);
  if (precision == "tf32")
    return Float32Type::get(ctx);
  return nullptr;
}

int64_t regElems(Type e) { return 32 / e.getIntOrFloatBitWidth(); }
int64_t mmaK(Type e) { return 8 * regElems(e); }

/// An f32 value as an operand of type `e`. tf32 rounds to nearest (ties
/// away, cvt.rna.tf32.f32): the MMA itself would ignore the low 13 mantissa
/// bits, i.e. truncate, and nvgpu's lowering passes the f32 bits unchanged.
Value toOperand(KernelBuilder &b, Type e, Value x) {
  if (!e.isF32())
    return arith::TruncFOp::create(b, e, x);
  Value r = NVVM::ConvertFloatToTF32Op::create(b, b.getI32Type(), x, NVVM::FPRoundingMode::RNA);
  return arith::BitcastOp::create(b, b.getF32Type(), r);
}

/// buffer[idx] as f32, or 0 where `inBounds` is false, without a branch:
/// indices in `clamp` (index position -> size) are clamped into the buffer,
/// so the load is always legal, and the value is then selected.
Value maskedLoad(KernelBuilder &b, Value buf, ValueRange idx,
                 ArrayRef<std::pair<unsigned, Value>> clamp, Value inBounds) {
  SmallVector<Value> ix(idx);
  for (auto [pos, size] : clamp)
    ix[pos] = b.minui(ix[pos], b.subi(size, b.idx(1)));
  Value v = b.load(buf, ix);
  if (!inBounds)
    return v;
  Value zero = v.getType().isInteger(1)
                   ? arith::ConstantIntOp::create(b, 0, 1).getResult()
                   : b.f32(0.0f);
  return b.select(inBounds, v, zero);
}

Value andI(KernelBuilder &b, Value x, Value y) {
  if (!x)
    return y;
  if (!y)
    return x;
  return arith::AndIOp::create(b, x, y);
}

/// regElems(e) operand elements as one 32-bit register (vector<NxE>).
Value packReg(KernelBuilder &b, Type e, ValueRange xs) {
  assert((int64_t)xs.size() == regElems(e) && "one 32-bit register");
  return vector::FromElementsOp::create(b, VectorType::get({(int64_t)xs.size()}, e), xs);
}

/// d = a·b + c for one m16n8k16 (16-bit) or m16n8k8 (tf32) tile. `a`: the
/// lane's 4 operand registers (vector<NxE>), `bm`: 2, c and the result: the
/// lane's 4 f32 accumulators.
SmallVector<Value> mmaSync(KernelBuilder &b, Type e, ArrayRef<Value> a,
                           ArrayRef<Value> bm, ArrayRef<Value> c) {
  Type f32 = b.getF32Type();
  auto stack = [&](ArrayRef<Value> regs) {
    auto t = VectorType::get({(int64_t)regs.size(), regElems(e)}, e);
    Value v = arith::ConstantOp::create(b, t, DenseElementsAttr::get(t, b.getZeroAttr(e)));
    for (auto [i, r] : llvm::enumerate(regs))
      v = vector::InsertOp::create(b, r, v, ArrayRef<int64_t>{(int64_t)i});
    return v;
  };
  Value vc = vector::FromElementsOp::create(b, VectorType::get({2, 2}, f32), c);
  // bf16 operands are lowered by gate-lower-bf16-mma (nvgpu cannot type
  // them); f32 ones are tf32 (tf32Enabled).
  Value r = nvgpu::MmaSyncOp::create(b, stack(a), stack(bm), vc,
                                     ArrayRef<int64_t>{16, 8, mmaK(e)}, e.isF32());
  SmallVector<Value> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(vector::ExtractOp::create(b, r, ArrayRef<int64_t>{i / 2, i % 2}));
  return d;
}

func::FuncOp declarePrivateFunc(ModuleOp module, StringRef name, FunctionType type) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b(module.getBodyRegion());
  auto f = func::FuncOp::create(b, module.getLoc(), name, type);
  f.setPrivate();
  return f;
}

namespace {
constexpr StringLiteral kDeferredPrefix = "gate_gpu_deferred_";
constexpr StringLiteral kDeferredOp = "gate.deferred_op", kDeferredProps = "gate.deferred_props";

/// A call standing for op `name` (operands, results, properties) until
/// restoreDeferredOps; one marker function per signature.
func::CallOp deferredCall(OpBuilder &b, Location loc, Operation *anchor, StringRef name,
                          ValueRange operands, TypeRange results, Attribute props) {
  auto module = anchor->getParentOfType<ModuleOp>();
  auto type = b.getFunctionType(operands.getTypes(), results);
  func::FuncOp marker;
  for (auto f : module.getOps<func::FuncOp>())
    if (f.getName().starts_with(kDeferredPrefix) && f.getFunctionType() == type)
      marker = f;
  if (!marker) {
    marker = func::FuncOp::create(loc, kDeferredPrefix, type);
    marker.setPrivate();
    SymbolTable(module).insert(marker, module.getBody()->begin()); // uniqued name
  }
  auto call = func::CallOp::create(b, loc, marker, operands);
  call->setAttr(kDeferredOp, b.getStringAttr(name));
  if (props)
    call->setAttr(kDeferredProps, props);
  return call;
}
} // namespace

/// A block-wide barrier: gpu.barrier, which declares no memory effects.
void barrier(KernelBuilder &b, Operation *anchor) {
  deferredCall(b, b.getLoc(), anchor, gpu::BarrierOp::getOperationName(), {}, {}, nullptr);
}

void deferNVVMOps(RewriterBase &rw, Operation *root) {
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<NVVM::NVVMDialect>(op->getDialect()) && !isMemoryEffectFree(op) &&
        !isa<MemoryEffectOpInterface>(op))
      ops.push_back(op);
  });
  OpBuilder::InsertionGuard guard(rw);
  for (Operation *op : ops) {
    rw.setInsertionPoint(op);
    auto call = deferredCall(rw, op->getLoc(), root, op->getName().getStringRef(),
                             op->getOperands(), op->getResultTypes(),
                             op->getPropertiesAsAttribute());
    rw.replaceOp(op, call.getResults());
  }
}

void restoreDeferredOps(ModuleOp module) {
  SmallVector<func::CallOp> calls;
  module.walk([&](func::CallOp call) {
    if (call->hasAttr(kDeferredOp))
      calls.push_back(call);
  });
  for (func::CallOp call : calls) {
    OperationState state(call.getLoc(), cast<StringAttr>(call->getAttr(kDeferredOp)).getValue());
    state.addOperands(call.getOperands());
    state.addTypes(call.getResultTypes());
    if (auto props = call->getAttrOfType<DictionaryAttr>(kDeferredProps))
      state.addAttributes(props.getValue());
    OpBuilder b(call);
    Operation *op = b.create(state);
    call.replaceAllUsesWith(op->getResults());
    call.erase();
  }
  for (auto f : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (f.getName().starts_with(kDeferredPrefix))
      f.erase();
}

/// A workgroup-memory buffer as a module-level global. (Workgroup
/// attributions of gpu.launch would be block arguments, which buffer
/// deallocation, running after this pass, rewrites.) Outlining copies the
/// global into the kernel module; gate-merge-gpu-modules drops the host copy.
StringAttr sharedBuffer(KernelBuilder &b, Operation *anchor, MemRefType type) {
  auto module = anchor->getParentOfType<ModuleOp>();
  SymbolTable table(module);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto global = memref::GlobalOp::create(b, "gate_smem", b.getStringAttr("private"), type,
                                         b.getUnitAttr(), /*constant=*/false,
                                         b.getI64IntegerAttr(16));
  return table.insert(global); // uniqued name
}

/// Combines a value over the 4 lanes of a quad (lanes 4g..4g+3).
Value quadReduce(KernelBuilder &b, Value v, bool isMax) {
  for (int32_t off : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, v, off, 32, gpu::ShuffleMode::XOR).getShuffleResult();
    v = isMax ? b.max(v, other) : b.add(v, other);
  }
  return v;
}

} // namespace gatec::gpu_kernels
