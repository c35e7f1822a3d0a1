"""Engine benchmarks (DESIGN §8): measured figures and ratios, printed, never asserted."""
