# VoWiFi Core: the two quick-start targets and their parts.
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift

.PHONY: setup setup-test build demo test bench

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test

build: setup
	$(SWIFT) build -c release --product vowifi

## The main job on the default config.
demo: build
	./.build/release/vowifi demo

## Set up and pass the tests.
test: setup-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Coverage-guided fuzzing (docs/FUZZING.md): every harness of Fuzz/Harnesses under libFuzzer
## with AddressSanitizer, one after another, FUZZ_SECONDS each (FUZZ_HARNESSES picks some).
## The corpus grows in Fuzz/corpus/<harness> (seeds committed; new finds under .fuzz/);
## crashes, leaks and timeouts are written to .fuzz/artifacts/<harness>/ (git-ignored).
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES ?= ike-codec ike-responder ike-established eap sip sdp ims-core radius pcapng esp config
FUZZ_FLAGS ?=
FUZZ_BUILD := .build-fuzz

# -sanitize-coverage as clang -fsanitize=fuzzer has it: with -O, swiftc 6.3 -sanitize=fuzzer alone instruments nothing.
.PHONY: fuzz fuzz-build
fuzz-build: setup
	$(SWIFT) build -c release --build-path $(FUZZ_BUILD) --product vowifi-fuzz \
		--sanitize fuzzer --sanitize address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DVOWIFI_LIBFUZZER

fuzz: fuzz-build
	./scripts/fuzz.sh $(FUZZ_BUILD)/release/vowifi-fuzz "$(FUZZ_SECONDS)" "$(FUZZ_FLAGS)" $(FUZZ_HARNESSES)
