//! Who is acting in an administrative request, and what they may see. The same rules serve API
//! tokens and people granted a role inside the tool: a system principal sees everything, an
//! organisation principal its own organisation's data and nothing else, not even counts.
use crate::{
    lti::clock::Clock,
    store::{self, admin::AuditEntry},
};
use sea_orm::{ConnectionTrait, DbErr};

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read completion records.
    CompletionsRead,
    /// Everything administrative (includes reading completions).
    Admin,
}

impl Scope {
    /// The scope's name in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CompletionsRead => "completions:read",
            Scope::Admin => "admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "completions:read" => Some(Scope::CompletionsRead),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// Why a principal may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The token or role does not carry the scope.
    #[error("this needs the {0} scope")]
    Scope(&'static str),
    /// Only a system administrator may do this.
    #[error("only a system administrator may do this")]
    SystemOnly,
    /// The thing belongs to another organisation (answered as if it did not exist).
    #[error("not found")]
    OtherOrganisation,
}

/// An authenticated administrative actor.
#[derive(Debug, Clone)]
pub struct Principal {
    /// How the audit log names them (`token:3`, `person:1:17`, `cli`).
    pub actor: String,
    /// Where the request came from (client address, `cli`, `worker`).
    pub origin: String,
    /// What they may do.
    pub scope: Scope,
    /// The organisation they are limited to; `None` for system principals.
    pub organisation: Option<String>,
    /// The clock their acts are stamped by: the application's, which tests move.
    pub clock: Clock,
}

impl Principal {
    /// The command line: a system administrator by definition (it has the database). The audit
    /// log names the operator by the account that ran it (`cli:kari`; under sudo, the account
    /// that called sudo), or `cli` when the environment names none.
    pub fn cli() -> Self {
        let account = ["SUDO_USER", "USER", "LOGNAME"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .map(|account| {
                account
                    .chars()
                    .filter(|c| c.is_alphanumeric() || "._-@".contains(*c))
                    .take(64)
                    .collect::<String>()
            })
            .find(|account| !account.is_empty());
        Self {
            actor: account.map_or_else(|| "cli".to_owned(), |account| format!("cli:{account}")),
            origin: "cli".to_owned(),
            scope: Scope::Admin,
            organisation: None,
            clock: Clock::default(),
        }
    }

    /// The service itself, acting on its own at `what` (the demo course imported on start).
    pub fn service(what: &str, clock: &Clock) -> Self {
        Self {
            actor: what.to_owned(),
            origin: "server".to_owned(),
            scope: Scope::Admin,
            organisation: None,
            clock: clock.clone(),
        }
    }

    /// The worker applying retention rules.
    pub fn retention(clock: &Clock) -> Self {
        Self {
            actor: "retention".to_owned(),
            origin: "worker".to_owned(),
            scope: Scope::Admin,
            organisation: None,
            clock: clock.clone(),
        }
    }

    /// Unix seconds now, by the principal's clock.
    pub fn now_unix(&self) -> i64 {
        self.clock.now_unix()
    }

    /// Unix milliseconds now, by the principal's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Fails unless the principal has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        if self.scope >= scope {
            Ok(())
        } else {
            Err(Denied::Scope(scope.as_str()))
        }
    }

    /// Fails unless the principal is a system administrator.
    pub fn require_system(&self) -> Result<(), Denied> {
        self.require(Scope::Admin)?;
        if self.organisation.is_some() {
            return Err(Denied::SystemOnly);
        }
        Ok(())
    }

    /// Fails unless the principal may see data of `organisation`.
    pub fn require_organisation(&self, organisation: Option<&str>) -> Result<(), Denied> {
        match &self.organisation {
            None => Ok(()),
            Some(own) if organisation == Some(own.as_str()) => Ok(()),
            Some(_) => Err(Denied::OtherOrganisation),
        }
    }

    /// The cohorts (context ids) the principal may act on; `None` for all (system principals).
    pub async fn contexts(&self, db: &impl ConnectionTrait) -> Result<Option<Vec<i64>>, DbErr> {
        match &self.organisation {
            None => Ok(None),
            Some(organisation) => Ok(Some(
                store::contact::contexts_of(db, organisation)
                    .await?
                    .into_iter()
                    .map(|c| c.id)
                    .collect(),
            )),
        }
    }

    /// Appends an entry to the audit log.
    pub async fn audit(
        &self,
        db: &impl ConnectionTrait,
        action: &str,
        target: &str,
        organisation: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), DbErr> {
        store::admin::audit(
            db,
            AuditEntry {
                actor: &self.actor,
                action,
                target,
                organisation,
                origin: &self.origin,
                detail: &detail.to_string(),
                at_ms: self.now_ms(),
            },
        )
        .await
    }
}
