//! What participants and instructors do in a course and what it adds up to: which version a
//! context runs (`context`), where a participant stands (`standing`), answers (`participant`),
//! self-assessments, review and groups, completion records (`records`). No HTTP; queries go
//! through `store`. The completion rules themselves are the course's (`course::completion`).

pub mod aggregates;
pub mod assessment;
pub mod calendar;
pub mod cohort;
pub mod comparison;
pub mod contact;
pub mod context;
pub mod dashboard;
pub mod exchange;
pub mod feedback;
pub mod files;
pub mod landing;
pub mod leader;
pub mod mail;
pub mod organisation;
pub mod participant;
pub mod records;
pub mod review;
pub mod roster;
pub mod spaces;
pub mod standing;
