//===- InitAll.h - register gatec's dialects and passes -------------------===//
#ifndef GATEC_INITALL_H
#define GATEC_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace gatec {
/// The gate dialect and every upstream dialect gatec's pipelines produce.
void registerAllDialects(mlir::DialectRegistry &registry);
/// gatec's passes and pipelines, and the upstream passes they use.
void registerAllPasses();
/// Version line: gatec version and the LLVM it was built with.
const char *getVersionString();
} // namespace gatec

#endif
