import Foundation
import PeregrineConformance
import Testing

/// Keras's reference cases (`../shared/keras-reference`, beside the repository) through the
/// same runner as `peregrine conformance`: every case of a kind that is built must pass.
struct ConformanceTests {
    static let referenceFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/keras-reference").standardizedFileURL

    static var referenceFolderExists: Bool {
        FileManager.default.fileExists(atPath: referenceFolder.path)
    }

    @Test(.enabled(if: referenceFolderExists, "../shared/keras-reference is not beside the repository"))
    func kerasReferenceCases() throws {
        let summary = try ConformanceRunner().run(directory: Self.referenceFolder)
        for (name, result) in summary.results {
            if case .fail(let why) = result { Issue.record("\(name): \(why)") }
        }
        #expect(summary.failed == 0)
        // Every kind is built: no case may be skipped.
        #expect(summary.skipped == 0, "skipped: \(summary.results.filter { if case .skip = $0.result { true } else { false } }.map(\.name))")
        #expect(summary.passed >= 95)
    }

    @Test func runnerReportsFailuresAndSkips() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("peregrine-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // exp(0) = 1, but the case claims 2: the runner must fail it and say where.
        let wrong = #"{"kind": "op", "op": "exp", "inputs": [{"shape": [1], "data": [0]}], "#
            + #""outputs": [{"shape": [1], "data": [2]}], "upstream": [{"shape": [1], "data": [1]}], "#
            + #""grad_inputs": [{"shape": [1], "data": [1]}]}"#
        try wrong.write(to: folder.appendingPathComponent("wrong_exp.json"), atomically: true, encoding: .utf8)
        try #"{"kind": "layer", "layer": "ConvLSTM2D", "config": {}}"#.write(
            to: folder.appendingPathComponent("later.json"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        let summary = try ConformanceRunner().run(directory: folder) { lines.append($0) }
        #expect(summary.failed == 1 && summary.skipped == 1 && summary.passed == 0)
        #expect(lines.contains { $0.hasPrefix("FAIL wrong_exp (outputs[0]: max abs err 1.0 at [0]") })
        #expect(lines.last == "0 passed, 1 failed, 1 skipped")
    }
}
