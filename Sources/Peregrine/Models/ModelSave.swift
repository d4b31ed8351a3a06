#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Model {
    /// The `__metadata__` key under which ``save(to:)`` stores the architecture.
    ///
    /// ```swift
    /// try SafeTensors.read(from: url).metadata[Model.architectureMetadataKey]   // {"class_name":…}
    /// ```
    public static let architectureMetadataKey = "peregrine_model"

    /// Saves the whole model to ONE safetensors file: every weight (as ``saveWeights(to:)``
    /// writes them, trainable and not, in the model's weight order) and the architecture
    /// (``kerasArchitecture()``) as JSON in `__metadata__["peregrine_model"]`. The write is
    /// atomic: a failed save leaves any previous file intact. The optimizer and its state are
    /// not saved; compile the loaded model again to train it.
    ///
    /// Throws when a layer has no Keras config (custom layers, nested models).
    ///
    /// ```swift
    /// try model.save(to: URL(fileURLWithPath: "mlp.safetensors"))
    /// let copy = try Model.load(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func save(to url: URL) throws {
        try save(to: url, beforeRename: { _ in })
    }

    /// The same, with ``AtomicFile``'s test hook between writing the temporary file and renaming it.
    func save(to url: URL, beforeRename: (_ temporary: String) throws -> Void) throws {
        let architecture = try kerasArchitecture()
        let bytes = try SafeTensors.encode(
            weights.map { ($0.path, $0.untrackedValue) },
            metadata: ["format": "peregrine", "model": name, Model.architectureMetadataKey: architecture.serialized])
        try AtomicFile.write(bytes, to: url, beforeRename: beforeRename)
    }

    /// Loads a model that ``save(to:)`` wrote: rebuilds the architecture (a ``Sequential``,
    /// or a functional model with its inputs, outputs and shared layers, names restored), then
    /// assigns the weights by position, checking their count and every shape first (all or
    /// nothing). The model is not compiled.
    ///
    /// Throws ``PeregrineError`` naming the file when it is not a valid safetensors file
    /// (truncated, corrupt), has no architecture (a file from ``saveWeights(to:)``), holds an
    /// architecture that does not parse or names unknown layers or bad configs, or weights
    /// that do not fit the architecture.
    ///
    /// ```swift
    /// let model = try Model.load(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// let predictions = try model.predict(x)
    /// ```
    public static func load(from url: URL) throws -> Model {
        let operation = "Model.load '\(url.path)'"
        let file = try SafeTensors.read(from: url)
        guard let text = file.metadata[architectureMetadataKey] else {
            throw PeregrineError.invalidArgument(
                operation: operation,
                expected: "a model architecture in __metadata__[\"\(architectureMetadataKey)\"] (written by Model.save(to:))",
                actual: file.metadata.isEmpty
                    ? "no metadata (a weights-only file? use loadWeights(from:))"
                    : "metadata keys \(file.metadata.keys.sorted()) (a weights-only file? use loadWeights(from:))")
        }
        let model: Model
        do {
            // The architecture may not allocate far more weight scalars than the file holds: a
            // hostile config cannot ask for terabytes. The slack of 16M scalars (64 MB) lets a
            // small mismatch through to the precise per-weight shape check below.
            let stored = file.names.reduce(0) { $0 + file.tensors[$1]!.shape.reduce(1, *) }
            let slack = 1 << 24
            model = try WeightBudget.withLimit(stored + slack, source: "the \(stored) stored in the file and a slack of \(slack)") {
                try rebuild(try JSONValue(parsing: text))
            }
        } catch let error as PeregrineError {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "a readable model architecture", actual: error.description)
        }
        let variables = model.weights
        guard file.names.count == variables.count else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "\(variables.count) weights for the architecture",
                actual: "\(file.names.count) tensors")
        }
        for (index, (variable, fileName)) in zip(variables, file.names).enumerated() {
            let shape = file.tensors[fileName]!.shape
            guard shape == variable.shape else {
                throw PeregrineError.invalidArgument(
                    operation: operation, expected: "shape \(variable.shape) for weight \(index) '\(variable.path)'",
                    actual: "shape \(shape) for '\(fileName)'")
            }
        }
        for (variable, fileName) in zip(variables, file.names) { try variable.assign(file.tensors[fileName]!) }
        return model
    }
}
