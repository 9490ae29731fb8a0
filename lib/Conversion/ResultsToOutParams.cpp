//===- ResultsToOutParams.cpp - caller-provided outputs -------------------===//
#include "gatec/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace gatec {
#define GEN_PASS_DEF_GATERESULTSTOOUTPARAMS
#include "gatec/Conversion/Passes.h.inc"
} // namespace gatec

using namespace mlir;

namespace {
struct GateResultsToOutParamsPass
    : gatec::impl::GateResultsToOutParamsBase<GateResultsToOutParamsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      // Functions called inside the module keep their results: they are
      // not entry points of the library.
      if (!func.isPublic() || func.isExternal() ||
          !SymbolTable::symbolKnownUseEmpty(func, module))
        continue;
      if (failed(convert(func)))
        return signalPassFailure();
    }
  }

  LogicalResult convert(func::FuncOp func) {
    FunctionType type = func.getFunctionType();
    if (type.getNumResults() == 0)
      return success();
    for (Type t : type.getResults())
      if (!isa<MemRefType>(t))
        return func.emitError() << "result of type " << t
                                << " cannot be returned through the C ABI";
    Block &entry = func.getBody().front();
    unsigned firstOut = entry.getNumArguments();
    SmallVector<Type> inputs(type.getInputs());
    for (Type t : type.getResults()) {
      entry.addArgument(t, func.getLoc());
      inputs.push_back(t);
    }
    // Result attributes (names, dims) move to the new arguments.
    SmallVector<DictionaryAttr> resAttrs;
    for (unsigned i = 0; i < type.getNumResults(); ++i)
      resAttrs.push_back(func.getResultAttrDict(i));
    func.setType(FunctionType::get(func.getContext(), inputs, {}));
    func.removeResAttrsAttr();
    for (auto [i, attrs] : llvm::enumerate(resAttrs))
      if (attrs)
        func.setArgAttrs(firstOut + i, attrs);

    SmallVector<func::ReturnOp> returns;
    func.walk([&](func::ReturnOp r) { returns.push_back(r); });
    for (func::ReturnOp ret : returns) {
      OpBuilder b(ret);
      DenseSet<Value> replaced;
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        Value out = entry.getArgument(firstOut + i);
        auto alloc = v.getDefiningOp<memref::AllocOp>();
        // Write straight into the caller's buffer when the function owns
        // the result and returns it once (single return, so no other path
        // needs the allocation).
        if (alloc && returns.size() == 1 && !replaced.contains(v) &&
            alloc->getParentRegion() == &func.getBody() &&
            alloc.getType() == out.getType()) {
          replaced.insert(v);
          alloc.getResult().replaceAllUsesWith(out);
          alloc.erase();
          continue;
        }
        memref::CopyOp::create(b, ret.getLoc(), v, out);
      }
      func::ReturnOp::create(b, ret.getLoc());
      ret.erase();
    }
    return success();
  }
};
} // namespace
