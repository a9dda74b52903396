//! The project's own benchmarks: `bench launch` (full LTI launches against a running instance) and
//! `bench grades` (how fast the score outbox drains into a gradebook).
mod grades;
mod launch;

pub use grades::{GradesBenchArgs, run_grades_bench};
pub use launch::{LaunchBenchArgs, run_launch_bench};
