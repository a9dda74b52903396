//! Which course version an LMS course (context) runs: the newest imported version is pinned at the
//! context's first use (the cohort's version, for a course in a cohort) and stays until an
//! instructor moves it; parsed versions are cached.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    course::{CoursePackage, Module},
    lti::clock::Clock,
    session::Session,
    store,
};

/// Parsed course versions by row id. Stored versions never change, so entries never go stale.
pub struct CourseCache {
    clock: Clock,
    packages: Mutex<HashMap<i64, Arc<CoursePackage>>>,
    /// Which version each context runs, briefly: a move by an instructor on this instance is seen
    /// at once (`forget_pin`), on other instances within the registry TTL.
    pins: crate::registry::TtlCache<i64, i64>,
}

impl CourseCache {
    /// An empty cache; a context's first use is stamped by `clock`.
    pub fn new(clock: Clock) -> Self {
        Self::with_ttl(crate::registry::TTL, clock)
    }

    /// An empty cache whose pins of contexts to course versions hold for `ttl`.
    pub fn with_ttl(ttl: std::time::Duration, clock: Clock) -> Self {
        Self {
            packages: Mutex::default(),
            pins: crate::registry::TtlCache::new(ttl, 100_000, &clock),
            clock,
        }
    }
}

/// A failure to find or read the course of a context.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// The launch had no context (LMS course), so there is no course to show.
    #[error("the launch has no LMS course context")]
    NoContext,
    /// No course package is imported at all.
    #[error("no course is imported")]
    NoCourse,
    /// No module with this slug in the context's course version.
    #[error("no module {0:?}")]
    NoModule(String),
    /// No task with this slug in the module.
    #[error("no task {0:?}")]
    NoTask(String),
    /// The stored package could not be read.
    #[error("stored course version {0} is unreadable: {1}")]
    Corrupt(i64, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The course a context runs.
#[derive(Clone)]
pub struct ContextCourse {
    /// Context row id.
    pub context_id: i64,
    /// Course version row id.
    pub version_id: i64,
    /// The package.
    pub package: Arc<CoursePackage>,
}

impl ContextCourse {
    /// The module with this slug.
    pub fn module(&self, slug: &str) -> Result<&Module, CourseError> {
        self.package
            .modules
            .iter()
            .find(|m| m.slug == slug)
            .ok_or_else(|| CourseError::NoModule(slug.chars().take(64).collect()))
    }
}

impl CourseCache {
    /// The course version of the session's context, pinning the newest imported version at the
    /// context's first use; the pin stays until an instructor moves it.
    pub async fn for_session(
        &self,
        db: &DatabaseConnection,
        session: &Session,
    ) -> Result<ContextCourse, CourseError> {
        let context_id = session.cid.ok_or(CourseError::NoContext)?;
        self.for_context(db, context_id).await
    }

    /// The course version of a context (pinning the newest at first use, as above).
    pub async fn for_context(
        &self,
        db: &DatabaseConnection,
        context_id: i64,
    ) -> Result<ContextCourse, CourseError> {
        let version_id = match self.pins.get(&context_id) {
            Some(pinned) => pinned,
            None => {
                let pinned = match store::course::pinned(db, context_id).await? {
                    Some(pinned) => pinned,
                    None => {
                        // A course in a cohort runs the cohort's version; one of its own, the newest.
                        let candidate =
                            match store::cohorts::course_version_of(db, context_id).await? {
                                Some(version) => version,
                                None => {
                                    store::course::latest(db)
                                        .await?
                                        .ok_or(CourseError::NoCourse)?
                                        .id
                                }
                            };
                        store::course::pin_context(db, context_id, candidate, self.clock.now_unix())
                            .await?
                    }
                };
                self.pins.insert(context_id, pinned);
                pinned
            }
        };
        Ok(ContextCourse {
            context_id,
            version_id,
            package: self.package(db, version_id).await?,
        })
    }

    /// A stored course version, parsed once.
    pub async fn package(
        &self,
        db: &DatabaseConnection,
        version_id: i64,
    ) -> Result<Arc<CoursePackage>, CourseError> {
        if let Some(package) = self.lock().get(&version_id).cloned() {
            return Ok(package);
        }
        let stored = store::course::get(db, version_id)
            .await?
            .ok_or_else(|| CourseError::Corrupt(version_id, "missing".into()))?;
        let package: CoursePackage = serde_json::from_str(&stored.package)
            .map_err(|err| CourseError::Corrupt(version_id, err.to_string()))?;
        let package = Arc::new(package);
        self.lock().insert(version_id, package.clone());
        Ok(package)
    }

    /// The most recently imported course version, parsed once (what a deep link from an LMS that
    /// sent no course offers).
    pub async fn latest_package(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Arc<CoursePackage>, CourseError> {
        let latest = store::course::latest(db)
            .await?
            .ok_or(CourseError::NoCourse)?;
        self.package(db, latest.id).await
    }

    /// Forgets the cached version of a context after an instructor moved it.
    pub fn forget_pin(&self, context_id: i64) {
        self.pins.remove(&context_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<CoursePackage>>> {
        crate::sync::lock(&self.packages)
    }
}
