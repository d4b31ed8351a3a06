// libFuzzer entry point for Model.fromKerasArchitecture, which rebuilds a model from the
// architecture JSON stored in a saved file: any bytes must give a model or a PeregrineError.
// A rebuilt model must describe itself again (kerasArchitecture), that description must rebuild
// to the same description, and a small model must run predict on zeros of its input shape
// (or throw a PeregrineError). The weight budget keeps hostile sizes from allocating terabytes.
import FuzzMain  // the entry point that starts libFuzzer
import Peregrine

/// Weight scalars one input may ask for: enough for the seed models, far below the RSS limit.
private let weightLimit = 1 << 20
/// Input scalars (per sample) below which predict runs on the rebuilt model.
private let predictLimit = 1 << 12

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelArchitecture(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try Peregrine.withFreshSession {
            let model = try Model.fromKerasArchitecture(try JSONValue(parsing: bytes), maxWeightElements: weightLimit)
            let description = try model.kerasArchitecture()
            let again = try Peregrine.withFreshSession {
                try Model.fromKerasArchitecture(description, maxWeightElements: weightLimit).kerasArchitecture()
            }
            guard again == description else {
                fatalError("architecture round trip changed: \(description.serialized) → \(again.serialized)")
            }
            let inputs = try model.inputs.map { input -> Tensor? in
                let elements = input.shape.reduce(1) { $0 &* max($1, 0) }
                guard input.shape.allSatisfy({ $0 > 0 }), elements <= predictLimit else { return nil }
                return try Tensor.zeros([1] + input.shape)
            }
            let present = inputs.compactMap { $0 }
            if !present.isEmpty, present.count == inputs.count {
                _ = try model.predict(present, batchSize: 1)
            }
        }
    } catch is PeregrineError {
        return 0
    } catch {
        fatalError("a non-Peregrine error: \(error)")
    }
    return 0
}
