import Peregrine

/// `kind: "layer"`: build the layer from its Keras config, load the case's weights verbatim,
/// call it, and compare outputs, input and weight gradients, and the state after the call.
enum LayerCases {
    /// The layer a Keras class name and config describe, built by the library's one config
    /// reader (``Layer/fromKerasConfig(className:config:)``); nil for classes not built yet.
    static func makeLayer(_ className: String, config: JSONValue) throws -> Layer? {
        guard Layer.configurableClassNames.contains(className) else { return nil }
        return try Layer.fromKerasConfig(className: className, config: config)
    }

    static func run(_ c: ReferenceCase) throws -> CaseResult {
        let className = try c.string("layer")
        guard let layer = try makeLayer(className, config: c.config) else {
            return .skip("\(className) is not built yet")
        }
        let references = try c.tensors("inputs")
        let inputs = try references.map(tensor)
        try layer.buildIfNeeded(inputShapes: inputs.map { Array($0.shape.dropFirst()) })

        let weights = try c.tensors("weights")
        guard weights.count == layer.weights.count else {
            return .fail("weights: the layer has \(layer.weights.map(\.name)), the case \(weights.map { $0.name ?? "?" })")
        }
        for (variable, weight) in zip(layer.weights, weights) {
            guard variable.name == weight.name, variable.trainable == weight.trainable else {
                return .fail("weight \(variable.name) (trainable \(variable.trainable)), want \(weight.name ?? "?") (trainable \(weight.trainable))")
            }
            try variable.assign(try tensor(weight))
        }

        let training = c.json["training"]?.bool ?? false
        let upstream = try c.tensors("upstream").map(tensor)
        let differentiable = zip(inputs, references).filter { !$0.1.isInteger }.map(\.0)
        let tape = GradientTape(persistent: true)  // asked twice: inputs, then weights
        differentiable.forEach(tape.watch)
        let (outputs, target) = try tape.recording {
            let outputs = try layer(inputs, training: training)
            guard outputs.count == upstream.count else { return (outputs, Tensor(0)) }
            var total = Tensor(0)
            for (output, up) in zip(outputs, upstream) { total = try total + (output * up).sum() }
            return (outputs, total)
        }
        let expected = try c.tensors("outputs")
        guard outputs.count == expected.count else {
            return .fail("\(outputs.count) outputs, want \(expected.count)")
        }
        for (index, (got, want)) in zip(outputs, expected).enumerated() {
            if let m = Mismatch.compare(got: got.scalars, shape: got.shape, want: want, rtol: c.rtol, atol: c.atol, what: "outputs[\(index)]") {
                return .fail(m.description)
            }
        }

        let inputGrads = try tape.gradient(target, differentiable)
        let weightGrads = try tape.gradient(target, layer.trainableWeights)
        var gradIndex = 0
        // Cases whose only inputs are integer (Embedding) carry no grad_inputs.
        let wantInputGrads = c.json["grad_inputs"] == nil ? [] : try c.optionalTensors("grad_inputs")
        for (index, (reference, want)) in zip(references, wantInputGrads).enumerated() {
            if reference.isInteger { continue }
            defer { gradIndex += 1 }
            guard let want else { continue }
            guard let got = inputGrads[gradIndex] else { return .fail("grad_inputs[\(index)]: none") }
            if let m = Mismatch.compare(got: got.scalars, shape: got.shape, want: want, rtol: c.rtol, atol: c.atol, what: "grad_inputs[\(index)]") {
                return .fail(m.description)
            }
        }
        let wantWeightGrads = c.json["grad_weights"] == nil ? [] : try c.optionalTensors("grad_weights")
        for (index, want) in wantWeightGrads.enumerated() {
            guard let want else { continue }
            guard index < weightGrads.count, let got = weightGrads[index] else {
                return .fail("grad_weights[\(index)]: none")
            }
            if let m = Mismatch.compare(got: got.scalars, shape: got.shape, want: want, rtol: c.rtol, atol: c.atol, what: "grad_weights[\(index)] (\(layer.trainableWeights[index].name))") {
                return .fail(m.description)
            }
        }
        if c.json["state_after"] != nil {
            for (index, (variable, want)) in zip(layer.nonTrainableWeights, try c.tensors("state_after")).enumerated() {
                if let m = Mismatch.compare(got: variable.value.scalars, shape: variable.shape, want: want, rtol: c.rtol, atol: c.atol, what: "state_after[\(index)] (\(variable.name))") {
                    return .fail(m.description)
                }
            }
        }
        return .pass
    }
}
