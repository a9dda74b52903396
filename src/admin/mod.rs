//! What operators and administrators do: importing course packages (more comes with the admin issue).

pub mod courses;
