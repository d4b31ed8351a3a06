import Foundation
import Peregrine
import Testing

/// `summary()` against Keras's own output (KERAS_SPEC §7), character for character.
struct ModelSummaryTests {
    /// Example (1) of the design notes: Input(7) → Dense(5, sigmoid) → Dense(4, sigmoid).
    static func sequentialExample() throws -> Sequential {
        let model = try Sequential()
        try model.add(Input(shape: [7]))
        try model.add(Dense(units: 5, activation: .sigmoid))
        try model.add(Dense(units: 4, activation: .sigmoid))
        return model
    }

    @Test func sequentialSummaryMatchesKeras() throws {
        let lines = try Peregrine.withFreshSession { try Self.sequentialExample().summaryLines(lineLength: 88) }
        #expect(lines == ModelSummaryTestsText.sequential)
    }

    /// Example (2): two inputs, two sigmoid branches, concatenate, two outputs.
    static func functionalExample() throws -> Model {
        let input1 = Input(shape: [2])
        let input2 = Input(shape: [5])
        let branch1 = try Dense(units: 2, activation: .sigmoid)(input1)
        let branch2 = try Dense(units: 3, activation: .sigmoid)(input2)
        let merged = try concatenate([branch1, branch2])
        let output1 = try Dense(units: 1)(merged)
        let output2 = try Dense(units: 10)(merged)
        return try Model(inputs: [input1, input2], outputs: [output1, output2])
    }

    /// Run after example (1) in one session, as KERAS_SPEC §7 printed it: named functional_2,
    /// with the "Connected to" column.
    @Test func functionalSummaryAfterSequentialMatchesKeras() throws {
        let lines = try Peregrine.withFreshSession {
            _ = try Self.sequentialExample()
            return try Self.functionalExample().summaryLines(lineLength: 108)
        }
        let expected = """
            Model: "functional_2"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
            ┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
            │ input_layer_1 (InputLayer)    │ (None, 2)                 │               0 │ -                          │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ input_layer_2 (InputLayer)    │ (None, 5)                 │               0 │ -                          │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ dense_2 (Dense)               │ (None, 2)                 │               6 │ input_layer_1[0][0]        │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ dense_3 (Dense)               │ (None, 3)                 │              18 │ input_layer_2[0][0]        │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ concatenate (Concatenate)     │ (None, 5)                 │               0 │ dense_2[0][0],             │
            │                               │                           │                 │ dense_3[0][0]              │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ dense_4 (Dense)               │ (None, 1)                 │               6 │ concatenate[0][0]          │
            ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
            │ dense_5 (Dense)               │ (None, 10)                │              60 │ concatenate[0][0]          │
            └───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
             Total params: 90 (360.00 B)
             Trainable params: 90 (360.00 B)
             Non-trainable params: 0 (0.00 B)
            """
        #expect(lines.joined(separator: "\n") == expected)
    }

    /// Without a tty (76 columns) Keras wraps and truncates (KERAS_SPEC §7's excerpt, printed
    /// after example (1)).
    @Test func functionalSummaryNarrowMatchesKeras() throws {
        let lines = try Peregrine.withFreshSession {
            _ = try Self.sequentialExample()
            return try Self.functionalExample().summaryLines(lineLength: 76)
        }
        #expect(lines.contains("│ input_layer_1       │ (None, 2)         │          0 │ -                 │"))
        #expect(lines.contains("│ (InputLayer)        │                   │            │                   │"))
        #expect(lines.contains("│ dense_2 (Dense)     │ (None, 2)         │          6 │ input_layer_1[0]… │"))
    }

    /// Alone in a fresh session the model and its layers take the first names.
    @Test func functionalNamesInAFreshSession() throws {
        let model = try Peregrine.withFreshSession { try Self.functionalExample() }
        #expect(model.name == "functional")
        #expect(model.layers.map(\.name) == ["input_layer", "input_layer_1", "dense", "dense_1", "concatenate", "dense_2", "dense_3"])
    }

    /// rich's column split at a 76-wide terminal (output without a tty): 33/24/15.
    @Test func narrowTerminalWidths() throws {
        let lines = try Peregrine.withFreshSession { try Self.sequentialExample().summaryLines(lineLength: 76) }
        let bar = { (n: Int) in String(repeating: "━", count: n) }
        #expect(lines[1] == "┏" + bar(33) + "┳" + bar(24) + "┳" + bar(15) + "┓")
        #expect(lines.dropFirst().dropLast(3).allSatisfy { $0.count == 76 })
    }

    @Test func sizesAndCountsAreFormattedAsKeras() throws {
        let model = try Peregrine.withFreshSession {
            try Sequential { Input(shape: [784]); Dense(units: 64); Dense(units: 64); Dense(units: 10) }
        }
        let lines = model.summaryLines(lineLength: 88)
        #expect(lines.contains(" Total params: 55,050 (215.04 KB)"))
    }
}
