import CKernels
import Testing

/// ck_conv2d_forward / backward_filter / backward_data against the direct loops (double
/// accumulation) on odd shapes — batch 1, 3 channels, sizes 1, 5, 17, strides, dilation, groups,
/// both paddings, the 1×1 GEMM-only path, shapes that span several gathered blocks — on every
/// ISA path and 1–3 threads. Serialized: the sweep switches process-wide settings.
@Suite(.serialized)
struct ConvKernelTests {
    /// One convolution: input [n, h, w, c], filters, kernel, strides, dilation, same?, groups.
    struct Config: CustomStringConvertible {
        var n, h, w, c, f, kh, kw: Int
        var sh = 1, sw = 1, dh = 1, dw = 1
        var same = false
        var groups = 1

        var description: String {
            "x[\(n),\(h),\(w),\(c)] f\(f) k\(kh)x\(kw) s\(sh)x\(sw) d\(dh)x\(dw) \(same ? "same" : "valid") g\(groups)"
        }

        /// Keras's output size and `same` split (extra cell at the end).
        var shape: ck_conv2d_shape {
            func axis(_ input: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let eff = d * (k - 1) + 1
                if !same { return ((input - eff) / s + 1, 0) }
                let out = (input + s - 1) / s
                return (out, max((out - 1) * s + eff - input, 0) / 2)
            }
            let (oh, pt) = axis(h, kh, sh, dh), (ow, pl) = axis(w, kw, sw, dw)
            return ck_conv2d_shape(
                batch: Int64(n), in_h: Int64(h), in_w: Int64(w), in_c: Int64(c), out_h: Int64(oh),
                out_w: Int64(ow), out_c: Int64(f), kernel_h: Int32(kh), kernel_w: Int32(kw),
                stride_h: Int32(sh), stride_w: Int32(sw), dilation_h: Int32(dh), dilation_w: Int32(dw),
                pad_top: Int32(pt), pad_left: Int32(pl), groups: Int32(groups))
        }
    }

    static let configs: [Config] = [
        Config(n: 1, h: 1, w: 1, c: 3, f: 4, kh: 1, kw: 1),
        Config(n: 1, h: 5, w: 5, c: 3, f: 5, kh: 3, kw: 3),
        Config(n: 2, h: 5, w: 5, c: 3, f: 4, kh: 3, kw: 3, same: true),
        Config(n: 1, h: 1, w: 1, c: 3, f: 2, kh: 3, kw: 3, same: true),
        Config(n: 2, h: 17, w: 5, c: 3, f: 7, kh: 3, kw: 2, sh: 2, sw: 2, same: true),
        Config(n: 1, h: 17, w: 17, c: 3, f: 4, kh: 5, kw: 5, sh: 3, sw: 1),
        Config(n: 2, h: 17, w: 13, c: 3, f: 3, kh: 3, kw: 3, dh: 2, dw: 3),
        Config(n: 1, h: 9, w: 8, c: 3, f: 2, kh: 2, kw: 3, dh: 2, dw: 2, same: true),
        Config(n: 2, h: 5, w: 5, c: 6, f: 9, kh: 3, kw: 3, same: true, groups: 3),
        Config(n: 1, h: 5, w: 7, c: 4, f: 6, kh: 1, kw: 1, groups: 2),
        Config(n: 3, h: 5, w: 5, c: 3, f: 4, kh: 1, kw: 1),
        Config(n: 2, h: 6, w: 6, c: 3, f: 4, kh: 1, kw: 1, sh: 2, sw: 2),
        // one channel: the unrolled 3- and 5-float kernel-row copies, with edges on both sides
        Config(n: 2, h: 9, w: 11, c: 1, f: 3, kh: 3, kw: 3, same: true),
        Config(n: 1, h: 17, w: 17, c: 1, f: 4, kh: 5, kw: 5, sh: 2, sw: 2, same: true),
        // several gathered blocks (K = 576 → 85-row blocks), and whole-image threading (n ≥ 5)
        Config(n: 2, h: 9, w: 9, c: 64, f: 8, kh: 3, kw: 3),
        Config(n: 5, h: 7, w: 6, c: 3, f: 5, kh: 3, kw: 3, same: true),
        // the direct path (C_in ≤ 4, K ≤ 32): constant widths 16/32/64, chunks of 64 + 6, pixel
        // pairs with edges on both sides, and a size that splits over the threads
        Config(n: 3, h: 40, w: 38, c: 1, f: 32, kh: 3, kw: 3),
        Config(n: 1, h: 9, w: 10, c: 2, f: 16, kh: 3, kw: 3, same: true),
        Config(n: 1, h: 7, w: 9, c: 4, f: 64, kh: 2, kw: 2, sw: 2, same: true),
        Config(n: 1, h: 6, w: 7, c: 1, f: 70, kh: 3, kw: 3, same: true),
    ]

    static func check(_ got: [Float], _ want: [Float], _ what: String, scale: Float) {
        #expect(got.count == want.count)
        var worst: Float = 0
        var index = 0
        for i in 0..<min(got.count, want.count) {
            let err = abs(got[i] - want[i]) / (scale + abs(want[i]))
            if !(err <= worst) { worst = err; index = i }
        }
        // float GEMM sums of ≤ 600 products of values in [-1, 1): errors ~1e-6 relative to √K
        #expect(worst <= 2e-5, "\(what): element \(index) off by \(worst)")
    }

    @Test func everyPathMatchesTheDirectLoops() {
        for config in Self.configs {
            var s = config.shape
            let K = config.kh * config.kw * config.c / config.groups
            let x = KernelSweep.operands(config.n * config.h * config.w * config.c, seed: 1)
            let w = KernelSweep.operands(K * config.f, seed: 2)
            let bias = KernelSweep.operands(config.f, seed: 3)
            let outCount = Int(s.batch * s.out_h * s.out_w * s.out_c)
            let dy = KernelSweep.operands(outCount, seed: 4)
            let scale = Float(K).squareRoot() * 0.1
            for act in [CK_ACT_IDENTITY, CK_ACT_RELU, CK_ACT_SIGMOID] {
                var want = [Float](repeating: 0, count: outCount)
                ck_conv2d_forward_reference(&s, x, w, bias, act, &want)
                KernelSweep.forEachConfiguration { isa, threads in
                    var got = [Float](repeating: .nan, count: outCount)
                    ck_conv2d_forward(&s, x, w, bias, act, &got)
                    Self.check(got, want, "forward \(config) act \(act.rawValue) isa \(isa.rawValue) t\(threads)", scale: scale)
                }
            }
            var wantDW = [Float](repeating: 0, count: K * config.f)
            var wantDB = [Float](repeating: 0, count: config.f)
            var wantDX = [Float](repeating: 0, count: x.count)
            ck_conv2d_backward_filter_reference(&s, x, dy, &wantDW, &wantDB)
            ck_conv2d_backward_data_reference(&s, dy, w, &wantDX)
            let rows = Float(outCount / max(config.f, 1)).squareRoot() * 0.1
            KernelSweep.forEachConfiguration { isa, threads in
                var dw = [Float](repeating: .nan, count: wantDW.count)
                var db = [Float](repeating: .nan, count: wantDB.count)
                var dx = [Float](repeating: .nan, count: wantDX.count)
                ck_conv2d_backward_filter(&s, x, dy, &dw, &db)
                ck_conv2d_backward_data(&s, dy, w, &dx)
                Self.check(dw, wantDW, "dW \(config) isa \(isa.rawValue) t\(threads)", scale: rows)
                Self.check(db, wantDB, "db \(config) isa \(isa.rawValue) t\(threads)", scale: rows)
                Self.check(dx, wantDX, "dX \(config) isa \(isa.rawValue) t\(threads)", scale: scale)
            }
        }
    }

    /// The fused-ReLU filter gradient equals masking dy by y > 0 (the ReLU's derivative as a
    /// select: a NaN upstream of an off unit gives 0) and then the plain filter gradient; the
    /// masked gradient it keeps for the data gradient equals that mask exactly.
    @Test func fusedReLUFilterGradientMatchesMaskThenReference() {
        for config in Self.configs {
            var s = config.shape
            let K = config.kh * config.kw * config.c / config.groups
            let x = KernelSweep.operands(config.n * config.h * config.w * config.c, seed: 11)
            let outCount = Int(s.batch * s.out_h * s.out_w * s.out_c)
            let y = KernelSweep.operands(outCount, seed: 12).map { max($0, 0) }  // a ReLU's output
            var dy = KernelSweep.operands(outCount, seed: 13)
            if let off = y.firstIndex(of: 0) { dy[off] = .nan }
            let masked = zip(y, dy).map { $0 > 0 ? $1 : 0 }
            var wantDW = [Float](repeating: 0, count: K * config.f)
            var wantDB = [Float](repeating: 0, count: config.f)
            ck_conv2d_backward_filter_reference(&s, x, masked, &wantDW, &wantDB)
            let rows = Float(outCount / max(config.f, 1)).squareRoot() * 0.1
            KernelSweep.forEachConfiguration { isa, threads in
                for keepMasked in [true, false] {
                    var dw = [Float](repeating: .nan, count: wantDW.count)
                    var db = [Float](repeating: .nan, count: wantDB.count)
                    var dz = [Float](repeating: .nan, count: outCount)
                    if keepMasked {
                        ck_conv2d_backward_filter_relu(&s, x, dy, y, &dz, &dw, &db)
                        #expect(dz == masked, "dz \(config) isa \(isa.rawValue) t\(threads)")
                    } else {
                        ck_conv2d_backward_filter_relu(&s, x, dy, y, nil, &dw, &db)
                    }
                    let what = "\(config) keep \(keepMasked) isa \(isa.rawValue) t\(threads)"
                    Self.check(dw, wantDW, "relu dW " + what, scale: rows)
                    Self.check(db, wantDB, "relu db " + what, scale: rows)
                }
            }
        }
    }

    /// Without a bias, on the direct path (one channel) and the im2col path (five channels).
    @Test func forwardWithoutBias() {
        for config in [Config(n: 2, h: 9, w: 8, c: 1, f: 32, kh: 3, kw: 3, same: true),
                       Config(n: 1, h: 6, w: 5, c: 5, f: 8, kh: 3, kw: 3)] {
            var s = config.shape
            let K = config.kh * config.kw * config.c
            let x = KernelSweep.operands(config.n * config.h * config.w * config.c, seed: 5)
            let w = KernelSweep.operands(K * config.f, seed: 6)
            let outCount = Int(s.batch * s.out_h * s.out_w * s.out_c)
            var want = [Float](repeating: 0, count: outCount)
            ck_conv2d_forward_reference(&s, x, w, nil, CK_ACT_RELU, &want)
            KernelSweep.forEachConfiguration { isa, threads in
                var got = [Float](repeating: .nan, count: outCount)
                ck_conv2d_forward(&s, x, w, nil, CK_ACT_RELU, &got)
                Self.check(got, want, "no bias \(config) isa \(isa.rawValue) t\(threads)", scale: 0.1)
            }
        }
    }

    /// The reference itself against a hand-computed case: a 3×3 input 1…9, a 2×2 kernel of ones,
    /// `same` padding (the extra row and column at the end) gives the window sums.
    @Test func referenceSamePaddingPutsTheExtraCellAtTheEnd() {
        var s = Config(n: 1, h: 3, w: 3, c: 1, f: 1, kh: 2, kw: 2, same: true).shape
        #expect(s.pad_top == 0 && s.pad_left == 0 && s.out_h == 3)
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var y = [Float](repeating: 0, count: 9)
        ck_conv2d_forward_reference(&s, x, [1, 1, 1, 1], nil, CK_ACT_IDENTITY, &y)
        #expect(y == [12, 16, 9, 24, 28, 15, 15, 17, 9])
        var fast = [Float](repeating: 0, count: 9)
        ck_conv2d_forward(&s, x, [1, 1, 1, 1], nil, CK_ACT_IDENTITY, &fast)
        #expect(fast == y)
    }
}
