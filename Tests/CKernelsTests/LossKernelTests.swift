import CKernels
import Foundation
import Testing

/// The fused cross-entropies against double-precision references written from the definitions
/// (log of a softmax built from plain exponentials), on 1–3 threads, with saturated logits where
/// a naive formula overflows.
@Suite(.serialized)
struct LossKernelTests {
    static func values(_ n: Int, seed: UInt32, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        OptimizerUpdateTests.values(n, seed: seed, lo, hi)
    }

    /// log softmax of one row in double, from its definition.
    static func logSoftmax(_ x: ArraySlice<Float>) -> [Double] {
        let m = Double(x.max() ?? 0)
        let logSum = log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
        return x.map { Double($0) - m - logSum }
    }

    static func close(_ got: Float, _ want: Double, _ tol: Double = 2e-6) -> Bool {
        abs(Double(got) - want) <= tol * max(1, abs(want))
    }

    @Test(arguments: [(1, 1), (3, 10), (17, 33), (5000, 10)])  // 5000×10 runs threaded
    func softmaxCrossEntropy(rows: Int, cols: Int) {
        var logits = Self.values(rows * cols, seed: 1, -8, 8)
        logits[0] = 80  // exp(80) overflows float: the kernel must subtract the max first
        let targets = Self.values(rows * cols, seed: 2, 0, 1)
        let labels = (0..<rows).map { Int32(($0 * 7) % cols) }
        let scale = Self.values(rows, seed: 3, 0, 2)
        defer { ck_set_thread_num_threads(0) }
        for threads in 1...3 {
            ck_set_thread_num_threads(Int32(threads))
            var loss = [Float](repeating: .nan, count: rows)
            var grad = [Float](repeating: .nan, count: rows * cols)
            var sparseLoss = loss, sparseGrad = grad
            ck_softmax_cross_entropy(Int64(rows), Int64(cols), logits, targets, &loss, &grad, scale)
            ck_sparse_softmax_cross_entropy(
                Int64(rows), Int64(cols), logits, labels, &sparseLoss, &sparseGrad, scale)
            for r in 0..<rows {
                let row = r * cols..<(r + 1) * cols
                let ls = Self.logSoftmax(logits[row])
                let y = targets[row].map(Double.init)
                let wantLoss = -zip(y, ls).reduce(0.0) { $0 + $1.0 * $1.1 }
                #expect(Self.close(loss[r], wantLoss), "row \(r): \(loss[r]) vs \(wantLoss)")
                #expect(Self.close(sparseLoss[r], -ls[Int(labels[r])]))
                for j in 0..<cols {
                    let p = exp(ls[j])
                    let want = Double(scale[r]) * (p - y[j])  // TF's gradient
                    let wantSparse = Double(scale[r]) * (p - (j == Int(labels[r]) ? 1 : 0))
                    #expect(Self.close(grad[r * cols + j], want), "grad \(r),\(j)")
                    #expect(Self.close(sparseGrad[r * cols + j], wantSparse), "sparse grad \(r),\(j)")
                }
            }
        }
    }

    @Test(arguments: [0, 1, 17, 100_003])
    func sigmoidCrossEntropy(n: Int) {
        var x = Self.values(n, seed: 4, -20, 20)
        if n > 2 { x[0] = 100; x[1] = -100 }  // exp(100) overflows: the stable form must not
        let y = Self.values(n, seed: 5, 0, 1)
        defer { ck_set_thread_num_threads(0) }
        for threads in 1...3 {
            ck_set_thread_num_threads(Int32(threads))
            var loss = [Float](repeating: .nan, count: n)
            var grad = [Float](repeating: .nan, count: n)
            ck_sigmoid_cross_entropy(Int64(n), x, y, &loss, &grad, 0.5)
            for i in 0..<n {
                let (xi, yi) = (Double(x[i]), Double(y[i]))
                // log σ(x) and log(1-σ(x)) in double, each in its non-overflowing form.
                let logP = -log1p(exp(-abs(xi))) + min(xi, 0)
                let logQ = -log1p(exp(-abs(xi))) - max(xi, 0)
                let wantLoss = -(yi * logP + (1 - yi) * logQ)
                #expect(Self.close(loss[i], wantLoss), "loss \(i): x=\(xi)")
                #expect(Self.close(grad[i], 0.5 * (exp(logP) - yi)), "grad \(i)")
            }
        }
    }

    @Test func sparseLabels() {
        let x: [Float] = [0, 3, 2, -1, 1]
        var labels = [Int32](repeating: 7, count: 5)
        var valid = [Float](repeating: 7, count: 5)
        #expect(ck_sparse_labels(5, x, 4, 1, -1, &labels, &valid) == -1)
        #expect(labels == [0, 3, 2, 0, 1] && valid == [1, 1, 1, 0, 1])
        #expect(ck_sparse_labels(5, x, 4, 0, 0, &labels, nil) == 3)  // -1 without ignore_class
        #expect(ck_sparse_labels(2, [1, 4], 4, 0, 0, &labels, nil) == 1)  // == classes
        #expect(ck_sparse_labels(2, [1, 2.5], 4, 0, 0, &labels, nil) == 1)  // not an integer
        #expect(ck_sparse_labels(1, [.nan], 4, 0, 0, &labels, nil) == 0)
    }

    @Test(arguments: [0, 5, 100_003])
    func sumOfSquares(n: Int) {
        let x = Self.values(n, seed: 6)
        let want = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        defer { ck_set_thread_num_threads(0) }
        for threads in 1...3 {
            ck_set_thread_num_threads(Int32(threads))
            #expect(abs(ck_sum_of_squares(Int64(n), x) - want) <= 1e-9 * max(1, want))
        }
    }
}
