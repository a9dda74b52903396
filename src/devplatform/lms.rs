//! The platform's browser side: a small LMS-like page that frames the tool, and the OIDC
//! authentication endpoint that answers the tool's login with an auto-posted id_token.
use std::sync::Arc;

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::{Inner, LaunchSpec};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}header{background:#2d3e50;color:#fff;padding:.75rem 1rem}main{padding:1rem}a.button{display:inline-block;margin:.25rem .5rem .25rem 0;padding:.5rem 1rem;background:#005a9c;color:#fff;border-radius:4px;text-decoration:none}a.button:focus{outline:3px solid #ffbf47}iframe{width:100%;height:70vh;border:1px solid #888}";

/// `GET /`: the LMS course page with its launch buttons.
pub async fn show_lms(State(inner): State<Arc<Inner>>) -> Html<String> {
    let launch = |who: &str, locale: &str| {
        let mut url = inner.url("lms/launch");
        url.query_pairs_mut()
            .append_pair("as", who)
            .append_pair("locale", locale);
        escape(url.as_str())
    };
    Html(format!(
        r#"<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo-LMS – Att leda digital omställning</title><style>{STYLE}</style></head>
<body><header><strong>Demo-LMS</strong> (coursebridge development platform)</header><main>
<h1>Att leda digital omställning</h1>
<p>Den här sidan spelar en lärplattform. Knapparna startar coursebridge i en iframe, som en riktig LTI 1.3-start.</p>
<p lang="en">This page plays a learning platform. The buttons launch coursebridge in an iframe, as a real LTI 1.3 launch.</p>
<p><a class="button" href="{}">Starta som deltagare</a><a class="button" href="{}">Starta som kursledare</a><a class="button" href="{}">Lägg till innehåll (djuplänkning)</a></p>
<p lang="en"><a class="button" href="{}">Launch as participant</a><a class="button" href="{}">Launch as instructor</a><a class="button" href="{}">Add content (deep linking)</a></p>
</main></body></html>"#,
        launch("participant", "sv-SE"),
        launch("instructor", "sv-SE"),
        launch("content", "sv-SE"),
        launch("participant", "en-GB"),
        launch("instructor", "en-GB"),
        launch("content", "en-GB"),
    ))
}

/// Which launch button was pressed.
#[derive(Debug, Deserialize)]
pub struct LaunchChoice {
    #[serde(rename = "as")]
    who: Option<String>,
    locale: Option<String>,
    /// Who launches (the platform's `sub`); the demo person when absent.
    user: Option<String>,
    /// Which LMS course (context id); the demo course when absent.
    course: Option<String>,
    /// `1`: the login offers platform storage (`lti_storage_target=_parent`), as Canvas,
    /// Brightspace and Sakai do; `capabilities`: the page answers the storage messages but the
    /// login names no target (as Blackboard); otherwise the page keeps nothing.
    storage: Option<String>,
}

/// `GET /lms/launch`: the course page with the tool in an iframe.
pub async fn show_launch_frame(
    State(inner): State<Arc<Inner>>,
    Query(choice): Query<LaunchChoice>,
) -> Html<String> {
    let mut spec = match choice.who.as_deref() {
        Some("instructor") => LaunchSpec::instructor("demo-instructor"),
        Some("content") => {
            // The LMS's "add content" button: a deep linking request by the instructor.
            let mut spec = LaunchSpec::instructor("demo-instructor");
            spec.message_type = "LtiDeepLinkingRequest".into();
            spec
        }
        _ => LaunchSpec::learner("demo-participant"),
    };
    spec.locale = choice.locale.filter(|l| l.len() <= 20);
    if let Some(user) = choice.user.filter(|u| !u.is_empty() && u.len() <= 64) {
        spec.sub = user;
    }
    if let (Some(course), Some(context)) = (
        choice.course.filter(|c| !c.is_empty() && c.len() <= 64),
        spec.context.as_mut(),
    ) {
        context.0 = course;
    }
    if choice.storage.as_deref() == Some("1") {
        spec.storage_target = Some("_parent".into());
    }
    let src = inner.login_url(spec);
    let tool_origin = inner.tool().login.origin().ascii_serialization();
    let answers_storage = matches!(choice.storage.as_deref(), Some("1" | "capabilities"));
    Html(format!(
        r#"<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo-LMS – coursebridge</title><style>{STYLE}</style></head>
<body><header><strong>Demo-LMS</strong> · Att leda digital omställning · <a style="color:#fff" href="{}">Tillbaka / Back</a></header>
<script>{}</script>
<main><iframe title="coursebridge" src="{}" allow="fullscreen"></iframe></main></body></html>"#,
        escape(inner.url("").as_str()),
        if answers_storage {
            platform_storage_script(&tool_origin)
        } else {
            String::new()
        },
        escape(src.as_str())
    ))
}

/// The platform side of platform storage (1EdTech LTI Client Side postMessages): this page keeps
/// values for the framed tool, per key, and answers only the tool's origin.
fn platform_storage_script(tool_origin: &str) -> String {
    let origin = serde_json::to_string(tool_origin).unwrap_or_else(|_| "\"\"".into());
    format!(
        r#"(function () {{
  var toolOrigin = {origin};
  var kept = {{}};
  window.addEventListener("message", function (event) {{
    var data = event.data;
    if (event.origin !== toolOrigin || !data || typeof data.subject !== "string") return;
    var reply = {{ message_id: data.message_id }};
    if (data.subject === "lti.capabilities") {{
      reply.subject = "lti.capabilities.response";
      reply.supported_messages = [{{ subject: "lti.capabilities" }}, {{ subject: "lti.put_data" }}, {{ subject: "lti.get_data" }}];
    }} else if (data.subject === "lti.put_data") {{
      kept[data.key] = data.value;
      reply.subject = "lti.put_data.response";
      reply.key = data.key;
      reply.value = data.value;
    }} else if (data.subject === "lti.get_data") {{
      // Visible to tests: how many reads this page answered.
      document.documentElement.dataset.ltiGetData = String(Number(document.documentElement.dataset.ltiGetData || 0) + 1);
      reply.subject = "lti.get_data.response";
      reply.key = data.key;
      if (Object.prototype.hasOwnProperty.call(kept, data.key)) reply.value = kept[data.key];
      else reply.error = {{ code: "key_not_found", message: "nothing kept under this key" }};
    }} else {{
      return;
    }}
    event.source.postMessage(reply, event.origin);
  }});
}})();"#
    )
}

/// The OIDC authentication request the tool sends.
#[derive(Debug, Deserialize)]
pub struct AuthRequest {
    scope: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    prompt: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    login_hint: Option<String>,
    lti_message_hint: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
}

/// `GET /auth`.
pub async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(request): Query<AuthRequest>,
) -> Response {
    answer(&inner, request)
}

/// `POST /auth` (platforms must accept both).
pub async fn authorize_form(
    State(inner): State<Arc<Inner>>,
    Form(request): Form<AuthRequest>,
) -> Response {
    answer(&inner, request)
}

fn refuse(problem: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        format!("authentication request refused: {problem}"),
    )
        .into_response()
}

fn answer(inner: &Inner, request: AuthRequest) -> Response {
    // Checks a real platform makes (Security Framework §5.1.1.2–3).
    if request.scope.as_deref() != Some("openid") {
        return refuse("scope must be openid");
    }
    if request.response_type.as_deref() != Some("id_token") {
        return refuse("response_type must be id_token");
    }
    if request.response_mode.as_deref() != Some("form_post") {
        return refuse("response_mode must be form_post");
    }
    if request.prompt.as_deref() != Some("none") {
        return refuse("prompt must be none");
    }
    if request.client_id.as_deref() != Some(inner.client_id()) {
        return refuse("unknown client_id");
    }
    if request.redirect_uri.as_deref() != Some(inner.tool().launch.as_str()) {
        return refuse("redirect_uri is not registered");
    }
    let (Some(state), Some(nonce)) = (request.state, request.nonce) else {
        return refuse("state and nonce are required");
    };
    let Some(spec) = request
        .lti_message_hint
        .as_deref()
        .and_then(|hint| inner.launch_spec(hint))
    else {
        return refuse("unknown lti_message_hint");
    };
    let expected_hint = spec.login_hint.as_deref().unwrap_or(spec.sub.as_str());
    if request.login_hint.as_deref() != Some(expected_hint) {
        return refuse("login_hint does not match the launch");
    }
    let id_token = match inner.id_token(&spec, &nonce) {
        Ok(token) => token,
        Err(err) => return (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    };
    Html(auto_post_form(
        inner.tool().launch.as_str(),
        &id_token,
        &state,
    ))
    .into_response()
}

/// The page that posts the id_token to the tool, as `response_mode=form_post` requires.
pub fn auto_post_form(action: &str, id_token: &str, state: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Launching…</title></head>
<body><form id="launch" method="post" action="{}"><input type="hidden" name="id_token" value="{}"><input type="hidden" name="state" value="{}"><noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById("launch").submit();</script></body></html>"#,
        escape(action),
        escape(id_token),
        escape(state)
    )
}
