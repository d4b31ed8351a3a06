import Peregrine

/// Constructors of the convolution, pooling and normalization layers from Keras configs.
enum ConvolutionLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [:]
}
