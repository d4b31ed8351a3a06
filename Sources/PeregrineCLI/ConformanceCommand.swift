import ArgumentParser
import Foundation
import PeregrineConformance

/// `peregrine conformance [DIR]`: runs Keras's reference cases and prints one line per case.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run Keras's reference cases (keras-reference/FORMAT.md) against Peregrine.",
        discussion: """
            Prints PASS, FAIL (with the largest error and where) or SKIP (with why) for each case, \
            then 'N passed, M failed, K skipped'. Exits non-zero when a case failed.
            """)

    @Argument(help: "Folder of *.json cases (default: ../shared/keras-reference).")
    var directory: String = "../shared/keras-reference"

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw ValidationError("conformance: expected a folder of case files, got '\(directory)'")
        }
        let summary = try ConformanceRunner().run(directory: URL(fileURLWithPath: directory)) {
            print($0)
        }
        if summary.failed > 0 { throw ExitCode.failure }
    }
}
