import ArgumentParser
import Peregrine

/// `peregrine info`: what this build runs on.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the version, ISA path, OpenMP runtime, thread count and GEMM backend.")

    func run() throws {
        let backends = GEMM.availableBackends.map(\.rawValue).joined(separator: ", ")
        print("peregrine \(Peregrine.version)")
        print("isa:             \(Runtime.isa) (best supported: \(Runtime.bestSupportedISA))")
        print("openmp runtime:  \(Runtime.threadingLibrary)")
        print("threads:         \(Runtime.threads)")
        print("gemm backend:    \(GEMM.backend) (built in: \(backends))")
    }
}
