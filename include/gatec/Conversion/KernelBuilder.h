//===- KernelBuilder.h - helpers shared by the gate lowerings -------------===//
//
// Gate ops lower by taking buffers of their tensor operands
// (bufferization.to_buffer), filling freshly allocated result buffers with
// loop nests, and handing them back as tensors (bufferization.to_tensor
// restrict). One-shot bufferization folds those casts away. All arithmetic is
// f32: loads extend f16/bf16, stores truncate.
//
//===----------------------------------------------------------------------===//
#ifndef GATEC_CONVERSION_KERNELBUILDER_H
#define GATEC_CONVERSION_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace gatec {

/// Checks a lowering's `vector-width` option (a power of two), reporting on
/// `op` with the pass name otherwise.
mlir::LogicalResult checkVectorWidth(mlir::Operation *op, llvm::StringRef pass, int64_t width);

class KernelBuilder : public mlir::ImplicitLocOpBuilder {
public:
  using ImplicitLocOpBuilder::ImplicitLocOpBuilder;

  mlir::Value idx(int64_t v);
  mlir::Value f32(float v);
  mlir::Value negInf();

  /// Buffer view of a tensor operand (read only).
  mlir::Value toBuffer(mlir::Value tensor);
  /// Allocates a buffer for a result tensor type; dynamic sizes from `dynSizes`.
  mlir::Value alloc(mlir::RankedTensorType type, mlir::ValueRange dynSizes);
  /// Allocates an f32 scratch buffer of static / dynamic shape.
  mlir::Value allocF32(llvm::ArrayRef<int64_t> shape, mlir::ValueRange dynSizes);
  mlir::Value toTensor(mlir::Value buffer, mlir::Type tensorType);
  /// Size of dimension `d` of a buffer, as an index (a constant when static).
  mlir::Value dim(mlir::Value buffer, int64_t d);
  /// The dynamic sizes of `like`'s type read from `buffer` dimensions `dims`.
  llvm::SmallVector<mlir::Value> dynSizes(mlir::RankedTensorType like,
                                          llvm::ArrayRef<mlir::Value> sizes);

  /// Scalar load as f32 (i1 stays i1).
  mlir::Value load(mlir::Value buffer, mlir::ValueRange indices);
  /// Stores an f32 value, truncating to the buffer's element type.
  void store(mlir::Value value, mlir::Value buffer, mlir::ValueRange indices);
  /// Vector load of `width` f32 lanes along the last dimension starting at
  /// `indices`; unless `inBounds`, lanes past the end of the dimension read 0.
  mlir::Value vload(mlir::Value buffer, mlir::ValueRange indices, int64_t width,
                    bool inBounds);
  /// Vector store; unless `inBounds`, lanes past the end are not written.
  void vstore(mlir::Value value, mlir::Value buffer, mlir::ValueRange indices,
              bool inBounds);
  mlir::Value splat(mlir::Value scalar, int64_t width);
  /// Index into a broadcastable operand: dimensions of size 1 read index 0.
  llvm::SmallVector<mlir::Value> bcastIndex(mlir::Value buffer, mlir::ValueRange ivs);
  /// o ⊙ act(gate[ivs]) with the gate broadcast over its size-1 dimensions;
  /// act is silu or sigmoid.
  mlir::Value applyGate(mlir::Value o, mlir::Value gate, mlir::ValueRange ivs, bool silu);
  /// o ⊙ act(g) for a gate value already loaded (scalar or vector).
  mlir::Value gateBy(mlir::Value o, mlir::Value g, bool silu);

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value c);
  mlir::Value max(mlir::Value a, mlir::Value b);
  mlir::Value exp(mlir::Value a);
  mlir::Value sigmoid(mlir::Value a);
  mlir::Value silu(mlir::Value a);
  mlir::Value tanh(mlir::Value a);
  mlir::Value select(mlir::Value c, mlir::Value a, mlir::Value b);
  mlir::Value cmpf(mlir::arith::CmpFPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value cmpi(mlir::arith::CmpIPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value addi(mlir::Value a, mlir::Value b);
  mlir::Value subi(mlir::Value a, mlir::Value b);
  mlir::Value muli(mlir::Value a, mlir::Value b);
  mlir::Value divui(mlir::Value a, mlir::Value b);
  mlir::Value minui(mlir::Value a, mlir::Value b);

  using BodyFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
      KernelBuilder &, mlir::Value, mlir::ValueRange)>;
  /// scf.for lb..ub step with iteration values; returns the final values.
  llvm::SmallVector<mlir::Value> loop(mlir::Value lb, mlir::Value ub,
                                      mlir::Value step, mlir::ValueRange init,
                                      BodyFn body);
  /// scf.for without iteration values.
  void loop(mlir::Value lb, mlir::Value ub, mlir::Value step,
            llvm::function_ref<void(KernelBuilder &, mlir::Value)> body);
  /// scf.parallel over [0, ubs) (serial scf.for nest when !parallel).
  /// `unevenTasks` marks the body (kTileTaskAttr on its first op with memory
  /// effects) so its tiles are handed to threads dynamically; other parallel
  /// loops split their range statically.
  void parallel(mlir::ValueRange ubs, bool parallel,
                llvm::function_ref<void(KernelBuilder &, mlir::ValueRange)> body,
                bool unevenTasks = false);

  static constexpr llvm::StringLiteral kTileTaskAttr = "gate.tile_task";
  /// parallel(ubs, true, body, /*unevenTasks=*/true): kernel tiles.
  void tiles(mlir::ValueRange ubs,
             llvm::function_ref<void(KernelBuilder &, mlir::ValueRange)> body) {
    parallel(ubs, true, body, true);
  }
  /// scf.if cond -> type { then } else { else }: only the taken branch runs
  /// (for loads that are out of bounds on the other one).
  mlir::Value ifElse(mlir::Value cond, mlir::Type type,
                     llvm::function_ref<mlir::Value(KernelBuilder &)> thenFn,
                     llvm::function_ref<mlir::Value(KernelBuilder &)> elseFn);
  /// scf.if cond { then } else { else } without results.
  void ifThenElse(mlir::Value cond, llvm::function_ref<void(KernelBuilder &)> thenFn,
                  llvm::function_ref<void(KernelBuilder &)> elseFn);
};

} // namespace gatec

#endif
