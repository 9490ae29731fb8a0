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

/// The elements of a constant as f32 (row-major), or nothing for element
/// types or attributes this pass does not read.
} // namespace

std::optional<std::vector<float>> gatec::constantAsF32(ElementsAttr attr) {
  Type et = attr.getElementType();
  if (!isa<Float32Type, Float16Type, BFloat16Type>(et))
    return std::nullopt;
  int64_t n = attr.getNumElements();
  ArrayRef<char> raw;
  bool splat = false;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    raw = dense.getRawData();
    splat = dense.isSplat();
  } else if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    raw = blob->getData();
  } else {
    return std::nullopt;
  }
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

