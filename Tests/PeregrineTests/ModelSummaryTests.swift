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
        let expected = """
            Model: "sequential"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
            ┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
            │ dense (Dense)                        │ (None, 5)                   │              40 │
            ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
            │ dense_1 (Dense)                      │ (None, 4)                   │              24 │
            └──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
             Total params: 64 (256.00 B)
             Trainable params: 64 (256.00 B)
             Non-trainable params: 0 (0.00 B)
            """
        #expect(lines.joined(separator: "\n") == expected)
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
