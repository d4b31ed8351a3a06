/* Entry points of the fuzzers (see fuzz_main.c). */
#ifndef FUZZ_MAIN_H
#define FUZZ_MAIN_H
int FuzzIDX_main(int argc, char **argv);
int FuzzSafeTensors_main(int argc, char **argv);
int FuzzJSON_main(int argc, char **argv);
int FuzzModelArchitecture_main(int argc, char **argv);
#endif
