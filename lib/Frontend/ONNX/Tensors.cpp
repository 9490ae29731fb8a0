//===- Tensors.cpp - TensorProto decoding, constants, symbolic sizes ------===//
#include "ImporterImpl.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace gatec::onnx_frontend::detail;

//===----------------------------------------------------------------------===//
// Symbolic sizes
//===----------------------------------------------------------------------===//

std::optional<SymExpr> gatec::onnx_frontend::detail::symMul(const SymExpr &a,
                                                            const SymExpr &b) {
  SymExpr r;
  if (__builtin_mul_overflow(a.c, b.c, &r.c))
    return std::nullopt;
  if (r.c == 0)
    return SymExpr::constant(0);
  r.syms.append(a.syms.begin(), a.syms.end());
  r.syms.append(b.syms.begin(), b.syms.end());
  llvm::sort(r.syms);
  return r;
}

std::optional<SymExpr>
gatec::onnx_frontend::detail::likeTermsSum(llvm::ArrayRef<SymExpr> parts) {
  std::optional<SymExpr> r;
  for (const SymExpr &p : parts) {
    if (p.isConst(0))
      continue;
    if (!r) {
      r = p;
    } else if (r->syms == p.syms) {
      if (__builtin_add_overflow(r->c, p.c, &r->c))
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (!r)
    return SymExpr::constant(0);
  if (r->c == 0)
    r->syms.clear();
  return r;
}

std::optional<SymExpr>
gatec::onnx_frontend::detail::symDivExact(const SymExpr &a, const SymExpr &b) {
  if (b.c == 0 || a.c % b.c != 0)
    return std::nullopt;
  SymExpr r;
  r.c = a.c / b.c;
  llvm::SmallVector<int, 2> rest(a.syms.begin(), a.syms.end());
  for (int s : b.syms) {
    auto it = llvm::find(rest, s);
    if (it == rest.end())
      return std::nullopt;
    rest.erase(it);
  }
  r.syms = rest;
  if (r.c == 0)
    r.syms.clear();
  return r;
}

std::optional<SymExpr>
gatec::onnx_frontend::detail::symProduct(llvm::ArrayRef<SymExpr> dims) {
  SymExpr r = SymExpr::constant(1);
  for (const SymExpr &d : dims) {
    auto m = symMul(r, d);
    if (!m)
      return std::nullopt;
    r = *m;
  }
  return r;
}

std::string gatec::onnx_frontend::detail::symShapeStr(llvm::ArrayRef<SymExpr> dims) {
  std::string s = "[";
  for (auto [k, d] : llvm::enumerate(dims)) {
    if (k)
      s += ", ";
    s += d.isConst() ? std::to_string(d.c) : std::string("?");
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

Type gatec::onnx_frontend::detail::elementTypeFor(MLIRContext *ctx, int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return Float32Type::get(ctx);
  case onnx::TensorProto::FLOAT16:
    return Float16Type::get(ctx);
  case onnx::TensorProto::BFLOAT16:
    return BFloat16Type::get(ctx);
  case onnx::TensorProto::DOUBLE:
    return Float64Type::get(ctx);
  case onnx::TensorProto::INT64:
    return IntegerType::get(ctx, 64);
  case onnx::TensorProto::INT32:
    return IntegerType::get(ctx, 32);
  case onnx::TensorProto::BOOL:
    return IntegerType::get(ctx, 1);
  default:
    return Type();
  }
}

std::string gatec::onnx_frontend::detail::onnxTypeName(int32_t t) {
  if (onnx::TensorProto_DataType_IsValid(t))
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(t));
  return "type " + std::to_string(t);
}

int64_t gatec::onnx_frontend::detail::storageBytes(Type et) {
  if (et.isInteger(1))
    return 1;
  return (et.getIntOrFloatBitWidth() + 7) / 8;
}

static const llvm::fltSemantics &semanticsOf(Type et) {
  return cast<FloatType>(et).getFloatSemantics();
}

double gatec::onnx_frontend::detail::roundToType(Type et, double v) {
  if (et.isF64())
    return v;
  if (et.isF32())
    return double(float(v));
  llvm::APFloat a(v);
  bool loses;
  a.convert(semanticsOf(et), llvm::APFloat::rmNearestTiesToEven, &loses);
  a.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &loses);
  return a.convertToDouble();
}

int64_t gatec::onnx_frontend::detail::wrapToType(Type et, int64_t v) {
  unsigned w = et.getIntOrFloatBitWidth();
  if (w == 1)
    return v != 0;
  if (w >= 64)
    return v;
  uint64_t mask = (uint64_t(1) << w) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (u >> (w - 1))
    u |= ~mask;
  return int64_t(u);
}

int64_t ConstTensor::iv(int64_t k) const {
  if (!isFloat())
    return i[k];
  double v = f[k];
  if (!std::isfinite(v))
    return 0;
  if (v >= 9.2e18)
    return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18)
    return std::numeric_limits<int64_t>::min();
  return int64_t(v);
}

bool ConstTensor::isSplat() const {
  int64_t n = numel();
  for (int64_t k = 1; k < n; ++k)
    if (isFloat() ? (f[k] != f[0] && !(std::isnan(f[k]) && std::isnan(f[0])))
                  : i[k] != i[0])
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Element access in storage bytes
//===----------------------------------------------------------------------===//

static double loadFloat(Type et, const char *p) {
  if (et.isF32()) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (et.isF64()) {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  llvm::APFloat a(semanticsOf(et), llvm::APInt(16, bits));
  return a.convertToDouble();
}

static void storeFloat(Type et, char *p, double v) {
  if (et.isF32()) {
    float x = float(v);
    std::memcpy(p, &x, 4);
    return;
  }
  if (et.isF64()) {
    std::memcpy(p, &v, 8);
    return;
  }
  llvm::APFloat a(v);
  bool loses;
  a.convert(semanticsOf(et), llvm::APFloat::rmNearestTiesToEven, &loses);
  uint16_t bits = uint16_t(a.bitcastToAPInt().getZExtValue());
  std::memcpy(p, &bits, 2);
}

static int64_t loadInt(Type et, const char *p) {
  switch (storageBytes(et)) {
  case 1:
    return et.isInteger(1) ? (*p != 0) : int64_t(int8_t(*p));
  case 2: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case 4: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  default: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  }
}

static void storeInt(Type et, char *p, int64_t v) {
  switch (storageBytes(et)) {
  case 1:
    *p = et.isInteger(1) ? char(v != 0) : char(int8_t(v));
    return;
  case 2: {
    int16_t x = int16_t(v);
    std::memcpy(p, &x, 2);
    return;
  }
  case 4: {
    int32_t x = int32_t(v);
    std::memcpy(p, &x, 4);
    return;
  }
  default:
    std::memcpy(p, &v, 8);
  }
}

//===----------------------------------------------------------------------===//
// TensorProto decoding
//===----------------------------------------------------------------------===//

static bool readExternal(const onnx::TensorProto &t, llvm::StringRef baseDir,
                         int64_t expectBytes, std::vector<char> &out,
                         std::string &err) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    auto parseNum = [&](const std::string &s, int64_t &v) {
      if (s.empty() || s.size() > 18 ||
          !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      v = std::stoll(s);
      return true;
    };
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset") {
      if (!parseNum(kv.value(), offset)) {
        err = "external data offset '" + kv.value() + "' is not a number";
        return false;
      }
    } else if (kv.key() == "length") {
      if (!parseNum(kv.value(), length)) {
        err = "external data length '" + kv.value() + "' is not a number";
        return false;
      }
    }
  }
  if (location.empty()) {
    err = "external data without a location";
    return false;
  }
  if (llvm::sys::path::is_absolute(location)) {
    err = "external data location '" + location + "' must be relative to the model";
    return false;
  }
  for (auto it = llvm::sys::path::begin(location), e = llvm::sys::path::end(location);
       it != e; ++it) {
    if (*it == "..") {
      err = "external data location '" + location + "' leaves the model directory";
      return false;
    }
  }
  llvm::SmallString<256> path(baseDir);
  llvm::sys::path::append(path, location);
  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(path, fileSize)) {
    err = "cannot read external data file '" + std::string(path) + "'";
    return false;
  }
  if (length < 0)
    length = int64_t(fileSize) - offset;
  if (length != expectBytes) {
    err = "external data of '" + t.name() + "' has " + std::to_string(length) +
          " bytes, expected " + std::to_string(expectBytes);
    return false;
  }
  if (offset < 0 || uint64_t(offset) > fileSize || uint64_t(length) > fileSize - uint64_t(offset)) {
    err = "external data of '" + t.name() + "' (offset " + std::to_string(offset) +
          ", length " + std::to_string(length) + ") lies outside '" +
          std::string(path) + "' (" + std::to_string(fileSize) + " bytes)";
    return false;
  }
  out.resize(size_t(length));
  if (length == 0)
    return true;
  auto buf = llvm::MemoryBuffer::getFileSlice(path, uint64_t(length), uint64_t(offset),
                                              /*IsVolatile=*/false);
  if (!buf || (*buf)->getBufferSize() != uint64_t(length)) {
    err = "cannot read external data file '" + std::string(path) + "'";
    return false;
  }
  std::memcpy(out.data(), (*buf)->getBufferStart(), size_t(length));
  return true;
}

bool gatec::onnx_frontend::detail::decodeTensor(const onnx::TensorProto &t,
                                                llvm::StringRef baseDir,
                                                MLIRContext *ctx, RawTensor &out,
                                                std::string &err, bool allowBytes) {
  out.et = elementTypeFor(ctx, t.data_type());
  bool bytes = t.data_type() == onnx::TensorProto::UINT8 || t.data_type() == onnx::TensorProto::INT8;
  if (!out.et && allowBytes && bytes)
    out.et = IntegerType::get(ctx, 8);
  if (!out.et) {
    err = "tensor '" + t.name() + "' has unsupported element type " +
          onnxTypeName(t.data_type());
    return false;
  }
  if (t.has_segment()) {
    err = "tensor '" + t.name() + "' is segmented (unsupported)";
    return false;
  }
  out.shape.clear();
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) {
      err = "tensor '" + t.name() + "' has a negative dimension";
      return false;
    }
    out.shape.push_back(d);
    if (d != 0 && n > kMaxTensorBytes / d) {
      err = "tensor '" + t.name() + "' is too large";
      return false;
    }
    n *= d;
  }
  int64_t ebytes = storageBytes(out.et);
  if (n > kMaxTensorBytes / ebytes) {
    err = "tensor '" + t.name() + "' is too large";
    return false;
  }
  int64_t nbytes = n * ebytes;
  out.bytes.clear();

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (!readExternal(t, baseDir, nbytes, out.bytes, err))
      return false;
    if (out.et.isInteger(1))
      for (char &c : out.bytes)
        c = c != 0;
    return true;
  }
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    if (int64_t(raw.size()) != nbytes) {
      err = "tensor '" + t.name() + "' has " + std::to_string(raw.size()) +
            " bytes of raw data, expected " + std::to_string(nbytes);
      return false;
    }
    out.bytes.assign(raw.begin(), raw.end());
    if (out.et.isInteger(1))
      for (char &c : out.bytes)
        c = c != 0;
    return true;
  }

  out.bytes.resize(size_t(nbytes));
  auto count = [&](int64_t have) {
    if (have != n) {
      err = "tensor '" + t.name() + "' holds " + std::to_string(have) +
            " values, expected " + std::to_string(n);
      return false;
    }
    return true;
  };
  char *p = out.bytes.data();
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    if (!count(t.float_data_size()))
      return false;
    for (int64_t k = 0; k < n; ++k)
      storeFloat(out.et, p + 4 * k, t.float_data(int(k)));
    return true;
  case onnx::TensorProto::DOUBLE:
    if (!count(t.double_data_size()))
      return false;
    for (int64_t k = 0; k < n; ++k)
      storeFloat(out.et, p + 8 * k, t.double_data(int(k)));
    return true;
  case onnx::TensorProto::INT64:
    if (!count(t.int64_data_size()))
      return false;
    for (int64_t k = 0; k < n; ++k)
      storeInt(out.et, p + 8 * k, t.int64_data(int(k)));
    return true;
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::INT8:
    if (!count(t.int32_data_size()))
      return false;
    for (int64_t k = 0; k < n; ++k)
      storeInt(out.et, p + ebytes * k, t.int32_data(int(k)));
    return true;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    // 16-bit patterns, one per int32 element.
    if (!count(t.int32_data_size()))
      return false;
    for (int64_t k = 0; k < n; ++k) {
      uint16_t bits = uint16_t(t.int32_data(int(k)));
      std::memcpy(p + 2 * k, &bits, 2);
    }
    return true;
  default:
    err = "tensor '" + t.name() + "' has unsupported element type " +
          onnxTypeName(t.data_type());
    return false;
  }
}

std::shared_ptr<ConstTensor>
gatec::onnx_frontend::detail::rawToConst(const RawTensor &t) {
  int64_t n = t.numel();
  if (n > kFoldLimit)
    return nullptr;
  auto c = std::make_shared<ConstTensor>();
  c->et = t.et;
  c->shape = t.shape;
  int64_t eb = storageBytes(t.et);
  if (c->isFloat()) {
    c->f.resize(size_t(n));
    for (int64_t k = 0; k < n; ++k)
      c->f[k] = loadFloat(t.et, t.bytes.data() + eb * k);
  } else {
    c->i.resize(size_t(n));
    for (int64_t k = 0; k < n; ++k)
      c->i[k] = loadInt(t.et, t.bytes.data() + eb * k);
  }
  return c;
}

static std::string resourceName(llvm::StringRef hint) {
  std::string s = "onnx_";
  for (char ch : hint)
    s += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') ? ch : '_';
  if (s.size() > 64)
    s.resize(64);
  return s;
}

ElementsAttr gatec::onnx_frontend::detail::rawToAttr(const RawTensor &t,
                                                     llvm::StringRef nameHint) {
  auto type = RankedTensorType::get(t.shape, t.et);
  int64_t n = t.numel();
  int64_t eb = storageBytes(t.et);
  if (t.et.isInteger(1)) {
    llvm::SmallVector<bool> vals(static_cast<size_t>(n), false);
    for (int64_t k = 0; k < n; ++k)
      vals[k] = t.bytes[k] != 0;
    return DenseElementsAttr::get(type, llvm::ArrayRef<bool>(vals));
  }
  if (n == 0)
    return DenseElementsAttr::getFromRawBuffer(type, llvm::ArrayRef<char>());
  bool splat = true;
  for (int64_t k = 1; k < n && splat; ++k)
    splat = std::memcmp(t.bytes.data(), t.bytes.data() + eb * k, size_t(eb)) == 0;
  if (splat)
    return DenseElementsAttr::getFromRawBuffer(
        type, llvm::ArrayRef<char>(t.bytes.data(), size_t(eb)));
  if (n < kDenseLimit)
    return DenseElementsAttr::getFromRawBuffer(type, llvm::ArrayRef<char>(t.bytes));
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      llvm::ArrayRef<char>(t.bytes), alignof(uint64_t), /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(type, resourceName(nameHint), std::move(blob));
}

ElementsAttr gatec::onnx_frontend::detail::constToAttr(const ConstTensor &c,
                                                       MLIRContext *ctx) {
  RawTensor r;
  r.et = c.et;
  r.shape = c.shape;
  int64_t n = c.numel(), eb = storageBytes(c.et);
  r.bytes.resize(size_t(n * eb));
  for (int64_t k = 0; k < n; ++k) {
    if (c.isFloat())
      storeFloat(c.et, r.bytes.data() + eb * k, c.f[k]);
    else
      storeInt(c.et, r.bytes.data() + eb * k, c.i[k]);
  }
  return rawToAttr(r, "folded");
}

std::shared_ptr<ConstTensor> gatec::onnx_frontend::detail::attrToConst(ElementsAttr attr) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!dense || !type || !type.hasStaticShape() || type.getNumElements() > kFoldLimit)
    return nullptr;
  auto c = std::make_shared<ConstTensor>();
  c->et = type.getElementType();
  c->shape.assign(type.getShape().begin(), type.getShape().end());
  if (isa<FloatType>(c->et)) {
    for (llvm::APFloat v : dense.getValues<llvm::APFloat>()) {
      bool loses;
      v.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &loses);
      c->f.push_back(v.convertToDouble());
    }
  } else if (c->et.isInteger(1)) {
    for (bool v : dense.getValues<bool>())
      c->i.push_back(v);
  } else if (isa<IntegerType>(c->et)) {
    for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
      c->i.push_back(v.getSExtValue());
  } else {
    return nullptr;
  }
  return c;
}
