import Peregrine

/// Constructors of the recurrent layers from Keras configs.
enum RecurrentLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [
        "SimpleRNN": { config in
            SimpleRNN(
                units: try int(config, "units"),
                activation: try ActivationFunction(named: config["activation"]?.string ?? "tanh"),
                useBias: config["use_bias"]?.bool ?? true,
                returnSequences: config["return_sequences"]?.bool ?? false,
                returnState: config["return_state"]?.bool ?? false,
                goBackwards: config["go_backwards"]?.bool ?? false)
        },
        "LSTM": { config in
            LSTM(
                units: try int(config, "units"),
                activation: try ActivationFunction(named: config["activation"]?.string ?? "tanh"),
                recurrentActivation: try ActivationFunction(
                    named: config["recurrent_activation"]?.string ?? "sigmoid"),
                useBias: config["use_bias"]?.bool ?? true,
                unitForgetBias: config["unit_forget_bias"]?.bool ?? true,
                returnSequences: config["return_sequences"]?.bool ?? false,
                returnState: config["return_state"]?.bool ?? false,
                goBackwards: config["go_backwards"]?.bool ?? false)
        },
        "GRU": { config in
            GRU(
                units: try int(config, "units"),
                activation: try ActivationFunction(named: config["activation"]?.string ?? "tanh"),
                recurrentActivation: try ActivationFunction(
                    named: config["recurrent_activation"]?.string ?? "sigmoid"),
                useBias: config["use_bias"]?.bool ?? true,
                returnSequences: config["return_sequences"]?.bool ?? false,
                returnState: config["return_state"]?.bool ?? false,
                goBackwards: config["go_backwards"]?.bool ?? false,
                resetAfter: config["reset_after"]?.bool ?? true)
        },
    ]
}
