//! Installation-wide generated values, created once and then shared by every instance.
use entity::tool_setting;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

/// The value of `name`; when there is none yet, `make()` is stored first. Concurrent first calls
/// from several instances agree: the first insert wins and everyone reads it back.
pub async fn get_or_create(
    db: &impl ConnectionTrait,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbErr> {
    if let Some(row) = tool_setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok(row.value);
    }
    tool_setting::Entity::insert(tool_setting::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(make()),
    })
    .on_conflict(
        OnConflict::column(tool_setting::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    tool_setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|row| row.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("tool setting {name}")))
}
