//===- gatec.cpp - the gatec compiler driver ------------------------------===//
//
// .onnx / .mlir in; an AOT shared library with a C ABI (or any intermediate
// stage) out. Every failure prints `gatec: error: <file>: <what>` and exits
// with status 1.
//
//===----------------------------------------------------------------------===//
#include "gatec/Frontend/ONNX/Importer.h"
#include "gatec/InitAll.h"
#include "gatec/Pipelines/Pipelines.h"
#include "gatec/Target/Library.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory cat("gatec options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx | input.mlir>"),
                                      cl::cat(cat));
static cl::opt<std::string> outputFile("o", cl::desc("output file"), cl::value_desc("path"),
                                       cl::cat(cat));
static cl::opt<std::string> emit("emit", cl::desc("what to write: lib | obj | llvm | mlir | header | ptx (cuda: for the first --gpu-arch)"),
                                 cl::init("lib"), cl::cat(cat));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("stop after a stage and print its MLIR: input | gate | kernels | buffers | gpu (cuda) | llvm"),
    cl::init(""), cl::cat(cat));
static cl::opt<std::string> target("target", cl::desc("cpu | cuda"), cl::init("cpu"), cl::cat(cat));
static cl::opt<std::string> mcpu("mcpu", cl::desc("CPU to compile for (LLVM name, default native)"),
                                 cl::init("native"), cl::cat(cat));
static cl::opt<std::string> kernels("kernels", cl::desc("fast | reference (plain loops, the oracle)"),
                                    cl::init("fast"), cl::cat(cat));
static cl::opt<std::string> linearAttention(
    "linear-attention",
    cl::desc("gate.linear_attention CPU kernel: auto | chunked | recurrent (auto: chunked for "
             "longer sequences where that is faster)"),
    cl::init("auto"), cl::cat(cat));
static cl::opt<std::string> libName("name", cl::desc("library name (default: from -o)"),
                                    cl::cat(cat));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level 0-3"), cl::Prefix,
                                  cl::init(3), cl::cat(cat));
static cl::opt<bool> opStats("onnx-op-stats",
                             cl::desc("list the ONNX ops of the model and whether each is supported"),
                             cl::cat(cat));
static cl::opt<std::string> gpuArch(
    "gpu-arch", cl::desc("CUDA architectures, comma-separated (default sm_80; e.g. sm_80,sm_90a)"),
    cl::init("sm_80"), cl::cat(cat));
static cl::opt<std::string> gpuPrecision(
    "gpu-precision",
    cl::desc("operands of f32 attention on the GPU: f32 (SIMT, default) | bf16 | f16 | tf32 "
             "(tensor cores)"),
    cl::init("f32"), cl::cat(cat));
static cl::opt<bool> noParallel("no-parallel", cl::desc("run kernels on one thread (no OpenMP)"),
                                cl::cat(cat));

namespace {
int fail(const llvm::Twine &msg) {
  llvm::errs() << "gatec: error: " << msg << "\n";
  return 1;
}

/// `libfoo.so` -> `foo`; the result is a valid C identifier.
std::string defaultLibName() {
  std::string base = outputFile.empty() ? llvm::sys::path::stem(inputFile).str()
                                        : llvm::sys::path::stem(outputFile).str();
  if (llvm::StringRef(base).starts_with("lib") && base.size() > 3)
    base = base.substr(3);
  std::string out;
  for (char c : base)
    out += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || isdigit(static_cast<unsigned char>(out[0])))
    out = "m" + out;
  return out;
}

bool isIdentifier(llvm::StringRef s) {
  if (s.empty() || isdigit(static_cast<unsigned char>(s[0])))
    return false;
  return llvm::all_of(s, [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

int writeText(llvm::StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> fn) {
  std::error_code ec;
  llvm::ToolOutputFile out(path.empty() ? "-" : path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  fn(out.os());
  out.keep();
  return 0;
}
} // namespace

/// Object file + stub + runtime -> lib<name>.so, and the header beside it.
int linkAndWriteHeader(llvm::Module &llvmModule, const gatec::CPUTargetOptions &topts,
                       llvm::StringRef name, llvm::ArrayRef<gatec::FunctionSignature> sigs) {
  std::string error;
  llvm::SmallString<128> objPath;
  if (auto ec = llvm::sys::fs::createTemporaryFile("gatec-kernels", "o", objPath))
    return fail("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeObj(objPath);
  if (failed(gatec::writeObject(llvmModule, topts, objPath, error)))
    return fail(inputFile + ": " + error);
  if (failed(gatec::linkLibrary(name, target, objPath, sigs, outputFile, error)))
    return fail(inputFile + ": " + error);
  llvm::SmallString<128> header(llvm::sys::path::parent_path(outputFile));
  llvm::sys::path::append(header, name + ".h");
  return writeText(header, [&](llvm::raw_ostream &os) { os << gatec::generateHeader(name, target, sigs); });
}

/// --target=cuda after the gate level: kernels, device buffers, PTX per
/// architecture, then the kernel image (cubins via ptxas when present)
/// embedded in host code linked like a CPU library.
int compileCUDA(ModuleOp module, llvm::StringRef name,
                llvm::ArrayRef<gatec::FunctionSignature> sigs,
                std::optional<gatec::CPUStage> stop, bool stopAtGPU,
                llvm::ArrayRef<std::string> archs) {
  // MLIR's NVPTX serializer links libdevice (math functions other than
  // exp/tanh/erf, which gatec expands itself) from $CUDA_HOME.
  if (!getenv("CUDA_HOME") && !getenv("CUDA_PATH") && !getenv("CUDA_ROOT"))
    if (auto ptxas = gatec::findCUDATool("ptxas"))
      setenv("CUDA_HOME",
             llvm::sys::path::parent_path(llvm::sys::path::parent_path(*ptxas)).str().c_str(), 0);
  gatec::CUDAPipelineOptions copts;
  copts.precision = gpuPrecision;
  // --emit=ptx writes one PTX module: the first architecture's.
  copts.chip = emit == "ptx" ? archs.front() : llvm::join(archs, ",");
  copts.optLevel = optLevel;
  MLIRContext *ctx = module.getContext();
  auto print = [&] {
    return writeText(outputFile, [&](llvm::raw_ostream &os) { module->print(os); os << "\n"; });
  };
  {
    PassManager pm(ctx);
    if (!stop || *stop != gatec::CPUStage::Gate) {
      gatec::buildCUDAKernelPipeline(pm, copts);
      if (!stop || *stop != gatec::CPUStage::Kernels) {
        gatec::buildCPUBufferPipeline(pm);
        if (!stop || *stop != gatec::CPUStage::Buffers)
          gatec::buildCUDADevicePipeline(pm, copts);
      }
    }
    if (failed(pm.run(module)))
      return fail(inputFile + ": lowering for the CUDA target failed");
  }
  if (stop && (*stop != gatec::CPUStage::LLVM || stopAtGPU))
    return print();
  {
    PassManager pm(ctx);
    gatec::buildCUDALLVMPipeline(pm, copts);
    if (failed(pm.run(module)))
      return fail(inputFile + ": lowering the kernels to PTX failed");
  }
  std::string error;
  if (emit == "ptx") {
    std::vector<gatec::KernelPTX> ptx;
    if (failed(gatec::collectPTX(module, ptx, error)))
      return fail(inputFile + ": " + error);
    return writeText(outputFile, [&](llvm::raw_ostream &os) { os << ptx.front().ptx; });
  }
  if (stop || emit == "mlir")
    return print();
  bool usedPtxas = false;
  if (failed(gatec::embedKernelImage(module, usedPtxas, error)))
    return fail(inputFile + ": " + error);
  gatec::CPUTargetOptions topts;
  topts.mcpu = mcpu;
  topts.optLevel = optLevel;
  llvm::LLVMContext llvmCtx;
  auto llvmModule = gatec::translateAndOptimize(module, llvmCtx, topts, error);
  if (!llvmModule)
    return fail(inputFile + ": " + error);
  if (emit == "llvm")
    return writeText(outputFile, [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });
  if (!usedPtxas)
    llvm::errs() << "gatec: warning: ptxas/fatbinary not found (CUDA toolkit): the library "
                    "embeds PTX, which the driver compiles at load time\n";
  return linkAndWriteHeader(*llvmModule, topts, name, sigs);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << gatec::getVersionString() << "\n"; });
  cl::HideUnrelatedOptions(cat);
  {
    // Option errors in gatec's own format.
    std::string clErrors;
    llvm::raw_string_ostream clOs(clErrors);
    if (!cl::ParseCommandLineOptions(argc, argv, "gatec: gated attention compiler\n", &clOs)) {
      llvm::StringRef msg = llvm::StringRef(clErrors).trim();
      msg.consume_front(llvm::sys::path::filename(argv[0]));
      msg.consume_front(": ");
      return fail(msg);
    }
  }

  if (inputFile.empty())
    return fail("no input file (usage: gatec model.onnx -o libmodel.so)");
  if (!llvm::sys::fs::exists(inputFile))
    return fail(inputFile + ": no such file");
  bool isONNX = llvm::StringRef(inputFile).ends_with(".onnx");
  bool isMLIR = llvm::StringRef(inputFile).ends_with(".mlir");
  if (!isONNX && !isMLIR)
    return fail(inputFile + ": unknown input kind (expected .onnx or .mlir)");

  if (opStats) {
    if (!isONNX)
      return fail(inputFile + ": --onnx-op-stats needs an .onnx model");
    std::vector<gatec::onnx_frontend::OpStat> stats;
    std::string error;
    if (!gatec::onnx_frontend::collectOpStats(inputFile, stats, error))
      return fail(error);
    int unsupported = 0;
    for (auto &s : stats) {
      llvm::outs() << llvm::format("%-28s %-12s %6d  %s\n", s.opType.c_str(),
                                   s.domain.empty() ? "ai.onnx" : s.domain.c_str(), s.count,
                                   s.supported ? "supported" : "UNSUPPORTED");
      unsupported += !s.supported;
    }
    if (unsupported)
      return fail(inputFile + ": " + llvm::Twine(unsupported) + " unsupported op type" +
                  (unsupported == 1 ? "" : "s"));
    return 0;
  }

  if (target != "cpu" && target != "cuda")
    return fail("unknown --target '" + target + "' (expected cpu or cuda)");
  bool cuda = target == "cuda";
  SmallVector<std::string> archs;
  if (cuda) {
    SmallVector<llvm::StringRef> parts;
    llvm::StringRef(gpuArch).split(parts, ',', -1, false);
    for (llvm::StringRef a : parts) {
      if (!gatec::isValidGPUArch(a.trim()))
        return fail("unknown GPU architecture '" + a.trim() +
                    "' (--gpu-arch; sm_80 or newer, e.g. sm_80, sm_86, sm_90a)");
      if (!llvm::is_contained(archs, a.trim().str()))
        archs.push_back(a.trim().str());
    }
    if (archs.empty())
      return fail("--gpu-arch is empty");
    if (gpuPrecision != "f32" && gpuPrecision != "bf16" && gpuPrecision != "f16" &&
        gpuPrecision != "tf32")
      return fail("unknown --gpu-precision '" + gpuPrecision +
                  "' (expected f32, bf16, f16 or tf32)");
    if (emit == "ptx" && archs.size() != 1)
      return fail("--emit=ptx writes one architecture; give one --gpu-arch");
    if (emit == "obj")
      return fail("--emit=obj is for --target=cpu; use --emit=lib or --emit=ptx");
    if (kernels != "fast")
      return fail("--kernels=reference is for --target=cpu");
    if (linearAttention != "auto")
      return fail("--linear-attention is for --target=cpu");
  } else if (emit == "ptx") {
    return fail("--emit=ptx needs --target=cuda");
  }
  if (kernels != "fast" && kernels != "reference")
    return fail("unknown --kernels '" + kernels + "' (expected fast or reference)");
  if (linearAttention != "auto" && linearAttention != "chunked" && linearAttention != "recurrent")
    return fail("unknown --linear-attention '" + linearAttention +
                "' (expected auto, chunked or recurrent)");
  static const char *emits[] = {"lib", "obj", "llvm", "mlir", "header", "ptx"};
  if (!llvm::is_contained(emits, emit.getValue()))
    return fail("unknown --emit '" + emit + "' (expected lib, obj, llvm, mlir, header or ptx)");
  std::optional<gatec::CPUStage> stop;
  bool stopAtInput = false, stopAtGPU = false;
  if (!compileTo.empty()) {
    if (compileTo == "input") stopAtInput = true;
    else if (compileTo == "gate") stop = gatec::CPUStage::Gate;
    else if (compileTo == "kernels") stop = gatec::CPUStage::Kernels;
    else if (compileTo == "buffers") stop = gatec::CPUStage::Buffers;
    else if (compileTo == "llvm") stop = gatec::CPUStage::LLVM;
    else if (compileTo == "gpu" && cuda) stop = gatec::CPUStage::LLVM, stopAtGPU = true;
    else
      return fail("unknown --compile-to stage '" + compileTo +
                  "' (expected input, gate, kernels, buffers, " + (cuda ? "gpu, " : "") + "or llvm)");
  }
  if (optLevel > 3)
    return fail("-O" + llvm::Twine(optLevel) + " is not a valid level (0-3)");
  if (mcpu != "native" && !gatec::isKnownCPU(mcpu))
    return fail("unknown CPU '" + mcpu + "' (--mcpu; e.g. native, x86-64-v4, x86-64-v3, x86-64)");
  std::string name = libName.empty() ? defaultLibName() : libName.getValue();
  if (!isIdentifier(name))
    return fail("library name '" + name + "' is not a C identifier (--name)");
  if (emit != "mlir" && compileTo.empty() && outputFile.empty() && emit != "header" &&
      emit != "llvm" && emit != "ptx")
    return fail("-o is required for --emit=" + emit);

  DialectRegistry registry;
  gatec::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Diagnostics go to stderr prefixed like every other error:
  // gatec: error: file:line:col: message.
  llvm::SourceMgr sourceMgr;
  ctx.getDiagEngine().registerHandler([](Diagnostic &diag) {
    auto print = [](Diagnostic &d) {
      const char *kind = d.getSeverity() == DiagnosticSeverity::Error     ? "error"
                         : d.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                          : "note";
      llvm::errs() << "gatec: " << kind << ": ";
      if (auto flc = dyn_cast<FileLineColLoc>(d.getLocation()))
        llvm::errs() << flc.getFilename().getValue() << ":" << flc.getLine() << ":" << flc.getColumn()
                     << ": ";
      llvm::errs() << d.str() << "\n";
    };
    print(diag);
    for (Diagnostic &note : diag.getNotes())
      print(note);
    return success();
  });

  OwningOpRef<ModuleOp> module;
  if (isONNX) {
    std::string error;
    gatec::onnx_frontend::ImportOptions opts;
    module = gatec::onnx_frontend::importModel(ctx, inputFile, opts, error);
    if (!module) {
      llvm::StringRef rest(error);
      int status = 0;
      while (!rest.empty()) {
        auto [line, tail] = rest.split('\n');
        if (!line.empty())
          status = fail(line);
        rest = tail;
      }
      return status ? status : fail(inputFile + ": import failed");
    }
  } else {
    std::string errorMessage;
    auto file = openInputFile(inputFile, &errorMessage);
    if (!file)
      return fail(inputFile + ": " + errorMessage);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
    if (!module)
      return fail(inputFile + ": cannot parse the MLIR input");
  }
  if (failed(verify(*module)))
    return fail(inputFile + ": the imported module is invalid");
  if (stopAtInput)
    return writeText(outputFile, [&](llvm::raw_ostream &os) { module->print(os); os << "\n"; });

  gatec::CPUPipelineOptions popts;
  popts.kernels = kernels;
  popts.vectorWidth = gatec::vectorWidthForCPU(mcpu);
  popts.expandBF16 = !gatec::cpuHasFeature(mcpu, "avx512bf16");
  popts.linearAttention = linearAttention;
  popts.parallel = !noParallel;
  popts.runtimeAllocator = true; // the library links gatec's runtime

  // Gate level first: the signature is read there (names, symbolic dims).
  {
    PassManager pm(&ctx);
    gatec::buildGateOptPipeline(pm);
    if (failed(pm.run(*module)))
      return fail(inputFile + ": gate-level optimization failed");
  }
  std::vector<gatec::FunctionSignature> sigs;
  if (!stop || *stop != gatec::CPUStage::Gate) {
    std::string error;
    if (failed(gatec::extractSignatures(*module, name, sigs, error)))
      return fail(inputFile + ": " + error);
  }
  if (emit == "header" && !stop)
    return writeText(outputFile, [&](llvm::raw_ostream &os) { os << gatec::generateHeader(name, target, sigs); });

  // Entry points get a C interface; public functions that are called inside
  // the module are internal helpers.
  module->walk([&](func::FuncOp f) {
    if (!f.isPublic() || f.isExternal())
      return;
    if (SymbolTable::symbolKnownUseEmpty(f, *module))
      f->setAttr("llvm.emit_c_interface", UnitAttr::get(&ctx));
    else
      f.setPrivate();
  });
  if (cuda)
    return compileCUDA(*module, name, sigs, stop, stopAtGPU, archs);
  {
    PassManager pm(&ctx);
    if (!stop || *stop != gatec::CPUStage::Gate) {
      gatec::buildCPUKernelPipeline(pm, popts);
      if (!stop || *stop != gatec::CPUStage::Kernels) {
        gatec::buildCPUBufferPipeline(pm);
        if (!stop || *stop != gatec::CPUStage::Buffers)
          gatec::buildCPULLVMPipeline(pm, popts);
      }
    }
    if (failed(pm.run(*module)))
      return fail(inputFile + ": lowering to LLVM failed");
  }
  if (stop || emit == "mlir")
    return writeText(outputFile, [&](llvm::raw_ostream &os) { module->print(os); os << "\n"; });

  gatec::CPUTargetOptions topts;
  topts.mcpu = mcpu;
  topts.optLevel = optLevel;
  llvm::LLVMContext llvmCtx;
  std::string error;
  auto llvmModule = gatec::translateAndOptimize(*module, llvmCtx, topts, error);
  if (!llvmModule)
    return fail(inputFile + ": " + error);
  if (emit == "llvm")
    return writeText(outputFile, [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });
  if (emit == "obj")
    return failed(gatec::writeObject(*llvmModule, topts, outputFile, error))
               ? fail(inputFile + ": " + error)
               : 0;

  // lib: object in a temporary file, then stub + runtime + link.
  return linkAndWriteHeader(*llvmModule, topts, name, sigs);
}
