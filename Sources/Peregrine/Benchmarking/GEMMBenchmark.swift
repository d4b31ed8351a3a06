import CKernels

/// One matrix product to measure: `C[m×n] = op(A) · op(B)` with `k` the shared dimension.
///
/// ```swift
/// let conv1 = GEMMProblem(m: 25088, n: 64, k: 288)       // im2col of the cnn's second conv
/// print(conv1, conv1.flops)                              // 25088x64x288 NN 924844032.0
/// ```
public struct GEMMProblem: Sendable, Hashable, CustomStringConvertible {
    /// Rows of C.
    public var m: Int
    /// Columns of C.
    public var n: Int
    /// The summed dimension.
    public var k: Int
    /// Whether A is stored transposed (k×m).
    public var transA: Bool
    /// Whether B is stored transposed (n×k).
    public var transB: Bool

    /// A problem; A and B untransposed unless said.
    ///
    /// ```swift
    /// GEMMProblem(m: 128, n: 784, k: 512, transB: true)   // a Dense layer's input gradient
    /// ```
    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false) {
        self.m = m
        self.n = n
        self.k = k
        self.transA = transA
        self.transB = transB
    }

    /// Floating-point operations of one product: 2·m·n·k.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// `MxNxK NN`, the transpose flags of A then B.
    public var description: String {
        "\(m)x\(n)x\(k) \(transA ? "T" : "N")\(transB ? "T" : "N")"
    }

    /// The squares every BLAS is compared on.
    public static let squares: [GEMMProblem] = [512, 1024, 2048].map {
        GEMMProblem(m: $0, n: $0, k: $0)
    }

    /// The products that training the compass workloads runs (Dense forward and both backward
    /// products of the mlp, the classifier head, the cnn's im2col convolutions and their weight
    /// gradient, the LSTM's recurrent step).
    public static let trainingShapes: [GEMMProblem] = [
        GEMMProblem(m: 128, n: 512, k: 784),
        GEMMProblem(m: 128, n: 784, k: 512, transB: true),
        GEMMProblem(m: 784, n: 512, k: 128, transA: true),
        GEMMProblem(m: 128, n: 10, k: 512),
        GEMMProblem(m: 25088, n: 64, k: 288),
        GEMMProblem(m: 6272, n: 64, k: 576),
        GEMMProblem(m: 288, n: 64, k: 25088, transA: true),
        GEMMProblem(m: 128, n: 512, k: 128),
    ]
}

/// Times GEMM backends on a ``GEMMProblem``: best-of-several, each sample long enough to
/// swamp the clock's resolution, so that ratios of two backends measured back to back are stable
/// on a shared machine even when absolute numbers drift.
///
/// ```swift
/// let native = GEMMBenchmark(problem: GEMMProblem(m: 1024, n: 1024, k: 1024))
/// print(native.gflops(backend: .native))
/// ```
public final class GEMMBenchmark {
    /// The problem measured.
    public let problem: GEMMProblem
    private let a: UnsafeMutablePointer<Float>
    private let b: UnsafeMutablePointer<Float>
    private let c: UnsafeMutablePointer<Float>

    /// Allocates and fills the operands (uniform in [-1, 1), seeded) once.
    ///
    /// ```swift
    /// let bench = GEMMBenchmark(problem: .squares[0])
    /// ```
    public init(problem: GEMMProblem) {
        self.problem = problem
        let aCount = max(problem.m * problem.k, 1)
        let bCount = max(problem.k * problem.n, 1)
        let cCount = max(problem.m * problem.n, 1)
        a = .allocate(capacity: aCount)
        b = .allocate(capacity: bCount)
        c = .allocate(capacity: cCount)
        ck_random_uniform(Int64(aCount), 1, 0, -1, 1, a)
        ck_random_uniform(Int64(bCount), 2, 0, -1, 1, b)
        ck_fill(Int64(cCount), 0, c)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
    }

    /// Runs the product once on `backend`.
    ///
    /// ```swift
    /// bench.run(backend: .native)
    /// ```
    public func run(backend: GEMM.Backend) {
        let saved = GEMM.backend
        GEMM.backend = backend
        defer { GEMM.backend = saved }
        let p = problem
        GEMM.sgemm(
            transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, alpha: 1,
            a: a, lda: p.transA ? p.m : p.k, b: b, ldb: p.transB ? p.k : p.n,
            beta: 0, c: c, ldc: p.n)
    }

    /// Best GFLOP/s over `samples` samples, each at least `sampleSeconds` of repeated products.
    ///
    /// ```swift
    /// let gflops = bench.gflops(backend: .native, samples: 5)
    /// ```
    public func gflops(backend: GEMM.Backend, samples: Int = 5, sampleSeconds: Double = 0.05)
        -> Double
    {
        run(backend: backend)  // warm the caches and the packing buffers
        let clock = ContinuousClock()
        var best = 0.0
        for _ in 0..<samples {
            var repeats = 0
            let start = clock.now
            var elapsed = 0.0
            repeat {
                run(backend: backend)
                repeats += 1
                elapsed = (clock.now - start).seconds
            } while elapsed < sampleSeconds
            best = max(best, problem.flops * Double(repeats) / elapsed * 1e-9)
        }
        return best
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
