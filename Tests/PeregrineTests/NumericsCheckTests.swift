import Foundation
import Peregrine
import Testing

/// The opt-in numerics check (`withNumericsCheck`, `Peregrine.checkNumerics`): the first op or
/// layer that makes a NaN or Inf is named, with the shape, in forward and backward; off by
/// default. The suite is serialized because one test turns on the process-wide flag.
@Suite(.serialized) struct NumericsCheckTests {
    /// input [2, 4] → `healthy` (finite) → `blows_up` (kernel of 1e30: its outputs overflow to
    /// ±Inf) → `after` (Inf - Inf = NaN, but it is not the first).
    static func model() throws -> Sequential {
        let model = try Sequential([
            InputLayer(shape: [4]), Dense(units: 3, name: "healthy"), Dense(units: 3, name: "blows_up"),
            Dense(units: 2, name: "after"),
        ])
        let blowsUp = try model.layer(named: "blows_up")
        try blowsUp.weights[0].assign(try Tensor.full([3, 3], value: 1e30))
        try model.layer(named: "healthy").weights[0].assign(try Tensor.full([4, 3], value: 1e10))
        return model
    }

    static let x = try! Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8])

    static func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func offByDefaultTheNonFiniteValuesPassThrough() throws {
        #expect(Peregrine.checkNumerics == false)
        let y = try Self.model().predict(Self.x)
        #expect(y.scalars.contains { !$0.isFinite })
    }

    @Test func forwardNamesTheFirstLayerAndTheShape() throws {
        let model = try Self.model()
        let message = Self.message { _ = try withNumericsCheck { try model.predict(Self.x) } }
        #expect(message == "blows_up (forward): expected finite values (numerics check), got Inf in a tensor of shape [2, 3]")
    }

    @Test func forwardNamesTheFirstOpOutsideLayers() throws {
        let big = try Tensor.full([2, 2], value: 1e30)
        let message = Self.message {
            _ = try withNumericsCheck { try (big * big - big * big).sum() }
        }
        // The product overflows first (Inf), before the subtraction makes NaN.
        #expect(message?.hasPrefix("multiply (forward): expected finite values (numerics check), got Inf") == true,
                "\(message ?? "no error")")
        #expect(message?.contains("[2, 2]") == true)
    }

    @Test func backwardNamesTheOpWhoseGradientIsNotFinite() throws {
        // sqrt(0) is finite, its derivative 1/(2·sqrt(0)) is not.
        let v = Variable(try Tensor.zeros([3]))
        let tape = GradientTape()
        let message = Self.message {
            _ = try withNumericsCheck {
                let loss = try tape.recording { try sqrt(v.value).sum() }
                return try tape.gradient(loss, v)
            }
        }
        #expect(message?.hasPrefix("sqrt (backward): expected finite values (numerics check), got Inf in a tensor of shape [3]") == true,
                "\(message ?? "no error")")
    }

    @Test func fitWithTheGlobalFlagNamesTheLayer() throws {
        let model = try Self.model()
        try model.compile(optimizer: "sgd", loss: "mse")
        Peregrine.checkNumerics = true
        defer { Peregrine.checkNumerics = false }
        let message = Self.message {
            _ = try model.fit(Self.x, try Tensor.zeros([2, 2]), batchSize: 2, verbose: .silent)
        }
        #expect(message?.hasPrefix("blows_up (forward)") == true, "\(message ?? "no error")")
    }

    @Test func finiteWorkIsUnaffected() throws {
        let model = try Sequential([InputLayer(shape: [4]), Dense(units: 3), Dense(units: 2)])
        let plain = try model.predict(Self.x)
        let checked = try withNumericsCheck { try model.predict(Self.x) }
        #expect(plain.scalars == checked.scalars)
    }
}
