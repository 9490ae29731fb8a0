//===- Library.cpp - LLVM IR, objects and AOT shared libraries ------------===//
#include "gatec/Target/Library.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace gatec;

namespace {
void initLLVMTargets() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)done;
}

std::string hostFeatures() {
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  return features.getString();
}

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const CPUTargetOptions &opts,
                                                       std::string &error) {
  initLLVMTargets();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  bool native = opts.mcpu == "native";
  std::string cpu = hostCPUName(opts.mcpu);
  // Check first: LLVM warns on stderr about unknown CPUs and goes on.
  if (!native && !isKnownCPU(cpu)) {
    error = "unknown CPU '" + cpu + "' (--mcpu)";
    return nullptr;
  }
  std::string features = native ? hostFeatures() : "";
  llvm::TargetOptions to;
  auto level = opts.optLevel == 0   ? llvm::CodeGenOptLevel::None
               : opts.optLevel == 1 ? llvm::CodeGenOptLevel::Less
               : opts.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                    : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, to, llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm) {
    error = "cannot create a target machine for CPU '" + cpu + "'";
    return nullptr;
  }
  return tm;
}
} // namespace

bool gatec::isKnownCPU(StringRef mcpu) {
  initLLVMTargets();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return false;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, "generic", ""));
  return sti && sti->isCPUStringValid(mcpu);
}

std::string gatec::hostCPUName(StringRef mcpu) {
  return mcpu == "native" ? llvm::sys::getHostCPUName().str() : mcpu.str();
}

int64_t gatec::vectorWidthForCPU(StringRef mcpu) {
  std::string error;
  CPUTargetOptions opts;
  opts.mcpu = mcpu.str();
  auto tm = makeTargetMachine(opts, error);
  if (!tm)
    return 4;
  const llvm::MCSubtargetInfo *sti = tm->getMCSubtargetInfo();
  if (sti->checkFeatures("+avx512f"))
    return 16;
  if (sti->checkFeatures("+avx2") || sti->checkFeatures("+avx"))
    return 8;
  return 4;
}

bool gatec::cpuHasFeature(StringRef mcpu, StringRef feature) {
  std::string error;
  CPUTargetOptions opts;
  opts.mcpu = mcpu.str();
  auto tm = makeTargetMachine(opts, error);
  return tm && tm->getMCSubtargetInfo()->checkFeatures(("+" + feature).str());
}

std::unique_ptr<llvm::Module>
gatec::translateAndOptimize(ModuleOp module, llvm::LLVMContext &ctx,
                            const CPUTargetOptions &opts, std::string &error) {
  auto tm = makeTargetMachine(opts, error);
  if (!tm)
    return nullptr;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, ctx, "gatec");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());
  std::string features = tm->getTargetFeatureString().str();
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", tm->getTargetCPU());
    if (!features.empty())
      f.addFnAttr("target-features", features);
  }
  if (opts.optLevel == 0)
    return llvmModule;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = true;
  pto.SLPVectorization = true;
  llvm::PassBuilder pb(tm.get(), pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  auto level = opts.optLevel == 1   ? llvm::OptimizationLevel::O1
               : opts.optLevel == 2 ? llvm::OptimizationLevel::O2
                                    : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
  mpm.run(*llvmModule, mam);
  return llvmModule;
}

LogicalResult gatec::writeObject(llvm::Module &module, const CPUTargetOptions &opts,
                                 StringRef path, std::string &error) {
  auto tm = makeTargetMachine(opts, error);
  if (!tm)
    return failure();
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, out.os(), nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  pm.run(module);
  out.keep();
  return success();
}

//===----------------------------------------------------------------------===//
// Generated C: header and entry stub
//===----------------------------------------------------------------------===//

namespace {
std::string cString(StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string describeArg(const ArgInfo &a) {
  std::string s = a.name + ": " + llvm::StringRef(a.dtype).lower() + " [";
  for (auto [i, d] : llvm::enumerate(a.dims)) {
    if (i)
      s += ", ";
    s += d.size >= 0 ? std::to_string(d.size) : (d.symbol.empty() ? "?" : d.symbol);
  }
  return s + "]";
}
} // namespace

std::string gatec::generateHeader(StringRef lib, StringRef target,
                                  ArrayRef<FunctionSignature> sigs) {
  std::string guard = llvm::StringRef(lib).upper() + "_H";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "/* Generated by gatec: the C interface of lib" << lib << ".so. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include \"gatec-c/runtime.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "/* Every function of the library, its signature and entry points. */\n"
     << "const gatec_library *" << lib << "_library(void);\n"
     << "/* Message of the last failed call on this thread. */\n"
     << "const char *" << lib << "_last_error(void);\n"
     << "/* Threads used by this library (<= 0: all hardware threads). */\n"
     << "void " << lib << "_set_num_threads(int32_t n);\n";
  if (target == "cuda")
    os << "/* CUstream of this thread's calls (data are device pointers). */\n"
       << "void " << lib << "_set_stream(void *stream);\n";
  os << "\n";
  for (const FunctionSignature &f : sigs) {
    os << "/* " << f.name << "\n";
    for (auto [i, a] : llvm::enumerate(f.inputs))
      os << " *   input " << i << "  " << describeArg(a) << "\n";
    for (auto [i, a] : llvm::enumerate(f.outputs))
      os << " *   output " << i << " " << describeArg(a) << "\n";
    os << " */\n"
       << "int " << f.symbol << "_output_shapes(const gatec_tensor *inputs, "
       << "int32_t num_inputs, int64_t **shapes);\n"
       << "int " << f.symbol << "_run(const gatec_tensor *inputs, int32_t num_inputs, "
       << "gatec_tensor *outputs, int32_t num_outputs);\n\n";
  }
  os << "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  return s;
}

std::string gatec::generateStub(StringRef lib, StringRef target,
                                ArrayRef<FunctionSignature> sigs) {
  bool cuda = target == "cuda";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "/* Generated by gatec: entry points of lib" << lib << ".so. */\n"
     << "#include \"gatec-c/runtime.h\"\n#include \"runtime_internal.h\"\n"
     << "#define GATEC_EXPORT __attribute__((visibility(\"default\")))\n\n";
  auto dims = [&](const std::string &var, const ArgInfo &a) {
    if (a.dims.empty())
      return;
    os << "static const gatec_dim " << var << "[] = {\n";
    for (const DimInfo &d : a.dims)
      os << "  {" << d.size << ", " << cString(d.symbol) << ", " << d.constant
         << ", {" << d.input[0] << ", " << d.input[1] << "}, {" << d.inputDim[0]
         << ", " << d.inputDim[1] << "}},\n";
    os << "};\n";
  };
  auto args = [&](const std::string &var, ArrayRef<ArgInfo> list, StringRef kind) {
    for (auto [i, a] : llvm::enumerate(list))
      dims(var + "_" + kind.str() + std::to_string(i), a);
    if (list.empty())
      return;
    os << "static const gatec_arg_info " << var << "_" << kind << "[] = {\n";
    for (auto [i, a] : llvm::enumerate(list))
      os << "  {" << cString(a.name) << ", GATEC_DTYPE_" << a.dtype << ", "
         << a.dims.size() << ", "
         << (a.dims.empty() ? std::string("0")
                            : var + "_" + kind.str() + std::to_string(i))
         << "},\n";
    os << "};\n";
  };
  os << "static const gatec_function gatec_functions[" << sigs.size() << "];\n\n";
  for (auto [fi, f] : llvm::enumerate(sigs)) {
    std::string var = "sig" + std::to_string(fi);
    args(var, f.inputs, "in");
    args(var, f.outputs, "out");
    size_t n = f.inputs.size() + f.outputs.size();
    os << "extern void _mlir_ciface_" << f.name << "(";
    for (size_t i = 0; i < n; ++i)
      os << (i ? ", " : "") << "void *";
    os << (n ? "" : "void") << ");\n";
    os << "GATEC_EXPORT int " << f.symbol
       << "_output_shapes(const gatec_tensor *in, int32_t nin, int64_t **shapes) {\n"
       << "  return gatec_rt_output_shapes(&gatec_functions[" << fi << "], in, nin, shapes);\n}\n";
    os << "GATEC_EXPORT int " << f.symbol
       << "_run(const gatec_tensor *in, int32_t nin, gatec_tensor *out, int32_t nout) {\n"
       << "  int st = gatec_rt_check_call(&gatec_functions[" << fi
       << "], in, nin, out, nout);\n  if (st) return st;\n";
    if (cuda)
      os << "  st = gatec_rt_cuda_begin();\n  if (st) return st;\n";
    else
      os << "  int omp = gatec_rt_omp_enter();\n";
    for (auto [i, a] : llvm::enumerate(f.inputs))
      os << "  int64_t di" << i << "[" << 3 + 2 * a.dims.size() << "];\n"
         << "  gatec_rt_descriptor(di" << i << ", &in[" << i << "]);\n";
    for (auto [i, a] : llvm::enumerate(f.outputs))
      os << "  int64_t do" << i << "[" << 3 + 2 * a.dims.size() << "];\n"
         << "  gatec_rt_descriptor(do" << i << ", &out[" << i << "]);\n";
    os << "  _mlir_ciface_" << f.name << "(";
    bool first = true;
    for (size_t i = 0; i < f.inputs.size(); ++i, first = false)
      os << (first ? "" : ", ") << "di" << i;
    for (size_t i = 0; i < f.outputs.size(); ++i, first = false)
      os << (first ? "" : ", ") << "do" << i;
    os << ");\n";
    if (!cuda)
      os << "  gatec_rt_omp_exit(omp);\n";
    os << "  return " << (cuda ? "gatec_rt_cuda_end()" : "GATEC_OK") << ";\n}\n\n";
  }
  os << "static const gatec_function gatec_functions[" << sigs.size() << "] = {\n";
  for (auto [fi, f] : llvm::enumerate(sigs)) {
    std::string var = "sig" + std::to_string(fi);
    os << "  {" << cString(f.name) << ", " << cString(f.symbol) << ", "
       << f.inputs.size() << ", " << f.outputs.size() << ", "
       << (f.inputs.empty() ? "0" : var + "_in") << ", "
       << (f.outputs.empty() ? "0" : var + "_out") << ", " << f.symbol
       << "_output_shapes, " << f.symbol << "_run},\n";
  }
  os << "};\n\n"
     << "static const gatec_library gatec_lib = {GATEC_ABI_VERSION, " << cString(lib)
     << ", " << cString(target) << ", " << sigs.size()
     << ", gatec_functions, gatec_rt_last_error, gatec_rt_set_num_threads, "
     << (cuda ? "gatec_rt_cuda_set_stream" : "0") << "};\n"
     << "GATEC_EXPORT const gatec_library *" << lib << "_library(void) { return &gatec_lib; }\n"
     << "GATEC_EXPORT const char *" << lib << "_last_error(void) { return gatec_rt_last_error(); }\n"
     << "GATEC_EXPORT void " << lib << "_set_num_threads(int32_t n) { gatec_rt_set_num_threads(n); }\n";
  if (cuda)
    os << "GATEC_EXPORT void " << lib
       << "_set_stream(void *stream) { gatec_rt_cuda_set_stream(stream); }\n";
  return s;
}

namespace {
std::optional<std::string> findCompiler() {
  for (const char *name : {"clang-22", "clang", "cc", "gcc"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  return std::nullopt;
}
} // namespace

LogicalResult gatec::linkLibrary(StringRef lib, StringRef target, StringRef objectPath,
                                 ArrayRef<FunctionSignature> sigs, StringRef outputPath,
                                 std::string &error) {
  auto cc = findCompiler();
  if (!cc) {
    error = "no C compiler found (clang or cc) to link the library";
    return failure();
  }
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("gatec-link", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return failure();
  }
  auto write = [&](StringRef name, StringRef text) -> std::string {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    os << text;
    return p.str().str();
  };
  std::string stub = write("stub.c", generateStub(lib, target, sigs));
  std::string script =
      write("exports.map", ("{ global: " + lib + "_*; local: *; };\n").str());
  std::string log = write("link.log", "");
  std::vector<std::string> argv = {
      *cc, "-shared", "-fPIC", "-O2", "-std=c11", "-fvisibility=hidden",
      "-I" GATEC_INCLUDE_DIR, "-I" GATEC_RUNTIME_SOURCE_DIR, stub, objectPath.str()};
  if (target == "cuda") {
    // The driver glue (libcuda itself is dlopen'ed at the first call). The
    // host code runs no OpenMP: no libomp, so the library runs on hosts
    // without LLVM's runtime.
    argv.insert(argv.end(), {GATEC_RUNTIME_CUDA_LIB, GATEC_RUNTIME_LIB, "-ldl", "-lpthread"});
  } else {
    argv.insert(argv.end(), {GATEC_RUNTIME_LIB, "-L" GATEC_OMP_LIBDIR, "-lomp",
                             "-Wl,-rpath," GATEC_OMP_LIBDIR});
  }
  argv.insert(argv.end(), {"-o", outputPath.str(), "-Wl,--version-script=" + script, "-lm",
                           "-Wl,-z,defs"});
  std::vector<StringRef> args(argv.begin(), argv.end());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log), StringRef(log)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, redirects, 0, 0, &execError);
  if (rc != 0) {
    auto buf = llvm::MemoryBuffer::getFile(log);
    error = "linking the library failed (" + *cc + "): " +
            (buf ? (*buf)->getBuffer().str() : execError);
  }
  llvm::sys::fs::remove_directories(dir);
  return success(rc == 0);
}
