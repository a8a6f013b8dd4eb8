#ifndef VOWIFI_CLIBFUZZER_H
#define VOWIFI_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h). It is linked only into the
/// `make fuzz` build (swiftc -sanitize=fuzzer); the normal build never references it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
