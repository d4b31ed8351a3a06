import Foundation
import Peregrine
import Testing

/// Optimizer behaviour the reference cases do not cover: schedules, clipvalue, AdamW as Adam
/// with weight decay, slots and defaults.
struct OptimizerTests {
    @Test func exponentialDecayFollowsKeras() {
        let smooth = ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5)
        let stairs = ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true)
        #expect(smooth(step: 0) == 0.1)
        #expect(Swift.abs(smooth(step: 15) - 0.1 * Float(pow(0.5, 1.5))) < 1e-7)
        #expect(stairs(step: 15) == 0.05)
        #expect(stairs(step: 20) == 0.025)
    }

    @Test func cosineDecayWithAndWithoutWarmup() {
        let plain = CosineDecay(initialLearningRate: 1, decaySteps: 100, alpha: 0.1)
        #expect(plain(step: 0) == 1)
        #expect(Swift.abs(plain(step: 50) - (0.9 * 0.5 + 0.1)) < 1e-6)
        #expect(Swift.abs(plain(step: 100) - 0.1) < 1e-6)
        #expect(Swift.abs(plain(step: 500) - 0.1) < 1e-6)  // held after decaySteps
        let warm = CosineDecay(initialLearningRate: 0, decaySteps: 100, warmupTarget: 0.2, warmupSteps: 10)
        #expect(Swift.abs(warm(step: 5) - 0.1) < 1e-7)    // halfway up the linear warmup
        #expect(Swift.abs(warm(step: 10) - 0.2) < 1e-7)   // the cosine starts at the target
        #expect(Swift.abs(warm(step: 60) - 0.1) < 1e-6)   // half way down
    }

    @Test func scheduleDrivesTheUpdates() throws {
        let v = Variable(Tensor([1]))
        let sgd = try SGD(learningRate: .schedule(ExponentialDecay(initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5, staircase: true)))
        for _ in 0..<3 { try sgd.apply([Tensor([1])], to: [v]) }
        // Steps 0, 1, 2 use 0.1, 0.05, 0.025.
        #expect(Swift.abs(v.value.scalars[0] - (1 - 0.175)) < 1e-6)
    }

    @Test func clipValueClipsEachElement() throws {
        let v = Variable(Tensor([0, 0, 0]))
        try SGD(learningRate: 1, clipvalue: 0.5).apply([Tensor([2, -0.25, -3])], to: [v])
        #expect(v.value.scalars == [-0.5, 0.25, 0.5])
    }

    @Test func adamWIsAdamWithWeightDecay() throws {
        let a = Variable(Tensor([1, -2, 3])), b = Variable(Tensor([1, -2, 3]))
        let adamW = try AdamW(learningRate: 0.01, weightDecay: 0.1)
        let adam = try Adam(learningRate: 0.01, weightDecay: 0.1)
        for step in 0..<3 {
            let g = Tensor([0.5, Float(step), -1])
            try adamW.apply([g], to: [a])
            try adam.apply([g], to: [b])
        }
        #expect(a.value.scalars == b.value.scalars)
        #expect(adam.slots(of: b).count == 2)
        #expect(try Adam(amsgrad: true).slotCount == 3)
    }

    @Test func kerasDefaults() throws {
        #expect(try SGD().currentLearningRate == 0.01)
        #expect(try Adam().currentLearningRate == 0.001)
        #expect(try Adam().epsilon == 1e-7)
        #expect(try RMSprop().rho == 0.9)
        #expect(try Adagrad().initialAccumulatorValue == 0.1)
        #expect(try AdamW().weightDecay == 0.004)
    }
}
