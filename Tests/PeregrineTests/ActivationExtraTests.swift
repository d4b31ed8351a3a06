import Foundation
import Peregrine
import Testing

/// Keras 3's rarer activations: names, values and gradients at the kinks as Keras 3.15.1 (TF)
/// computes them, layer use (`Activation("…")`, `Dense(activation:)`, config round trip) and
/// numerical gradient checks (inputs kept away from the kinks, where central differences straddle
/// two pieces).
struct ActivationExtraTests {
    static let names: [(String, ActivationFunction)] = [
        ("celu", .celu(alpha: 1)), ("glu", .glu), ("hard_tanh", .hardTanh),
        ("hard_shrink", .hardShrink(threshold: 0.5)), ("soft_shrink", .softShrink(threshold: 0.5)),
        ("tanh_shrink", .tanhShrink), ("log_sigmoid", .logSigmoid), ("sparse_plus", .sparsePlus),
        ("sparse_sigmoid", .sparseSigmoid), ("squareplus", .squareplus(b: 4)), ("sparsemax", .sparsemax),
    ]

    @Test func everyKerasNameParses() throws {
        for (name, function) in Self.names {
            #expect(try ActivationFunction(named: name) == function, "\(name)")
            #expect(function.description == name)
        }
        // Keras's "threshold" has required parameters: the bare name fails (in Keras at call time).
        #expect(throws: PeregrineError.self) { _ = try ActivationFunction(named: "threshold") }
    }

    static let x: [Float] = [-3.5, -3, -1.5, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.5, 3, 3.5]

    /// Keras 3.15.1 values and d(Σy)/dx at the points above (printed by TF).
    static let keras: [(ActivationFunction, [Float], [Float])] = [
        (.celu(alpha: 1),
         [-0.9698026, -0.95021296, -0.77686983, -0.63212055, -0.5276334, -0.39346933, -0.22119921, 0, 0.25, 0.5, 0.75, 1, 1.5, 3, 3.5],
         [0.03019738, 0.04978707, 0.22313017, 0.36787945, 0.47236654, 0.60653067, 0.7788008, 2, 1, 1, 1, 1, 1, 1, 1]),
        (.hardShrink(threshold: 0.5),
         [-3.5, -3, -1.5, -1, -0.75, 0, 0, 0, 0, 0, 0.75, 1, 1.5, 3, 3.5],
         [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        (.hardTanh,
         [-1, -1, -1, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1],
         [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
        (.logSigmoid,
         [-3.5297503, -3.048587, -1.7014133, -1.3132616, -1.1368711, -0.9740769, -0.8259394, -0.6931472, -0.5759394, -0.474077, -0.386871, -0.3132617, -0.20141329, -0.04858735, -0.02975042],
         [0.97068775, 0.95257413, 0.81757444, 0.73105854, 0.6791788, 0.62245935, 0.5621765, 0.5, 0.4378235, 0.37754068, 0.3208213, 0.26894143, 0.18242551, 0.04742587, 0.02931223]),
        (.softShrink(threshold: 0.5),
         [-3, -2.5, -1, -0.5, -0.25, 0, 0, 0, 0, 0, 0.25, 0.5, 1, 2.5, 3],
         [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        (.sparsePlus,
         [0, 0, 0, 0, 0.015625, 0.0625, 0.140625, 0.25, 0.390625, 0.5625, 0.765625, 1, 1.5, 3, 3.5],
         [0, 0, 0, 0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 1, 1, 1]),
        (.sparseSigmoid,
         [0, 0, 0, 0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 1, 1, 1],
         [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0]),
        (.squareplus(b: 4),
         [0.26556444, 0.30277562, 0.5, 0.618034, 0.69300044, 0.7807764, 0.8827822, 1, 1.1327822, 1.2807764, 1.4430004, 1.618034, 2, 3.3027756, 3.7655644],
         [0.06587845, 0.08397484, 0.19999999, 0.2763932, 0.32443827, 0.37873217, 0.43798262, 0.5, 0.5620174, 0.6212678, 0.6755617, 0.7236068, 0.8, 0.91602516, 0.93412155]),
        (.tanhShrink,
         [-2.501822, -2.0049453, -0.5948517, -0.23840582, -0.11485106, -0.03788286, -0.00508134, 0, 0.00508134, 0.03788286, 0.11485106, 0.23840582, 0.5948517, 2.0049453, 2.501822],
         [0.9963592, 0.9901339, 0.8192935, 0.5800257, 0.4034142, 0.21355224, 0.05998516, 0, 0.05998516, 0.21355224, 0.4034142, 0.5800257, 0.8192935, 0.9901339, 0.9963592]),
        (.threshold(threshold: 0.5, defaultValue: -2),
         [-2, -2, -2, -2, -2, -2, -2, -2, -2, -2, 0.75, 1, 1.5, 3, 3.5],
         [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
    ]

    static func close(_ a: [Float], _ b: [Float], tol: Float = 3e-6) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
    }

    @Test func valuesAndKinkGradientsMatchKeras() throws {
        for (function, wantY, wantG) in Self.keras {
            let x = Tensor(Self.x)
            let tape = GradientTape()
            tape.watch(x)
            let (y, l) = try tape.recording { () throws -> (Tensor, Tensor) in let y = try function(x); return (y, try y.sum()) }
            let g = try tape.gradient(l, [x])[0]!
            #expect(Self.close(y.scalars, wantY), "\(function) values \(y.scalars)")
            #expect(Self.close(g.scalars, wantG), "\(function) gradient \(g.scalars)")
        }
    }

    @Test func gluAndSparsemaxMatchKeras() throws {
        let x = try Tensor(shape: [3, 4], scalars: [0.5, 0.4, -1.0, 0.2, 1.0, 0.0, 0.0, -3.0, 0.1, 0.1, 0.1, 0.1])
        let tape = GradientTape()
        tape.watch(x)
        let gw = try Tensor(shape: [3, 2], scalars: [1, 2, 1, -1, 0.3, 0.2])
        let (g, s, l) = try tape.recording { () throws -> (Tensor, Tensor, Tensor) in
            let g = try ActivationFunction.glu(x)
            return (g, try ActivationFunction.sparsemax(x), try (g * gw).sum())
        }
        #expect(g.shape == [3, 2])
        #expect(Self.close(g.scalars, [0.13447072, 0.21993361, 0.5, 0, 0.05249792, 0.05249792]))
        let dg = try tape.gradient(l, [x])[0]!
        #expect(Self.close(dg.scalars, [0.26894143, 1.099668, 0.09830597, 0.19801326, 0.5, -0.04742587, 0.25, 0,
                                        0.15749376, 0.10499584, 0.00748128, 0.00498752]), "\(dg.scalars)")
        #expect(Self.close(s.scalars, [0, 0, 0, 0, 1, 0, 0, 0, 0.1, 0.1, 0.1, 0.1]))
        #expect(throws: PeregrineError.self) { _ = try ActivationFunction.glu(try Tensor.ones([2, 3])) }
    }

    @Test func gradientChecks() throws {
        // Kinks at 0, ±0.5, ±1 (and the threshold 0.5): stay 0.05 away from all of them.
        func smooth(_ shape: [Int], seed: UInt64) throws -> Tensor {
            let raw = try GradientCheckTests.random(shape, seed: seed, in: -3...3).scalars
            let kinks: [Float] = [0, 0.5, -0.5, 1, -1]
            return try Tensor(shape: shape, scalars: raw.map { v in
                kinks.contains { abs(v - $0) < 0.05 } ? v + 0.12 : v
            })
        }
        for function: ActivationFunction in [
            .celu(alpha: 1), .celu(alpha: 0.7), .hardTanh, .hardShrink(threshold: 0.5), .softShrink(threshold: 0.5),
            .tanhShrink, .logSigmoid, .sparsePlus, .sparseSigmoid, .squareplus(b: 4),
            .threshold(threshold: 0.5, defaultValue: -1), .glu,
        ] {
            try GradientCheckTests.check("\(function)", [try smooth([3, 6], seed: 5)]) { try function($0[0]) }
        }
        // sparsemax: piecewise linear; inputs spread so no support boundary lies within h.
        let spread = try Tensor(shape: [2, 5], scalars: [2.0, 0.3, -1.1, 1.5, 0.9, 0.2, -0.7, 0.45, 1.9, -2.0])
        try GradientCheckTests.check("sparsemax", [spread]) { try ActivationFunction.sparsemax($0[0]) }
    }

    @Test func layersTakeTheNames() throws {
        let layer = try Activation("glu")
        #expect(try layer.outputShapes(forInputShapes: [[5, 8]]) == [[5, 4]])
        #expect(try layer(try Tensor.ones([2, 8])).shape == [2, 4])
        let dense = Dense(units: 6, activation: try ActivationFunction(named: "celu"))
        #expect(try dense(try Tensor.ones([2, 3])).shape == [2, 6])
        let model = try Sequential {
            Input(shape: [4])
            Dense(units: 6, activation: .glu)
            Activation(.squareplus(b: 2))
            Activation(.threshold(threshold: 0.1, defaultValue: 0))
            Activation(.softShrink(threshold: 0.25))
        }
        #expect(try model.predict(try Tensor.ones([2, 4])).shape == [2, 3])
    }
}
