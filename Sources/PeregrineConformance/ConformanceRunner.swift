import Foundation

/// The verdict on one reference case.
public enum CaseResult: Sendable, Equatable {
    /// Every number matched within the case's tolerance.
    case pass
    /// The first tensor that did not match, with its worst element.
    case fail(String)
    /// Not run, and why (a kind or feature not built yet).
    case skip(String)
}

/// Runs Keras's reference cases (`keras-reference/FORMAT.md`) against Peregrine and reports one
/// line per case, then `N passed, M failed, K skipped`.
///
/// ```swift
/// let runner = ConformanceRunner()
/// let summary = try runner.run(directory: URL(fileURLWithPath: "../shared/keras-reference")) {
///     print($0)
/// }
/// summary.failed   // 0
/// ```
public struct ConformanceRunner: Sendable {
    /// Counts of a run.
    public struct Summary: Sendable {
        public var passed = 0
        public var failed = 0
        public var skipped = 0
        /// Name and verdict of each case, in file-name order.
        public var results: [(name: String, result: CaseResult)] = []

        /// `N passed, M failed, K skipped`.
        public var line: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
    }

    public init() {}

    /// Runs every `*.json` file of `directory` in name order, calling `report` with each line.
    public func run(directory: URL, report: (String) -> Void = { _ in }) throws -> Summary {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(
                at: directory, includingPropertiesForKeys: nil
            ).filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw ReferenceCaseError(
                description: "conformance: cannot list the case folder \(directory.path): \(error)")
        }
        var summary = Summary()
        for file in files {
            let name = file.deletingPathExtension().lastPathComponent
            let result: CaseResult
            do {
                result = try run(ReferenceCase(contentsOf: file))
            } catch {
                result = .fail("error: \(error)")
            }
            summary.results.append((name, result))
            switch result {
            case .pass:
                summary.passed += 1
                report("PASS \(name)")
            case .fail(let why):
                summary.failed += 1
                report("FAIL \(name) (\(why))")
            case .skip(let why):
                summary.skipped += 1
                report("SKIP \(name) (\(why))")
            }
        }
        report(summary.line)
        return summary
    }

    /// Runs one case.
    public func run(_ referenceCase: ReferenceCase) throws -> CaseResult {
        switch referenceCase.kind {
        case "op": return try OpCases.run(referenceCase)
        case "loss": return try LossCases.run(referenceCase)
        case "optimizer": return try OptimizerCases.run(referenceCase)
        case "layer": return try LayerCases.run(referenceCase)
        case "training": return try TrainingCases.run(referenceCase)
        default: return .fail("unknown kind '\(referenceCase.kind)'")
        }
    }
}
