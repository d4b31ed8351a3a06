import CKernels
import Foundation
import Testing

/// ck_copy_strided32 against an index-by-index loop, and the counter-based generators' contract
/// (thread-count independence, continuation, range, moments). Serialized: the sweep switches
/// process-wide settings.
@Suite(.serialized)
struct CopyRandomTests {
    /// Copies `shape` from x (element strides xs, starting at xOffset) into a fresh contiguous
    /// array and checks it against the obvious loop.
    static func checkCopy(shape: [Int], x: [Float], xOffset: Int, xs: [Int], context: String) {
        let count = shape.reduce(1, *)
        var yStrides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { yStrides[d] = yStrides[d + 1] * shape[d + 1] }
        var y = [Float](repeating: .nan, count: count)
        x.withUnsafeBufferPointer { xp in
            ck_copy_strided32(Int32(shape.count), shape.map(Int64.init), xp.baseAddress! + xOffset,
                              xs.map(Int64.init), &y, yStrides.map(Int64.init))
        }
        for flat in 0..<count {
            var rem = flat, o = xOffset
            for d in shape.indices.reversed() { o += (rem % shape[d]) * xs[d]; rem /= shape[d] }
            if y[flat].bitPattern != x[o].bitPattern {
                Issue.record("\(context) shape \(shape) strides \(xs) at \(flat)")
                return
            }
        }
    }

    @Test func stridedCopyOnEveryPath() {
        KernelSweep.forEachConfiguration { isa, threads in
            let ctx = "isa \(isa.rawValue) threads \(threads)"
            for n in KernelSweep.sizes {
                let x = KernelSweep.operands(max(n, 1) * 3, seed: UInt32(n))
                Self.checkCopy(shape: [n], x: x, xOffset: 0, xs: [1], context: ctx)               // memcpy
                Self.checkCopy(shape: [n], x: x, xOffset: 0, xs: [3], context: ctx)               // gather
                Self.checkCopy(shape: [n], x: x, xOffset: max(n - 1, 0), xs: [-1], context: ctx)  // reversed
                Self.checkCopy(shape: [3, n], x: x, xOffset: 0, xs: [0, 1], context: ctx)         // broadcast rows
                Self.checkCopy(shape: [n, 3], x: x, xOffset: 0, xs: [1, n], context: ctx)         // transpose
            }
            for (a, b, c) in [(3, 17, 33), (1, 127, 5), (40, 50, 51)] {
                let x = KernelSweep.operands(a * b * c, seed: 7)
                Self.checkCopy(shape: [c, a, b], x: x, xOffset: 0, xs: [1, b * c, c], context: ctx) // permute
                Self.checkCopy(shape: [a, b / 2, c], x: x, xOffset: c, xs: [b * c, 2 * c, 1], context: ctx) // step-2 slice
                Self.checkCopy(shape: [a, 1, b, 1, c], x: x, xOffset: 0, xs: [b * c, 0, c, 5, 1], context: ctx)
            }
        }
    }

    @Test func copyWritesIntoStridedDestination() {
        // concatenation: two [2, 3] blocks into a [2, 6] output at column offsets 0 and 3
        let left: [Int32] = [1, 2, 3, 4, 5, 6], right: [Int32] = [7, 8, 9, 10, 11, 12]
        var y = [Int32](repeating: 0, count: 12)
        y.withUnsafeMutableBufferPointer { yp in
            ck_copy_strided32(2, [2, 3], left, [3, 1], yp.baseAddress!, [6, 1])
            ck_copy_strided32(2, [2, 3], right, [3, 1], yp.baseAddress! + 3, [6, 1])
        }
        #expect(y == [1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12])
    }

    @Test func randomStreamsAreThreadCountIndependentAndContinuable() {
        var reference: [Float] = []
        var normalReference: [Float] = []
        KernelSweep.forEachConfiguration { _, _ in
            var u = [Float](repeating: .nan, count: 100_003)
            var z = [Float](repeating: .nan, count: 100_003)
            ck_random_uniform(Int64(u.count), 42, 0, -2, 3, &u)
            ck_random_normal(Int64(z.count), 42, 0, 1, 2, &z)
            if reference.isEmpty { reference = u; normalReference = z }
            #expect(u == reference)
            #expect(z == normalReference)
        }
        // continuing at offset k gives the tail of the longer stream
        var tail = [Float](repeating: .nan, count: 1000)
        ck_random_uniform(1000, 42, 99_003, -2, 3, &tail)
        #expect(tail == Array(reference[99_003...]))
        // another seed, another stream
        var other = [Float](repeating: .nan, count: 100)
        ck_random_uniform(100, 43, 0, -2, 3, &other)
        #expect(other != Array(reference[0..<100]))
    }

    @Test func randomMomentsAndRanges() {
        for n in KernelSweep.sizes where n > 0 {
            var u = [Float](repeating: .nan, count: n)
            ck_random_uniform(Int64(n), UInt64(n), 7, -1, 1, &u)
            #expect(u.allSatisfy { $0 >= -1 && $0 < 1 })
        }
        // a degenerate, a tiny and a huge interval stay inside [low, high)
        var tiny = [Float](repeating: .nan, count: 1000)
        ck_random_uniform(1000, 1, 0, 1, Float(1).nextUp, &tiny)
        #expect(tiny.allSatisfy { $0 == 1 })
        ck_random_uniform(1000, 1, 0, -Float.greatestFiniteMagnitude / 2, Float.greatestFiniteMagnitude / 2, &tiny)
        #expect(tiny.allSatisfy { $0.isFinite && $0 < Float.greatestFiniteMagnitude / 2 })

        let n = 200_000
        var u = [Float](repeating: .nan, count: n)
        ck_random_uniform(Int64(n), 2024, 0, 0, 1, &u)
        let uMean = u.reduce(0.0) { $0 + Double($1) } / Double(n)
        let uVar = u.reduce(0.0) { $0 + (Double($1) - uMean) * (Double($1) - uMean) } / Double(n)
        #expect(abs(uMean - 0.5) < 0.005 && abs(uVar - 1.0 / 12) < 0.002)
        var z = [Float](repeating: .nan, count: n)
        ck_random_normal(Int64(n), 2024, 0, 3, 2, &z)
        #expect(z.allSatisfy { $0.isFinite })
        let zMean = z.reduce(0.0) { $0 + Double($1) } / Double(n)
        let zVar = z.reduce(0.0) { $0 + (Double($1) - zMean) * (Double($1) - zMean) } / Double(n)
        #expect(abs(zMean - 3) < 0.02 && abs(zVar - 4) < 0.06)
        // tails: about 4.55% beyond 2σ
        let beyond = Double(z.filter { abs($0 - 3) > 4 }.count) / Double(n)
        #expect(abs(beyond - 0.0455) < 0.003)
    }
}
