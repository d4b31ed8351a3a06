import CKernels
import Testing

/// Max, average and global pooling kernels against the per-element loops on odd shapes (batch 1,
/// 3 channels, sizes 1, 5, 17, channel counts across the 64-channel blocks, both paddings), on
/// every ISA path and 1–3 threads. The loops sum in the same order as the references, so results
/// agree exactly. Serialized: the sweep switches process-wide settings.
@Suite(.serialized)
struct PoolKernelTests {
    struct Config: CustomStringConvertible {
        var n, h, w, c, ph, pw, sh, sw: Int
        var same = false
        var description: String { "x[\(n),\(h),\(w),\(c)] pool \(ph)x\(pw) s\(sh)x\(sw) \(same ? "same" : "valid")" }

        var shape: ck_pool2d_shape {
            func axis(_ input: Int, _ k: Int, _ s: Int) -> (Int, Int) {
                if !same { return ((input - k) / s + 1, 0) }
                let out = (input + s - 1) / s
                return (out, max((out - 1) * s + k - input, 0) / 2)
            }
            let (oh, pt) = axis(h, ph, sh), (ow, pl) = axis(w, pw, sw)
            return ck_pool2d_shape(
                batch: Int64(n), in_h: Int64(h), in_w: Int64(w), channels: Int64(c), out_h: Int64(oh),
                out_w: Int64(ow), pool_h: Int32(ph), pool_w: Int32(pw), stride_h: Int32(sh),
                stride_w: Int32(sw), pad_top: Int32(pt), pad_left: Int32(pl))
        }
    }

    static let configs: [Config] = [
        Config(n: 1, h: 1, w: 1, c: 3, ph: 1, pw: 1, sh: 1, sw: 1),
        Config(n: 1, h: 1, w: 1, c: 3, ph: 2, pw: 2, sh: 2, sw: 2, same: true),
        Config(n: 1, h: 5, w: 5, c: 3, ph: 2, pw: 2, sh: 2, sw: 2),
        Config(n: 2, h: 5, w: 5, c: 3, ph: 2, pw: 2, sh: 2, sw: 2, same: true),
        Config(n: 2, h: 17, w: 5, c: 3, ph: 3, pw: 3, sh: 1, sw: 1, same: true),
        Config(n: 1, h: 17, w: 17, c: 17, ph: 3, pw: 2, sh: 2, sw: 3),
        Config(n: 3, h: 9, w: 8, c: 67, ph: 3, pw: 3, sh: 2, sw: 2, same: true),
        Config(n: 7, h: 26, w: 26, c: 32, ph: 2, pw: 2, sh: 2, sw: 2),
        // tiling windows with padding before (top/left 1) and uncovered cells after (valid)
        Config(n: 1, h: 5, w: 7, c: 3, ph: 4, pw: 4, sh: 4, sw: 4, same: true),
        Config(n: 2, h: 7, w: 8, c: 5, ph: 3, pw: 3, sh: 3, sw: 3),
        // average-pool backward's tiling path with constant widths 16 and 64, and 64 + 3
        Config(n: 3, h: 4, w: 5, c: 16, ph: 2, pw: 2, sh: 2, sw: 2),
        Config(n: 2, h: 6, w: 9, c: 64, ph: 2, pw: 2, sh: 2, sw: 2, same: true),
        Config(n: 1, h: 5, w: 5, c: 67, ph: 2, pw: 2, sh: 2, sw: 2, same: true),
    ]

    @Test func maxAndAveragePoolingMatchTheLoops() {
        for config in Self.configs {
            var s = config.shape
            // quarter steps: many ties, so the first-maximum rule of the argmax is checked too
            let x = KernelSweep.operands(config.n * config.h * config.w * config.c, seed: 5)
                .map { ($0 * 4).rounded() / 4 }
            let outCount = Int(s.batch * s.out_h * s.out_w * s.channels)
            let dy = KernelSweep.operands(outCount, seed: 6)
            var wantMax = [Float](repeating: 0, count: outCount), wantAvg = wantMax
            var wantIdx = [Int32](repeating: 0, count: outCount)
            var wantDXMax = [Float](repeating: 0, count: x.count), wantDXAvg = wantDXMax
            ck_maxpool2d_forward_reference(&s, x, &wantMax, &wantIdx)
            ck_avgpool2d_forward_reference(&s, x, &wantAvg)
            ck_maxpool2d_backward_reference(&s, dy, wantIdx, &wantDXMax)
            ck_avgpool2d_backward_reference(&s, dy, &wantDXAvg)
            KernelSweep.forEachConfiguration { isa, threads in
                let tag = "\(config) isa \(isa.rawValue) t\(threads)"
                var y = [Float](repeating: .nan, count: outCount), idx = [Int32](repeating: -7, count: outCount)
                ck_maxpool2d_forward(&s, x, &y, &idx)
                #expect(y == wantMax, "max \(tag)")
                #expect(idx == wantIdx, "argmax \(tag)")
                var yNoIndex = [Float](repeating: .nan, count: outCount)
                ck_maxpool2d_forward(&s, x, &yNoIndex, nil)
                #expect(yNoIndex == wantMax, "max without argmax \(tag)")
                var avg = [Float](repeating: .nan, count: outCount)
                ck_avgpool2d_forward(&s, x, &avg)
                #expect(avg == wantAvg, "avg \(tag)")
                var dx = [Float](repeating: .nan, count: x.count)
                ck_maxpool2d_backward(&s, dy, wantIdx, &dx)
                #expect(dx == wantDXMax, "max backward \(tag)")
                ck_avgpool2d_backward(&s, dy, &dx)
                #expect(dx == wantDXAvg, "avg backward \(tag)")
            }
        }
    }

    /// KERAS_SPEC: a 3×3 input 1…9, pool 2, `same` → [[3, 4.5], [7.5, 9]] (real-cell divisor),
    /// and max pooling never picks a padded cell (all-negative input).
    @Test func samePaddingCountsRealCells() {
        var s = Config(n: 1, h: 3, w: 3, c: 1, ph: 2, pw: 2, sh: 2, sw: 2, same: true).shape
        var y = [Float](repeating: 0, count: 4)
        ck_avgpool2d_forward(&s, [1, 2, 3, 4, 5, 6, 7, 8, 9], &y)
        #expect(y == [3, 4.5, 7.5, 9])
        ck_maxpool2d_forward(&s, [-1, -2, -3, -4, -5, -6, -7, -8, -9], &y, nil)
        #expect(y == [-1, -3, -7, -9])
    }

    @Test func globalPoolingMatchesTheLoops() {
        // constant widths 16/32/64, and 9·121 cells of 64 channels: the backward's cell split
        // falls inside an image on 2 and 3 threads
        for (n, cells, c) in [(1, 1, 3), (2, 25, 3), (3, 17, 67), (5, 49, 130), (3, 9, 16), (2, 5, 32), (9, 121, 64)] {
            let x = KernelSweep.operands(n * cells * c, seed: 7)
            var xTied = x
            for i in 0..<c { xTied[i] = 2; xTied[(cells - 1) * c + i] = 2 }  // ties in image 0
            let dy = KernelSweep.operands(n * c, seed: 8)
            KernelSweep.forEachConfiguration { isa, threads in
                let tag = "[\(n),\(cells),\(c)] isa \(isa.rawValue) t\(threads)"
                var mean = [Float](repeating: .nan, count: n * c), hi = mean
                ck_global_avgpool2d_forward(Int64(n), Int64(cells), Int64(c), x, &mean)
                ck_global_maxpool2d_forward(Int64(n), Int64(cells), Int64(c), xTied, &hi)
                var dxMean = [Float](repeating: .nan, count: x.count), dxMax = dxMean
                ck_global_avgpool2d_backward(Int64(n), Int64(cells), Int64(c), dy, &dxMean)
                ck_global_maxpool2d_backward(Int64(n), Int64(cells), Int64(c), xTied, hi, dy, &dxMax)
                for b in 0..<n {
                    for ch in 0..<c {
                        var sum: Float = 0, best = -Float.infinity, ties: Float = 0
                        for p in 0..<cells { sum += x[(b * cells + p) * c + ch]; best = max(best, xTied[(b * cells + p) * c + ch]) }
                        for p in 0..<cells where xTied[(b * cells + p) * c + ch] == best { ties += 1 }
                        #expect(mean[b * c + ch] == sum / Float(cells), "mean \(tag)")
                        #expect(hi[b * c + ch] == best, "max \(tag)")
                        for p in 0..<cells {
                            let i = (b * cells + p) * c + ch
                            #expect(dxMean[i] == dy[b * c + ch] / Float(cells), "mean backward \(tag)")
                            let want = xTied[i] == best ? dy[b * c + ch] / ties : 0
                            #expect(dxMax[i] == want, "max backward \(tag)")
                        }
                    }
                }
            }
        }
    }

    /// Global average pooling's backward with dx at every float offset from a 64-byte boundary
    /// (a view into a tensor): exact quotients, nothing written outside dx.
    @Test func globalAverageBackwardAtEveryOffsetMatchesTheLoop() {
        for (n, cells, c) in [(1, 1, 32), (4, 2, 64), (2, 5, 16), (3, 9, 32), (9, 121, 64)] {
            let dy = KernelSweep.operands(n * c, seed: 9)
            let count = n * cells * c
            for offset in 0..<16 {
                let raw = UnsafeMutableRawPointer.allocate(byteCount: (count + 32) * 4, alignment: 64)
                defer { raw.deallocate() }
                let all = raw.bindMemory(to: Float.self, capacity: count + 32)
                KernelSweep.forEachConfiguration { isa, threads in
                    let tag = "[\(n),\(cells),\(c)] offset \(offset) isa \(isa.rawValue) t\(threads)"
                    all.initialize(repeating: -7, count: count + 32)
                    ck_global_avgpool2d_backward(Int64(n), Int64(cells), Int64(c), dy, all + offset)
                    var wrong = 0
                    for i in 0..<(count + 32) {
                        let inside = i >= offset && i < offset + count
                        let q = i - offset
                        let want = inside ? dy[(q / (cells * c)) * c + q % c] / Float(cells) : -7
                        if all[i] != want { wrong += 1 }
                    }
                    #expect(wrong == 0, "global mean backward \(tag): \(wrong) wrong")
                }
            }
        }
    }
}
