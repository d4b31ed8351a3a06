/*
 * fuzz_main.c — hands control to libFuzzer.
 *
 * SwiftPM links an executable target with `--defsym main=<Target>_main` (so that tests can call
 * a renamed entry point), and `-parse-as-library` — needed for a Swift file that only defines
 * LLVMFuzzerTestOneInput — emits no <Target>_main: the link fails. We define those symbols here
 * and run libFuzzer's driver (LLVMFuzzerRunDriver, in libclang_rt.fuzzer) on the
 * LLVMFuzzerTestOneInput that the executable's Swift file exports with @_cdecl.
 */
#include "fuzz_main.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int FuzzIDX_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int FuzzSafeTensors_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int FuzzJSON_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int FuzzModelArchitecture_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
