//===- KernelBuilder.cpp - helpers shared by the gate lowerings -----------===//
#include "gatec/Conversion/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace gatec;

LogicalResult gatec::checkVectorWidth(Operation *op, StringRef pass, int64_t width) {
  if (width >= 1 && (width & (width - 1)) == 0)
    return success();
  return op->emitError() << pass << ": vector-width must be a power of two, got " << width;
}

Value KernelBuilder::idx(int64_t v) { return arith::ConstantIndexOp::create(*this, v); }
Value KernelBuilder::f32(float v) {
  return arith::ConstantOp::create(*this, getF32FloatAttr(v));
}
Value KernelBuilder::negInf() { return f32(-std::numeric_limits<float>::infinity()); }

Value KernelBuilder::toBuffer(Value tensor) {
  auto tt = cast<RankedTensorType>(tensor.getType());
  auto mt = MemRefType::get(tt.getShape(), tt.getElementType());
  return bufferization::ToBufferOp::create(*this, mt, tensor, /*read_only=*/true);
}

Value KernelBuilder::alloc(RankedTensorType type, ValueRange dynSizes) {
  auto mt = MemRefType::get(type.getShape(), type.getElementType());
  return memref::AllocOp::create(*this, mt, dynSizes, getI64IntegerAttr(64));
}

Value KernelBuilder::allocF32(ArrayRef<int64_t> shape, ValueRange dynSizes) {
  auto mt = MemRefType::get(shape, getF32Type());
  return memref::AllocOp::create(*this, mt, dynSizes, getI64IntegerAttr(64));
}

Value KernelBuilder::toTensor(Value buffer, Type tensorType) {
  return bufferization::ToTensorOp::create(*this, tensorType, buffer,
                                           getUnitAttr(), getUnitAttr());
}

Value KernelBuilder::dim(Value buffer, int64_t d) {
  auto mt = cast<MemRefType>(buffer.getType());
  if (!mt.isDynamicDim(d))
    return idx(mt.getDimSize(d));
  return memref::DimOp::create(*this, buffer, d);
}

SmallVector<Value> KernelBuilder::dynSizes(RankedTensorType like,
                                           ArrayRef<Value> sizes) {
  SmallVector<Value> out;
  for (int64_t d = 0; d < like.getRank(); ++d)
    if (like.isDynamicDim(d))
      out.push_back(sizes[d]);
  return out;
}

static Type elemType(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getElementType();
}

Value KernelBuilder::load(Value buffer, ValueRange indices) {
  Value v = memref::LoadOp::create(*this, buffer, indices);
  if (isa<Float16Type, BFloat16Type>(v.getType()))
    v = arith::ExtFOp::create(*this, getF32Type(), v);
  return v;
}

void KernelBuilder::store(Value value, Value buffer, ValueRange indices) {
  Type et = elemType(buffer);
  if (et != value.getType())
    value = arith::TruncFOp::create(*this, et, value);
  memref::StoreOp::create(*this, value, buffer, indices);
}

Value KernelBuilder::vload(Value buffer, ValueRange indices, int64_t width,
                           bool inBounds) {
  Type et = elemType(buffer);
  auto vt = VectorType::get({width}, et);
  Value pad = arith::ConstantOp::create(*this, getFloatAttr(et, 0.0));
  Value v;
  if (inBounds) {
    v = vector::LoadOp::create(*this, vt, buffer, indices);
  } else {
    auto rank = cast<MemRefType>(buffer.getType()).getRank();
    auto map = AffineMap::getMinorIdentityMap(rank, 1, getContext());
    v = vector::TransferReadOp::create(*this, vt, buffer, indices, AffineMapAttr::get(map),
                                       pad, /*mask=*/Value(),
                                       getBoolArrayAttr({false}));
  }
  if (et != getF32Type())
    v = arith::ExtFOp::create(*this, VectorType::get({width}, getF32Type()), v);
  return v;
}

void KernelBuilder::vstore(Value value, Value buffer, ValueRange indices,
                           bool inBounds) {
  Type et = elemType(buffer);
  auto vt = cast<VectorType>(value.getType());
  if (et != vt.getElementType())
    value = arith::TruncFOp::create(*this, VectorType::get(vt.getShape(), et), value);
  if (inBounds) {
    vector::StoreOp::create(*this, value, buffer, indices);
    return;
  }
  auto rank = cast<MemRefType>(buffer.getType()).getRank();
  auto map = AffineMap::getMinorIdentityMap(rank, 1, getContext());
  vector::TransferWriteOp::create(*this, value, buffer, indices, AffineMapAttr::get(map),
                                  /*mask=*/Value(), getBoolArrayAttr({false}));
}

Value KernelBuilder::splat(Value scalar, int64_t width) {
  return vector::BroadcastOp::create(
      *this, VectorType::get({width}, scalar.getType()), scalar);
}

SmallVector<Value> KernelBuilder::bcastIndex(Value buffer, ValueRange ivs) {
  auto mt = cast<MemRefType>(buffer.getType());
  SmallVector<Value> out;
  for (auto [d, iv] : llvm::enumerate(ivs)) {
    if (mt.getDimSize(d) == 1)
      out.push_back(idx(0));
    else if (ShapedType::isDynamic(mt.getDimSize(d)))
      // A dynamic dimension may be 1 at run time: broadcast then too.
      out.push_back(select(cmpi(arith::CmpIPredicate::eq, dim(buffer, d), idx(1)), idx(0), iv));
    else
      out.push_back(iv);
  }
  return out;
}

Value KernelBuilder::applyGate(Value o, Value gate, ValueRange ivs, bool useSilu) {
  return gateBy(o, load(gate, bcastIndex(gate, ivs)), useSilu);
}

Value KernelBuilder::gateBy(Value o, Value g, bool useSilu) {
  return mul(o, useSilu ? silu(g) : sigmoid(g));
}

Value KernelBuilder::add(Value a, Value b) { return arith::AddFOp::create(*this, a, b); }
Value KernelBuilder::sub(Value a, Value b) { return arith::SubFOp::create(*this, a, b); }
Value KernelBuilder::mul(Value a, Value b) { return arith::MulFOp::create(*this, a, b); }
Value KernelBuilder::div(Value a, Value b) { return arith::DivFOp::create(*this, a, b); }
Value KernelBuilder::fma(Value a, Value b, Value c) { return math::FmaOp::create(*this, a, b, c); }
Value KernelBuilder::max(Value a, Value b) { return arith::MaximumFOp::create(*this, a, b); }
Value KernelBuilder::exp(Value a) { return math::ExpOp::create(*this, a); }
Value KernelBuilder::tanh(Value a) { return math::TanhOp::create(*this, a); }

static Value oneLike(KernelBuilder &b, Value a) {
  Value one = b.f32(1.0f);
  if (auto vt = dyn_cast<VectorType>(a.getType()))
    return b.splat(one, vt.getNumElements());
  return one;
}

Value KernelBuilder::sigmoid(Value a) {
  // 1 / (1 + exp(-a)): exp(-a) = inf for very negative a gives 0, as it should.
  Value one = oneLike(*this, a);
  Value e = exp(arith::NegFOp::create(*this, a));
  return div(one, add(one, e));
}
Value KernelBuilder::silu(Value a) { return mul(a, sigmoid(a)); }

Value KernelBuilder::select(Value c, Value a, Value b) {
  return arith::SelectOp::create(*this, c, a, b);
}
Value KernelBuilder::cmpf(arith::CmpFPredicate p, Value a, Value b) {
  return arith::CmpFOp::create(*this, p, a, b);
}
Value KernelBuilder::cmpi(arith::CmpIPredicate p, Value a, Value b) {
  return arith::CmpIOp::create(*this, p, a, b);
}
Value KernelBuilder::addi(Value a, Value b) { return arith::AddIOp::create(*this, a, b); }
Value KernelBuilder::subi(Value a, Value b) { return arith::SubIOp::create(*this, a, b); }
Value KernelBuilder::muli(Value a, Value b) { return arith::MulIOp::create(*this, a, b); }
Value KernelBuilder::divui(Value a, Value b) { return arith::DivUIOp::create(*this, a, b); }
Value KernelBuilder::minui(Value a, Value b) { return arith::MinUIOp::create(*this, a, b); }


SmallVector<Value> KernelBuilder::loop(Value lb, Value ub, Value step,
                                       ValueRange init, BodyFn body) {
  auto forOp = scf::ForOp::create(
      *this, lb, ub, step, init,
      [&](OpBuilder &ob, Location loc, Value iv, ValueRange args) {
        KernelBuilder kb(loc, ob);
        SmallVector<Value> res = body(kb, iv, args);
        scf::YieldOp::create(kb, res);
      });
  return SmallVector<Value>(forOp.getResults());
}

void KernelBuilder::loop(Value lb, Value ub, Value step,
                         function_ref<void(KernelBuilder &, Value)> body) {
  loop(lb, ub, step, ValueRange{},
       [&](KernelBuilder &kb, Value iv, ValueRange) -> SmallVector<Value> {
         body(kb, iv);
         return {};
       });
}

void KernelBuilder::parallel(ValueRange ubs, bool parallel,
                             function_ref<void(KernelBuilder &, ValueRange)> body,
                             bool unevenTasks) {
  SmallVector<Value> lbs(ubs.size(), idx(0)), steps(ubs.size(), idx(1));
  if (parallel) {
    auto par = scf::ParallelOp::create(*this, lbs, ubs, steps,
                                       [&](OpBuilder &ob, Location loc, ValueRange ivs) {
                                         KernelBuilder kb(loc, ob);
                                         body(kb, ivs);
                                       });
    if (unevenTasks) {
      // The marker rides on an op that canonicalization keeps (it has
      // memory effects) into the OpenMP loop body.
      par.getBody()->walk([&](Operation *op) {
        if (!isa<memref::AllocOp, memref::StoreOp, vector::StoreOp,
                 vector::TransferWriteOp>(op))
          return WalkResult::advance();
        op->setAttr(kTileTaskAttr, getUnitAttr());
        return WalkResult::interrupt();
      });
    }
    return;
  }
  // Serial nest.
  std::function<void(KernelBuilder &, unsigned, SmallVector<Value>)> nest =
      [&](KernelBuilder &kb, unsigned d, SmallVector<Value> ivs) {
        if (d == ubs.size()) {
          body(kb, ivs);
          return;
        }
        kb.loop(kb.idx(0), ubs[d], kb.idx(1), [&](KernelBuilder &ib, Value iv) {
          SmallVector<Value> next = ivs;
          next.push_back(iv);
          nest(ib, d + 1, next);
        });
      };
  nest(*this, 0, {});
}


Value KernelBuilder::ifElse(Value cond, Type type,
                            function_ref<Value(KernelBuilder &)> thenFn,
                            function_ref<Value(KernelBuilder &)> elseFn) {
  auto ifOp = scf::IfOp::create(*this, TypeRange{type}, cond, /*withElseRegion=*/true);
  for (auto [block, fn] : {std::pair{ifOp.thenBlock(), thenFn}, {ifOp.elseBlock(), elseFn}}) {
    KernelBuilder kb(getLoc(), OpBuilder::atBlockEnd(block));
    scf::YieldOp::create(kb, fn(kb));
  }
  return ifOp.getResult(0);
}

void KernelBuilder::ifThenElse(Value cond, function_ref<void(KernelBuilder &)> thenFn,
                               function_ref<void(KernelBuilder &)> elseFn) {
  auto ifOp = scf::IfOp::create(*this, TypeRange{}, cond, /*withElseRegion=*/true);
  for (auto [block, fn] : {std::pair{ifOp.thenBlock(), thenFn}, {ifOp.elseBlock(), elseFn}}) {
    KernelBuilder kb(getLoc(), OpBuilder::atBlockTerminator(block));
    fn(kb);
  }
}
