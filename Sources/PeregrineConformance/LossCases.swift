import Peregrine

/// `kind: "loss"`: `loss(y_true, y_pred)` and its gradient with respect to y_pred.
enum LossCases {
    static func run(_ c: ReferenceCase) throws -> CaseResult {
        let loss = try makeLoss(c.string("loss"), config: c.config)
        let inputs = try c.tensors("inputs").map(tensor)
        return try OpCases.checkForwardAndBackward(c, inputs: inputs, upstream: nil) {
            try loss($0[0], $0[1])
        }
    }

    /// The loss a Keras class name and config describe.
    static func makeLoss(_ name: String, config: JSONValue) throws -> any Loss {
        let reductionName = config["reduction"]?.string ?? "sum_over_batch_size"
        guard let reduction = LossReduction(rawValue: reductionName) else {
            throw ReferenceCaseError(description: "unknown reduction '\(reductionName)'")
        }
        let fromLogits = config["from_logits"]?.bool ?? false
        let smoothing = Float(config["label_smoothing"]?.number ?? 0)
        switch name {
        case "MeanSquaredError": return MeanSquaredError(reduction: reduction)
        case "MeanAbsoluteError": return MeanAbsoluteError(reduction: reduction)
        case "Huber": return Huber(delta: Float(config["delta"]?.number ?? 1), reduction: reduction)
        case "BinaryCrossentropy":
            return BinaryCrossentropy(fromLogits: fromLogits, labelSmoothing: smoothing, reduction: reduction)
        case "CategoricalCrossentropy":
            return CategoricalCrossentropy(
                fromLogits: fromLogits, labelSmoothing: smoothing, reduction: reduction)
        case "SparseCategoricalCrossentropy":
            return SparseCategoricalCrossentropy(
                fromLogits: fromLogits, ignoreClass: config["ignore_class"]?.number.map { Int($0) },
                reduction: reduction)
        default:
            throw ReferenceCaseError(description: "unknown loss '\(name)'")
        }
    }
}
