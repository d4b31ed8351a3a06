import Foundation
import Peregrine
import Testing

/// Keras's initializers: fans, and the distributions on 10^5 samples. With n = 10^5 the sample
/// mean's standard error is σ/316 and the sample standard deviation's about σ/447, so mean
/// within 5σ/316 and standard deviation within 2% separate a right formula from a wrong one
/// (a wrong fan or a missing 0.8796 correction moves σ by ≥ 12%) with a 5-σ margin.
struct InitializerTests {
    struct Stats {
        let mean, sd, min, max: Double
        init(_ t: Tensor) {
            let v = t.scalars.map(Double.init)
            let m = v.reduce(0, +) / Double(v.count)
            mean = m
            sd = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
            min = v.min()!
            max = v.max()!
        }
    }

    static func expectUniform(_ initializer: Initializer, _ shape: [Int], limit: Double, center: Double = 0) throws {
        let s = Stats(try initializer(shape))
        let sd = limit / 3.0.squareRoot()
        // The bounds as float32 holds them, give or take the one ulp by which a limit computed in
        // float arithmetic may differ: a draw may land exactly on the rounded bound, which can lie
        // beyond the exact one (he_uniform's −limit did, once).
        let low = Double(Float(center - limit).nextDown), high = Double(Float(center + limit).nextUp)
        #expect(s.min >= low && s.max <= high, "\(initializer.name): [\(s.min), \(s.max)] vs [\(low), \(high)]")
        #expect(s.max > center + 0.99 * limit && s.min < center - 0.99 * limit, "\(initializer.name) fills its range")
        #expect(abs(s.mean - center) < 5 * sd / 316, "\(initializer.name) mean \(s.mean)")
        #expect(abs(s.sd / sd - 1) < 0.02, "\(initializer.name) sd \(s.sd) vs \(sd)")
    }

    /// Truncated at ±2·stddev, where `stddev` is the pre-truncation parameter; the sample's
    /// standard deviation is stddev·0.87962566.
    static func expectTruncated(_ initializer: Initializer, _ shape: [Int], stddev: Double, mean: Double = 0) throws {
        let s = Stats(try initializer(shape))
        #expect(s.min >= mean - 2 * stddev * 1.000001 && s.max <= mean + 2 * stddev * 1.000001, "\(initializer.name) bounds")
        #expect(abs(s.mean - mean) < 5 * stddev / 316, "\(initializer.name) mean \(s.mean)")
        #expect(abs(s.sd / (stddev * 0.87962566103423978) - 1) < 0.02, "\(initializer.name) sd \(s.sd)")
    }

    @Test func fans() {
        #expect(Initializer.fans([]) == (1, 1))
        #expect(Initializer.fans([5]) == (5, 5))
        #expect(Initializer.fans([4, 6]) == (4, 6))
        #expect(Initializer.fans([3, 3, 16, 32]) == (144, 288))
        #expect(Initializer.fans([3, 16, 32]) == (48, 96))
    }

    @Test func uniformFamily() throws {
        let shape = [200, 500]  // fan_in 200, fan_out 500, 10^5 samples
        try Self.expectUniform(.glorotUniform, shape, limit: (6.0 / 700).squareRoot())
        try Self.expectUniform(.heUniform, shape, limit: (6.0 / 200).squareRoot())
        try Self.expectUniform(.lecunUniform, shape, limit: (3.0 / 200).squareRoot())
        try Self.expectUniform(.uniform, shape, limit: 0.05)
        try Self.expectUniform(.randomUniform(min: 1, max: 3), shape, limit: 1, center: 2)
        // A conv kernel counts its receptive field: fan_in = 3·3·16 = 144.
        try Self.expectUniform(.heUniform, [3, 3, 16, 700], limit: (6.0 / 144).squareRoot())
        try Self.expectUniform(.varianceScaling(scale: 2, mode: .fanOut, distribution: .uniform), shape, limit: (6.0 / 500).squareRoot())
    }

    @Test func normalFamily() throws {
        let shape = [200, 500]
        // Variance scaling divides by 0.8796 so that the truncated variance is scale/fan.
        try Self.expectTruncated(.glorotNormal, shape, stddev: (2.0 / 700).squareRoot() / 0.87962566103423978)
        try Self.expectTruncated(.heNormal, shape, stddev: (2.0 / 200).squareRoot() / 0.87962566103423978)
        try Self.expectTruncated(.lecunNormal, shape, stddev: (1.0 / 200).squareRoot() / 0.87962566103423978)
        try Self.expectTruncated(.truncatedNormal(mean: 1, stddev: 0.05), shape, stddev: 0.05, mean: 1)

        let plain = Stats(try Initializer.normal(shape))
        #expect(abs(plain.mean) < 5 * 0.05 / 316 && abs(plain.sd / 0.05 - 1) < 0.02)
        // Untruncated: among 10^5 draws about 23 exceed 3.5σ (none exceeding it has probability
        // e^-23); a normal truncated at 2σ would never pass 0.1. (At 4σ only 3.2 are expected,
        // and none at all happened one run in 24.)
        #expect(plain.max > 3.5 * 0.05)
        let untruncated = Stats(try Initializer.varianceScaling(scale: 1, mode: .fanAvg, distribution: .untruncatedNormal)(shape))
        #expect(abs(untruncated.sd / (1.0 / 350).squareRoot() - 1) < 0.02)
        let shifted = Stats(try Initializer.randomNormal(mean: -3, stddev: 2)(shape))
        #expect(abs(shifted.mean + 3) < 5 * 2 / 316.0 && abs(shifted.sd / 2 - 1) < 0.02)
    }

    @Test func constantAndNames() throws {
        #expect(try Initializer.constant(0.25)([2, 2]).scalars == [0.25, 0.25, 0.25, 0.25])
        for name in ["zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                     "lecun_uniform", "lecun_normal", "uniform", "normal", "truncated_normal", "variance_scaling",
                     "orthogonal"] {
            let initializer = try Initializer(named: name)
            #expect(try initializer([3, 4]).shape == [3, 4])
            #expect(initializer.name == name)
        }
        #expect(try Initializer(named: "he_normal").name == "he_normal")
        #expect(throws: PeregrineError.self) { _ = try Initializer(named: "xavier") }
        #expect(throws: PeregrineError.self) { _ = try Initializer.randomUniform(min: 1, max: 0)([2]) }
    }
}
