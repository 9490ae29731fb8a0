//===- LinearAttentionOperands.h - what both linear-attention lowerings read ===//
#ifndef GATEC_LIB_CONVERSION_LINEARATTENTIONOPERANDS_H
#define GATEC_LIB_CONVERSION_LINEARATTENTIONOPERANDS_H

#include "gatec/Conversion/KernelBuilder.h"
#include "gatec/Dialect/Gate/IR/GateDialect.h"

namespace gatec {

/// The buffers, head mapping and result buffers of a gate.linear_attention,
/// and the indexing of its per-token operands in either layout. The kernels
/// run over steps t = 0 .. T-1 of the recurrence; `tok`/`tok3` map a step to
/// the token it reads and writes (T-1-t for a `reverse` op), so every kernel
/// serves both directions without copying the sequence.
struct LinearAttentionOperands {
  LinearAttentionOperands(KernelBuilder &b, gate::LinearAttentionOp op);

  /// Index of element d of step t of head h: [B,H,T,.] or token-major [B,T,H,.].
  llvm::SmallVector<mlir::Value> tok(KernelBuilder &b, mlir::Value b0, mlir::Value h,
                                     mlir::Value t, mlir::Value d) const {
    t = token(b, t);
    return tokenMajor ? llvm::SmallVector<mlir::Value>{b0, t, h, d}
                      : llvm::SmallVector<mlir::Value>{b0, h, t, d};
  }
  /// Same for per-head values (decay per head, beta).
  llvm::SmallVector<mlir::Value> tok3(KernelBuilder &b, mlir::Value b0, mlir::Value h,
                                      mlir::Value t) const {
    t = token(b, t);
    return tokenMajor ? llvm::SmallVector<mlir::Value>{b0, t, h}
                      : llvm::SmallVector<mlir::Value>{b0, h, t};
  }
  /// The token of step t. Past the end (padding steps of a chunk) a reversed
  /// index wraps to a huge unsigned value; the kernels mask those steps.
  mlir::Value token(KernelBuilder &b, mlir::Value t) const {
    return reverse ? b.subi(lastToken, t) : t;
  }

  /// o ⊙ act(gate[at]) when the op has an output gate, o otherwise; o is a
  /// scalar, or `width` lanes read like vload(gate, at, width, inBounds).
  mlir::Value gated(KernelBuilder &b, mlir::Value o, mlir::ValueRange at, int64_t width = 0,
                    bool inBounds = true) const;

  bool reverse;
  mlir::Value lastToken; // T-1, for reverse
  bool tokenMajor;
  int64_t hq, hk, hv, K, V;
  bool gqa;              // query heads grouped over the states
  int64_t qPerState;     // query heads per state (GQA), else 1
  int64_t statesPerKey;  // value heads per key head (GVA)
  mlir::Value q, k, v, decay, beta, init; // buffers (decay/beta/init may be null)
  mlir::Value gate;      // output gate buffer, or null
  bool gateSilu;
  mlir::Value B, T;
  mlir::RankedTensorType outT, stT;
  mlir::Value out, st;   // result buffers
};

} // namespace gatec

#endif
