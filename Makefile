# gatec: the two commands are `make demo` and `make test`.
BUILD ?= build
LLVM ?= /usr/lib/llvm-22
PY := .venv/bin/python
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test test-lit test-python test-c bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DMLIR_DIR=$(LLVM)/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$(LLVM)/bin/lit \
	  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 >/dev/null

configure: deps $(BUILD)/build.ninja

build: configure
	@ninja -C $(BUILD) -j $(JOBS)

# Tests, the demo and the benchmarks use the compiler of $(BUILD).
export GATEC := $(abspath $(BUILD))/bin/gatec

demo: build
	@$(PY) examples/demo.py

test: build
	@$(MAKE) --no-print-directory test-lit test-c test-python

test-lit:
	@ninja -C $(BUILD) check-gatec-lit

test-c:
	@examples/c/run.sh $(BUILD)

test-python:
	@$(PY) -m pytest -q python/tests

bench: build
	@scripts/install-deps.sh --bench
	@.venv-bench/bin/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
