//! LTI message claims (LTI 1.3 Core §5.3 and §5.4) and the roles vocabulary.
//!
//! Claims are read from the verified JWT payload one by one so that each missing or malformed
//! claim gets its own refusal, as the certification's "bad payload" cases expect.
use serde_json::{Map, Value};

/// `https://purl.imsglobal.org/spec/lti/claim/` + name.
pub const CLAIM_PREFIX: &str = "https://purl.imsglobal.org/spec/lti/claim/";
/// The message type claim.
pub const MESSAGE_TYPE: &str = "https://purl.imsglobal.org/spec/lti/claim/message_type";
/// The LTI version claim; must be `1.3.0`.
pub const VERSION: &str = "https://purl.imsglobal.org/spec/lti/claim/version";
/// The deployment claim.
pub const DEPLOYMENT_ID: &str = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
/// The target link URI claim.
pub const TARGET_LINK_URI: &str = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
/// The resource link claim.
pub const RESOURCE_LINK: &str = "https://purl.imsglobal.org/spec/lti/claim/resource_link";
/// The roles claim.
pub const ROLES: &str = "https://purl.imsglobal.org/spec/lti/claim/roles";
/// The context claim.
pub const CONTEXT: &str = "https://purl.imsglobal.org/spec/lti/claim/context";
/// The launch presentation claim.
pub const LAUNCH_PRESENTATION: &str =
    "https://purl.imsglobal.org/spec/lti/claim/launch_presentation";
/// The custom parameters claim.
pub const CUSTOM: &str = "https://purl.imsglobal.org/spec/lti/claim/custom";
/// Deep Linking 2.0 settings claim.
pub const DEEP_LINKING_SETTINGS: &str =
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
/// Submission review: the user whose work is reviewed.
pub const FOR_USER: &str = "https://purl.imsglobal.org/spec/lti/claim/for_user";
/// Names and Role Provisioning Services claim.
pub const NRPS: &str = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";
/// Assignment and Grade Services endpoint claim.
pub const AGS_ENDPOINT: &str = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";

/// The message types this tool knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// `LtiResourceLinkRequest`: a learner or instructor opens a placement.
    ResourceLink,
    /// `LtiDeepLinkingRequest`: an instructor picks content to place.
    DeepLinking,
    /// `LtiSubmissionReviewRequest`: a grader opens a learner's submission from the gradebook.
    SubmissionReview,
}

impl MessageType {
    /// Parses the claim value; `None` for a type this tool does not handle.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "LtiResourceLinkRequest" => Some(Self::ResourceLink),
            "LtiDeepLinkingRequest" => Some(Self::DeepLinking),
            "LtiSubmissionReviewRequest" => Some(Self::SubmissionReview),
            _ => None,
        }
    }

    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceLink => "LtiResourceLinkRequest",
            Self::DeepLinking => "LtiDeepLinkingRequest",
            Self::SubmissionReview => "LtiSubmissionReviewRequest",
        }
    }
}

/// What the tool lets a person do in a context, derived from their LTI roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolRole {
    /// Works through the course: learners, and anyone with no or an unknown role.
    Participant,
    /// Reviews and manages the course in this context.
    Instructor,
}

impl ToolRole {
    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participant => "participant",
            Self::Instructor => "instructor",
        }
    }
}

/// Context roles that make someone an instructor in the tool. Institution and system roles do not:
/// an institution administrator is not by that alone a teacher of this course.
const INSTRUCTOR_CONTEXT_ROLES: [&str; 4] = [
    "Instructor",
    "TeachingAssistant",
    "ContentDeveloper",
    "Administrator",
];

/// Maps LTI roles (full URIs, or the short names the certification also sends) to the tool's role.
pub fn tool_role(roles: &[String]) -> ToolRole {
    let is_instructor = roles.iter().any(|role| {
        let context_role = if let Some(rest) =
            role.strip_prefix("http://purl.imsglobal.org/vocab/lis/v2/membership#")
        {
            Some(rest)
        } else if let Some(rest) =
            role.strip_prefix("http://purl.imsglobal.org/vocab/lis/v2/membership/")
        {
            // Sub-roles: membership/Instructor#TeachingAssistant
            rest.split('#').next()
        } else if role.contains(':') || role.contains('/') {
            None
        } else {
            Some(role.as_str())
        };
        context_role.is_some_and(|r| INSTRUCTOR_CONTEXT_ROLES.contains(&r))
    });
    if is_instructor {
        ToolRole::Instructor
    } else {
        ToolRole::Participant
    }
}

/// A claim that is missing or has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimProblem {
    /// The claim is absent (or empty where a value is required).
    Missing(&'static str),
    /// The claim is there but not of the form the specification requires.
    Malformed(&'static str),
}

/// The LTI claims of a verified launch, typed.
#[derive(Debug, Clone)]
pub struct LtiClaims {
    /// The message type.
    pub message_type: MessageType,
    /// `deployment_id`.
    pub deployment_id: String,
    /// `target_link_uri`.
    pub target_link_uri: String,
    /// `sub`: the platform's stable id of the person.
    pub sub: String,
    /// Role URIs as sent (possibly empty).
    pub roles: Vec<String>,
    /// Full name, when sent.
    pub name: Option<String>,
    /// Given name, when sent.
    pub given_name: Option<String>,
    /// Family name, when sent.
    pub family_name: Option<String>,
    /// Email, when sent.
    pub email: Option<String>,
    /// The context (LMS course), when sent.
    pub context: Option<ContextClaim>,
    /// The resource link; required for resource link launches.
    pub resource_link: Option<ResourceLinkClaim>,
    /// `launch_presentation.locale`, when sent.
    pub locale: Option<String>,
    /// Custom parameters (string values only).
    pub custom: Vec<(String, String)>,
    /// The context's NRPS membership URL, when the platform offers the service.
    pub memberships_url: Option<String>,
    /// Assignment and Grade Services, when the platform offers them.
    pub ags: Option<AgsClaim>,
    /// The deep linking settings of an `LtiDeepLinkingRequest`.
    pub deep_linking: Option<super::deep_linking_request::Settings>,
    /// Whose submission an `LtiSubmissionReviewRequest` opens: the `user_id` of its `for_user`.
    pub for_user: Option<String>,
}

/// The Assignment and Grade Services endpoint claim: where scores go and what the tool may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgsClaim {
    /// The context's line item container, when the tool may list or create line items.
    pub lineitems: Option<String>,
    /// The line item the platform made for this resource link, when it made one.
    pub lineitem: Option<String>,
    /// The scopes the platform grants.
    pub scopes: Vec<String>,
}

impl AgsClaim {
    /// The tool may post scores.
    pub fn can_score(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s == crate::lti::ags::SCOPE_SCORE)
            && (self.lineitem.is_some() || self.lineitems.is_some())
    }
}

/// The `context` claim.
#[derive(Debug, Clone)]
pub struct ContextClaim {
    /// `id`.
    pub id: String,
    /// `label`.
    pub label: Option<String>,
    /// `title`.
    pub title: Option<String>,
}

/// The `resource_link` claim.
#[derive(Debug, Clone)]
pub struct ResourceLinkClaim {
    /// `id`.
    pub id: String,
    /// `title`.
    pub title: Option<String>,
}

fn string_claim(payload: &Map<String, Value>, name: &'static str) -> Result<String, ClaimProblem> {
    match payload.get(name) {
        None | Some(Value::Null) => Err(ClaimProblem::Missing(name)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ClaimProblem::Missing(name)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ClaimProblem::Malformed(name)),
    }
}

fn optional_string(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Reads the LTI claims, in the order a platform administrator would want to hear about them.
/// The version is checked by the caller before this (it decides which spec applies at all).
pub fn parse_lti_claims(payload: &Map<String, Value>) -> Result<LtiClaims, ClaimProblem> {
    let message_type_raw = string_claim(payload, MESSAGE_TYPE)?;
    let message_type =
        MessageType::parse(&message_type_raw).ok_or(ClaimProblem::Malformed(MESSAGE_TYPE))?;
    let roles = match payload.get(ROLES) {
        None | Some(Value::Null) => return Err(ClaimProblem::Missing(ROLES)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(ClaimProblem::Malformed(ROLES))?,
        Some(_) => return Err(ClaimProblem::Malformed(ROLES)),
    };
    let deployment_id = string_claim(payload, DEPLOYMENT_ID)?;
    if deployment_id.len() > 255 {
        return Err(ClaimProblem::Malformed(DEPLOYMENT_ID));
    }
    let sub = string_claim(payload, "sub")?;
    if sub.len() > 255 {
        return Err(ClaimProblem::Malformed("sub"));
    }
    let target_link_uri = string_claim(payload, TARGET_LINK_URI)?;

    let resource_link = match payload.get(RESOURCE_LINK) {
        Some(Value::Object(link)) => {
            let id = optional_string(link, "id").ok_or(ClaimProblem::Missing(RESOURCE_LINK))?;
            Some(ResourceLinkClaim {
                id,
                title: optional_string(link, "title"),
            })
        }
        None | Some(Value::Null) => None,
        Some(_) => return Err(ClaimProblem::Malformed(RESOURCE_LINK)),
    };
    if message_type == MessageType::ResourceLink && resource_link.is_none() {
        return Err(ClaimProblem::Missing(RESOURCE_LINK));
    }
    let deep_linking = if message_type == MessageType::DeepLinking {
        let settings = payload
            .get(DEEP_LINKING_SETTINGS)
            .and_then(super::deep_linking_request::Settings::parse)
            .ok_or(ClaimProblem::Missing(DEEP_LINKING_SETTINGS))?;
        Some(settings)
    } else {
        None
    };
    let for_user = match payload.get(FOR_USER) {
        None | Some(Value::Null) if message_type == MessageType::SubmissionReview => {
            return Err(ClaimProblem::Missing(FOR_USER));
        }
        None | Some(Value::Null) => None,
        Some(Value::Object(claim)) => Some(
            optional_string(claim, "user_id")
                .filter(|id| !id.is_empty() && id.len() <= 255)
                .ok_or(ClaimProblem::Malformed(FOR_USER))?,
        ),
        Some(_) => return Err(ClaimProblem::Malformed(FOR_USER)),
    };

    let context = match payload.get(CONTEXT) {
        Some(Value::Object(context)) => {
            let id = optional_string(context, "id").ok_or(ClaimProblem::Missing(CONTEXT))?;
            Some(ContextClaim {
                id,
                label: optional_string(context, "label"),
                title: optional_string(context, "title"),
            })
        }
        None | Some(Value::Null) => None,
        Some(_) => return Err(ClaimProblem::Malformed(CONTEXT)),
    };
    let locale = payload
        .get(LAUNCH_PRESENTATION)
        .and_then(|p| p.get("locale"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let custom = payload
        .get(CUSTOM)
        .and_then(Value::as_object)
        .map(|custom| {
            custom
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();

    let memberships_url = payload
        .get(NRPS)
        .and_then(|claim| claim.get("context_memberships_url"))
        .and_then(Value::as_str)
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .map(str::to_owned);
    let ags = payload
        .get(AGS_ENDPOINT)
        .and_then(Value::as_object)
        .map(|claim| {
            let url = |name: &str| {
                claim
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
                    .map(str::to_owned)
            };
            AgsClaim {
                lineitems: url("lineitems"),
                lineitem: url("lineitem"),
                scopes: claim
                    .get("scope")
                    .and_then(Value::as_array)
                    .map(|scopes| {
                        scopes
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        });
    Ok(LtiClaims {
        deep_linking,
        ags,
        memberships_url,
        message_type,
        deployment_id,
        target_link_uri,
        sub,
        roles,
        name: optional_string(payload, "name"),
        given_name: optional_string(payload, "given_name"),
        family_name: optional_string(payload, "family_name"),
        email: optional_string(payload, "email"),
        context,
        resource_link,
        locale,
        custom,
        for_user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn full_and_short_instructor_roles_make_an_instructor() {
        for role in [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            "Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
            "TeachingAssistant",
        ] {
            assert_eq!(tool_role(&roles(&[role])), ToolRole::Instructor, "{role}");
        }
    }

    #[test]
    fn learners_no_role_unknown_and_institution_roles_make_a_participant() {
        assert_eq!(tool_role(&[]), ToolRole::Participant);
        for role in [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "Learner",
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
            "urn:example:made-up-role",
            "Chef",
        ] {
            assert_eq!(tool_role(&roles(&[role])), ToolRole::Participant, "{role}");
        }
    }

    #[test]
    fn several_roles_take_the_strongest() {
        let mixed = roles(&[
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        ]);
        assert_eq!(tool_role(&mixed), ToolRole::Instructor);
    }
}
