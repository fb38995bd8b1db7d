# glasstcp — convenience targets around CMake. See docs/building.md.
#   make demo    build, then run every scenario (build/glass demo)
#   make test    build, then run the test suite with ctest
#   make asan    the same suite under ASan + UBSan, in build-asan/

PREFIX ?= /usr/local
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build demo test asan install clean

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

asan: deps
	cmake -S . -B build-asan $(CMAKE_FLAGS) -DGLASS_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build-asan --output-on-failure -j2

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-debug build-release build-asan-ubsan
