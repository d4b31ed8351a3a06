// Debian's libopenblas-dev puts cblas.h under the openblas-pthread include folder that
// pkg-config names; this shim is the one header the Swift layer imports for cblas_sgemm.
#include <cblas.h>
