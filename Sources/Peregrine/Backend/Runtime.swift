import CKernels

/// What the C kernels run on: the instruction-set path, the threads and the OpenMP runtime.
///
/// ```swift
/// print(Runtime.isa, Runtime.threads, Runtime.threadingLibrary)   // avx512 2 libgomp.so.1
/// Runtime.threads = 1   // serial kernels from now on
/// ```
public enum Runtime {
    /// An instruction-set path of the C kernels.
    public enum ISA: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
        /// Portable C.
        case generic
        /// AVX2 with FMA.
        case avx2
        /// AVX-512 F/BW/VL/DQ.
        case avx512

        init(_ isa: ck_isa) {
            switch isa {
            case CK_ISA_AVX512: self = .avx512
            case CK_ISA_AVX2: self = .avx2
            default: self = .generic
            }
        }

        var cValue: ck_isa {
            switch self {
            case .generic: CK_ISA_GENERIC
            case .avx2: CK_ISA_AVX2
            case .avx512: CK_ISA_AVX512
            }
        }

        public var description: String { rawValue }

        public static func < (lhs: ISA, rhs: ISA) -> Bool {
            lhs.cValue.rawValue < rhs.cValue.rawValue
        }
    }

    /// The path in use: the best the CPU has, unless `PEREGRINE_ISA` or a setter chose another.
    ///
    /// ```swift
    /// Runtime.isa = .generic   // run the portable kernels, e.g. to compare paths
    /// ```
    public static var isa: ISA {
        get { ISA(ck_isa_active()) }
        set { _ = ck_set_isa(min(newValue, bestSupportedISA).cValue) }
    }

    /// The best path this CPU supports.
    ///
    /// ```swift
    /// Runtime.bestSupportedISA   // .avx512 on Zen 4
    /// ```
    public static var bestSupportedISA: ISA { ISA(ck_isa_best_supported()) }

    /// Threads a parallel kernel uses (`OMP_NUM_THREADS` or the core count unless set here);
    /// setting 0 restores that default. In a build with the `OpenBLAS` trait, OpenBLAS's own
    /// thread pool is set to the same count, so both GEMM backends run on the same cores.
    ///
    /// ```swift
    /// Runtime.threads = 2
    /// ```
    public static var threads: Int {
        get { Int(ck_num_threads()) }
        set {
            ck_set_num_threads(Int32(clamping: newValue))
            GEMM.followRuntimeThreads()
        }
    }

    /// The OpenMP runtime the kernels' threads come from, as the dynamic linker loaded it.
    ///
    /// ```swift
    /// Runtime.threadingLibrary   // "libgomp.so.1"
    /// ```
    public static var threadingLibrary: String { String(cString: ck_threading_runtime()) }

    /// Measures this machine's fp32 FMA throughput in GFLOP/s on the active path.
    ///
    /// ```swift
    /// let peak = Runtime.measureFMAPeak(threads: 2)   // ≈ 190 on two Zen 4 cores
    /// ```
    public static func measureFMAPeak(threads: Int = 0) -> Double {
        ck_fma_peak_gflops(Int32(clamping: threads))
    }
}
