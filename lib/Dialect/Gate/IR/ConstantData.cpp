//===- ConstantData.cpp - reading float constants at compile time ---------===//
#include "gatec/Dialect/Gate/IR/ConstantData.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace {
float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else { // subnormal: normalize
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while (!(man & 0x400));
    bits = sign | (uint32_t(112 - e) << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

} // namespace

std::optional<gatec::ConstantBytes> gatec::constantBytes(ElementsAttr attr) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.getElementType().isInteger(1))
      return std::nullopt; // bit-packed
    return ConstantBytes{dense.getRawData(), dense.isSplat()};
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return ConstantBytes{blob->getData(), false};
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> gatec::constantAsU8(ElementsAttr attr) {
  if (!attr.getElementType().isInteger(8))
    return std::nullopt;
  std::optional<ConstantBytes> raw = constantBytes(attr);
  int64_t n = attr.getNumElements();
  if (!raw || int64_t(raw->data.size()) < (raw->splat ? 1 : n))
    return std::nullopt;
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[i] = uint8_t(raw->data[raw->splat ? 0 : i]);
  return out;
}

std::optional<std::vector<float>> gatec::constantAsF32(ElementsAttr attr) {
  Type et = attr.getElementType();
  if (!isa<Float32Type, Float16Type, BFloat16Type>(et))
    return std::nullopt;
  int64_t n = attr.getNumElements();
  std::optional<ConstantBytes> bytes = constantBytes(attr);
  if (!bytes)
    return std::nullopt;
  ArrayRef<char> raw = bytes->data;
  bool splat = bytes->splat;
  int64_t eb = et.isF32() ? 4 : 2;
  if (int64_t(raw.size()) < (splat ? eb : n * eb))
    return std::nullopt;
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const char *p = raw.data() + (splat ? 0 : i * eb);
    if (et.isF32()) {
      std::memcpy(&out[i], p, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, p, 2);
      if (et.isF16()) {
        out[i] = halfToFloat(h);
      } else {
        uint32_t bits = uint32_t(h) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
    }
  }
  return out;
}

