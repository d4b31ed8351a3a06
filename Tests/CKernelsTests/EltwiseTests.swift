import CKernels
import Foundation
import Testing

/// ck_unary, ck_pow_scalar, ck_binary, ck_fill against plain Swift loops, on every ISA path and
/// 1–3 threads. Serialized: the sweep switches the process-wide ISA and thread count.
@Suite(.serialized)
struct EltwiseTests {
    /// The libm reference of each unary op and the ulps it may differ by: exact ops must match
    /// bit for bit; the vector transcendentals are bounded in vmath.h (exp, log ≤ 1, tanh ≤ 2,
    /// sigmoid ≤ 3 ulp against the double-precision value).
    static var unaryCases: [(ck_unary_op, (Float) -> Float, Double)] { [
        (CK_UNARY_NEG, { -$0 }, 0),
        (CK_UNARY_EXP, { expf($0) }, 1),
        (CK_UNARY_LOG, { logf($0) }, 1),
        (CK_UNARY_SQRT, { sqrtf($0) }, 0),
        (CK_UNARY_ABS, { abs($0) }, 0),
        (CK_UNARY_TANH, { tanhf($0) }, 2),
        (CK_UNARY_SIGMOID, { Float(1 / (1 + Foundation.exp(-Double($0)))) }, 3),
        (CK_UNARY_RELU, { $0 < 0 ? 0 : $0 }, 0),
        (CK_UNARY_SQUARE, { $0 * $0 }, 0),
    ] }

    @Test func unaryMatchesReferenceOnEveryPath() {
        KernelSweep.forEachConfiguration { isa, threads in
            for (op, reference, tolerance) in Self.unaryCases {
                for n in KernelSweep.sizes {
                    // log and sqrt need positive inputs; the others see both signs and the
                    // exp argument range where results are normal
                    let positive = op == CK_UNARY_LOG || op == CK_UNARY_SQRT
                    let x = KernelSweep.operands(n, seed: UInt32(n) + op.rawValue,
                                                 in: positive ? 1e-3...50 : -20...20)
                    var y = [Float](repeating: .nan, count: n)
                    ck_unary(op, Int64(n), x, &y)
                    var worst = 0.0
                    for i in 0..<n { worst = max(worst, KernelSweep.ulps(y[i], reference(x[i]))) }
                    #expect(worst <= tolerance, "op \(op.rawValue) n \(n) isa \(isa.rawValue) threads \(threads)")
                }
            }
        }
    }

    @Test func unaryInPlace() {
        var x = KernelSweep.operands(1000, seed: 5)
        let want = x.map { tanhf($0) }
        x.withUnsafeMutableBufferPointer { ck_unary(CK_UNARY_TANH, 1000, $0.baseAddress, $0.baseAddress) }
        for i in 0..<1000 { #expect(KernelSweep.ulps(x[i], want[i]) <= 2) }
    }

    /// Annex F special values, on every path: inf, NaN, ±0, subnormals, overflow and underflow.
    @Test func transcendentalsHandleSpecialValues() {
        let x: [Float] = [0, -0.0, .infinity, -.infinity, .nan, -1, Float(bitPattern: 0x0001_0000), 89, -104, 88.7, -88,
                          100, -100, 1, 0.5, 9.5, -9.5, 1e-30, .greatestFiniteMagnitude, -Float(bitPattern: 0x0001_0000)]
        KernelSweep.forEachConfiguration { isa, _ in
            for (op, reference, tolerance) in Self.unaryCases {
                var y = [Float](repeating: 0, count: x.count)
                ck_unary(op, Int64(x.count), x, &y)
                for i in x.indices {
                    let want = reference(x[i])
                    // a subnormal result may be off by a denormal step or two
                    if want.isSubnormal || (want == 0 && y[i].isSubnormal) {
                        #expect(abs(y[i] - want) <= 2 * Float.leastNonzeroMagnitude)
                    } else {
                        #expect(KernelSweep.ulps(y[i], want) <= tolerance,
                                "op \(op.rawValue) x \(x[i]) got \(y[i]) want \(want) isa \(isa.rawValue)")
                    }
                }
            }
        }
    }

    /// Saturation is exact: tanh rounds to ±1 beyond |x| ≈ 9.01, sigmoid to 1 beyond x ≈ 17.
    @Test func saturatedActivationsAreExact() {
        let x: [Float] = [9.5, -9.5, 10, 100, -100, .infinity, -.infinity]
        KernelSweep.forEachConfiguration { isa, _ in
            var y = [Float](repeating: 0, count: x.count)
            ck_unary(CK_UNARY_TANH, Int64(x.count), x, &y)
            #expect(y == [1, -1, 1, 1, -1, 1, -1], "isa \(isa.rawValue)")
            ck_unary(CK_UNARY_SIGMOID, Int64(x.count), x, &y)
            // sigmoid(-100) = e^-100 is subnormal (3.7e-44), not 0
            #expect(y[3] == 1 && y[4] > 0 && y[4] < Float.leastNormalMagnitude && y[5] == 1 && y[6] == 0, "isa \(isa.rawValue)")
        }
    }

    /// A sample of the exhaustive measurement in vmath.h: every 997th float bit pattern over
    /// the whole range, on the vector paths.
    @Test func vectorMathErrorBoundsOnASampleOfAllFloats() {
        var x: [Float] = []
        var bits: UInt32 = 0
        while bits < 0xffff_0000 {
            x.append(Float(bitPattern: bits))
            bits &+= 997 * 17
        }
        KernelSweep.forEachConfiguration { isa, threads in
            guard threads == 1, isa != CK_ISA_GENERIC else { return }
            for (op, reference, tolerance) in Self.unaryCases where tolerance > 0 {
                var y = [Float](repeating: 0, count: x.count)
                ck_unary(op, Int64(x.count), x, &y)
                var worst = 0.0
                for i in x.indices {
                    let want = reference(x[i])
                    if want.isSubnormal || (want == 0 && y[i].isSubnormal) {
                        #expect(abs(y[i] - want) <= 2 * Float.leastNonzeroMagnitude)
                    } else {
                        worst = max(worst, KernelSweep.ulps(y[i], want))
                    }
                }
                #expect(worst <= tolerance, "op \(op.rawValue) isa \(isa.rawValue): \(worst) ulp")
            }
        }
    }

    @Test func powScalarMatchesPowf() {
        KernelSweep.forEachConfiguration { _, _ in
            for p: Float in [2, 0.5, 1, 3, -1.5, 0] {
                for n in KernelSweep.sizes {
                    let x = KernelSweep.operands(n, seed: UInt32(n), in: 0.01...4)
                    var y = [Float](repeating: .nan, count: n)
                    ck_pow_scalar(Int64(n), x, p, &y)
                    // 2 and ½ are the correctly rounded x·x and √x; other exponents are powf itself
                    let want: (Float) -> Float = p == 2 ? { Float(Double($0) * Double($0)) }
                        : p == 0.5 ? { Float(Double($0).squareRoot()) } : { powf($0, p) }
                    for i in 0..<n where y[i] != want(x[i]) {
                        Issue.record("pow \(p) n \(n) i \(i): \(y[i]) vs \(want(x[i]))")
                        break
                    }
                }
            }
        }
    }

    // MARK: - Binary with broadcasting

    static func binaryReference(_ op: ck_binary_op, _ a: Float, _ b: Float) -> Float {
        switch op {
        case CK_BINARY_ADD: return a + b
        case CK_BINARY_SUB: return a - b
        case CK_BINARY_MUL: return a * b
        case CK_BINARY_DIV: return a / b
        case CK_BINARY_POW: return powf(a, b)
        case CK_BINARY_MAX: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        default: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        }
    }

    /// Runs ck_binary on an output `shape` with element strides, against an index-by-index loop.
    static func checkBinary(_ op: ck_binary_op, shape: [Int], a: [Float], aStrides: [Int],
                            b: [Float], bStrides: [Int], context: String) {
        let count = shape.reduce(1, *)
        var y = [Float](repeating: .nan, count: count)
        ck_binary(op, Int32(shape.count), shape.map(Int64.init), a, aStrides.map(Int64.init),
                  b, bStrides.map(Int64.init), &y)
        for flat in 0..<count {
            var rem = flat, oa = 0, ob = 0
            for d in shape.indices.reversed() {
                let i = rem % shape[d]
                rem /= shape[d]
                oa += i * aStrides[d]
                ob += i * bStrides[d]
            }
            let want = binaryReference(op, a[oa], b[ob])
            if KernelSweep.ulps(y[flat], want) > 0 {
                Issue.record("\(context) op \(op.rawValue) at \(flat): \(y[flat]) vs \(want)")
                return
            }
        }
    }

    @Test func binaryBroadcastPatternsOnEveryPath() {
        let ops = [CK_BINARY_ADD, CK_BINARY_SUB, CK_BINARY_MUL, CK_BINARY_DIV, CK_BINARY_POW,
                   CK_BINARY_MAX, CK_BINARY_MIN]
        KernelSweep.forEachConfiguration { isa, threads in
            let ctx = "isa \(isa.rawValue) threads \(threads)"
            for op in ops {
                for n in KernelSweep.sizes {
                    var a = KernelSweep.operands(n, seed: 1, in: 0.1...3)
                    let b = KernelSweep.operands(n, seed: 2, in: 0.1...3)
                    if n > 5 { a[3] = .nan } // max/min must propagate NaN from either side
                    Self.checkBinary(op, shape: [n], a: a, aStrides: [1], b: b, bStrides: [1], context: ctx)
                    Self.checkBinary(op, shape: [n], a: a, aStrides: [1], b: [1.5], bStrides: [0], context: ctx)
                    Self.checkBinary(op, shape: [n], a: [2.5], aStrides: [0], b: b, bStrides: [1], context: ctx)
                }
                // [rows, cols] ⊕ [cols] (bias), [rows, 1] ⊕ [1, cols] (outer), a transposed view
                for (rows, cols) in [(3, 17), (33, 127), (130, 101), (7, 1)] {
                    let a = KernelSweep.operands(rows * cols, seed: 3, in: 0.1...3)
                    let row = KernelSweep.operands(cols, seed: 4, in: 0.1...3)
                    let column = KernelSweep.operands(rows, seed: 5, in: 0.1...3)
                    Self.checkBinary(op, shape: [rows, cols], a: a, aStrides: [cols, 1], b: row,
                                bStrides: [0, 1], context: ctx)
                    Self.checkBinary(op, shape: [rows, cols], a: column, aStrides: [1, 0], b: row,
                                bStrides: [0, 1], context: ctx)
                    Self.checkBinary(op, shape: [rows, cols], a: a, aStrides: [1, rows], b: a,
                                bStrides: [cols, 1], context: ctx)
                    Self.checkBinary(op, shape: [2, rows, 1, cols], a: a, aStrides: [0, cols, 0, 1],
                                b: column, bStrides: [0, 1, 0, 0], context: ctx)
                }
            }
        }
    }

    @Test func fillsAndConversion() {
        KernelSweep.forEachConfiguration { _, _ in
            for n in KernelSweep.sizes {
                var y = [Float](repeating: 0, count: n + 1)
                ck_fill(Int64(n), 2.5, &y)
                #expect(y.prefix(n).allSatisfy { $0 == 2.5 })
                #expect(y[n] == 0) // not one past the end
                var iy = [Int32](repeating: 0, count: n + 1)
                ck_fill_int32(Int64(n), -7, &iy)
                #expect(iy.prefix(n).allSatisfy { $0 == -7 } && iy[n] == 0)
                let ints = (0..<n).map { Int32($0) - 50 }
                var f = [Float](repeating: .nan, count: n)
                ck_int32_to_float(Int64(n), ints, &f)
                #expect(f == ints.map { Float($0) })
            }
        }
    }
}
