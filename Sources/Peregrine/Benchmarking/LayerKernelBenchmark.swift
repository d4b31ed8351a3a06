import CKernels

/// One kernel to time: a closure that runs it once, and the work of one run (floating-point
/// operations for compute-bound kernels, bytes read plus written for memory-bound ones).
///
/// ```swift
/// let copy = KernelTiming(name: "copy", flops: 0, bytes: 8e6) { /* one copy */ }
/// print(copy.measure().gigabytesPerSecond)
/// ```
public struct KernelTiming {
    /// What is timed, e.g. `conv forward 128x28x28x1 k3 f32`.
    public let name: String
    /// Floating-point operations of one run (0 for memory-bound kernels).
    public let flops: Double
    /// Bytes one run must read and write at least (each tensor once).
    public let bytes: Double
    /// Runs the kernel once.
    public let run: () -> Void
    /// Keeps the operand buffers alive as long as the timing.
    var owner: AnyObject?

    /// A kernel and the work of one run.
    public init(name: String, flops: Double, bytes: Double, run: @escaping () -> Void) {
        self.name = name
        self.flops = flops
        self.bytes = bytes
        self.run = run
    }

    /// Fastest single run seen in `samples` samples of at least `sampleSeconds` each. The
    /// minimum, not the mean: on a shared machine a parallel region now and then waits a whole
    /// time slice for its second thread, and the fastest run is the kernel's own speed.
    ///
    /// ```swift
    /// let result = timing.measure(samples: 5)
    /// ```
    public func measure(samples: Int = 5, sampleSeconds: Double = 0.05) -> KernelResult {
        run()  // warm caches and per-thread scratch buffers
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<max(samples, 1) {
            let start = clock.now
            repeat {
                let t0 = clock.now
                run()
                best = min(best, (clock.now - t0).seconds)
            } while (clock.now - start).seconds < sampleSeconds
        }
        return KernelResult(name: name, seconds: best, flops: flops, bytes: bytes)
    }

    /// Fastest single runs of a kernel and of its baseline, sampled alternately (kernel, baseline,
    /// kernel, ...) so that both see the same load on a shared machine; their ratio is the
    /// kernel's efficiency measured in one stretch of time.
    ///
    /// ```swift
    /// let (conv, gemm) = KernelTiming.measureAlternately(convTiming, gemmTiming)
    /// print(conv.gflops / gemm.gflops)
    /// ```
    public static func measureAlternately(
        _ kernel: KernelTiming, _ baseline: KernelTiming, samples: Int = 5, sampleSeconds: Double = 0.05
    ) -> (kernel: KernelResult, baseline: KernelResult) {
        kernel.run()
        baseline.run()
        let clock = ContinuousClock()
        var best = (Double.infinity, Double.infinity)
        func sample(_ timing: KernelTiming, _ best: inout Double) {
            timing.run()  // the other kernel's data just left the caches: one untimed run
            let start = clock.now
            repeat {
                let t0 = clock.now
                timing.run()
                best = min(best, (clock.now - t0).seconds)
            } while (clock.now - start).seconds < sampleSeconds
        }
        for _ in 0..<max(samples, 1) {
            sample(kernel, &best.0)
            sample(baseline, &best.1)
        }
        return (KernelResult(name: kernel.name, seconds: best.0, flops: kernel.flops, bytes: kernel.bytes),
                KernelResult(name: baseline.name, seconds: best.1, flops: baseline.flops, bytes: baseline.bytes))
    }

    func owned(by owner: AnyObject) -> KernelTiming {
        var copy = self
        copy.owner = owner
        return copy
    }
}

/// The best time of one kernel run and the rates it gives.
public struct KernelResult: Sendable {
    /// What was timed.
    public let name: String
    /// Seconds of the fastest run.
    public let seconds: Double
    /// Operations of one run.
    public let flops: Double
    /// Bytes of one run.
    public let bytes: Double
    /// flops / seconds, in GFLOP/s.
    public var gflops: Double { flops / seconds * 1e-9 }
    /// bytes / seconds, in GB/s.
    public var gigabytesPerSecond: Double { bytes / seconds * 1e-9 }
}

/// Operand buffers a benchmark owns: filled once with seeded uniform values, freed with it.
/// 64-byte aligned, as every tensor's buffer is (`allocate` gives 16 bytes, which would make the
/// memory-bound kernels straddle cache lines on every vector access and measure a case the
/// library never runs).
final class BenchmarkBuffers {
    private var buffers: [UnsafeMutableRawPointer] = []

    private func aligned<T>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        buffers.append(p)
        return p.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func floats(_ count: Int, seed: UInt64, low: Float = -1, high: Float = 1) -> UnsafeMutablePointer<Float> {
        let p = aligned(count, Float.self)
        ck_random_uniform(Int64(count), seed, 0, low, high, p)
        return p
    }

    func ints(_ count: Int) -> UnsafeMutablePointer<Int32> {
        let p = aligned(count, Int32.self)
        ck_fill_int32(Int64(count), 0, p)
        return p
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

/// The convolution, pooling and batch-norm kernels on the cnn workload's shapes, each with the
/// baseline it is judged against, measured by the same process: a convolution against
/// `ck_sgemm` on its own im2col product (M = N·H_out·W_out, N = filters, K = kh·kw·Cin), the
/// memory-bound kernels against a plain threaded copy of the same number of bytes.
///
/// ```swift
/// for timing in LayerKernelBenchmarks.convolution() { print(timing.measure().gflops) }
/// ```
public enum LayerKernelBenchmarks {
    /// A convolution problem: input `[batch, size, size, channels]`, `filters` k×k filters,
    /// stride 1, valid padding.
    ///
    /// ```swift
    /// let conv2 = LayerKernelBenchmarks.ConvProblem(batch: 128, size: 13, channels: 32, filters: 64, kernel: 3)
    /// conv2.gemm   // (m: 15488, n: 64, k: 288)
    /// ```
    public struct ConvProblem: Sendable, CustomStringConvertible {
        /// Images, input height (= width), input channels, filters, kernel height (= width).
        public var batch, size, channels, filters, kernel: Int

        /// A square valid convolution with stride 1.
        public init(batch: Int, size: Int, channels: Int, filters: Int, kernel: Int) {
            (self.batch, self.size, self.channels, self.filters, self.kernel) = (batch, size, channels, filters, kernel)
        }
        /// `x[128,28,28,1] k3 f32`.
        public var description: String { "x[\(batch),\(size),\(size),\(channels)] k\(kernel) f\(filters)" }
        /// The cnn workload's two convolutions.
        public static let cnn = [
            ConvProblem(batch: 128, size: 28, channels: 1, filters: 32, kernel: 3),
            ConvProblem(batch: 128, size: 13, channels: 32, filters: 64, kernel: 3),
        ]
        var shape: ck_conv2d_shape {
            let out = size - kernel + 1
            return ck_conv2d_shape(
                batch: Int64(batch), in_h: Int64(size), in_w: Int64(size), in_c: Int64(channels),
                out_h: Int64(out), out_w: Int64(out), out_c: Int64(filters), kernel_h: Int32(kernel),
                kernel_w: Int32(kernel), stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1,
                pad_top: 0, pad_left: 0, groups: 1)
        }
        /// The im2col product's rows, columns and depth.
        public var gemm: (m: Int, n: Int, k: Int) {
            let out = size - kernel + 1
            return (batch * out * out, filters, kernel * kernel * channels)
        }
    }

    /// Per problem: the im2col GEMM, conv forward (bias + relu fused), the two backward GEMMs,
    /// and conv backward (filter + bias + data).
    public static func convolution(_ problems: [ConvProblem] = ConvProblem.cnn) -> [KernelTiming] {
        problems.flatMap { p -> [KernelTiming] in
            let buffers = BenchmarkBuffers()
            let (m, n, k) = p.gemm
            let x = buffers.floats(p.batch * p.size * p.size * p.channels, seed: 1)
            let w = buffers.floats(k * n, seed: 2, low: -0.1, high: 0.1)
            let bias = buffers.floats(n, seed: 3)
            let y = buffers.floats(m * n, seed: 4)
            let dy = buffers.floats(m * n, seed: 5)
            let dx = buffers.floats(p.batch * p.size * p.size * p.channels, seed: 6)
            let dw = buffers.floats(k * n, seed: 7), db = buffers.floats(n, seed: 8)
            let col = buffers.floats(m * k, seed: 9)
            let dcol = buffers.floats(m * k, seed: 10)
            var s = p.shape
            let flops = 2 * Double(m) * Double(n) * Double(k)
            return [
                KernelTiming(name: "gemm \(m)x\(n)x\(k) NN (im2col of \(p))", flops: flops, bytes: 0) {
                    ck_sgemm_bias_act(0, 0, Int32(m), Int32(n), Int32(k), 1, col, Int32(k), w, Int32(n), 0, y, Int32(n), bias, CK_ACT_RELU)
                },
                KernelTiming(name: "conv forward \(p)", flops: flops, bytes: 0) {
                    ck_conv2d_forward(&s, x, w, bias, CK_ACT_RELU, y)
                },
                KernelTiming(name: "gemm \(k)x\(n)x\(m) TN + \(m)x\(k)x\(n) NT (backward of \(p))", flops: 2 * flops, bytes: 0) {
                    ck_sgemm(1, 0, Int32(k), Int32(n), Int32(m), 1, col, Int32(k), dy, Int32(n), 0, dw, Int32(n))
                    ck_sgemm(0, 1, Int32(m), Int32(k), Int32(n), 1, dy, Int32(n), w, Int32(n), 0, dcol, Int32(k))
                },
                KernelTiming(name: "conv backward \(p)", flops: 2 * flops, bytes: 0) {
                    ck_conv2d_backward_filter(&s, x, dy, dw, db)
                    ck_conv2d_backward_data(&s, dy, w, dx)
                },
            ].map { $0.owned(by: buffers) }
        }
    }

    /// A threaded contiguous copy moving `bytes` bytes (half read, half written): the memory
    /// bandwidth the memory-bound kernels are compared with.
    public static func copy(bytes: Double) -> KernelTiming {
        let buffers = BenchmarkBuffers()
        let count = Int(bytes / 8)
        let a = buffers.floats(count, seed: 11), b = buffers.floats(count, seed: 12)
        var shape = [Int64(count)], stride: [Int64] = [1]
        return KernelTiming(name: "copy \(count * 4 / 1024) KiB", flops: 0, bytes: Double(count) * 8) {
            ck_copy_strided32(1, &shape, a, &stride, b, &stride)
        }.owned(by: buffers)
    }

    /// Max and average pooling 2×2/2 on the first convolution's output, forward (max keeps its
    /// argmax, as in training) and backward, plus global average and max pooling on the second's.
    public static func pooling(batch: Int = 128, size: Int = 26, channels: Int = 32) -> [KernelTiming] {
        let buffers = BenchmarkBuffers()
        let out = size / 2
        let inCount = batch * size * size * channels, outCount = batch * out * out * channels
        let x = buffers.floats(inCount, seed: 13), dx = buffers.floats(inCount, seed: 14)
        let y = buffers.floats(outCount, seed: 15), dy = buffers.floats(outCount, seed: 16)
        let argmax = buffers.ints(outCount)
        var s = ck_pool2d_shape(
            batch: Int64(batch), in_h: Int64(size), in_w: Int64(size), channels: Int64(channels),
            out_h: Int64(out), out_w: Int64(out), pool_h: 2, pool_w: 2, stride_h: 2, stride_w: 2,
            pad_top: 0, pad_left: 0)
        ck_maxpool2d_forward(&s, x, y, argmax)
        let tag = "x[\(batch),\(size),\(size),\(channels)] 2x2/2"
        let inBytes = Double(inCount) * 4, outBytes = Double(outCount) * 4
        let cells = 11 * 11, gChannels = 64
        let gx = buffers.floats(batch * cells * gChannels, seed: 17), gdx = buffers.floats(batch * cells * gChannels, seed: 18)
        let gy = buffers.floats(batch * gChannels, seed: 19), gdy = buffers.floats(batch * gChannels, seed: 20)
        let gBytes = Double(batch * cells * gChannels) * 4
        let gTag = "x[\(batch),11,11,\(gChannels)]"
        return [
            KernelTiming(name: "maxpool forward \(tag)", flops: 0, bytes: inBytes + 2 * outBytes) {
                ck_maxpool2d_forward(&s, x, y, argmax)
            },
            KernelTiming(name: "maxpool backward \(tag)", flops: 0, bytes: inBytes + 2 * outBytes) {
                ck_maxpool2d_backward(&s, dy, argmax, dx)
            },
            KernelTiming(name: "avgpool forward \(tag)", flops: 0, bytes: inBytes + outBytes) {
                ck_avgpool2d_forward(&s, x, y)
            },
            KernelTiming(name: "avgpool backward \(tag)", flops: 0, bytes: inBytes + outBytes) {
                ck_avgpool2d_backward(&s, dy, dx)
            },
            KernelTiming(name: "global avgpool forward \(gTag)", flops: 0, bytes: gBytes) {
                ck_global_avgpool2d_forward(Int64(batch), Int64(cells), Int64(gChannels), gx, gy)
            },
            KernelTiming(name: "global avgpool backward \(gTag)", flops: 0, bytes: gBytes) {
                ck_global_avgpool2d_backward(Int64(batch), Int64(cells), Int64(gChannels), gdy, gdx)
            },
            KernelTiming(name: "global maxpool forward \(gTag)", flops: 0, bytes: gBytes) {
                ck_global_maxpool2d_forward(Int64(batch), Int64(cells), Int64(gChannels), gx, gy)
            },
            KernelTiming(name: "global maxpool backward \(gTag)", flops: 0, bytes: 2 * gBytes) {
                ck_global_maxpool2d_backward(Int64(batch), Int64(cells), Int64(gChannels), gx, gy, gdy, gdx)
            },
        ].map { $0.owned(by: buffers) }
    }

    /// Batch normalization of the first convolution's output ([rows = N·H·W, C]): training
    /// forward (statistics + normalisation), inference forward, and training backward.
    /// Bytes count each tensor once (x read, y written; x and dy read, dx written).
    public static func batchNormalization(batch: Int = 128, size: Int = 26, channels: Int = 32) -> [KernelTiming] {
        let buffers = BenchmarkBuffers()
        let rows = batch * size * size, count = rows * channels
        let x = buffers.floats(count, seed: 21), y = buffers.floats(count, seed: 22)
        let dy = buffers.floats(count, seed: 23), dx = buffers.floats(count, seed: 24)
        let gamma = buffers.floats(channels, seed: 25, low: 0.5, high: 1.5), beta = buffers.floats(channels, seed: 26)
        let mean = buffers.floats(channels, seed: 27), variance = buffers.floats(channels, seed: 28, low: 0.5, high: 2)
        let dgamma = buffers.floats(channels, seed: 29), dbeta = buffers.floats(channels, seed: 30)
        let bytes = Double(count) * 4
        let tag = "[\(rows), \(channels)]"
        return [
            KernelTiming(name: "batchnorm forward training \(tag)", flops: 0, bytes: 2 * bytes) {
                ck_batchnorm_forward_training(Int64(rows), Int64(channels), x, gamma, beta, 1e-3, 0, y, mean, variance)
            },
            KernelTiming(name: "batchnorm forward inference \(tag)", flops: 0, bytes: 2 * bytes) {
                ck_batchnorm_forward_inference(Int64(rows), Int64(channels), x, gamma, beta, mean, variance, 1e-3, 0, y)
            },
            KernelTiming(name: "batchnorm backward training \(tag)", flops: 0, bytes: 3 * bytes) {
                ck_batchnorm_backward(
                    Int64(rows), Int64(channels), x, dy, nil, mean, variance, gamma, 1e-3, 1, dx, dgamma, dbeta)
            },
        ].map { $0.owned(by: buffers) }
    }
}
