import CKernels

#if canImport(Glibc)
import Glibc
#endif

#if PEREGRINE_OPENBLAS
import COpenBLAS
#endif

/// The matrix-multiply engine behind every Dense, Conv and recurrent layer.
///
/// Peregrine's own kernel (`ck_sgemm`) is always available. A build with the `OpenBLAS` package
/// trait can route the Swift layer's products to OpenBLAS instead; `PEREGRINE_GEMM=native|openblas`
/// picks the backend when the process starts, and ``backend`` switches it later, so both can be
/// measured in one process.
///
/// ```swift
/// if GEMM.availableBackends.contains(.openBLAS) { GEMM.backend = .openBLAS }
/// print(GEMM.backend)   // openblas
/// ```
public enum GEMM {
    /// A GEMM implementation.
    public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Peregrine's hand-written kernels (`ck_sgemm`).
        case native
        /// The system OpenBLAS's `cblas_sgemm`; only in builds with the `OpenBLAS` trait.
        case openBLAS = "openblas"

        public var description: String { rawValue }
    }

    /// The backends this build contains.
    ///
    /// ```swift
    /// GEMM.availableBackends   // [.native] or [.native, .openBLAS]
    /// ```
    public static var availableBackends: [Backend] {
        #if PEREGRINE_OPENBLAS
        return [.native, .openBLAS]
        #else
        return [.native]
        #endif
    }

    nonisolated(unsafe) private static var selected: Backend = initialBackend()

    private static func initialBackend() -> Backend {
        #if PEREGRINE_OPENBLAS
        if let name = getenv("PEREGRINE_GEMM").map({ String(cString: $0) }),
            let wanted = Backend(rawValue: name.lowercased())
        {
            return wanted
        }
        #endif
        return .native
    }

    /// Sets OpenBLAS's thread count to ``Runtime/threads`` (its pool reads
    /// `OPENBLAS_NUM_THREADS` only when the library loads, so a later change must be told).
    static func followRuntimeThreads() {
        #if PEREGRINE_OPENBLAS
        openblas_set_num_threads(ck_num_threads())
        #endif
    }

    /// The backend the Swift layer uses now. Setting a backend this build lacks keeps `.native`.
    ///
    /// ```swift
    /// GEMM.backend = .native
    /// ```
    public static var backend: Backend {
        get { selected }
        set { selected = availableBackends.contains(newValue) ? newValue : .native }
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, with the meaning of
    /// `cblas_sgemm(CblasRowMajor, …)`, on the selected backend. Pointers are trusted: callers
    /// check shapes first.
    ///
    /// ```swift
    /// // 2×3 · 3×2 into 2×2
    /// GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 1,
    ///            a: a, lda: 3, b: b, ldb: 2, beta: 0, c: c, ldc: 2)
    /// ```
    @inlinable
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int
    ) {
        sgemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: nil, activation: CK_ACT_IDENTITY)
    }

    /// The layers' product: `C = act(alpha · op(A) · op(B) + beta · C + bias)`, the bias added to
    /// each row. Natively the bias and activation happen in the GEMM's store; on OpenBLAS they
    /// are a second pass (`ck_bias_activation`).
    ///
    /// ```swift
    /// GEMM.sgemm(transA: false, transB: false, m: batch, n: units, k: inputs, alpha: 1,
    ///            a: x, lda: inputs, b: kernel, ldb: units, beta: 0, c: y, ldc: units,
    ///            bias: bias, activation: CK_ACT_RELU)
    /// ```
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int,
        bias: UnsafePointer<Float>?, activation: ck_activation
    ) {
        #if PEREGRINE_OPENBLAS
        // k == 0 stays native: OpenBLAS then computes beta·C, and 0·NaN from an uninitialised C
        // is NaN where the contract promises zeros.
        if selected == .openBLAS && k > 0 {
            if m > 0 && n > 0 {
                cblas_sgemm(
                    CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
                if bias != nil || activation != CK_ACT_IDENTITY {
                    ck_bias_activation(Int32(m), Int32(n), bias, activation, c, Int32(ldc))
                }
            }
            return
        }
        #endif
        ck_sgemm_bias_act(
            transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
            b, Int32(ldb), beta, c, Int32(ldc), bias, activation)
    }
}
