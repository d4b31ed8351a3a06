import Foundation

extension Model {
    /// Writes every weight to a safetensors file, each under its Keras path (`dense/kernel`),
    /// atomically: a failed write leaves the previous file intact.
    ///
    /// ```swift
    /// try model.saveWeights(to: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func saveWeights(to url: URL) throws {
        try writeWeightFile(weights, url, ["format": "peregrine", "model": name])
    }

    /// Loads weights saved by ``saveWeights(to:)`` (or any safetensors file with the same paths
    /// and shapes); all or nothing.
    ///
    /// ```swift
    /// try model.loadWeights(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func loadWeights(from url: URL) throws {
        try readWeightFile(weights, url)
    }
}

// The free functions, under names the methods above do not shadow.
private let writeWeightFile: @Sendable ([Variable], URL, [String: String]) throws -> Void = { try saveWeights($0, to: $1, metadata: $2) }
private let readWeightFile: @Sendable ([Variable], URL) throws -> Void = { try loadWeights(into: $0, from: $1) }
