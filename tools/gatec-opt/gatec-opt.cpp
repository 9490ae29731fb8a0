//===- gatec-opt.cpp - gatec's mlir-opt -----------------------------------===//
#include "gatec/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << gatec::getVersionString() << "\n"; });
  mlir::DialectRegistry registry;
  gatec::registerAllDialects(registry);
  gatec::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "gatec optimizer driver\n", registry));
}
