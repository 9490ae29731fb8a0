//===- ImporterImpl.h - internals of the ONNX importer ----------*- C++ -*-===//
//
// Shared by the importer's translation units: the value table (with its side
// tables of known constants and of symbolic shape tensors), symbolic
// dimensions, TensorProto decoding and the tensor-building helpers the op
// handlers use.
//
// Shape knowledge. Every dimension of every imported value is described by a
// SymExpr: a constant times a product of symbols, where a symbol stands for
// the runtime size of one dynamic dimension (a graph input's dim_param, or
// any dimension nothing better is known about). Small integer tensors that
// hold shapes (the results of Shape, Gather on shapes, Concat of shapes, ...)
// are kept as ShapeTensors of SymExprs and are only materialized when an op
// consumes them as data, so Reshape(x, Concat(Shape(x)[0], 4, -1)) resolves
// to static sizes wherever the arithmetic allows.
//
//===----------------------------------------------------------------------===//
#ifndef GATEC_LIB_FRONTEND_ONNX_IMPORTERIMPL_H
#define GATEC_LIB_FRONTEND_ONNX_IMPORTERIMPL_H

#include "gatec/Frontend/ONNX/Importer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gatec::onnx_frontend::detail {

using namespace mlir;

/// Constants with at most this many elements are folded at import time.
constexpr int64_t kFoldLimit = 4096;
/// Constants with fewer elements are DenseElementsAttr, larger ones
/// DenseResourceElementsAttr (splats are always dense).
constexpr int64_t kDenseLimit = 64;
/// Largest tensor (in bytes) the importer accepts from a file.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

//===----------------------------------------------------------------------===//
// Symbolic sizes
//===----------------------------------------------------------------------===//

/// c * s1 * s2 * ...: a constant times a product of symbols (ids > 0, sorted).
struct SymExpr {
  int64_t c = 1;
  llvm::SmallVector<int, 2> syms;

  static SymExpr constant(int64_t v) {
    SymExpr e;
    e.c = v;
    return e;
  }
  static SymExpr symbol(int s) {
    SymExpr e;
    e.syms.push_back(s);
    return e;
  }
  bool isConst() const { return syms.empty(); }
  bool isConst(int64_t v) const { return syms.empty() && c == v; }
  bool operator==(const SymExpr &o) const { return c == o.c && syms == o.syms; }
  bool operator!=(const SymExpr &o) const { return !(*this == o); }
  /// The static size, or ShapedType::kDynamic.
  int64_t staticSize() const { return isConst() ? c : ShapedType::kDynamic; }
};
using OptSym = std::optional<SymExpr>;
using SymShape = llvm::SmallVector<SymExpr, 4>;

std::optional<SymExpr> symMul(const SymExpr &a, const SymExpr &b);
/// The sum of `parts` when it is one term (zeros dropped, like terms added:
/// t + t = 2t); nullopt when it is not a single product.
std::optional<SymExpr> likeTermsSum(llvm::ArrayRef<SymExpr> parts);
std::optional<SymExpr> symDivExact(const SymExpr &a, const SymExpr &b);
std::optional<SymExpr> symProduct(llvm::ArrayRef<SymExpr> dims);
std::string symShapeStr(llvm::ArrayRef<SymExpr> dims);

/// A rank-0 or rank-1 integer tensor whose elements are SymExprs or unknown.
struct ShapeTensor {
  Type et; // i64 or i32
  bool scalar = false;
  llvm::SmallVector<OptSym, 4> elems;
  bool allKnown() const {
    for (auto &e : elems)
      if (!e)
        return false;
    return true;
  }
  bool allConst() const {
    for (auto &e : elems)
      if (!e || !e->isConst())
        return false;
    return true;
  }
};

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// A small constant tensor, decoded for folding. Floats are held as doubles
/// already rounded to the element type; integers (and booleans, 0/1) as int64
/// already wrapped to the element width.
struct ConstTensor {
  Type et;
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<double> f;
  std::vector<int64_t> i;

  bool isFloat() const { return isa<FloatType>(et); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  double fv(int64_t k) const { return isFloat() ? f[k] : double(i[k]); }
  int64_t iv(int64_t k) const;
  bool isSplat() const;
};

/// A tensor decoded from a TensorProto: element type, shape and the bytes in
/// MLIR's storage layout (little endian, i1 as one byte per element).
struct RawTensor {
  Type et;
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<char> bytes;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// The MLIR element type of an ONNX TensorProto.DataType, or null.
Type elementTypeFor(MLIRContext *ctx, int32_t onnxType);
std::string onnxTypeName(int32_t onnxType);
/// Storage bytes per element (i1: 1).
int64_t storageBytes(Type et);
/// Rounds `v` to the precision of float type `et`.
double roundToType(Type et, double v);
/// Wraps `v` to the width of integer type `et` (i1: nonzero -> 1).
int64_t wrapToType(Type et, int64_t v);

/// Decodes `t` (raw_data, typed fields or external data under `baseDir`).
bool decodeTensor(const onnx::TensorProto &t, llvm::StringRef baseDir,
                  MLIRContext *ctx, RawTensor &out, std::string &err,
                  bool allowBytes = false);
/// The constant as a ConstTensor, when it is small enough to fold.
std::shared_ptr<ConstTensor> rawToConst(const RawTensor &t);
ElementsAttr rawToAttr(const RawTensor &t, llvm::StringRef nameHint);
ElementsAttr constToAttr(const ConstTensor &t, MLIRContext *ctx);
/// The constant held by an arith.constant-like value, when small.
std::shared_ptr<ConstTensor> attrToConst(ElementsAttr attr);

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

class Importer;

/// One ONNX value: an MLIR value, or a constant / shape tensor that is only
/// materialized when an op needs it as data.
struct Entry {
  Value value;
  ElementsAttr attr;
  std::shared_ptr<const ConstTensor> cst;
  std::shared_ptr<const ShapeTensor> shp;
  RankedTensorType type;
  /// An 8-bit integer initializer (quantized weights): not a value of the
  /// graph; only the quantized ops read its bytes (Importer::packedBytes).
  std::shared_ptr<const RawTensor> packed;
};

struct Scope {
  llvm::StringMap<Entry> entries;
  /// Values materialized in this scope for entries of outer scopes.
  llvm::StringMap<Value> cache;
  Scope *parent = nullptr;
  int depth = 0;
};

struct NodeCtx;
using Handler = LogicalResult (*)(Importer &, NodeCtx &);
/// The handler of an op of the default domain, or null.
Handler lookupHandler(llvm::StringRef opType);
/// com.microsoft ops (ONNX Runtime's contrib ops that its GenAI model builder
/// writes); null when `opType` is not one of them.
Handler lookupMicrosoftHandler(llvm::StringRef opType);
bool isSupportedOp(llvm::StringRef domain, llvm::StringRef opType);
std::string nodeLabel(const onnx::NodeProto &n);

enum class ReduceKind { Sum, Max, Min, Prod };

class Importer {
public:
  Importer(MLIRContext &ctx, std::string file, std::string baseDir);

  MLIRContext &ctx;
  OpBuilder b;
  Location loc;
  std::string file, baseDir;
  std::vector<std::string> errors;
  int64_t opset = 21;
  const onnx::NodeProto *node = nullptr;
  /// Element types the model declares for values (graph outputs, value_info).
  llvm::StringMap<Type> declaredTypes;
  /// Model-local functions, by (domain, name); calls to them are inlined.
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto *> functions;
  int inlineDepth = 0;
  LogicalResult inlineFunction(const onnx::NodeProto &n, const onnx::FunctionProto &f);

  // ---------------------------------------------------------------- errors
  /// Records "<file>: <node> (<op>): <msg>" (or "<file>: <msg>" outside a
  /// node) and returns failure.
  LogicalResult fail(const llvm::Twine &msg);
  /// Same, returning a null value.
  Value failV(const llvm::Twine &msg) {
    (void)fail(msg);
    return Value();
  }

  // ---------------------------------------------------------------- values
  Scope *scope = nullptr;
  Block *entryBlock = nullptr;
  Operation *lastConst = nullptr;
  llvm::DenseMap<Attribute, Value> constCache;
  /// Ops created while importing a Scan body go to a detached block; values
  /// defined there must not leak out.
  std::vector<Block *> bodyBlocks;

  Entry *lookup(llvm::StringRef name, Scope **where = nullptr);
  LogicalResult define(llvm::StringRef name, Entry e);
  Value materialize(llvm::StringRef name);
  /// The bytes of an 8-bit integer initializer (quantized weights), or null.
  const RawTensor *packedBytes(llvm::StringRef name);
  /// The type of a value, without materializing it.
  RankedTensorType typeOf(llvm::StringRef name);
  /// A constant op at the start of the function (dominates everything).
  Value constantOp(TypedAttr attr);
  Value shapeTensorValue(const ShapeTensor &st);

  // --------------------------------------------------------------- symbols
  struct SymInfo {
    Value src;
    int64_t dim;
    Value size; // index, cached
  };
  std::vector<SymInfo> syms; // id = index + 1
  llvm::StringMap<int> dimParamSyms;
  llvm::DenseMap<Value, SymShape> dimInfo;
  /// Values that are another value reversed along one axis, every element
  /// kept (Slice with step -1 over the whole axis): {source, axis}. Lets a
  /// second reversal fold away and LinearAttention run backwards in place.
  llvm::DenseMap<Value, std::pair<Value, int64_t>> reversals;
  /// x reversed along `axis` (a gather), recorded in `reversals`.
  Value reverseAlong(Value x, int64_t axis);

  int newSym(Value src, int64_t dim);
  /// A symbol whose runtime size is the index value `size`.
  int newSymValue(Value size);
  /// A symbol for the sum of `parts`, shared by every sum of the same parts
  /// built outside Scan bodies; 0 when none can be made.
  int sumSym(llvm::ArrayRef<SymExpr> parts);
  std::map<std::string, int> sumSyms;
  /// The parts of each sumSym symbol.
  llvm::DenseMap<int, llvm::SmallVector<SymExpr, 2>> sumParts;
  /// a - b when a is b, or a sumSym symbol one of whose parts is b
  /// ((P + T) - P = T); nullopt otherwise, or when a negative size would
  /// remain.
  std::optional<SymExpr> symMinus(const SymExpr &a, const SymExpr &b);
  /// Symbols known to be at least another size (a dimension padded at its
  /// end): lets a Slice of the first `base` elements keep a symbolic size.
  llvm::DenseMap<int, SymExpr> symAtLeast;
  /// Per-dimension sizes of `v` (symbols created on demand).
  SymShape dims(Value v);
  /// Records the sizes of a new value (its static dims come from its type).
  void setDims(Value v, llvm::ArrayRef<SymExpr> d);
  Value symValue(int s);
  Value indexOf(const SymExpr &e);
  OpFoldResult sizeOf(const SymExpr &e);
  SmallVector<OpFoldResult> sizesOf(llvm::ArrayRef<SymExpr> d);
  /// True when symbol `s` is defined outside the Scan body block `blk`.
  bool symOutside(int s, Block *blk);

  // ------------------------------------------------------- tensor helpers
  static RankedTensorType tt(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  RankedTensorType typeFor(llvm::ArrayRef<SymExpr> d, Type et);
  Value empty(llvm::ArrayRef<SymExpr> d, Type et);
  Value cIndex(int64_t v);
  TypedAttr scalarAttr(Type et, double v);
  Value scalar(Type et, double v);
  /// A tensor of shape `d` filled with `v` (a constant when static).
  Value splat(llvm::ArrayRef<SymExpr> d, Type et, double v);
  Value splatValue(llvm::ArrayRef<SymExpr> d, Value scalarV);
  Value fill(Value init, Value scalarV);
  Value zeros(llvm::ArrayRef<SymExpr> d, Type et) { return splat(d, et, 0.0); }
  /// `v` with the static information of `t` (tensor.cast) or `v` itself.
  Value castTo(Value v, RankedTensorType t);

  /// Numpy broadcasting of shapes; false (with an error) on a mismatch.
  bool broadcastShapes(llvm::ArrayRef<SymShape> shapes, SymShape &out);
  /// `v` broadcast to `out`. A symbolic size of v meeting a static size, or
  /// an output dimension marked in `mayBeOne`, is broadcast when it is 1 at
  /// run time (scf.if: the slice at 0 broadcast, or v as it is).
  Value broadcastTo(Value v, llvm::ArrayRef<SymExpr> out, llvm::ArrayRef<bool> mayBeOne = {});
  /// Broadcasts every operand to the common shape; false on mismatch.
  bool broadcastAll(llvm::SmallVectorImpl<Value> &vals, SymShape *outShape = nullptr);
  /// An elementwise cast to element type `et` (ONNX Cast semantics).
  Value convert(Value v, Type et);
  Value transpose(Value v, llvm::ArrayRef<int64_t> perm);
  Value reshape(Value v, llvm::ArrayRef<SymExpr> target);
  /// Reshape whose target is only known at runtime: a rank-1 i64/index tensor.
  Value reshapeDynamic(Value v, Value shape, llvm::ArrayRef<OptSym> target);
  Value extractSlice(Value v, llvm::ArrayRef<SymExpr> offsets,
                     llvm::ArrayRef<SymExpr> sizes, llvm::ArrayRef<int64_t> strides);
  Value extractSliceDyn(Value v, llvm::ArrayRef<OpFoldResult> offsets,
                        llvm::ArrayRef<OpFoldResult> sizes,
                        llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<SymExpr> outDims);
  Value concat(llvm::ArrayRef<Value> vals, int64_t axis);
  Value matmul(Value a, Value bm);
  Value reduce(Value x, llvm::ArrayRef<int64_t> axes, ReduceKind kind, bool keepDims);
  Value softmax(Value x, llvm::ArrayRef<int64_t> axes, bool log = false);
  /// A linalg.generic; `maps` holds the input maps then the output map.
  Value generic(llvm::ArrayRef<Value> ins, Value init, llvm::ArrayRef<AffineMap> maps,
                llvm::ArrayRef<utils::IteratorType> iters,
                llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body);
  /// A value of element type `et` where `pred` holds and `other` elsewhere
  /// (arith.select after broadcasting).
  Value select(Value cond, Value a, Value bv);

  // ----------------------------------------------------------- graph import
  LogicalResult importNodes(const onnx::GraphProto &g);
  /// Defines `name` as `v`, built by a raising pattern in place of the nodes
  /// that compute it: readers imported after v's op read v (earlier ones keep
  /// the value they read), and the node producing `name`, if not imported
  /// yet, is not imported.
  void redefine(llvm::StringRef name, Value v);
  /// Moves `op`, just built at the end of its block, to right after the last
  /// of its operands' definitions, so that redefine() reaches readers
  /// imported between them.
  static void hoistAfterOperands(Operation *op);
  llvm::StringSet<> raised;
  LogicalResult importNode(const onnx::NodeProto &n);
  LogicalResult defineInitializers(const onnx::GraphProto &g);
  /// Imports a Scan/Loop body: defines its inputs, imports it and returns the
  /// values of its outputs.
  LogicalResult importBody(const onnx::GraphProto &g, llvm::ArrayRef<Value> inputs,
                           SmallVectorImpl<Value> &outputs);
  int bodyDepth = 0;
};

/// Redefines the output of `n`, just imported, as one gate.linear_attention
/// when it ends transformers' chunked gated delta rule as torch exports it
/// (ChunkedDeltaRule.cpp); false, changing nothing, otherwise.
bool raiseChunkedDeltaRule(Importer &im, const onnx::GraphProto &g,
                           const llvm::StringMap<int> &producer, const onnx::NodeProto &n);

/// Redefines the output of the ScatterElements `n`, just imported, and the
/// final state as one gate.linear_attention when they end transformers'
/// token-by-token gated delta rule unrolled by torch's exporter
/// (RecurrentDeltaRule.cpp); false, changing nothing, otherwise.
bool raiseRecurrentDeltaRule(Importer &im, const onnx::GraphProto &g,
                             const llvm::StringMap<int> &producer, const onnx::NodeProto &n);

/// Redefines the output of `n`, just imported, as one gate.causal_conv when
/// it ends an FFT convolution with a constant filter spectrum
/// (irfft(rfft(u)·K)[..., :L], SpectralOps.cpp); false, changing nothing,
/// otherwise.
bool raiseFFTConv(Importer &im, const onnx::GraphProto &g, const llvm::StringMap<int> &producer,
                  const onnx::NodeProto &n);

/// The view of one node a handler works with.
struct NodeCtx {
  Importer &im;
  const onnx::NodeProto &n;

  NodeCtx(Importer &im, const onnx::NodeProto &n) : im(im), n(n) {}

  int numIn() const { return n.input_size(); }
  int numOut() const { return n.output_size(); }
  bool has(int i) const { return i < n.input_size() && !n.input(i).empty(); }
  bool wants(int i) const { return i < n.output_size() && !n.output(i).empty(); }
  llvm::StringRef inName(int i) const { return n.input(i); }

  /// Input `i` as a value (materialized); null with an error when absent.
  Value in(int i);
  /// Input `i` when present, else null (no error).
  Value opt(int i) { return has(i) ? in(i) : Value(); }
  RankedTensorType inType(int i);
  const ConstTensor *cst(int i);
  /// Input `i` as a shape tensor (rank <= 1, integer), when known.
  std::optional<ShapeTensor> shape(int i);
  /// Constant integer values of input `i` (any rank), when fully known.
  std::optional<SmallVector<int64_t>> ints(int i);

  LogicalResult out(int i, Value v);
  LogicalResult outConst(int i, ConstTensor c);
  LogicalResult outShape(int i, ShapeTensor s);

  /// Checks the input count: at least `lo`, at most `hi` (-1: any).
  LogicalResult arity(int lo, int hi);

  // Attributes. A present attribute of the wrong type is an error.
  const onnx::AttributeProto *attr(llvm::StringRef name);
  bool hasAttr(llvm::StringRef name) { return attr(name) != nullptr; }
  int64_t i(llvm::StringRef name, int64_t dflt);
  float f(llvm::StringRef name, float dflt);
  std::string s(llvm::StringRef name, llvm::StringRef dflt);
  SmallVector<int64_t> is(llvm::StringRef name);
  const onnx::TensorProto *t(llvm::StringRef name);
  const onnx::GraphProto *g(llvm::StringRef name);
  bool bad = false;
};

} // namespace gatec::onnx_frontend::detail

#endif // GATEC_LIB_FRONTEND_ONNX_IMPORTERIMPL_H
