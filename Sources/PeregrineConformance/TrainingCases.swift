import Peregrine

/// `kind: "training"`: a Sequential model trained with `fit(shuffle: false)`; the epoch losses
/// and every weight afterwards must match Keras's.
enum TrainingCases {
    static func run(_ c: ReferenceCase) throws -> CaseResult {
        guard let inputShape = c.json["input_shape"]?.array?.compactMap({ $0.number.map { Int($0) } }),
            let layerSpecs = c.json["layers"]?.array
        else { throw ReferenceCaseError(description: "\(c.name): expected input_shape and layers") }
        var layers: [Layer] = [InputLayer(shape: inputShape)]
        for spec in layerSpecs {
            let className = spec["layer"]?.string ?? "?"
            guard let layer = try LayerCases.makeLayer(className, config: spec["config"] ?? .object([])) else {
                return .skip("\(className) is not built yet")
            }
            layers.append(layer)
        }
        let model = try Sequential(layers)
        guard let lossName = c.json["loss"]?["loss"]?.string, let optimizerName = c.json["optimizer"]?["optimizer"]?.string else {
            throw ReferenceCaseError(description: "\(c.name): expected loss and optimizer")
        }
        let loss = try LossCases.makeLoss(lossName, config: c.json["loss"]?["config"] ?? .object([]))
        let optimizer = try OptimizerCases.makeOptimizer(optimizerName, config: c.json["optimizer"]?["config"] ?? .object([]))
        try model.compile(optimizer: optimizer, loss: loss)

        let initial = try c.tensors("weights")
        guard initial.count == model.weights.count else {
            return .fail("weights: the model has \(model.weights.map(\.path)), the case \(initial.count)")
        }
        for (variable, weight) in zip(model.weights, initial) { try variable.assign(try tensor(weight)) }

        guard let xValue = c.json["x"], let yValue = c.json["y"] else {
            throw ReferenceCaseError(description: "\(c.name): expected x and y")
        }
        let x = try tensor(try c.tensor(xValue, field: "x"))
        let y = try tensor(try c.tensor(yValue, field: "y"))
        guard let batchSize = c.json["batch_size"]?.int, let epochs = c.json["epochs"]?.int else {
            throw ReferenceCaseError(description: "\(c.name): expected integers batch_size and epochs")
        }
        let history = try model.fit(x, y, batchSize: batchSize, epochs: epochs, verbose: .silent, shuffle: false)

        let wantLosses = c.json["epoch_losses"]?.array?.compactMap { $0.number.map(Float.init) } ?? []
        let gotLosses = history.history["loss"] ?? []
        if let m = Mismatch.compare(
            got: gotLosses, shape: [gotLosses.count],
            want: ReferenceTensor(shape: [wantLosses.count], values: wantLosses),
            rtol: c.rtol, atol: c.atol, what: "epoch_losses")
        {
            return .fail(m.description)
        }
        for (index, (variable, want)) in zip(model.weights, try c.tensors("weights_after")).enumerated() {
            if let m = Mismatch.compare(
                got: variable.value.scalars, shape: variable.shape, want: want, rtol: c.rtol, atol: c.atol,
                what: "weights_after[\(index)] (\(variable.path))")
            {
                return .fail(m.description)
            }
        }
        return .pass
    }
}
