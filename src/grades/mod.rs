//! Completion into the LMS gradebook (LTI Assignment and Grade Services): what a participant's
//! progress scores per grade mode (`score`), the outbox written in the same transaction as the
//! progress change (`outbox`). The top-level `worker` posts them, retrying until the platform has
//! them.
//!
//! `learning::records::progress_changed` asks `outbox::scores_for` inside its transactions; this
//! module reads the completion rules from `course::completion` and nothing else decides completion.
pub mod outbox;
pub mod score;

/// How completion reaches a deployment's gradebooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GradeMode {
    /// One line item: completed required modules out of required modules.
    #[default]
    CourseFraction,
    /// One line item: 1 of 1 when the course is complete.
    CoursePass,
    /// One line item per module: 1 of 1 when the module is complete.
    PerModule,
}

impl GradeMode {
    /// Every mode, for messages.
    pub const ALL: [GradeMode; 3] = [Self::CourseFraction, Self::CoursePass, Self::PerModule];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CourseFraction => "course_fraction",
            Self::CoursePass => "course_pass",
            Self::PerModule => "per_module",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == value)
    }
}

/// Whether a participant's LMS gradebook has their latest scores, for the instructor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing to send yet.
    Nothing,
    /// Every latest score is at the platform.
    UpToDate,
    /// A score is on its way (or waiting for a retry).
    Pending,
    /// The platform refused a score for good; its words.
    NotGradable(String),
}

impl Delivery {
    /// From the latest outbox row of each of the person's line items.
    pub fn of(latest: &[entity::score_outbox::Model]) -> Self {
        use crate::store::grades::state;
        if let Some(refused) = latest.iter().find(|row| row.state == state::NOT_GRADABLE) {
            return Self::NotGradable(refused.last_error.clone().unwrap_or_default());
        }
        if latest.iter().any(|row| row.state == state::PENDING) {
            Self::Pending
        } else if latest.is_empty() {
            Self::Nothing
        } else {
            Self::UpToDate
        }
    }

    /// Message key and CSS/test slug.
    pub fn label(&self) -> (&'static str, &'static str) {
        match self {
            Self::Nothing => ("gradebook-nothing", "nothing"),
            Self::UpToDate => ("gradebook-up-to-date", "up-to-date"),
            Self::Pending => ("gradebook-pending", "pending"),
            Self::NotGradable(_) => ("gradebook-not-gradable", "not-gradable"),
        }
    }
}
