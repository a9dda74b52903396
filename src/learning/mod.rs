//! What participants do in a course and what it adds up to: submissions and their states, and the
//! completion rules. No HTTP, no database.

pub mod aggregates;
pub mod assessment;
pub mod completion;
pub mod feedback;
pub mod files;
pub mod participant;
pub mod records;
pub mod review;
pub mod roster;
