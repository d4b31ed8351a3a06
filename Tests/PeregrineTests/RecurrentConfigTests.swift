import Peregrine
import Testing

/// The new Keras config keys — `dropout`, `recurrent_dropout`, `stateful`, `seed` on the recurrent
/// layers, `mask_zero` on Embedding, `noise_shape` on Dropout — written, read back and saved with
/// a model; and Dropout's broadcast mask.
struct RecurrentConfigTests {
    @Test func configsRoundTrip() throws {
        let lstm = LSTM(units: 3, dropout: 0.25, recurrentDropout: 0.5, stateful: true, seed: 11)
        let config = try lstm.kerasConfig()
        #expect(config["dropout"]?.number == 0.25 && config["recurrent_dropout"]?.number == 0.5)
        #expect(config["stateful"]?.bool == true && config["seed"]?.int == 11)
        let back = try #require(try Layer.fromKerasConfig(className: "LSTM", config: config) as? LSTM)
        #expect(back.dropout == 0.25 && back.recurrentDropout == 0.5 && back.stateful && back.seed == 11)

        let gru = try #require(try Layer.fromKerasConfig(
            className: "GRU", config: try GRU(units: 2, dropout: 0.1, stateful: true).kerasConfig()) as? GRU)
        #expect(gru.dropout == 0.1 && gru.stateful && gru.recurrentDropout == 0 && gru.seed == nil)
        let rnn = try #require(try Layer.fromKerasConfig(
            className: "SimpleRNN", config: try SimpleRNN(units: 2, recurrentDropout: 0.3, seed: 5).kerasConfig()) as? SimpleRNN)
        #expect(rnn.recurrentDropout == 0.3 && rnn.seed == 5 && !rnn.stateful)

        let dropout = Dropout(rate: 0.5, noiseShape: [nil, 1, 4])
        let dropoutConfig = try dropout.kerasConfig()
        #expect(dropoutConfig["noise_shape"]?.array?.count == 3 && dropoutConfig["noise_shape"]?.array?[0].isNull == true)
        let dropoutBack = try #require(try Layer.fromKerasConfig(className: "Dropout", config: dropoutConfig) as? Dropout)
        #expect(dropoutBack.noiseShape == [nil, 1, 4])
        #expect(try Dropout(rate: 0.5).kerasConfig()["noise_shape"]?.isNull == true)
    }

    @Test func modelWithTheNewKeysSavesAndLoads() throws {
        let model = try Sequential {
            Input(shape: [5])
            Embedding(inputDim: 9, outputDim: 3, maskZero: true)
            Dropout(rate: 0.3, noiseShape: [nil, 1, nil], seed: 2)
            LSTM(units: 4, returnSequences: true, dropout: 0.2, recurrentDropout: 0.1, seed: 3)
            GRU(units: 3, stateful: true)
        }
        try ModelSaveTests.randomizeWeights(model, seed: 70)
        let tokens = try Tensor(shape: [2, 5], scalars: [1, 2, 3, 0, 0, 4, 5, 0, 0, 0])
        let loaded = try ModelSaveTests.roundTrip(model, [tokens])
        let embedding = try #require(loaded.layers[0] as? Embedding)
        let lstm = try #require(loaded.layers[2] as? LSTM), gru = try #require(loaded.layers[3] as? GRU)
        #expect(embedding.maskZero && lstm.dropout == 0.2 && lstm.recurrentDropout == 0.1 && gru.stateful)
        #expect((loaded.layers[1] as? Dropout)?.noiseShape == [nil, 1, nil])
    }

    /// noise_shape [nil, 1, nil]: the same features dropped at every time step; bad shapes throw.
    @Test func dropoutNoiseShapeBroadcasts() throws {
        let dropout = Dropout(rate: 0.5, noiseShape: [nil, 1, nil], seed: 1)
        let x = try Tensor.ones([4, 6, 5])
        let y = try dropout(x, training: true)
        let first = try y.slice([.all, .index(0)]).scalars
        #expect(Set(first) == [0, 2])
        for t in 1..<6 { #expect(try y.slice([.all, .index(t)]).scalars == first) }
        #expect(try dropout(x, training: false).scalars == x.scalars)
        try GradientCheckTests.check("dropout noise_shape", [try GradientCheckTests.random([2, 3, 4], seed: 3)]) {
            try Dropout(rate: 0.5, noiseShape: [nil, 1, nil], seed: 8)($0[0], training: true)
        }
        #expect(throws: PeregrineError.self) { _ = try Dropout(rate: 0.5, noiseShape: [nil, 2, nil])(x, training: true) }
        #expect(throws: PeregrineError.self) { _ = try Dropout(rate: 0.5, noiseShape: [nil, 1])(x, training: true) }
    }
}
