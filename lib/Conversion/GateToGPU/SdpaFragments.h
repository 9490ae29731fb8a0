//===- SdpaFragments.h - attention on accumulator fragments ---------------===//
//
// What the tensor-core attention kernels share: the online softmax of one
// key block and the epilogue, on a warp's score / output fragments in the
// m16n8 accumulator layout (mma.sync tiles and wgmma's per-warp slices
// alike): lane (g, tq) of a warp holds, for each 8-column tile j, elements
// r = 0..3 at row rows[r / 2] (16 rows per warp: g and g + 8) and column
// 8j + 2tq + r % 2.
//
//===----------------------------------------------------------------------===//
#ifndef GATEC_LIB_CONVERSION_GATETOGPU_SDPAFRAGMENTS_H
#define GATEC_LIB_CONVERSION_GATETOGPU_SDPAFRAGMENTS_H

#include "../SdpaOperands.h"

namespace gatec::gpu_kernels {

/// The query rows a lane owns and where they are.
struct FragmentRows {
  mlir::Value bi, h;        // batch, query head
  mlir::Value rows[2];      // the lane's two query rows
  mlir::Value rowOk[2];     // rows < Sq
  mlir::Value tq2;          // 2 · (lane % 4): the lane's first column in a tile
};

/// One key block [kv0, kv0 + 8·sc.size()) of the online softmax: scales the
/// scores `sc` (tile j, element r), applies softcap, mask, causal and bounds,
/// and turns them into P = exp(s − base). `state` is (m0, m1, l0, l1) before
/// the block; returns it after, and `alpha` (per row) rescales the output.
llvm::SmallVector<mlir::Value> softmaxBlock(KernelBuilder &b, const SdpaOperands &so,
                                            const FragmentRows &fr, mlir::Value kv0,
                                            llvm::SmallVectorImpl<llvm::SmallVector<mlir::Value>> &sc,
                                            mlir::ValueRange state, mlir::Value alpha[2]);

/// The epilogue of an unsplit kernel: output tile t, element r (the lane's
/// value `o(t, r)`) divided by the row sum over the quad of `l`, gated, and
/// stored where row and column col0 + 8t + ... are in range.
void storeRows(KernelBuilder &b, const SdpaOperands &so, const FragmentRows &fr,
               mlir::Value colBase, int64_t nTiles, bool colsExact,
               llvm::function_ref<mlir::Value(int64_t t, int64_t r)> o,
               mlir::Value l0, mlir::Value l1);

} // namespace gatec::gpu_kernels

#endif
