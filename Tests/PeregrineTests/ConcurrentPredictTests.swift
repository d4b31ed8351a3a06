import Foundation
import Peregrine
import Synchronization
import Testing

/// A trained model is read-only during inference: `predict` from several threads at once must
/// give exactly what serial calls give (per-thread GEMM buffers, no shared scratch).
struct ConcurrentPredictTests {
    @Test func concurrentPredictionsEqualSerialOnes() throws {
        RandomGenerator.setSeed(11)
        let model = try Sequential {
            Input(shape: [12, 12, 1])
            Conv2D(filters: 8, kernelSize: (3, 3), activation: .relu)
            BatchNormalization()
            MaxPooling2D()
            Flatten()
            Dropout(rate: 0.5)
            Dense(units: 5)
        }
        let inputs = try (0..<4).map { try Tensor.randomUniform([16, 12, 12, 1], seed: UInt64(20 + $0)) }
        let serial = try inputs.map { try model.predict($0, batchSize: 8).scalars }
        let results = Mutex<[[Float]?]>(Array(repeating: nil, count: 4))
        let failure = Mutex<String?>(nil)
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            do {
                let out = try model.predict(inputs[index], batchSize: 8).scalars
                results.withLock { $0[index] = out }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
        }
        #expect(failure.withLock { $0 } == nil)
        let concurrent = results.withLock { $0 }
        for index in 0..<4 {
            #expect(concurrent[index].map { $0.map(\.bitPattern) } == serial[index].map(\.bitPattern))
        }
    }
}
