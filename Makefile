# glasstcp — convenience targets around CMake. See docs/building.md.
#   make demo    build, then run every scenario (build/glass demo)
#   make test    build, then run the test suite with ctest
#   make asan    the same suite under ASan + UBSan, in build-asan/
#   make fuzz    the libFuzzer targets (clang), FUZZ_SECONDS each (default 30), in build-fuzz/
#   make docs    the API reference (Doxygen) in build/api/html/
#   make crr-cost  instructions per crr connection, by function (valgrind; bench/crr_cost.py);
#                  CRR_COST_ARGS passes options, e.g. CRR_COST_ARGS=--features

PREFIX ?= /usr/local
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# build/test: -O3 with link-time optimization (GLASS_LTO); sanitizer and fuzz builds: -O2 -g.
CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=Release
CHECK_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo
FUZZ_SECONDS ?= 30
CRR_COST_ARGS ?=

.PHONY: all deps build demo test asan fuzz docs crr-cost install clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B build $(CMAKE_FLAGS)
	cmake --build build -j$(JOBS)

demo: build
	build/glass demo

test: build
	ctest --test-dir build --output-on-failure -j2
	$(MAKE) fuzz

fuzz: deps
	CC=clang cmake -S . -B build-fuzz $(CHECK_FLAGS) -DGLASS_FUZZ=ON -DGLASS_BUILD_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS) --target fuzz_wire fuzz_stack fuzz_sim
	GLASS_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir build-fuzz --output-on-failure -L fuzz
	@cat build-fuzz/tests/fuzz/fuzz-*.stats

asan: deps
	cmake -S . -B build-asan $(CHECK_FLAGS) -DGLASS_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build-asan --output-on-failure -j2

docs: build
	cmake --build build --target api_docs

crr-cost: build
	python3 bench/crr_cost.py $(CRR_COST_ARGS)

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-fuzz build-debug build-release build-asan-ubsan
