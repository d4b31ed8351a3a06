import CKernels
import Foundation
import Testing

/// The recurrent kernels' gate sigmoid and tanh (`ck_rnn_activation`, gate_math.h) against
/// double-precision libm: within the bounds ckernels.h states, inside [0, 1] and [−1, 1], and
/// the same bits on every ISA path.
///
/// Inputs: one float of every 4099 bit patterns (about a million, every exponent of both signs,
/// the step odd so that it lands on different mantissas each time), plus the edges: ±0, the clamp
/// limits, subnormals, ±∞ and NaN. Over all 2^32 floats the errors measured 3.44e-7 (tanh) and
/// 8.9e-8 and 3.19 ulp (sigmoid); a wrong coefficient shows up as errors of 1e-5 and more.
@Suite(.serialized)
struct RecurrentActivationTests {
    static let inputs: [Float] = {
        var values = stride(from: UInt64(0), to: 1 << 32, by: 4099).map { Float(bitPattern: UInt32($0)) }
        values += [0, -0.0, 9.02, -9.02, 9.03, 18.04, -18.04, 1e-30, -1e-30, .leastNonzeroMagnitude,
                   -.leastNonzeroMagnitude, .infinity, -.infinity, .nan, 0.5, -0.5, 3, -3]
        return values
    }()

    static func evaluate(_ act: ck_activation, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        ck_rnn_activation(act, Int64(x.count), x, &y)
        return y
    }

    /// `ulps`: also within that many units in the last place wherever the true value is a normal float.
    func check(_ act: ck_activation, bound: Double, ulps: Double? = nil, range: ClosedRange<Float>,
               exact: (Double) -> Double) {
        let x = Self.inputs
        var generic: [Float] = []
        KernelSweep.forEachConfiguration { isa, threads in
            guard threads == 1 else { return }
            let y = Self.evaluate(act, x)
            let path = String(cString: ck_isa_name(isa))
            var worst = 0.0, at = 0, worstULPs = 0.0, ulpsAt = 0
            for i in x.indices where !x[i].isNaN {
                let want = exact(Double(x[i])), error = abs(Double(y[i]) - want)
                if !(error <= worst) { worst = error; at = i }
                if ulps != nil, abs(want) >= Double(Float.leastNormalMagnitude) {
                    let inULPs = error / Double(Float(want).ulp)
                    if !(inULPs <= worstULPs) { worstULPs = inULPs; ulpsAt = i }
                }
                if !range.contains(y[i]) { Issue.record("\(path): f(\(x[i])) = \(y[i]) outside \(range)"); return }
            }
            #expect(worst <= bound, "\(path): error \(worst) at x = \(x[at]) (\(y[at]))")
            if let ulps { #expect(worstULPs <= ulps, "\(path): \(worstULPs) ulp at x = \(x[ulpsAt]) (\(y[ulpsAt]))") }
            #expect(y[x.firstIndex(where: \.isNaN)!].isNaN, "\(path): NaN in, NaN out")
            // the paths evaluate the same operations (fused multiply-adds, one division); a NaN's
            // payload may differ (the vector instructions quiet a signalling NaN)
            if generic.isEmpty { generic = y } else {
                let differ = zip(generic, y).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }.count
                #expect(differ == 0, "\(path): \(differ) results differ from the generic path's bits")
            }
        }
    }

    @Test func tanhWithinBound() {
        check(CK_ACT_TANH, bound: 4e-7, range: -1...1, exact: { Foundation.tanh($0) })
        let signs = Self.evaluate(CK_ACT_TANH, [0, -0.0, 1e-30, -1e-30])
        #expect(signs.map(\.sign) == [.plus, .minus, .plus, .minus] && signs[2] == 1e-30, "tanh keeps tiny x: \(signs)")
    }

    @Test func sigmoidWithinBound() {
        check(CK_ACT_SIGMOID, bound: 1e-7, ulps: 3.5, range: 0...1, exact: { 1 / (1 + Foundation.exp(-$0)) })
        #expect(Self.evaluate(CK_ACT_SIGMOID, [0]) == [0.5])
    }
}
