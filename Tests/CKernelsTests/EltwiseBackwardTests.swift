import CKernels
import Foundation
import Testing

/// The element-wise backward kernels against the derivatives written out in double precision,
/// on every ISA path and 1–3 threads, including the sub-gradient conventions at 0.
@Suite(.serialized)
struct EltwiseBackwardTests {
    typealias Derivative = @Sendable (_ x: Double, _ y: Double) -> Double
    static let cases: [(String, ck_unary_op, Derivative)] = [
        ("neg", CK_UNARY_NEG, { _, _ in -1 }),
        ("exp", CK_UNARY_EXP, { _, y in y }),
        ("log", CK_UNARY_LOG, { x, _ in 1 / x }),
        ("sqrt", CK_UNARY_SQRT, { _, y in 0.5 / y }),
        ("abs", CK_UNARY_ABS, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }),
        ("tanh", CK_UNARY_TANH, { _, y in 1 - y * y }),
        ("sigmoid", CK_UNARY_SIGMOID, { _, y in y * (1 - y) }),
        ("relu", CK_UNARY_RELU, { x, _ in x > 0 ? 1 : 0 }),
        ("square", CK_UNARY_SQUARE, { x, _ in 2 * x }),
    ]

    @Test(arguments: [1, 17, 100_003])
    func unaryBackward(n: Int) {
        let positive = OptimizerUpdateTests.values(n, seed: 1, 0.1, 4)  // log and sqrt need x > 0
        var mixed = OptimizerUpdateTests.values(n, seed: 2, -4, 4)
        mixed[0] = 0  // the sub-gradient at 0
        let dy = OptimizerUpdateTests.values(n, seed: 3)
        for (name, op, derivative) in Self.cases {
            let x = (op == CK_UNARY_LOG || op == CK_UNARY_SQRT) ? positive : mixed
            var y = [Float](repeating: 0, count: n)
            ck_unary(op, Int64(n), x, &y)
            OptimizerUpdateTests.onEveryPath {
                var dx = [Float](repeating: .nan, count: n)
                ck_unary_backward(op, Int64(n), x, y, dy, &dx)
                for i in 0..<n {
                    let want = Double(dy[i]) * derivative(Double(x[i]), Double(y[i]))
                    #expect(
                        abs(Double(dx[i]) - want) <= 4e-7 * max(1, abs(want)),
                        "\(name)'(\(x[i])): \(dx[i]) vs \(want)")
                }
            }
        }
    }

    @Test(arguments: [Float(2), 3, 0.5, -1])
    func powBackward(p: Float) {
        let x = OptimizerUpdateTests.values(1000, seed: 4, 0.1, 3)
        let dy = OptimizerUpdateTests.values(1000, seed: 5)
        var dx = [Float](repeating: .nan, count: 1000)
        ck_pow_scalar_backward(1000, x, p, dy, &dx)
        for i in 0..<1000 {
            let want = Double(dy[i]) * Double(p) * Foundation.pow(Double(x[i]), Double(p) - 1)
            #expect(abs(Double(dx[i]) - want) <= 1e-6 * max(1, abs(want)))
        }
    }

    @Test(arguments: [(1, 1), (3, 10), (7000, 10)])
    func softmaxBackward(rows: Int, cols: Int) {
        let logits = OptimizerUpdateTests.values(rows * cols, seed: 6, -3, 3)
        let dy = OptimizerUpdateTests.values(rows * cols, seed: 7)
        var y = [Float](repeating: 0, count: rows * cols), logY = y
        ck_softmax(Int64(rows), Int64(cols), logits, &y)
        ck_log_softmax(Int64(rows), Int64(cols), logits, &logY)
        defer { ck_set_thread_num_threads(0) }
        for threads in 1...3 {
            ck_set_thread_num_threads(Int32(threads))
            var dx = [Float](repeating: .nan, count: rows * cols), dxLog = dx
            ck_softmax_backward(Int64(rows), Int64(cols), y, dy, &dx)
            ck_log_softmax_backward(Int64(rows), Int64(cols), logY, dy, &dxLog)
            for r in 0..<rows {
                let row = r * cols..<(r + 1) * cols
                // Jacobian-vector products written from the Jacobians themselves.
                let p = y[row].map(Double.init)
                for j in 0..<cols {
                    var soft = 0.0, log = 0.0
                    for i in 0..<cols {
                        let dyi = Double(dy[r * cols + i])
                        soft += dyi * p[i] * ((i == j ? 1 : 0) - p[j])
                        log += dyi * ((i == j ? 1 : 0) - p[j])
                    }
                    #expect(abs(Double(dx[r * cols + j]) - soft) <= 1e-6)
                    #expect(abs(Double(dxLog[r * cols + j]) - log) <= 2e-6)
                }
            }
        }
    }
}
