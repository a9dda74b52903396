//! What the pages a launch lands on read of a person, each on one held connection (`store::held`:
//! one ping when the connection goes back, where the pool would ping after every statement).
use std::collections::HashMap;

use sea_orm::{DatabaseConnection, DbErr};

use super::{
    context::ContextCourse,
    exchange::{self, OwnShare, SharedView},
    spaces::MySpace,
    standing::Standing,
};
use crate::{course::Module, session::Session, store};

/// The course overview's: where the person stands, and the network spaces they are in or invited
/// to.
pub async fn overview(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
) -> Result<(Standing, Vec<MySpace>), DbErr> {
    let held = store::held::hold(db).await?;
    let standing = Standing::load_for(&held, course, session.uid, session.did).await?;
    let spaces = super::spaces::of_person(&held, session).await?;
    Ok((standing, spaces))
}

/// What a module page shows of the person and the run.
pub struct ModuleReads {
    pub standing: Standing,
    /// The group's shared answers in the module, by task slug.
    pub shares: HashMap<String, OwnShare>,
    /// The answers course leaders pinned for the module's workshop.
    pub pinned: Vec<SharedView>,
}

/// A module page's: where the person stands, their group's shares and the pinned answers.
pub async fn module(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    module: &Module,
) -> Result<ModuleReads, DbErr> {
    let held = store::held::hold(db).await?;
    let standing = Standing::load_for(&held, course, session.uid, session.did).await?;
    let shares = exchange::own_shares(&held, &standing, module).await?;
    let pinned = exchange::pinned(&held, course, &module.slug).await?;
    Ok(ModuleReads {
        standing,
        shares,
        pinned,
    })
}
