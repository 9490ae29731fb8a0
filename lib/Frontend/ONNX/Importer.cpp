//===- Importer.cpp - ONNX model -> func.func: graph, values, symbols -----===//
#include "ImporterImpl.h"
#include "llvm/ADT/StringMap.h"

#include "gatec/Dialect/Gate/IR/GateDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/IR/Iterators.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <map>
#include <queue>
#include <set>

using namespace mlir;
using namespace gatec::onnx_frontend;
using namespace gatec::onnx_frontend::detail;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

std::string gatec::onnx_frontend::detail::nodeLabel(const onnx::NodeProto &n) {
  if (!n.name().empty())
    return n.name();
  for (const std::string &o : n.output())
    if (!o.empty())
      return o;
  return "";
}

Importer::Importer(MLIRContext &ctx, std::string file, std::string baseDir)
    : ctx(ctx), b(&ctx), loc(UnknownLoc::get(&ctx)), file(std::move(file)),
      baseDir(std::move(baseDir)) {}

LogicalResult Importer::fail(const llvm::Twine &msg) {
  std::string line = file + ": ";
  if (node)
    line += nodeLabel(*node) + " (" + node->op_type() + "): ";
  line += msg.str();
  // One error per node is enough: the first cause, not its echoes.
  if (errors.empty() || errors.back() != line)
    errors.push_back(line);
  return failure();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Entry *Importer::lookup(llvm::StringRef name, Scope **where) {
  for (Scope *s = scope; s; s = s->parent) {
    auto it = s->entries.find(name);
    if (it != s->entries.end()) {
      if (where)
        *where = s;
      return &it->second;
    }
  }
  return nullptr;
}

LogicalResult Importer::define(llvm::StringRef name, Entry e) {
  if (name.empty())
    return success();
  if (scope->entries.count(name))
    return fail("value '" + name + "' is defined more than once");
  if (!e.type && e.value)
    e.type = tt(e.value);
  scope->entries[name] = std::move(e);
  return success();
}

Value Importer::constantOp(TypedAttr attr) {
  auto it = constCache.find(attr);
  if (it != constCache.end())
    return it->second;
  OpBuilder::InsertionGuard g(b);
  if (lastConst)
    b.setInsertionPointAfter(lastConst);
  else
    b.setInsertionPointToStart(entryBlock);
  auto op = arith::ConstantOp::create(b, loc, attr);
  lastConst = op;
  constCache[attr] = op.getResult();
  return op.getResult();
}

Value Importer::shapeTensorValue(const ShapeTensor &st) {
  SmallVector<Value> elems;
  for (const OptSym &e : st.elems) {
    if (!e)
      return Value();
    Value v = indexOf(*e);
    elems.push_back(arith::IndexCastOp::create(b, loc, st.et, v));
  }
  auto type = st.scalar ? RankedTensorType::get({}, st.et)
                        : RankedTensorType::get({int64_t(elems.size())}, st.et);
  return tensor::FromElementsOp::create(b, loc, type, elems);
}

const RawTensor *Importer::packedBytes(llvm::StringRef name) {
  Entry *e = lookup(name);
  return e ? e->packed.get() : nullptr;
}

Value Importer::materialize(llvm::StringRef name) {
  Scope *where = nullptr;
  Entry *e = lookup(name, &where);
  if (!e)
    return Value();
  if (e->value)
    return e->value;
  if (e->packed)
    return failV("initializer '" + name +
                 "' holds 8-bit integers, which only quantized ops (MatMulNBits) read");
  for (Scope *s = scope; s && s != where; s = s->parent) {
    auto it = s->cache.find(name);
    if (it != s->cache.end())
      return it->second;
  }
  if (!e->attr && e->cst)
    e->attr = constToAttr(*e->cst, &ctx);
  if (e->attr) {
    e->value = constantOp(cast<TypedAttr>(e->attr));
    setDims(e->value, {});
    return e->value;
  }
  if (e->shp) {
    Value v = shapeTensorValue(*e->shp);
    if (!v)
      return Value();
    if (where == scope)
      e->value = v;
    else
      scope->cache[name] = v;
    return v;
  }
  return Value();
}

RankedTensorType Importer::typeOf(llvm::StringRef name) {
  Entry *e = lookup(name);
  if (!e)
    return RankedTensorType();
  if (e->type)
    return e->type;
  if (e->value)
    return tt(e->value);
  return RankedTensorType();
}

//===----------------------------------------------------------------------===//
// Symbols
//===----------------------------------------------------------------------===//

int Importer::newSym(Value src, int64_t dim) {
  syms.push_back({src, dim, Value()});
  return int(syms.size());
}

int Importer::newSymValue(Value size) {
  syms.push_back({Value(), 0, size});
  return int(syms.size());
}

int Importer::sumSym(llvm::ArrayRef<SymExpr> parts) {
  if (!bodyBlocks.empty() || !entryBlock || b.getInsertionBlock() != entryBlock)
    return 0;
  SmallVector<std::string> keys;
  for (const SymExpr &e : parts) {
    std::string k = std::to_string(e.c);
    for (int s : e.syms)
      k += "*" + std::to_string(s);
    keys.push_back(k);
  }
  llvm::sort(keys);
  std::string key;
  for (auto &k : keys)
    key += k + "+";
  auto it = sumSyms.find(key);
  if (it != sumSyms.end())
    return it->second;
  Value sum;
  for (const SymExpr &e : parts) {
    Value v = indexOf(e);
    sum = sum ? arith::AddIOp::create(b, loc, sum, v).getResult() : v;
  }
  int s = newSymValue(sum);
  sumSyms[key] = s;
  sumParts[s].assign(parts.begin(), parts.end());
  return s;
}

std::optional<SymExpr> Importer::symMinus(const SymExpr &a, const SymExpr &b) {
  if (a == b)
    return SymExpr::constant(0);
  if (a.c != 1 || a.syms.size() != 1)
    return std::nullopt;
  auto it = sumParts.find(a.syms[0]);
  if (it == sumParts.end())
    return std::nullopt;
  SmallVector<SymExpr, 2> rest(it->second);
  auto pos = llvm::find(rest, b);
  if (pos == rest.end())
    return std::nullopt;
  rest.erase(pos);
  std::optional<SymExpr> r;
  if (rest.size() == 1)
    r = rest[0];
  else if (auto like = likeTermsSum(rest))
    r = like;
  else if (int sym = sumSym(rest))
    r = SymExpr::symbol(sym);
  if (!r || r->c < 0)
    return std::nullopt;
  return r;
}

SymShape Importer::dims(Value v) {
  auto t = tt(v);
  auto it = dimInfo.find(v);
  if (it != dimInfo.end() && int64_t(it->second.size()) == t.getRank())
    return it->second;
  SymShape d;
  for (int64_t k = 0; k < t.getRank(); ++k) {
    if (!t.isDynamicDim(k))
      d.push_back(SymExpr::constant(t.getDimSize(k)));
    else
      d.push_back(SymExpr::symbol(newSym(v, k)));
  }
  dimInfo[v] = d;
  return d;
}

void Importer::setDims(Value v, llvm::ArrayRef<SymExpr> d) {
  auto t = tt(v);
  SymShape r;
  for (int64_t k = 0; k < t.getRank(); ++k) {
    if (!t.isDynamicDim(k))
      r.push_back(SymExpr::constant(t.getDimSize(k)));
    else if (k < int64_t(d.size()) && !d[k].isConst())
      r.push_back(d[k]);
    else
      r.push_back(SymExpr::symbol(newSym(v, k)));
  }
  dimInfo[v] = r;
}

Value Importer::symValue(int s) {
  SymInfo &info = syms[s - 1];
  if (info.size)
    return info.size;
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointAfterValue(info.src);
  Value src = info.src;
  int64_t dim = info.dim;
  Value d = tensor::DimOp::create(b, loc, src, dim);
  syms[s - 1].size = d;
  return d;
}

Value Importer::indexOf(const SymExpr &e) {
  if (e.isConst())
    return cIndex(e.c);
  Value v;
  for (int s : e.syms) {
    Value sv = symValue(s);
    v = v ? arith::MulIOp::create(b, loc, v, sv).getResult() : sv;
  }
  if (e.c != 1)
    v = arith::MulIOp::create(b, loc, v, cIndex(e.c));
  return v;
}

OpFoldResult Importer::sizeOf(const SymExpr &e) {
  if (e.isConst())
    return b.getIndexAttr(e.c);
  return indexOf(e);
}

SmallVector<OpFoldResult> Importer::sizesOf(llvm::ArrayRef<SymExpr> d) {
  SmallVector<OpFoldResult> r;
  for (const SymExpr &e : d)
    r.push_back(sizeOf(e));
  return r;
}

bool Importer::symOutside(int s, Block *blk) {
  Value src = syms[s - 1].src ? syms[s - 1].src : syms[s - 1].size;
  Block *sb = src.getParentBlock();
  while (sb) {
    if (sb == blk)
      return false;
    Operation *p = sb->getParentOp();
    if (!p)
      break;
    sb = p->getBlock();
  }
  return true;
}

//===----------------------------------------------------------------------===//
// NodeCtx
//===----------------------------------------------------------------------===//

Value NodeCtx::in(int i) {
  if (!has(i)) {
    (void)im.fail("required input " + std::to_string(i) + " is missing");
    return Value();
  }
  Value v = im.materialize(n.input(i));
  if (!v)
    (void)im.fail("input '" + n.input(i) + "' is not defined");
  return v;
}

RankedTensorType NodeCtx::inType(int i) {
  if (!has(i))
    return RankedTensorType();
  return im.typeOf(n.input(i));
}

const ConstTensor *NodeCtx::cst(int i) {
  if (!has(i))
    return nullptr;
  Entry *e = im.lookup(n.input(i));
  if (!e)
    return nullptr;
  if (!e->cst && e->attr)
    e->cst = attrToConst(e->attr);
  return e->cst.get();
}

std::optional<ShapeTensor> NodeCtx::shape(int i) {
  if (!has(i))
    return std::nullopt;
  Entry *e = im.lookup(n.input(i));
  if (!e)
    return std::nullopt;
  if (e->shp)
    return *e->shp;
  const ConstTensor *c = cst(i);
  if (c && isa<IntegerType>(c->et) && !c->et.isInteger(1) && c->shape.size() <= 1) {
    ShapeTensor st;
    st.et = c->et;
    st.scalar = c->shape.empty();
    for (int64_t v : c->i)
      st.elems.push_back(SymExpr::constant(v));
    return st;
  }
  // Any other integer value of rank <= 1 and static length: unknown elements.
  return std::nullopt;
}

std::optional<SmallVector<int64_t>> NodeCtx::ints(int i) {
  if (auto st = shape(i)) {
    if (!st->allConst())
      return std::nullopt;
    SmallVector<int64_t> r;
    for (auto &e : st->elems)
      r.push_back(e->c);
    return r;
  }
  const ConstTensor *c = cst(i);
  if (!c || c->isFloat())
    return std::nullopt;
  return SmallVector<int64_t>(c->i.begin(), c->i.end());
}

LogicalResult NodeCtx::out(int i, Value v) {
  if (!v)
    return failure();
  if (!wants(i))
    return success();
  Entry e;
  e.value = v;
  e.type = Importer::tt(v);
  return im.define(n.output(i), std::move(e));
}

LogicalResult NodeCtx::outConst(int i, ConstTensor c) {
  if (!wants(i))
    return success();
  Entry e;
  e.type = RankedTensorType::get(c.shape, c.et);
  e.cst = std::make_shared<ConstTensor>(std::move(c));
  return im.define(n.output(i), std::move(e));
}

LogicalResult NodeCtx::outShape(int i, ShapeTensor s) {
  if (s.allConst()) {
    ConstTensor c;
    c.et = s.et;
    if (!s.scalar)
      c.shape.push_back(int64_t(s.elems.size()));
    for (auto &e : s.elems)
      c.i.push_back(wrapToType(s.et, e->c));
    return outConst(i, std::move(c));
  }
  if (!wants(i))
    return success();
  Entry e;
  e.type = s.scalar ? RankedTensorType::get({}, s.et)
                    : RankedTensorType::get({int64_t(s.elems.size())}, s.et);
  e.shp = std::make_shared<ShapeTensor>(std::move(s));
  return im.define(n.output(i), std::move(e));
}

LogicalResult NodeCtx::arity(int lo, int hi) {
  int cnt = numIn();
  // Trailing empty names are absent optional inputs.
  while (cnt > 0 && n.input(cnt - 1).empty())
    --cnt;
  if (cnt < lo || (hi >= 0 && cnt > hi)) {
    std::string want = hi < 0 ? "at least " + std::to_string(lo)
                       : lo == hi ? std::to_string(lo)
                                  : std::to_string(lo) + " to " + std::to_string(hi);
    return im.fail("expects " + want + " inputs, got " + std::to_string(cnt));
  }
  for (int k = 0; k < lo; ++k)
    if (n.input(k).empty())
      return im.fail("required input " + std::to_string(k) + " is empty");
  return success();
}

const onnx::AttributeProto *NodeCtx::attr(llvm::StringRef name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeCtx::i(llvm::StringRef name, int64_t dflt) {
  const auto *a = attr(name);
  if (!a)
    return dflt;
  if (a->type() == onnx::AttributeProto::INT ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->has_i()))
    return a->i();
  bad = true;
  (void)im.fail("attribute '" + name + "' must be an integer");
  return dflt;
}

float NodeCtx::f(llvm::StringRef name, float dflt) {
  const auto *a = attr(name);
  if (!a)
    return dflt;
  if (a->type() == onnx::AttributeProto::FLOAT ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->has_f()))
    return a->f();
  if (a->type() == onnx::AttributeProto::INT)
    return float(a->i());
  bad = true;
  (void)im.fail("attribute '" + name + "' must be a float");
  return dflt;
}

std::string NodeCtx::s(llvm::StringRef name, llvm::StringRef dflt) {
  const auto *a = attr(name);
  if (!a)
    return dflt.str();
  if (a->type() == onnx::AttributeProto::STRING ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->has_s()))
    return a->s();
  bad = true;
  (void)im.fail("attribute '" + name + "' must be a string");
  return dflt.str();
}

SmallVector<int64_t> NodeCtx::is(llvm::StringRef name) {
  const auto *a = attr(name);
  if (!a)
    return {};
  if (a->type() == onnx::AttributeProto::INTS ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->ints_size()))
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  if (a->type() == onnx::AttributeProto::INT)
    return {a->i()};
  bad = true;
  (void)im.fail("attribute '" + name + "' must be a list of integers");
  return {};
}

const onnx::TensorProto *NodeCtx::t(llvm::StringRef name) {
  const auto *a = attr(name);
  if (!a)
    return nullptr;
  if (a->type() == onnx::AttributeProto::TENSOR ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->has_t()))
    return &a->t();
  bad = true;
  (void)im.fail("attribute '" + name + "' must be a tensor");
  return nullptr;
}

const onnx::GraphProto *NodeCtx::g(llvm::StringRef name) {
  const auto *a = attr(name);
  if (!a)
    return nullptr;
  if (a->type() == onnx::AttributeProto::GRAPH ||
      (a->type() == onnx::AttributeProto::UNDEFINED && a->has_g()))
    return &a->g();
  bad = true;
  (void)im.fail("attribute '" + name + "' must be a graph");
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Graph import
//===----------------------------------------------------------------------===//

/// Names a graph uses but does not define (its implicit inputs).
static void collectFreeVars(const onnx::GraphProto &g, llvm::StringSet<> &out) {
  llvm::StringSet<> defined;
  for (const auto &i : g.input())
    defined.insert(i.name());
  for (const auto &i : g.initializer())
    defined.insert(i.name());
  for (const auto &n : g.node())
    for (const auto &o : n.output())
      defined.insert(o);
  auto use = [&](const std::string &name) {
    if (!name.empty() && !defined.count(name))
      out.insert(name);
  };
  for (const auto &n : g.node()) {
    for (const auto &i : n.input())
      use(i);
    for (const auto &a : n.attribute()) {
      llvm::StringSet<> inner;
      if (a.has_g())
        collectFreeVars(a.g(), inner);
      for (const auto &sg : a.graphs())
        collectFreeVars(sg, inner);
      for (const auto &k : inner)
        use(k.getKey().str());
    }
  }
  for (const auto &o : g.output())
    use(o.name());
}

static void nodeDeps(const onnx::NodeProto &n, llvm::SmallVectorImpl<std::string> &deps) {
  for (const auto &i : n.input())
    if (!i.empty())
      deps.push_back(i);
  for (const auto &a : n.attribute()) {
    llvm::StringSet<> inner;
    if (a.has_g())
      collectFreeVars(a.g(), inner);
    for (const auto &sg : a.graphs())
      collectFreeVars(sg, inner);
    for (const auto &k : inner)
      deps.push_back(k.getKey().str());
  }
}

LogicalResult Importer::defineInitializers(const onnx::GraphProto &g) {
  if (g.sparse_initializer_size())
    return fail("sparse initializers are not supported");
  for (const auto &t : g.initializer()) {
    auto raw = std::make_shared<RawTensor>();
    std::string err;
    if (!decodeTensor(t, baseDir, &ctx, *raw, err, /*allowBytes=*/true))
      return fail("initializer '" + t.name() + "': " + err);
    Entry e;
    e.type = RankedTensorType::get(raw->shape, raw->et);
    if (raw->et.isInteger(8)) {
      e.packed = std::move(raw);
    } else {
      e.attr = rawToAttr(*raw, t.name());
      e.cst = rawToConst(*raw);
    }
    if (t.name().empty())
      return fail("an initializer has no name");
    if (scope->entries.count(t.name()))
      return fail("initializer '" + t.name() + "' is defined more than once");
    scope->entries[t.name()] = std::move(e);
  }
  return success();
}

LogicalResult Importer::importNodes(const onnx::GraphProto &g) {
  int n = g.node_size();
  llvm::StringMap<int> producer;
  for (int k = 0; k < n; ++k) {
    for (const auto &o : g.node(k).output()) {
      if (o.empty())
        continue;
      if (!producer.try_emplace(o, k).second) {
        const onnx::NodeProto *saved = node;
        node = &g.node(k);
        (void)fail("output '" + o + "' is also produced by another node");
        node = saved;
        return failure();
      }
    }
  }
  // Kahn's algorithm, preferring the file order.
  std::vector<llvm::SmallVector<int, 4>> users(n);
  std::vector<int> pending(n, 0);
  bool missing = false;
  for (int k = 0; k < n; ++k) {
    llvm::SmallVector<std::string, 8> deps;
    nodeDeps(g.node(k), deps);
    llvm::StringSet<> seen;
    for (const std::string &d : deps) {
      if (!seen.insert(d).second)
        continue;
      auto it = producer.find(d);
      if (it != producer.end()) {
        users[it->second].push_back(k);
        ++pending[k];
      } else if (!lookup(d)) {
        const onnx::NodeProto *saved = node;
        node = &g.node(k);
        bool direct = llvm::is_contained(g.node(k).input(), d);
        (void)fail((direct ? "input '" + d + "'" : "its subgraph uses '" + d + "', which") +
                   " is not produced by any node, initializer or graph input");
        node = saved;
        missing = true;
      }
    }
  }
  if (missing)
    return failure();
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int k = 0; k < n; ++k)
    if (!pending[k])
      ready.push(k);
  int done = 0;
  while (!ready.empty()) {
    int k = ready.top();
    ready.pop();
    ++done;
    const onnx::NodeProto &nd = g.node(k);
    // A node whose outputs a raising pattern already defined is not imported.
    bool defined = nd.output_size() > 0 && llvm::all_of(nd.output(), [&](const std::string &o) {
                     return o.empty() || raised.contains(o);
                   });
    if (!defined && failed(importNode(nd)))
      return failure();
    // Exporters' unrolled gated delta rules (chunked, token by token): their
    // output, once imported, may be redefined as one gate.linear_attention.
    (void)raiseChunkedDeltaRule(*this, g, producer, nd);
    (void)raiseRecurrentDeltaRule(*this, g, producer, nd);
    // Long convolutions through torch.fft: one gate.causal_conv.
    (void)raiseFFTConv(*this, g, producer, nd);
    for (int u : users[k])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (done != n)
    return fail("the graph has a cycle");
  return success();
}

void Importer::redefine(llvm::StringRef name, Value v) {
  Operation *op = v.getDefiningOp();
  auto it = scope->entries.find(name);
  if (op && it != scope->entries.end() && it->second.value && it->second.value != v &&
      it->second.value.getType() == v.getType()) {
    Block *block = op->getBlock();
    it->second.value.replaceUsesWithIf(v, [&](OpOperand &use) {
      Operation *user = block->findAncestorOpInBlock(*use.getOwner());
      return user && user != op && op->isBeforeInBlock(user);
    });
  }
  Entry e;
  e.value = v;
  e.type = tt(v);
  scope->entries[name] = std::move(e);
  raised.insert(name);
}

void Importer::hoistAfterOperands(Operation *op) {
  Block *block = op->getBlock();
  Operation *last = nullptr;
  for (Value x : op->getOperands()) {
    Operation *d = x.getDefiningOp();
    Operation *at = d ? block->findAncestorOpInBlock(*d) : nullptr;
    if (at && (!last || last->isBeforeInBlock(at)))
      last = at;
  }
  if (last)
    op->moveAfter(last);
  else
    op->moveBefore(&block->front());
}

LogicalResult Importer::importNode(const onnx::NodeProto &n) {
  const onnx::NodeProto *saved = node;
  Location savedLoc = loc;
  node = &n;
  std::string label = nodeLabel(n);
  loc = NameLoc::get(StringAttr::get(&ctx, label.empty() ? n.op_type() : label),
                     FileLineColLoc::get(&ctx, file, 0, 0));
  LogicalResult r = success();
  Handler h = nullptr;
  std::string dom = n.domain() == "ai.onnx" ? "" : n.domain();
  auto fn = functions.find({dom, n.op_type()});
  if (fn != functions.end()) {
    r = inlineFunction(n, *fn->second);
    node = saved;
    loc = savedLoc;
    return r;
  }
  if (n.domain().empty() || n.domain() == "ai.onnx")
    h = lookupHandler(n.op_type());
  else if (n.domain() == "com.microsoft")
    h = lookupMicrosoftHandler(n.op_type());
  // Ops newer than the model's default-domain opset do not exist for it.
  static const llvm::StringMap<int64_t> since = {
      {"LayerNormalization", 17}, {"Attention", 23},       {"RMSNormalization", 23},
      {"RotaryEmbedding", 23},    {"LinearAttention", 27}, {"CausalConvWithState", 27},
      {"CumSum", 11},             {"GatherElements", 11},  {"GatherND", 11},
      {"ScatterElements", 11},    {"ScatterND", 11},       {"Gelu", 20},
      {"Mish", 18},               {"HardSwish", 14},       {"Celu", 12},
      {"DFT", 17}};
  auto introduced = since.find(n.op_type());
  bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
  if (h && defaultDomain && introduced != since.end() && opset < introduced->second) {
    r = fail("'" + n.op_type() + "' needs opset " + std::to_string(introduced->second) +
             " of the default domain; the model imports opset " + std::to_string(opset));
  } else if (!h) {
    r = fail("unsupported op '" + n.op_type() + "' (domain '" + n.domain() + "')");
  } else {
    NodeCtx nc(*this, n);
    r = h(*this, nc);
    if (succeeded(r) && nc.bad)
      r = failure();
    if (succeeded(r)) {
      for (int k = 0; k < n.output_size(); ++k) {
        if (!n.output(k).empty() && !scope->entries.count(n.output(k))) {
          r = fail("output " + std::to_string(k) + " ('" + n.output(k) +
                   "') is not supported");
          break;
        }
      }
    }
  }
  node = saved;
  loc = savedLoc;
  return r;
}

/// Substitutes attribute references of a function body node by the caller's
/// attributes; unresolved ones are dropped (the op's default applies).
static void bindAttributes(onnx::NodeProto &bodyNode, const onnx::NodeProto &call) {
  auto *attrs = bodyNode.mutable_attribute();
  for (int k = attrs->size() - 1; k >= 0; --k) {
    onnx::AttributeProto &a = (*attrs)[k];
    if (a.ref_attr_name().empty())
      continue;
    const onnx::AttributeProto *src = nullptr;
    for (const auto &c : call.attribute())
      if (c.name() == a.ref_attr_name())
        src = &c;
    if (!src) {
      attrs->DeleteSubrange(k, 1);
      continue;
    }
    std::string name = a.name();
    a = *src;
    a.set_name(name);
    a.clear_ref_attr_name();
  }
}

LogicalResult Importer::inlineFunction(const onnx::NodeProto &n, const onnx::FunctionProto &f) {
  if (inlineDepth > 32)
    return fail("model-local functions are nested too deeply");
  if (n.input_size() > f.input_size())
    return fail("the call passes " + std::to_string(n.input_size()) + " inputs to function '" +
                f.name() + "' which takes " + std::to_string(f.input_size()));
  if (n.output_size() > f.output_size())
    return fail("the call expects " + std::to_string(n.output_size()) +
                " outputs from function '" + f.name() + "' which has " +
                std::to_string(f.output_size()));
  // Inputs are bound by copying the caller's entries into a new scope.
  Scope s;
  s.parent = scope;
  s.depth = scope->depth;
  SmallVector<Entry> ins;
  for (int k = 0; k < n.input_size(); ++k) {
    if (n.input(k).empty())
      continue;
    Entry *e = lookup(n.input(k));
    if (!e)
      return fail("input '" + n.input(k) + "' is not defined");
    s.entries[f.input(k)] = *e;
  }
  onnx::GraphProto body;
  for (const auto &bn : f.node()) {
    onnx::NodeProto *c = body.add_node();
    *c = bn;
    bindAttributes(*c, n);
  }
  scope = &s;
  ++inlineDepth;
  LogicalResult r = importNodes(body);
  --inlineDepth;
  scope = s.parent;
  if (failed(r))
    return failure();
  for (int k = 0; k < n.output_size(); ++k) {
    if (n.output(k).empty())
      continue;
    auto it = s.entries.find(f.output(k));
    Entry out;
    if (it != s.entries.end()) {
      out = it->second;
    } else if (Entry *outer = lookup(f.output(k))) {
      out = *outer;
    } else {
      return fail("function '" + f.name() + "' does not produce its output '" + f.output(k) +
                  "'");
    }
    if (failed(define(n.output(k), std::move(out))))
      return failure();
  }
  return success();
}

LogicalResult Importer::importBody(const onnx::GraphProto &g, llvm::ArrayRef<Value> inputs,
                                   SmallVectorImpl<Value> &outputs) {
  if (bodyDepth > 32)
    return fail("subgraphs are nested too deeply");
  if (g.input_size() != int(inputs.size()))
    return fail("the body graph has " + std::to_string(g.input_size()) +
                " inputs, expected " + std::to_string(inputs.size()));
  Scope s;
  s.parent = scope;
  s.depth = scope->depth + 1;
  scope = &s;
  ++bodyDepth;
  llvm::scope_exit restore([&] {
    scope = s.parent;
    --bodyDepth;
  });
  for (int k = 0; k < g.input_size(); ++k) {
    Entry e;
    e.value = inputs[k];
    if (failed(define(g.input(k).name(), std::move(e))))
      return failure();
  }
  if (failed(defineInitializers(g)) || failed(importNodes(g)))
    return failure();
  for (const auto &o : g.output()) {
    Value v = materialize(o.name());
    if (!v)
      return fail("body output '" + o.name() + "' is not produced by the body");
    outputs.push_back(v);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Model loading
//===----------------------------------------------------------------------===//

static bool parseModel(llvm::StringRef path, onnx::ModelProto &model, std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error = path.str() + ": cannot read file: " + buf.getError().message();
    return false;
  }
  llvm::StringRef data = (*buf)->getBuffer();
  if (data.empty() || data.size() > size_t(INT_MAX)) {
    error = path.str() + ": cannot parse ONNX model";
    return false;
  }
  google::protobuf::io::ArrayInputStream ais(data.data(), int(data.size()));
  google::protobuf::io::CodedInputStream cis(&ais);
  cis.SetTotalBytesLimit(INT_MAX);
  cis.SetRecursionLimit(256);
  if (!model.ParseFromCodedStream(&cis) || !cis.ConsumedEntireMessage() ||
      !model.has_graph()) {
    error = path.str() + ": cannot parse ONNX model";
    return false;
  }
  return true;
}

static void walkNodes(const onnx::GraphProto &g,
                      const std::function<void(const onnx::NodeProto &)> &fn,
                      int depth = 0) {
  if (depth > 64)
    return;
  for (const auto &n : g.node()) {
    fn(n);
    for (const auto &a : n.attribute()) {
      if (a.has_g())
        walkNodes(a.g(), fn, depth + 1);
      for (const auto &sg : a.graphs())
        walkNodes(sg, fn, depth + 1);
    }
  }
}

namespace {
struct StatAcc {
  std::set<std::pair<std::string, std::string>> localFns;
  std::vector<OpStat> stats;
  std::map<std::pair<std::string, std::string>, size_t> index;
  void add(const onnx::NodeProto &n) {
    std::string dom = n.domain() == "ai.onnx" ? "" : n.domain();
    auto key = std::make_pair(dom, n.op_type());
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, stats.size()).first;
      stats.push_back({n.op_type(), dom, 0,
                       isSupportedOp(dom, n.op_type()) || localFns.count(key) > 0, {}});
    }
    OpStat &s = stats[it->second];
    ++s.count;
    s.nodeNames.push_back(nodeLabel(n));
  }
};
} // namespace

bool gatec::onnx_frontend::collectOpStats(llvm::StringRef path, std::vector<OpStat> &stats,
                                          std::string &error) {
  onnx::ModelProto model;
  if (!parseModel(path, model, error))
    return false;
  StatAcc acc;
  for (const auto &f : model.functions())
    acc.localFns.insert({f.domain() == "ai.onnx" ? "" : f.domain(), f.name()});
  walkNodes(model.graph(), [&](const onnx::NodeProto &n) { acc.add(n); });
  for (const auto &f : model.functions())
    for (const auto &n : f.node())
      acc.add(n);
  stats = std::move(acc.stats);
  return true;
}

namespace {
/// The declared type of a graph input/output.
struct DeclType {
  Type et;
  bool hasShape = false;
  SmallVector<int64_t> dims;      // kDynamic for symbolic / unknown
  SmallVector<std::string> names; // dim_param or ""
};

LogicalResult declType(Importer &im, const onnx::ValueInfoProto &vi, DeclType &d,
                       bool required, llvm::StringRef what) {
  if (!vi.has_type() || vi.type().value_case() == onnx::TypeProto::VALUE_NOT_SET) {
    if (required)
      return im.fail(what + " '" + vi.name() + "' has no type");
    return success();
  }
  if (!vi.type().has_tensor_type())
    return im.fail(what + " '" + vi.name() + "' is not a tensor (sequences, maps and "
                   "optionals are not supported)");
  const auto &tt = vi.type().tensor_type();
  if (tt.elem_type() == onnx::TensorProto::UNDEFINED) {
    if (required)
      return im.fail(what + " '" + vi.name() + "' has no element type");
  } else {
    d.et = elementTypeFor(&im.ctx, tt.elem_type());
    if (!d.et)
      return im.fail(what + " '" + vi.name() + "' has unsupported element type " +
                     onnxTypeName(tt.elem_type()));
  }
  if (!tt.has_shape()) {
    if (required)
      return im.fail(what + " '" + vi.name() + "' has no shape (its rank is unknown)");
    return success();
  }
  d.hasShape = true;
  for (const auto &dim : tt.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0)
        return im.fail(what + " '" + vi.name() + "' has a negative dimension");
      d.dims.push_back(dim.dim_value());
      d.names.push_back("");
    } else {
      d.dims.push_back(ShapedType::kDynamic);
      d.names.push_back(dim.has_dim_param() ? dim.dim_param() : "");
    }
  }
  return success();
}

std::string symName(Importer &im, const SymExpr &e) {
  if (e.isConst() || e.c != 1 || e.syms.size() != 1)
    return "";
  for (const auto &kv : im.dimParamSyms)
    if (kv.second == e.syms[0])
      return kv.getKey().str();
  return "";
}
} // namespace

static OwningOpRef<ModuleOp> importModelImpl(Importer &im, const onnx::ModelProto &model,
                                             const ImportOptions &opts) {
  MLIRContext &ctx = im.ctx;
  const onnx::GraphProto &g = model.graph();

  for (const auto &os : model.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx")
      im.opset = os.version();

  for (const auto &f : model.functions())
    im.functions[{f.domain() == "ai.onnx" ? "" : f.domain(), f.name()}] = &f;

  // Every unsupported op at once, one line per op type.
  {
    std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::string>>> bad;
    std::map<std::pair<std::string, std::string>, size_t> idx;
    std::function<void(const onnx::NodeProto &)> visit;
    std::set<std::pair<std::string, std::string>> visitedFns;
    visit = [&](const onnx::NodeProto &n) {
      std::string dom = n.domain() == "ai.onnx" ? "" : n.domain();
      auto fit = im.functions.find({dom, n.op_type()});
      if (fit != im.functions.end()) {
        if (visitedFns.insert(fit->first).second) {
          for (const auto &bn : fit->second->node()) {
            visit(bn);
            for (const auto &a : bn.attribute()) {
              if (a.has_g())
                walkNodes(a.g(), visit);
              for (const auto &sg : a.graphs())
                walkNodes(sg, visit);
            }
          }
        }
        return;
      }
      if (isSupportedOp(dom, n.op_type()))
        return;
      auto key = std::make_pair(dom, n.op_type());
      auto it = idx.find(key);
      if (it == idx.end()) {
        it = idx.emplace(key, bad.size()).first;
        bad.push_back({key, {}});
      }
      bad[it->second].second.push_back(nodeLabel(n));
    };
    walkNodes(g, visit);
    for (auto &[key, names] : bad) {
      std::string line = "unsupported op '" + key.second + "' (domain '" + key.first +
                         "') used by " + std::to_string(names.size()) +
                         (names.size() == 1 ? " node: " : " nodes: ");
      for (size_t k = 0; k < names.size() && k < 20; ++k)
        line += (k ? ", " : "") + (names[k].empty() ? std::string("<unnamed>") : names[k]);
      if (names.size() > 20)
        line += ", ...";
      (void)im.fail(line);
    }
    if (!bad.empty())
      return nullptr;
  }

  for (const auto *list : {&g.output(), &g.value_info()})
    for (const auto &vi : *list)
      if (vi.has_type() && vi.type().has_tensor_type())
        if (Type et = elementTypeFor(&ctx, vi.type().tensor_type().elem_type()))
          im.declaredTypes[vi.name()] = et;

  Location fileLoc = FileLineColLoc::get(&ctx, im.file, 0, 0);
  im.loc = fileLoc;
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  im.b.setInsertionPointToEnd(module->getBody());

  llvm::StringSet<> initNames;
  for (const auto &t : g.initializer())
    initNames.insert(t.name());

  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> argInfos;
  SmallVector<DeclType> argDecls;
  for (const auto &vi : g.input()) {
    if (initNames.count(vi.name()))
      continue;
    if (vi.name().empty()) {
      (void)im.fail("a graph input has no name");
      return nullptr;
    }
    DeclType d;
    if (failed(declType(im, vi, d, /*required=*/true, "graph input")))
      return nullptr;
    argTypes.push_back(RankedTensorType::get(d.dims, d.et));
    argInfos.push_back(&vi);
    argDecls.push_back(std::move(d));
  }

  auto func = func::FuncOp::create(im.b, fileLoc, opts.funcName,
                                   FunctionType::get(&ctx, argTypes, {}));
  im.entryBlock = func.addEntryBlock();
  im.b.setInsertionPointToStart(im.entryBlock);

  Scope top;
  im.scope = &top;
  llvm::scope_exit clearScope([&] { im.scope = nullptr; });

  for (auto [k, info] : llvm::enumerate(argInfos)) {
    Value arg = im.entryBlock->getArgument(k);
    SymShape d;
    for (auto [j, size] : llvm::enumerate(argDecls[k].dims)) {
      if (!ShapedType::isDynamic(size)) {
        d.push_back(SymExpr::constant(size));
        continue;
      }
      const std::string &param = argDecls[k].names[j];
      int s;
      if (!param.empty()) {
        auto it = im.dimParamSyms.find(param);
        if (it == im.dimParamSyms.end())
          it = im.dimParamSyms.try_emplace(param, im.newSym(arg, j)).first;
        s = it->second;
      } else {
        s = im.newSym(arg, j);
      }
      d.push_back(SymExpr::symbol(s));
    }
    im.dimInfo[arg] = d;
    Entry e;
    e.value = arg;
    if (failed(im.define(info->name(), std::move(e))))
      return nullptr;
  }
  if (failed(im.defineInitializers(g)) || failed(im.importNodes(g)))
    return nullptr;

  // Results: the graph outputs, with their declared types where given.
  SmallVector<Value> results;
  SmallVector<Type> resTypes;
  SmallVector<SmallVector<std::string>> resDims;
  for (const auto &vi : g.output()) {
    Value v = im.materialize(vi.name());
    if (!v) {
      (void)im.fail("graph output '" + vi.name() + "' is not produced by any node");
      return nullptr;
    }
    DeclType d;
    if (failed(declType(im, vi, d, /*required=*/false, "graph output")))
      return nullptr;
    auto vt = Importer::tt(v);
    if (d.et && d.et != vt.getElementType()) {
      std::string a, c;
      llvm::raw_string_ostream(a) << d.et;
      llvm::raw_string_ostream(c) << vt.getElementType();
      (void)im.fail("graph output '" + vi.name() + "' is declared " + a +
                    " but computed as " + c);
      return nullptr;
    }
    SymShape vd = im.dims(v);
    SmallVector<std::string> names;
    RankedTensorType rt = vt;
    if (d.hasShape) {
      if (int64_t(d.dims.size()) != vt.getRank()) {
        (void)im.fail("graph output '" + vi.name() + "' is declared with rank " +
                      std::to_string(d.dims.size()) + " but computed with rank " +
                      std::to_string(vt.getRank()));
        return nullptr;
      }
      for (auto [j, size] : llvm::enumerate(d.dims)) {
        if (!ShapedType::isDynamic(size) && !vt.isDynamicDim(j) &&
            vt.getDimSize(j) != size) {
          (void)im.fail("graph output '" + vi.name() + "' is declared with shape " +
                        symShapeStr(SymShape(llvm::map_range(d.dims, [](int64_t x) {
                          return ShapedType::isDynamic(x) ? SymExpr::symbol(0)
                                                          : SymExpr::constant(x);
                        }))) + " but computed as " + symShapeStr(vd));
          return nullptr;
        }
        names.push_back(d.names[j].empty() ? symName(im, vd[j]) : d.names[j]);
      }
      rt = RankedTensorType::get(d.dims, vt.getElementType());
      v = im.castTo(v, rt);
    } else {
      for (const SymExpr &e : vd)
        names.push_back(symName(im, e));
    }
    results.push_back(v);
    resTypes.push_back(rt);
    resDims.push_back(names);
  }
  im.b.setInsertionPointToEnd(im.entryBlock);
  func::ReturnOp::create(im.b, fileLoc, results);
  func.setType(FunctionType::get(&ctx, argTypes, resTypes));
  // What a raising replaced is dead now. The scatters' fresh copies
  // (bufferization.alloc_tensor) would keep it alive through canonicalization,
  // which never erases them; users come after their operands, so one sweep
  // from the end drops whole dead chains.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*im.entryBlock)))
    if (op.use_empty() && (isa<bufferization::AllocTensorOp>(op) || isOpTriviallyDead(&op)))
      op.erase();

  auto dimsAttr = [&](llvm::ArrayRef<std::string> names) {
    SmallVector<Attribute> a;
    for (const std::string &s : names)
      a.push_back(StringAttr::get(&ctx, s));
    return ArrayAttr::get(&ctx, a);
  };
  for (auto [k, info] : llvm::enumerate(argInfos)) {
    func.setArgAttr(k, "gatec.name", StringAttr::get(&ctx, info->name()));
    func.setArgAttr(k, "gatec.dims", dimsAttr(argDecls[k].names));
  }
  for (auto [k, vi] : llvm::enumerate(g.output())) {
    func.setResultAttr(k, "gatec.name", StringAttr::get(&ctx, vi.name()));
    func.setResultAttr(k, "gatec.dims", dimsAttr(resDims[k]));
  }

  // Drop what lazy materialization and folding left unused.
  bool changed = true;
  while (changed) {
    changed = false;
    func.walk<WalkOrder::PostOrder, ReverseIterator>([&](Operation *op) {
      if (op != func.getOperation() && isOpTriviallyDead(op)) {
        op->erase();
        changed = true;
      }
    });
  }
  return module;
}

OwningOpRef<ModuleOp> gatec::onnx_frontend::importModel(MLIRContext &ctx, llvm::StringRef path,
                                                        const ImportOptions &opts,
                                                        std::string &error) {
  error.clear();
  ctx.loadDialect<gate::GateDialect, arith::ArithDialect, bufferization::BufferizationDialect,
                  func::FuncDialect, linalg::LinalgDialect, math::MathDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
  onnx::ModelProto model;
  if (!parseModel(path, model, error))
    return nullptr;

  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  Importer im(ctx, path.str(), std::string(dir));

  OwningOpRef<ModuleOp> module;
  {
    // Builders report nothing; verification reports through this handler.
    std::string diags;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return success();
      std::string where;
      Location l = d.getLocation();
      if (auto nl = dyn_cast<NameLoc>(l))
        where = nl.getName().str();
      if (!diags.empty())
        diags += "\n";
      diags += path.str() + ": " + (where.empty() ? "" : where + ": ") +
               "internal error: " + d.str();
      return success();
    });
    module = importModelImpl(im, model, opts);
    if (module && failed(mlir::verify(*module))) {
      im.errors.push_back(diags.empty() ? path.str() +
                                              ": internal error: the imported module "
                                              "does not verify"
                                        : diags);
      module = nullptr;
    }
  }
  if (!module || !im.errors.empty()) {
    if (im.errors.empty())
      im.errors.push_back(path.str() + ": import failed");
    for (size_t k = 0; k < im.errors.size(); ++k)
      error += (k ? "\n" : "") + im.errors[k];
    return nullptr;
  }
  return module;
}
