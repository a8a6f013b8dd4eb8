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
