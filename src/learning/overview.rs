//! What the course overview reads of a person: where they stand and the network spaces they are in
//! or invited to, on one held connection (`store::held`: four statements and one ping, where the
//! pool would ping after each).
use sea_orm::{DatabaseConnection, DbErr};

use super::{context::ContextCourse, spaces::MySpace, standing::Standing};
use crate::{session::Session, store};

/// The person's standing and spaces, for the overview.
pub async fn of_person(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
) -> Result<(Standing, Vec<MySpace>), DbErr> {
    let held = store::held::hold(db).await?;
    let standing = Standing::load_for(&held, course, session.uid, session.did).await?;
    let spaces = super::spaces::of_person(&held, session).await?;
    Ok((standing, spaces))
}
