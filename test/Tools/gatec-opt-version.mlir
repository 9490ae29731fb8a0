// RUN: gatec-opt --version | FileCheck %s

// CHECK: LLVM version {{[0-9]+\.[0-9]+}}
// CHECK: gatec version {{[0-9]+\.[0-9]+\.[0-9]+}} (LLVM {{[0-9]+\.[0-9]+}}
