"""Engine benchmarks (docs/architecture.md §8): measured figures and ratios, printed, never asserted."""
