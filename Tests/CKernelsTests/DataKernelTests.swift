import CKernels
import Testing

/// The input-pipeline kernels against their plain loops, on every ISA path and 1-3 threads.
@Suite(.serialized) struct DataKernelTests {
    @Test func u8ToFloat() {
        KernelSweep.forEachConfiguration { isa, threads in
            for n in KernelSweep.sizes {
                let x = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
                var y = [Float](repeating: .nan, count: n), ref = y
                for scale: Float in [1, 1 / 255] {
                    ck_u8_to_float(Int64(n), x, scale, &y)
                    ck_u8_to_float_reference(Int64(n), x, scale, &ref)
                    #expect(y == ref, "n \(n) isa \(isa) threads \(threads)")
                    #expect(y.indices.allSatisfy { y[$0] == Float(x[$0]) * scale })
                }
            }
        }
    }

    @Test func gatherRows() {
        KernelSweep.forEachConfiguration { isa, threads in
            for (rows, rowSize) in [(0, 5), (1, 1), (3, 17), (127, 3), (33, 1000), (5000, 33)] {
                let sourceRows = 41
                let x = KernelSweep.operands(sourceRows * rowSize, seed: 3)
                let indices = (0..<rows).map { Int32(($0 * 7 + 3) % sourceRows) }
                var y = [Float](repeating: .nan, count: rows * rowSize), ref = y
                ck_gather_rows(Int64(rows), Int64(rowSize), x, indices, &y)
                ck_gather_rows_reference(Int64(rows), Int64(rowSize), x, indices, &ref)
                #expect(y == ref, "rows \(rows) rowSize \(rowSize) isa \(isa) threads \(threads)")
            }
        }
    }

    @Test func randomPermutation() {
        for n in [0, 1, 2, 17, 1000] {
            var p = [Int32](repeating: -1, count: n), q = p
            ck_random_permutation(Int64(n), 9, 0, &p)
            ck_random_permutation(Int64(n), 9, 0, &q)
            #expect(p == q)
            #expect(p.sorted() == (0..<Int32(n)).map { $0 })
        }
        // Every position gets every value about equally often (uniformity, 3-element case):
        // 6000 draws over 6 permutations, each expected 1000 times.
        var counts: [[Int32]: Int] = [:]
        for offset in 0..<6000 {
            var p = [Int32](repeating: 0, count: 3)
            ck_random_permutation(3, 1, UInt64(offset) * 3, &p)
            counts[p, default: 0] += 1
        }
        #expect(counts.count == 6)
        #expect(counts.values.allSatisfy { abs($0 - 1000) < 150 }, "\(counts)")
    }
}
