//! The database tables of coursebridge, one file per table. No behaviour lives here: queries are
//! built in the application's `store` module only.
//!
//! Times are stored as Unix seconds (`i64`) so that SQLite and PostgreSQL hold the same values and
//! comparisons in SQL need no time-zone handling.

pub mod accessibility_feedback;
pub mod admin_grant;
pub mod api_token;
pub mod audit_log;
pub mod change_counter;
pub mod cohort;
pub mod cohort_invitation;
pub mod cohort_leader;
pub mod cohort_link;
pub mod cohort_occasion;
pub mod cohort_organisation;
pub mod completion_record;
pub mod contact_person;
pub mod content_report;
pub mod context;
pub mod context_course;
pub mod course_file;
pub mod course_file_chunk;
pub mod course_version;
pub mod deployment;
pub mod group_member;
pub mod learner_group;
pub mod line_item;
pub mod lti_user;
pub mod mail_opt_out;
pub mod mail_outbox;
pub mod membership;
pub mod network_space;
pub mod oidc_provider;
pub mod organisation;
pub mod person_organisation;
pub mod platform;
pub mod registration_invitation;
pub mod resource_link;
pub mod score_outbox;
pub mod self_assessment;
pub mod shared_answer;
pub mod shared_comment;
pub mod space_attachment;
pub mod space_member;
pub mod space_post;
pub mod submission;
pub mod submission_event;
pub mod submission_revision;
pub mod tool_key;
pub mod tool_setting;
pub mod used_login;
pub mod webhook_delivery;
pub mod workshop_occasion;
