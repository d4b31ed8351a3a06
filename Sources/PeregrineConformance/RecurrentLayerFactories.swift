import Peregrine

/// Constructors of the recurrent layers from Keras configs.
enum RecurrentLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [:]
}
