//===- CUDA.cpp - kernel images of CUDA libraries -------------------------===//
//
// The NVPTX backend gives PTX per architecture (gpu.binary objects). With the
// CUDA toolkit present, ptxas turns each into a cubin and fatbinary packs the
// cubins with the PTX (for newer GPUs, JIT-compiled by the driver); without
// it, the PTX alone is embedded. Either way the library holds one image that
// the runtime hands to cuModuleLoadData.
//
//===----------------------------------------------------------------------===//
#include "gatec/Target/Library.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace gatec;

bool gatec::isValidGPUArch(StringRef arch) {
  if (!arch.consume_front("sm_"))
    return false;
  arch.consume_back("a");
  unsigned v;
  return !arch.getAsInteger(10, v) && v >= 80 && v < 1000;
}

std::optional<std::string> gatec::findCUDATool(StringRef name) {
  SmallVector<std::string> dirs;
  if (const char *home = getenv("CUDA_HOME"))
    dirs.push_back(std::string(home) + "/bin");
  if (const char *home = getenv("CUDA_PATH"))
    dirs.push_back(std::string(home) + "/bin");
  dirs.push_back("/usr/local/cuda/bin");
  SmallVector<StringRef> paths(dirs.begin(), dirs.end());
  if (auto p = llvm::sys::findProgramByName(name, paths))
    return *p;
  if (auto p = llvm::sys::findProgramByName(name))
    return *p;
  return std::nullopt;
}

namespace {
/// The PTX objects of one gpu.binary.
LogicalResult binaryPTX(gpu::BinaryOp bin, std::vector<KernelPTX> &out, std::string &error) {
  for (Attribute a : bin.getObjects()) {
    auto obj = cast<gpu::ObjectAttr>(a);
    auto target = dyn_cast<NVVM::NVVMTargetAttr>(obj.getTarget());
    if (!target || obj.getFormat() != gpu::CompilationTarget::Assembly) {
      error = "unexpected kernel object (expected PTX for an NVVM target)";
      return failure();
    }
    out.push_back({target.getChip().str(), obj.getObject().getValue().str()});
  }
  return success();
}
} // namespace

LogicalResult gatec::collectPTX(ModuleOp module, std::vector<KernelPTX> &out,
                                std::string &error) {
  for (auto bin : module.getOps<gpu::BinaryOp>())
    if (failed(binaryPTX(bin, out, error)))
      return failure();
  if (out.empty()) {
    error = "the module has no GPU kernels";
    return failure();
  }
  return success();
}

namespace {
int run(StringRef tool, ArrayRef<std::string> argv, StringRef log, std::string &msg) {
  SmallVector<StringRef> args(argv.begin(), argv.end());
  std::optional<StringRef> redirects[] = {std::nullopt, log, log};
  int rc = llvm::sys::ExecuteAndWait(tool, args, std::nullopt, redirects, 0, 0, &msg);
  if (rc != 0)
    if (auto buf = llvm::MemoryBuffer::getFile(log))
      msg = (*buf)->getBuffer().str();
  return rc;
}
} // namespace

namespace {
/// One kernel module's image: a fatbin of cubins + PTX with the toolkit,
/// else its first PTX.
LogicalResult buildImage(ArrayRef<KernelPTX> ptx, bool usePtxas, std::string &image,
                         std::string &error) {
  if (!usePtxas) {
    // The driver JIT-compiles PTX; it needs the terminating NUL.
    image = ptx.front().ptx + '\0';
    return success();
  }
  auto ptxas = findCUDATool("ptxas"), fatbinary = findCUDATool("fatbinary");
  SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("gatec-cuda", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return failure();
  }
  auto path = [&](StringRef name) {
    SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  };
  auto fail = [&](std::string msg) {
    error = std::move(msg);
    llvm::sys::fs::remove_directories(dir);
    return failure();
  };
  std::string log = path("log"), fat = path("kernels.fatbin");
  std::vector<std::string> fatArgs = {*fatbinary, "--create=" + fat, "-64"};
  for (const KernelPTX &k : ptx) {
    std::string p = path(k.chip + ".ptx"), c = path(k.chip + ".cubin");
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(p, ec);
      os << k.ptx;
    }
    std::string msg;
    if (run(*ptxas, {*ptxas, "-arch=" + k.chip, "-O3", p, "-o", c}, log, msg) != 0)
      return fail("ptxas rejected the kernels for " + k.chip + ": " + msg);
    std::string sm = StringRef(k.chip).drop_front(3).str();
    fatArgs.push_back("--image3=kind=elf,sm=" + sm + ",file=" + c);
    fatArgs.push_back("--image3=kind=ptx,sm=" + sm + ",file=" + p);
  }
  std::string msg;
  if (run(*fatbinary, fatArgs, log, msg) != 0)
    return fail("fatbinary failed: " + msg);
  auto buf = llvm::MemoryBuffer::getFile(fat);
  if (!buf)
    return fail("cannot read the fatbinary output");
  image = (*buf)->getBuffer().str();
  llvm::sys::fs::remove_directories(dir);
  return success();
}
} // namespace

LogicalResult gatec::embedKernelImage(ModuleOp module, bool &usedPtxas, std::string &error) {
  usedPtxas = findCUDATool("ptxas") && findCUDATool("fatbinary");
  auto bins = llvm::to_vector(module.getOps<gpu::BinaryOp>());
  if (bins.empty()) {
    error = "the module has no GPU kernels";
    return failure();
  }
  for (gpu::BinaryOp bin : bins) {
    std::vector<KernelPTX> ptx;
    std::string image;
    if (failed(binaryPTX(bin, ptx, error)) || ptx.empty() ||
        failed(buildImage(ptx, usedPtxas, image, error))) {
      if (error.empty())
        error = "a kernel module has no PTX";
      return failure();
    }
    auto first = cast<gpu::ObjectAttr>(bin.getObjects()[0]);
    auto obj = gpu::ObjectAttr::get(
        module.getContext(), first.getTarget(),
        usedPtxas ? gpu::CompilationTarget::Fatbin : gpu::CompilationTarget::Assembly,
        StringAttr::get(module.getContext(), image), DictionaryAttr(), nullptr);
    OpBuilder b(bin);
    gpu::BinaryOp::create(b, bin.getLoc(), bin.getName(), bin.getOffloadingHandlerAttr(),
                          b.getArrayAttr({obj}));
    bin.erase();
  }
  return success();
}
