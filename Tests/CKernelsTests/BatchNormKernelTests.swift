import CKernels
import Testing

/// Batch-norm kernels against the per-channel formulas in double, on odd [rows, channels] (1 row,
/// 3 channels, 17, rows across the 64-row flush blocks and the threading threshold), with and
/// without gamma/beta and the fused ReLU, on every ISA path and 1–3 threads. Serialized: the
/// sweep switches process-wide settings.
@Suite(.serialized)
struct BatchNormKernelTests {
    static let shapes = [(1, 3), (5, 3), (17, 17), (130, 5), (4099, 67), (20_000, 3)]

    static func close(_ got: [Float], _ want: [Float], tol: Float) -> (Bool, Int) {
        for i in 0..<want.count where !(abs(got[i] - want[i]) <= tol * (1 + abs(want[i]))) { return (false, i) }
        return (got.count == want.count, -1)
    }

    @Test func trainingForwardAndBackwardMatchTheFormulas() {
        for (rows, channels) in Self.shapes {
            // an offset mean, so that the variance's cancellation is exercised
            let x = KernelSweep.operands(rows * channels, seed: 9).map { $0 * 3 + 5 }
            let dy = KernelSweep.operands(rows * channels, seed: 10)
            let gamma = KernelSweep.operands(channels, seed: 11, in: 0.5...2)
            let beta = KernelSweep.operands(channels, seed: 12)
            for (relu, affine) in [(0, true), (1, true), (0, false)] {
                let g = affine ? gamma : nil, b = affine ? beta : nil
                var wantY = [Float](repeating: 0, count: x.count)
                var wantMean = [Float](repeating: 0, count: channels), wantVar = wantMean
                ck_batchnorm_forward_training_reference(
                    Int64(rows), Int64(channels), x, g, b, 1e-3, Int32(relu), &wantY, &wantMean, &wantVar)
                var wantDX = [Float](repeating: 0, count: x.count)
                var wantDG = [Float](repeating: 0, count: channels), wantDB = wantDG
                for training in [Int32(1), 0] {
                    ck_batchnorm_backward_reference(
                        Int64(rows), Int64(channels), x, dy, relu == 1 ? wantY : nil, wantMean, wantVar, g,
                        1e-3, training, &wantDX, &wantDG, &wantDB)
                    KernelSweep.forEachConfiguration { isa, threads in
                        let tag = "[\(rows),\(channels)] relu \(relu) affine \(affine) training \(training) isa \(isa.rawValue) t\(threads)"
                        var y = [Float](repeating: .nan, count: x.count)
                        var mean = [Float](repeating: .nan, count: channels), variance = mean
                        ck_batchnorm_forward_training(
                            Int64(rows), Int64(channels), x, g, b, 1e-3, Int32(relu), &y, &mean, &variance)
                        #expect(Self.close(mean, wantMean, tol: 1e-6).0, "mean \(tag)")
                        #expect(Self.close(variance, wantVar, tol: 1e-5).0, "variance \(tag)")
                        #expect(Self.close(y, wantY, tol: 1e-5).0, "y \(tag) at \(Self.close(y, wantY, tol: 1e-5).1)")
                        var dx = [Float](repeating: .nan, count: x.count)
                        var dg = [Float](repeating: .nan, count: channels), db = dg
                        ck_batchnorm_backward(
                            Int64(rows), Int64(channels), x, dy, relu == 1 ? y : nil, mean, variance, g, 1e-3,
                            training, &dx, &dg, &db)
                        // sums over up to 2·10⁴ rows: float block sums, double across blocks
                        let sumTol: Float = 1e-5 * Float(rows).squareRoot()
                        #expect(Self.close(db, wantDB, tol: sumTol).0, "dbeta \(tag)")
                        #expect(Self.close(dg, wantDG, tol: sumTol).0, "dgamma \(tag)")
                        #expect(Self.close(dx, wantDX, tol: 1e-4).0, "dx \(tag) at \(Self.close(dx, wantDX, tol: 1e-4).1)")
                    }
                }
            }
        }
    }

    /// Operands placed `offset` floats past a 64-byte boundary, as a view into a tensor would be.
    final class Placed {
        let raw: UnsafeMutableRawPointer
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(_ values: [Float], offset: Int) {
            raw = UnsafeMutableRawPointer.allocate(byteCount: (values.count + 16) * 4, alignment: 64)
            pointer = (raw + offset * 4).bindMemory(to: Float.self, capacity: values.count)
            pointer.initialize(from: values, count: values.count)
            count = values.count
        }
        var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
        deinit { raw.deallocate() }
    }

    /// Channel counts that are multiples of 16 take the vector paths over rows realigned to 64
    /// bytes (per-channel constants rotated, the first and last row's edges one at a time):
    /// offsets of x, dy and y/dx against the formulas, on every ISA path and 1–3 threads.
    @Test func rowsOffFromTheCacheLineMatchTheFormulas() {
        // 9000 × 32: more rows per thread than the second pass's first (L2-hot) chunk of 1 MB
        let shapes = [(1, 16), (2, 32), (3, 48), (130, 64), (2051, 32), (700, 80), (9000, 32)]
        let offsets = [(0, 0, 0), (4, 4, 4), (15, 3, 7)]  // of x, dy, y and dx
        for (rows, channels) in shapes {
            let x = KernelSweep.operands(rows * channels, seed: 19).map { $0 * 3 + 5 }
            let dy = KernelSweep.operands(rows * channels, seed: 20)
            let gamma = KernelSweep.operands(channels, seed: 21, in: 0.5...2)
            let beta = KernelSweep.operands(channels, seed: 22)
            let movingVar = KernelSweep.operands(channels, seed: 23, in: 0.5...2)
            for relu: Int32 in [0, 1] {
                var wantY = [Float](repeating: 0, count: x.count)
                var wantMean = [Float](repeating: 0, count: channels), wantVar = wantMean
                ck_batchnorm_forward_training_reference(
                    Int64(rows), Int64(channels), x, gamma, beta, 1e-3, relu, &wantY, &wantMean, &wantVar)
                var wantDX = [Float](repeating: 0, count: x.count)
                var wantDG = [Float](repeating: 0, count: channels), wantDB = wantDG
                ck_batchnorm_backward_reference(
                    Int64(rows), Int64(channels), x, dy, relu == 1 ? wantY : nil, wantMean, wantVar, gamma, 1e-3,
                    1, &wantDX, &wantDG, &wantDB)
                var wantInference = [Float](repeating: 0, count: x.count)
                for i in 0..<x.count {
                    let c = i % channels
                    let inv = 1 / (movingVar[c] + 1e-3).squareRoot() * gamma[c]
                    let v = x[i] * inv + (beta[c] - wantMean[c] * inv)
                    wantInference[i] = relu == 1 && !(v > 0) ? 0 : v
                }
                for (ox, ody, oy) in rows > 5000 ? [offsets[2]] : offsets {  // debug time
                    let px = Placed(x, offset: ox), pdy = Placed(dy, offset: ody)
                    let py = Placed([Float](repeating: .nan, count: x.count), offset: oy)
                    let pdx = Placed([Float](repeating: .nan, count: x.count), offset: oy)
                    KernelSweep.forEachConfiguration { isa, threads in
                        let tag = "[\(rows),\(channels)] relu \(relu) offsets \((ox, ody, oy)) isa \(isa.rawValue) t\(threads)"
                        var mean = [Float](repeating: .nan, count: channels), variance = mean
                        ck_batchnorm_forward_training(
                            Int64(rows), Int64(channels), px.pointer, gamma, beta, 1e-3, relu, py.pointer, &mean,
                            &variance)
                        #expect(Self.close(mean, wantMean, tol: 1e-6).0, "mean \(tag)")
                        #expect(Self.close(variance, wantVar, tol: 1e-5).0, "variance \(tag)")
                        let y = py.values
                        #expect(Self.close(y, wantY, tol: 1e-5).0, "y \(tag) at \(Self.close(y, wantY, tol: 1e-5).1)")
                        var dg = [Float](repeating: .nan, count: channels), db = dg
                        ck_batchnorm_backward(
                            Int64(rows), Int64(channels), px.pointer, pdy.pointer, relu == 1 ? py.pointer : nil, mean,
                            variance, gamma, 1e-3, 1, pdx.pointer, &dg, &db)
                        let sumTol: Float = 1e-5 * Float(rows).squareRoot()
                        #expect(Self.close(db, wantDB, tol: sumTol).0, "dbeta \(tag)")
                        #expect(Self.close(dg, wantDG, tol: sumTol).0, "dgamma \(tag)")
                        let dx = pdx.values
                        #expect(Self.close(dx, wantDX, tol: 1e-4).0, "dx \(tag) at \(Self.close(dx, wantDX, tol: 1e-4).1)")
                        ck_batchnorm_forward_inference(
                            Int64(rows), Int64(channels), px.pointer, gamma, beta, wantMean, movingVar, 1e-3, relu,
                            py.pointer)
                        let inferred = py.values
                        #expect(Self.close(inferred, wantInference, tol: 1e-6).0,
                                "inference \(tag) at \(Self.close(inferred, wantInference, tol: 1e-6).1)")
                    }
                }
            }
        }
    }

    @Test func inferenceUsesTheMovingStatisticsAsTensorFlowDoes() {
        let x: [Float] = [1, -2, 3, 4, 0.5, -6]
        let mean: [Float] = [0.5, -1, 2], variance: [Float] = [4, 0.25, 1]
        let gamma: [Float] = [2, 1, 0.5], beta: [Float] = [0, 1, -1]
        KernelSweep.forEachConfiguration { _, _ in
            var y = [Float](repeating: .nan, count: 6)
            ck_batchnorm_forward_inference(2, 3, x, gamma, beta, mean, variance, 1e-3, 0, &y)
            for i in 0..<6 {
                let c = i % 3
                let inv = 1 / (variance[c] + 1e-3).squareRoot() * gamma[c]
                #expect(abs(y[i] - (x[i] * inv + (beta[c] - mean[c] * inv))) <= 1e-6)
            }
            ck_batchnorm_forward_inference(2, 3, x, gamma, beta, mean, variance, 1e-3, 1, &y)
            #expect(y.allSatisfy { $0 >= 0 })
        }
    }

    /// Keras's convention: momentum weighs the OLD value: moving = moving·0.99 + batch·0.01.
    @Test func movingStatisticsWeighTheOldValue() {
        var mm: [Float] = [0, 1], mv: [Float] = [1, 1]
        let oneMinus = Float(1.0 - Double(Float(0.99)))
        ck_batchnorm_update_moving(2, 0.99, oneMinus, [2, 3], [4, 0], &mm, &mv)
        #expect(mm == [0 * 0.99 + 2 * oneMinus, 1 * 0.99 + 3 * oneMinus])
        #expect(mv == [1 * 0.99 + 4 * oneMinus, 0.99])
    }
}
