import Foundation
@testable import Peregrine
import Testing

/// Architectures from outside (saved files, configs) are untrusted: sizes they ask for are
/// checked before anything is allocated.
struct UntrustedArchitectureTests {
    /// A Sequential architecture with one Dense layer of `units` on 8 inputs.
    static func denseArchitecture(units: String) -> String {
        """
        {"class_name":"Sequential","config":{"name":"huge","trainable":true,"layers":[\
        {"class_name":"InputLayer","config":{"batch_shape":[null,8],"dtype":"float32","name":"input_layer"}},\
        {"class_name":"Dense","config":{"name":"dense","units":\(units),"activation":"linear"}}]}}
        """
    }

    @Test func loadRefusesAnArchitectureFarLargerThanItsWeights() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("huge.safetensors")
        let weights = [("dense/kernel", try Tensor.zeros([8, 4])), ("dense/bias", try Tensor.zeros([4]))]
        // 8 × 10^11 scalars would be 3.2 TB: the load must throw before allocating them.
        try SafeTensors.write(weights, metadata: [Model.architectureMetadataKey: Self.denseArchitecture(units: "100000000000")], to: url)
        let message = DataTests.message { _ = try Model.load(from: url) }
        #expect(message.contains("dense/kernel") && message.contains("shape [8, 100000000000]"), "\(message)")
        #expect(message.contains("weight scalars in all"), "\(message)")
    }

    @Test func aSmallMismatchStillGetsThePreciseShapeError() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("mismatch.safetensors")
        let weights = [("dense/kernel", try Tensor.zeros([8, 4])), ("dense/bias", try Tensor.zeros([4]))]
        try SafeTensors.write(weights, metadata: [Model.architectureMetadataKey: Self.denseArchitecture(units: "5")], to: url)
        let message = DataTests.message { _ = try Model.load(from: url) }
        #expect(message.contains("shape [8, 5]") && message.contains("shape [8, 4]"), "\(message)")
    }

    @Test func fromKerasArchitectureHonoursTheGivenLimit() throws {
        let architecture = try JSONValue(parsing: Self.denseArchitecture(units: "4"))
        // 8 × 4 + 4 = 36 scalars: within a limit of 36, beyond a limit of 35.
        let model = try Peregrine.withFreshSession { try Model.fromKerasArchitecture(architecture, maxWeightElements: 36) }
        #expect(model.countParams() == 36)
        let message = DataTests.message {
            _ = try Peregrine.withFreshSession { try Model.fromKerasArchitecture(architecture, maxWeightElements: 35) }
        }
        #expect(message.contains("at most 35 weight scalars") && message.contains("dense/bias"), "\(message)")
    }

    @Test func sizesThatOverflowOrAreNegativeThrow() throws {
        let overflow = DataTests.message { _ = try WeightBudget.charge(shape: [1 << 40, 1 << 40], weight: "w") }
        #expect(overflow.contains("fits in memory") && overflow.contains("[1099511627776, 1099511627776]"), "\(overflow)")
        let negative = DataTests.message { _ = try WeightBudget.charge(shape: [3, -2], weight: "w") }
        #expect(negative.contains("non-negative") && negative.contains("[3, -2]"), "\(negative)")
    }
}
