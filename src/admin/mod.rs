//! What operators and administrators do: importing course packages, registering with platforms
//! (more comes with the admin issue).

pub mod courses;
pub mod registrations;
