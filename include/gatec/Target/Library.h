//===- Library.h - LLVM IR, objects and AOT shared libraries --------------===//
#ifndef GATEC_TARGET_LIBRARY_H
#define GATEC_TARGET_LIBRARY_H

#include "gatec/Target/Signature.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>

namespace gatec {

struct CPUTargetOptions {
  std::string mcpu = "native"; // LLVM CPU name
  unsigned optLevel = 3;
};

/// Translates an LLVM-dialect module to LLVM IR optimized for the host and
/// `options.mcpu`.
std::unique_ptr<llvm::Module> translateAndOptimize(mlir::ModuleOp module,
                                                   llvm::LLVMContext &ctx,
                                                   const CPUTargetOptions &options,
                                                   std::string &error);
/// Writes an object file for the host.
mlir::LogicalResult writeObject(llvm::Module &module, const CPUTargetOptions &options,
                                llvm::StringRef path, std::string &error);

/// The generated C header of a library.
std::string generateHeader(llvm::StringRef libName, llvm::StringRef target,
                           llvm::ArrayRef<FunctionSignature> sigs);
/// The generated C entry stub: signature tables and the `<lib>_*` entry
/// points that check arguments and call the kernels' C interface.
std::string generateStub(llvm::StringRef libName, llvm::StringRef target,
                         llvm::ArrayRef<FunctionSignature> sigs);
/// Compiles the stub and links it with the kernel object and the runtime
/// into a shared library.
mlir::LogicalResult linkLibrary(llvm::StringRef libName, llvm::StringRef target,
                                llvm::StringRef objectPath,
                                llvm::ArrayRef<FunctionSignature> sigs,
                                llvm::StringRef outputPath, std::string &error);

/// Whether LLVM knows the CPU name for the host target.
bool isKnownCPU(llvm::StringRef mcpu);
/// Target triple / CPU helpers.
std::string hostCPUName(llvm::StringRef mcpu);
/// f32 lanes of the widest vector register `mcpu` has (16, 8 or 4).
int64_t vectorWidthForCPU(llvm::StringRef mcpu);
/// Whether `mcpu` ("native" = the host) has the LLVM subtarget feature
/// `feature` (e.g. "avx512bf16").
bool cpuHasFeature(llvm::StringRef mcpu, llvm::StringRef feature);

/// sm_80 and newer, with an optional `a` suffix (sm_90a).
bool isValidGPUArch(llvm::StringRef arch);
/// A CUDA toolkit program (ptxas, fatbinary) from CUDA_HOME, CUDA_PATH,
/// /usr/local/cuda or PATH.
std::optional<std::string> findCUDATool(llvm::StringRef name);
struct KernelPTX {
  std::string chip, ptx;
};
/// The PTX of the module's kernels, one per architecture.
mlir::LogicalResult collectPTX(mlir::ModuleOp module, std::vector<KernelPTX> &out,
                               std::string &error);
/// Replaces the PTX objects of the module's gpu.binary by the image the
/// library embeds: a fatbin (cubins + PTX) when ptxas is available
/// (`usedPtxas`), else the PTX.
mlir::LogicalResult embedKernelImage(mlir::ModuleOp module, bool &usedPtxas,
                                     std::string &error);

} // namespace gatec

#endif
