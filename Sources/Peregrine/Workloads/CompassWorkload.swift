/// The four models Peregrine is measured on (`../shared/anchors/README.md`), built exactly as
/// the Keras and PyTorch anchor scripts build them, for 28×28 grey images and 10 classes.
///
/// ```swift
/// let model = try CompassWorkload.cnn.makeModel()
/// let x = try CompassWorkload.cnn.inputs(images)   // [N, 28, 28, 1]
/// ```
public enum CompassWorkload: String, CaseIterable, Sendable {
    /// Flatten → Dense(512, relu) → Dense(256, relu) → Dense(10).
    case mlp
    /// Conv2D(32, 3, relu) → MaxPool → Conv2D(64, 3, relu) → MaxPool → Flatten →
    /// Dense(128, relu) → Dropout(0.5) → Dense(10).
    case cnn
    /// Conv2D(32, 3, same, no bias) → BatchNorm → ReLU → MaxPool → Conv2D(64, 3, same, no bias)
    /// → BatchNorm → ReLU → MaxPool → Flatten → Dense(10).
    case cnnbn
    /// The 28 rows as 28 time steps → LSTM(128) → Dense(10).
    case lstm

    /// A fresh, untrained model (logits out).
    ///
    /// ```swift
    /// let model = try CompassWorkload.mlp.makeModel()
    /// ```
    public func makeModel() throws -> Sequential {
        switch self {
        case .mlp:
            return try Sequential(name: "mlp") {
                Input(shape: [28, 28])
                Flatten()
                Dense(units: 512, activation: .relu)
                Dense(units: 256, activation: .relu)
                Dense(units: 10)
            }
        case .cnn:
            return try Sequential(name: "cnn") {
                Input(shape: [28, 28, 1])
                Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
                MaxPooling2D()
                Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu)
                MaxPooling2D()
                Flatten()
                Dense(units: 128, activation: .relu)
                Dropout(rate: 0.5)
                Dense(units: 10)
            }
        case .cnnbn:
            return try Sequential(name: "cnnbn") {
                Input(shape: [28, 28, 1])
                Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, useBias: false)
                BatchNormalization()
                Activation(.relu)
                MaxPooling2D()
                Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, useBias: false)
                BatchNormalization()
                Activation(.relu)
                MaxPooling2D()
                Flatten()
                Dense(units: 10)
            }
        case .lstm:
            return try Sequential(name: "lstm") {
                Input(shape: [28, 28])
                LSTM(units: 128)
                Dense(units: 10)
            }
        }
    }

    /// The model's input from images `[N, 28, 28, 1]`: as they are for the convolutional
    /// models, `[N, 28, 28]` (rows as time steps) for the others.
    ///
    /// ```swift
    /// let x = try CompassWorkload.lstm.inputs(images)   // [N, 28, 28]
    /// ```
    public func inputs(_ images: Tensor) throws -> Tensor {
        switch self {
        case .cnn, .cnnbn: return images
        case .mlp, .lstm: return try images.reshaped(to: [images.shape[0], 28, 28])
        }
    }

    /// Floating-point operations per sample, training and inference (the anchors' table), for
    /// efficiency against the machine's FMA peak.
    public var flopsPerSample: (train: Double, infer: Double) {
        switch self {
        case .mlp: (2.41e6, 1.07e6)
        case .cnn: (15.4e6, 5.26e6)
        case .cnnbn: (22.6e6, 7.7e6)
        case .lstm: (13.4e6, 4.47e6)
        }
    }
}
