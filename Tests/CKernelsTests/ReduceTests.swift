import CKernels
import Foundation
import Testing

/// ck_reduce, ck_argmax, ck_softmax, ck_log_softmax against plain loops (double accumulation),
/// on every ISA path and 1–3 threads. Serialized: the sweep switches process-wide settings.
@Suite(.serialized)
struct ReduceTests {
    /// [outer, len, inner] views covering rows (inner 1), columns (inner > 1, across TILE = 64),
    /// and one long row that takes the segmented parallel path.
    static var views: [(Int, Int, Int)] {
        var v: [(Int, Int, Int)] = []
        for len in KernelSweep.sizes where len <= 1000 {
            v += [(1, len, 1), (3, len, 1), (3, len, 17), (2, len, 65)]
        }
        return v + [(1, 100_003, 1), (3, 100_003, 1), (2, 1000, 131), (1, 300_007, 1)]
    }

    @Test func reduceMatchesReferenceOnEveryPath() {
        var firstSums: [String: [Float]] = [:]
        KernelSweep.forEachConfiguration { isa, threads in
            for (outer, len, inner) in Self.views {
                let x = KernelSweep.operands(outer * len * inner, seed: UInt32(len + inner))
                for op in [CK_REDUCE_SUM, CK_REDUCE_MEAN, CK_REDUCE_MAX, CK_REDUCE_MIN] {
                    var y = [Float](repeating: .nan, count: outer * inner)
                    ck_reduce(op, Int64(outer), Int64(len), Int64(inner), x, &y)
                    for o in 0..<outer {
                        for j in 0..<inner {
                            var sum = 0.0, absSum = 0.0
                            var hi = -Float.infinity, lo = Float.infinity
                            for l in 0..<len {
                                let v = x[(o * len + l) * inner + j]
                                sum += Double(v); absSum += Double(abs(v))
                                hi = max(hi, v); lo = min(lo, v)
                            }
                            let got = y[o * inner + j]
                            switch op {
                            case CK_REDUCE_MAX: #expect(got == hi)
                            case CK_REDUCE_MIN: #expect(got == lo)
                            default:
                                // pairwise: |error| ≤ (log2(len) + block depth) · eps · Σ|x|
                                let mean = op == CK_REDUCE_MEAN
                                let want = mean ? (len == 0 ? .nan : sum / Double(len)) : sum
                                let scale = mean ? absSum / Double(max(len, 1)) : absSum
                                let bound = (log2(Double(max(len, 2))) + 40) * 6e-8 * scale + 1e-30
                                if len == 0 && mean { #expect(got.isNaN) } else {
                                    #expect(abs(Double(got) - want) <= bound,
                                            "op \(op.rawValue) [\(outer),\(len),\(inner)] isa \(isa.rawValue) threads \(threads)")
                                }
                            }
                        }
                    }
                    // the summation tree depends on len only: identical bits on every path and thread count
                    if op == CK_REDUCE_SUM {
                        let key = "\(outer),\(len),\(inner)"
                        if let first = firstSums[key] {
                            #expect(first.map(\.bitPattern) == y.map(\.bitPattern), "\(key) not reproducible")
                        } else {
                            firstSums[key] = y
                        }
                    }
                }
            }
        }
    }

    @Test func emptyAxisAndNaN() {
        var y: [Float] = [1, 1]
        ck_reduce(CK_REDUCE_SUM, 1, 0, 2, [], &y); #expect(y == [0, 0])
        ck_reduce(CK_REDUCE_MAX, 1, 0, 2, [], &y); #expect(y == [-.infinity, -.infinity])
        ck_reduce(CK_REDUCE_MIN, 1, 0, 2, [], &y); #expect(y == [.infinity, .infinity])
        KernelSweep.forEachConfiguration { _, _ in
            for len in [3, 17, 100_003] {
                var x = KernelSweep.operands(len, seed: 9)
                x[len / 2] = .nan
                var r: [Float] = [0]
                for op in [CK_REDUCE_SUM, CK_REDUCE_MAX, CK_REDUCE_MIN] {
                    ck_reduce(op, 1, Int64(len), 1, x, &r)
                    #expect(r[0].isNaN)
                }
                var cols = [Float](repeating: 0, count: 3)
                ck_reduce(CK_REDUCE_MAX, 1, Int64(len / 3), 3, x, &cols)
                #expect(cols.contains { $0.isNaN })
            }
        }
    }

    @Test func argmaxIsTheFirstMaximum() {
        KernelSweep.forEachConfiguration { _, _ in
            for (outer, len, inner) in Self.views where len > 0 {
                var x = KernelSweep.operands(outer * len * inner, seed: 11).map { ($0 * 8).rounded() } // ties
                if len > 2 { x[inner] = .nan } // NaN wins, as in NumPy
                var idx = [Int32](repeating: -1, count: outer * inner)
                ck_argmax(Int64(outer), Int64(len), Int64(inner), x, &idx)
                for o in 0..<outer {
                    for j in 0..<inner {
                        var best = x[o * len * inner + j], at = 0
                        for l in 1..<len {
                            let v = x[(o * len + l) * inner + j]
                            if v > best || (v.isNaN && !best.isNaN) { best = v; at = l }
                        }
                        #expect(idx[o * inner + j] == Int32(at), "[\(outer),\(len),\(inner)] at \(o),\(j)")
                    }
                }
            }
        }
    }

    @Test func softmaxAndLogSoftmaxMatchDoubleReference() {
        KernelSweep.forEachConfiguration { isa, threads in
            for (rows, cols) in [(1, 1), (3, 3), (17, 17), (2, 33), (5, 127), (3, 1000), (1, 100_003), (40, 10)] {
                let x = KernelSweep.operands(rows * cols, seed: UInt32(cols), in: -30...30)
                var y = [Float](repeating: .nan, count: x.count)
                var logY = x // in place: y aliases x
                ck_softmax(Int64(rows), Int64(cols), x, &y)
                logY.withUnsafeMutableBufferPointer {
                    ck_log_softmax(Int64(rows), Int64(cols), $0.baseAddress, $0.baseAddress)
                }
                var worstP = 0.0, worstLog = 0.0
                for r in 0..<rows {
                    let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                    let m = row.max()!
                    let s = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                    for c in 0..<cols {
                        let p = Foundation.exp(row[c] - m) / s
                        let lp = row[c] - m - Foundation.log(s)
                        // x − m is rounded in float (½ ulp of |x − m|), exp adds 1 ulp, the
                        // lane sum (cols/16)·eps: the relative error budget of one probability
                        let budget = (abs(row[c] - m) * 0.6e-7 + 2.4e-7 + Double(cols) / 16 * 1.2e-7)
                        worstP = max(worstP, abs(Double(y[r * cols + c]) - p) / max(p, 1e-30) / budget)
                        worstLog = max(worstLog, abs(Double(logY[r * cols + c]) - lp) / max(abs(lp), 1))
                    }
                }
                // relative error of a probability: exp (≤ 1 ulp) + the lane sum over cols
                #expect(worstP <= 1, "softmax [\(rows),\(cols)] isa \(isa.rawValue) threads \(threads)")
                #expect(worstLog <= 2e-6, "log_softmax [\(rows),\(cols)] isa \(isa.rawValue)")
            }
        }
    }
}
