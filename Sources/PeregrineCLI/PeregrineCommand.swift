import ArgumentParser
import Peregrine

/// `peregrine`: train models, benchmark kernels, and inspect the runtime from the command line.
@main
struct PeregrineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine",
        abstract: "Keras's model on Swift, over hand-written C kernels.",
        version: Peregrine.version,
        subcommands: [TrainCommand.self, BenchCommand.self, ConformanceCommand.self, InfoCommand.self, LeakCyclesCommand.self])
}

