import Foundation
import Peregrine
import Testing

/// The activation functions: Keras's names, values at known points (Keras 3 / TF outputs),
/// sub-gradient conventions, and numerical gradient checks of every one (GradientCheckTests'
/// tolerances; kinked functions are checked away from their kinks).
struct ActivationFunctionTests {
    static let names: [(String, ActivationFunction)] = [
        ("linear", .linear), ("relu", .relu), ("sigmoid", .sigmoid), ("tanh", .tanh),
        ("softmax", .softmax), ("log_softmax", .logSoftmax), ("gelu", .gelu(approximate: false)),
        ("elu", .elu(alpha: 1)), ("leaky_relu", .leakyRelu(negativeSlope: 0.2)), ("swish", .swish),
        ("silu", .swish), ("softplus", .softplus), ("softsign", .softsign), ("selu", .selu),
        ("relu6", .relu6), ("hard_sigmoid", .hardSigmoid), ("hard_silu", .hardSilu),
        ("hard_swish", .hardSilu), ("exponential", .exponential), ("mish", .mish),
    ]

    @Test func everyKerasNameParses() throws {
        for (name, function) in Self.names {
            #expect(try ActivationFunction(named: name) == function, "\(name)")
            // The canonical name parses back to the same function.
            #expect(try ActivationFunction(named: function.description) == function)
        }
    }

    @Test func unknownNameThrows() {
        #expect {
            _ = try ActivationFunction(named: "gelu_fast")
        } throws: { error in
            "\(error)".contains("'gelu_fast'") && "\(error)".hasPrefix("activation")
        }
        #expect(throws: PeregrineError.self) { _ = try Activation("swishy") }
    }

    static func values(_ f: ActivationFunction, _ xs: [Float]) throws -> [Float] {
        try f(Tensor(xs)).scalars
    }

    static func expectClose(_ got: [Float], _ want: [Float], _ what: String, rtol: Float = 2e-6) {
        #expect(got.count == want.count, "\(what)")
        for (g, w) in zip(got, want) {
            #expect(abs(g - w) <= 1e-7 + rtol * abs(w), "\(what): \(got) vs \(want)")
        }
    }

    /// Values from Keras 3 (TF backend) at a few points.
    @Test func valuesAtKnownPoints() throws {
        // The gelu trap: the string means the exact erf form.
        Self.expectClose(try Self.values(.gelu(), [-1, 0, 1, 3]), [-0.15865526, 0, 0.8413447, 2.9959502], "gelu")
        Self.expectClose(try Self.values(.gelu(approximate: true), [-1]), [-0.15880801], "gelu tanh")
        Self.expectClose(try Self.values(try ActivationFunction(named: "leaky_relu"), [-1, 2]), [-0.2, 2], "leaky_relu string slope 0.2")
        Self.expectClose(try Self.values(.elu(), [-1, 0, 2]), [-0.63212055, 0, 2], "elu")
        Self.expectClose(try Self.values(.selu, [-1, 1]), [-1.1113307, 1.050701], "selu")
        Self.expectClose(try Self.values(.swish, [1, -2]), [0.7310586, -0.23840584], "swish")
        Self.expectClose(try Self.values(.softplus, [0, 100, -100, -20]), [0.6931472, 100, 3.7200760e-44, 2.0611537e-09], "softplus", rtol: 1e-5)
        Self.expectClose(try Self.values(.softsign, [1, -3]), [0.5, -0.75], "softsign")
        Self.expectClose(try Self.values(.relu6, [-1, 3, 9]), [0, 3, 6], "relu6")
        Self.expectClose(try Self.values(.hardSigmoid, [-4, 0, 1, 4]), [0, 0.5, 0.6666667, 1], "hard_sigmoid")
        Self.expectClose(try Self.values(.hardSilu, [-4, 1, 4]), [0, 0.6666667, 4], "hard_silu")
        Self.expectClose(try Self.values(.exponential, [0, 1]), [1, 2.7182817], "exponential")
        Self.expectClose(try Self.values(.mish, [1, -1]), [0.86509836, -0.30340144], "mish")
        Self.expectClose(erf(Tensor([0.5, -2])).scalars, [0.5204999, -0.9953223], "erf")
    }

    /// Slopes at the kinks: elu' (0) = 1, leaky_relu'(0) = slope, relu6'(0) = 0.
    @Test func subgradientsAtZero() throws {
        for (function, want) in [(ActivationFunction.elu(), Float(1)), (.leakyRelu(), 0.2), (.leakyRelu(negativeSlope: 0.3), 0.3), (.relu6, 0)] {
            let x = Tensor([0])
            let tape = GradientTape()
            tape.watch(x)
            let y = try tape.recording { try function(x).sum() }
            #expect(try tape.gradient(y, [x])[0]?.scalars == [want], "\(function)")
        }
    }

    @Test func numericalGradients() throws {
        let smooth = try GradientCheckTests.random([3, 5], seed: 21, in: -3...3)
        let kinked = try GradientCheckTests.awayFromZero([3, 5], seed: 22)
        let functions: [(ActivationFunction, Tensor)] = [
            (.gelu(), smooth), (.gelu(approximate: true), smooth), (.swish, smooth), (.softplus, smooth),
            (.softsign, kinked), (.selu, kinked), (.elu(), kinked), (.elu(alpha: 0.5), kinked),
            (.leakyRelu(), kinked), (.relu6, kinked), (.hardSigmoid, smooth), (.hardSilu, kinked),
            (.exponential, smooth), (.mish, smooth), (.logSoftmax, smooth),
        ]
        for (function, x) in functions {
            try GradientCheckTests.check("\(function)", [x]) { try function($0[0]) }
        }
        try GradientCheckTests.check("free gelu", [smooth]) { gelu($0[0]) }
        try GradientCheckTests.check("free leakyRelu 0.1", [kinked]) { leakyRelu($0[0], negativeSlope: 0.1) }
    }

    @Test func activationLayer() throws {
        let layer = try Activation("softplus")
        #expect(layer.name.hasPrefix("activation"))
        #expect(type(of: layer).kerasClassName == "Activation")
        let x = try GradientCheckTests.random([2, 3], seed: 23)
        #expect(try layer(x).scalars == softplus(x).scalars)
        try GradientCheckTests.check("Activation(mish)", [x]) { try Activation(.mish)($0[0]) }
    }

    /// Dense with an activation its GEMM cannot fuse runs the C activation after the GEMM.
    @Test func denseWithUnfusedActivation() throws {
        let x = try GradientCheckTests.random([4, 3], seed: 24)
        let dense = Dense(units: 2, activation: .gelu())
        let y = try dense(x)
        let plain = try x.matmul(dense.kernel!.value) + dense.bias!.value
        Self.expectClose(y.scalars, gelu(plain).scalars, "Dense(gelu)", rtol: 1e-5)
        try GradientCheckTests.check("Dense(gelu)", [x]) { try dense($0[0]) }
    }
}
