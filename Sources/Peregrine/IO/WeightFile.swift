#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Saves variables to a safetensors file, each under its Keras weight path (`dense/kernel`),
/// atomically (a failed save leaves the previous file intact).
///
/// Throws when two variables share a path.
///
/// ```swift
/// let dense = Dense(units: 10)
/// _ = try dense(try Tensor.zeros([1, 784]))
/// try saveWeights(dense.weights, to: URL(fileURLWithPath: "dense.safetensors"))
/// ```
public func saveWeights(
    _ variables: [Variable], to url: URL, metadata: [String: String] = [:]
) throws {
    try SafeTensors.write(variables.map { ($0.path, $0.untrackedValue) }, metadata: metadata, to: url)
}

/// Loads a safetensors file into variables, matching tensors to variables by weight path.
///
/// All or nothing: every check runs before any variable changes. Throws ``PeregrineError``
/// when a variable has no tensor in the file, the file has a tensor no variable takes, or a
/// shape differs (the message names the weight and both shapes).
///
/// ```swift
/// try loadWeights(into: dense.weights, from: URL(fileURLWithPath: "dense.safetensors"))
/// ```
public func loadWeights(into variables: [Variable], from url: URL) throws {
    let file = try SafeTensors.read(from: url)
    let operation = "loadWeights '\(url.path)'"
    var paths = Set<String>()
    for variable in variables {
        guard paths.insert(variable.path).inserted else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "variables with distinct paths",
                actual: "'\(variable.path)' twice")
        }
        guard let tensor = file.tensors[variable.path] else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "a tensor for weight '\(variable.path)'",
                actual: "none in the file (it has \(file.names.prefix(8).map { "'\($0)'" }.joined(separator: ", "))\(file.names.count > 8 ? ", …" : ""))")
        }
        guard tensor.shape == variable.shape else {
            throw PeregrineError.invalidArgument(
                operation: operation,
                expected: "shape \(variable.shape) for weight '\(variable.path)' (the variable's)",
                actual: "shape \(tensor.shape) in the file")
        }
    }
    if let extra = file.names.first(where: { !paths.contains($0) }) {
        throw PeregrineError.invalidArgument(
            operation: operation, expected: "only weights of the given variables",
            actual: "a tensor '\(extra)' in the file that matches no variable")
    }
    for variable in variables {
        try variable.assign(file.tensors[variable.path]!)
    }
}
