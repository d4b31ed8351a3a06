// zlib from Debian's zlib1g-dev: gzip decompression for the IDX (MNIST-format) reader.
#include <zlib.h>
