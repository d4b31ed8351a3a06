import Foundation

extension Model {
    /// Writes every weight to a safetensors file, each under its Keras path (`dense/kernel`),
    /// in the model's weight order, atomically: a failed write leaves the previous file intact.
    ///
    /// ```swift
    /// try model.saveWeights(to: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func saveWeights(to url: URL) throws {
        try writeWeightFile(weights, url, ["format": "peregrine", "model": name])
    }

    /// Loads weights saved by ``saveWeights(to:)``; all or nothing.
    ///
    /// Weights are matched by path when every path of the model is in the file (the same
    /// script, the same names). A model built again in another process has other automatic
    /// names (`dense_12` for `dense_10`); then, as Keras's `load_weights` does, the file's
    /// tensors are taken in order, provided their count and every shape agree.
    ///
    /// ```swift
    /// try model.loadWeights(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func loadWeights(from url: URL) throws {
        let variables = weights
        let file = try SafeTensors.read(from: url)
        if variables.allSatisfy({ file.tensors[$0.path] != nil }) {
            try readWeightFile(variables, url)
            return
        }
        guard file.names.count == variables.count else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).loadWeights '\(url.path)'",
                expected: "\(variables.count) weights (by name or in order)", actual: "\(file.names.count) tensors")
        }
        for (index, (variable, fileName)) in zip(variables, file.names).enumerated() {
            let shape = file.tensors[fileName]!.shape
            guard shape == variable.shape else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name).loadWeights '\(url.path)'",
                    expected: "shape \(variable.shape) for weight \(index) '\(variable.path)'",
                    actual: "shape \(shape) for '\(fileName)'")
            }
        }
        for (variable, fileName) in zip(variables, file.names) { try variable.assign(file.tensors[fileName]!) }
    }
}

// The free functions, under names the methods above do not shadow.
private let writeWeightFile: @Sendable ([Variable], URL, [String: String]) throws -> Void = {
    try saveWeights($0, to: $1, metadata: $2)
}
private let readWeightFile: @Sendable ([Variable], URL) throws -> Void = { try loadWeights(into: $0, from: $1) }
