//! Sign-in without an LMS against a real OpenID Connect provider (`oidc-provider`, OpenID
//! certified, started from tests/oidc): a course leader invited to a run reviews a participant who
//! came from an LMS, a participant without an LMS joins by invitation and completes a module, and
//! every broken sign-in is refused: wrong state, another browser, wrong nonce, a replayed or
//! expired code, a tenant that is not allowed, a person without a role, a form from another
//! site, and a session after sign-out.
use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use coursebridge::{devplatform::LaunchSpec, store};
use entity::{completion_record, lti_user};
use reqwest::{StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use url::Url;

use crate::{
    grades::{import_small_course, submit},
    helpers::{Answer, Backend, TestApp, link_containing, spawn_app, version_of},
};

on_both_databases!(
    a_course_leader_signs_in_by_invitation_and_reviews_a_participant_from_an_lms,
    a_participant_without_an_lms_joins_by_invitation_and_completes_a_module,
    broken_sign_ins_are_refused_and_sign_out_ends_the_session,
);

/// The provider: a node process on a free port, stopped with the test.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: Url,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_provider(app: &TestApp) -> Provider {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    assert!(
        root.join("node_modules/oidc-provider").exists(),
        "the sign-in tests need tests/oidc/node_modules: run scripts/test (it installs them)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("node")
        .arg(root.join("provider.mjs"))
        .arg(port.to_string())
        .arg(app.base.join("signin/callback").unwrap().as_str())
        .arg(app.base.join("signin").unwrap().as_str())
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let issuer = ready
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the provider did not start: {ready:?}"))
        .to_owned();
    Provider {
        child,
        issuer: Url::parse(&issuer).unwrap(),
    }
}

impl Provider {
    /// Moves the provider's clock, instead of waiting.
    async fn advance(&self, seconds: u64) {
        let url = self
            .issuer
            .join(&format!("test/clock?advance={seconds}"))
            .unwrap();
        let answer = reqwest::Client::new().post(url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    }
}

/// Registers the provider on the command line, letting in two tenants.
pub(crate) fn add_provider(app: &TestApp, provider: &Provider) {
    let secret = app.database.url.len().to_string(); // a file per test, beside nothing shared
    let dir = std::env::temp_dir().join(format!("cb-oidc-{}-{secret}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("secret-{}", provider.issuer.port().unwrap()));
    std::fs::write(
        &file,
        "test-secret-that-is-long-enough-for-hs256-0123456789\n",
    )
    .unwrap();
    // The provider runs on this machine: the development setting lets the tool call it.
    let output = Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args([
            "oidc",
            "add",
            "--name",
            "region",
            "--issuer",
            provider.issuer.as_str().trim_end_matches('/'),
            "--client-id",
            "coursebridge",
            "--organisation",
            "Region Västerbotten",
            "--allowed-tenant",
            "tenant-region",
            "--allowed-tenant",
            "tenant-norsjo",
            "--client-secret-file",
        ])
        .arg(&file)
        .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
        .env("COURSEBRIDGE_OUTBOUND_ALLOW_LOOPBACK", "true")
        .env("COURSEBRIDGE_PUBLIC_URL", app.base.as_str())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        printed.contains(&format!(
            "redirect URI to register at the provider: {}",
            app.base.join("signin/callback").unwrap()
        )),
        "{printed}"
    );
    let listed = String::from_utf8_lossy(&app.cli(["oidc", "list"]).stdout).into_owned();
    assert!(listed.contains("region\t"), "{listed}");
    assert!(
        !listed.contains("test-secret"),
        "the secret is never printed"
    );
}

/// A browser: a cookie jar per host and port, and redirects followed one at a time.
struct Browser {
    client: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    fn site(url: &Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap(),
            url.port_or_known_default().unwrap()
        )
    }

    fn cookie(&self, url: &Url, name: &str) -> Option<String> {
        self.jar.get(&Self::site(url))?.get(name).cloned()
    }

    fn set_cookie(&mut self, url: &Url, name: &str, value: &str) {
        self.jar
            .entry(Self::site(url))
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, url: &Url) -> Answer {
        let cookies = self
            .jar
            .get(&Self::site(url))
            .map(|jar| {
                jar.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let request = if cookies.is_empty() {
            request
        } else {
            request.header(header::COOKIE, cookies)
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let site = self.jar.entry(Self::site(url)).or_default();
            if attributes.contains("Max-Age=0") || attributes.contains("expires=Thu, 01 Jan 1970") {
                site.remove(name.trim());
            } else {
                site.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        Answer {
            status,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &Url) -> Answer {
        let request = self.client.get(url.clone());
        self.send(request, url).await
    }

    /// A form post from the tool's own pages (the browser sends the page's origin).
    async fn post(&mut self, url: &Url, origin: &Url, fields: &[(&str, &str)]) -> Answer {
        let request = self
            .client
            .post(url.clone())
            .header(header::ORIGIN, origin.origin().ascii_serialization())
            .form(fields);
        self.send(request, url).await
    }

    /// Follows redirects from `url` until one leads to a path starting with `stop`, returning
    /// that URL.
    async fn follow_until(&mut self, start: &Url, stop: &str) -> Url {
        let mut url = start.clone();
        for _ in 0..10 {
            let answer = self.get(&url).await;
            let location = answer.headers.get(header::LOCATION).unwrap_or_else(|| {
                panic!(
                    "no redirect from {url} ({}): {}",
                    answer.status, answer.body
                )
            });
            let next = url.join(location.to_str().unwrap()).unwrap();
            if next.path().starts_with(stop) {
                return next;
            }
            url = next;
        }
        panic!("no redirect to {stop}");
    }
}

/// Begins at the tool, logs in at the provider as `account`, and returns the callback URL the
/// provider sends the browser to (not yet opened).
async fn to_callback(
    app: &TestApp,
    browser: &mut Browser,
    account: &str,
    invitation: Option<&str>,
) -> Url {
    let mut begin = app.base.join("signin/region").unwrap();
    if let Some(token) = invitation {
        begin.query_pairs_mut().append_pair("invitation", token);
    }
    let answer = browser.get(&begin).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let auth = Url::parse(answer.headers[header::LOCATION].to_str().unwrap()).unwrap();
    assert!(
        auth.query().unwrap().contains("code_challenge_method=S256"),
        "{auth}"
    );
    login_at_provider(browser, &auth, account).await
}

async fn login_at_provider(browser: &mut Browser, auth: &Url, account: &str) -> Url {
    let mut interaction = browser.follow_until(auth, "/interaction/").await;
    interaction.query_pairs_mut().append_pair("as", account);
    browser.follow_until(&interaction, "/signin/callback").await
}

/// A whole sign-in; returns the page it lands on.
async fn sign_in(
    app: &TestApp,
    browser: &mut Browser,
    account: &str,
    invitation: Option<&str>,
) -> Answer {
    let callback = to_callback(app, browser, account, invitation).await;
    browser.get(&callback).await
}

pub(crate) fn invitation(app: &TestApp, cohort: i64, organisation: &str, extra: &[&str]) -> String {
    let cohort = cohort.to_string();
    let mut args = vec![
        "cohort",
        "invite",
        "--cohort",
        &cohort,
        "--organisation",
        organisation,
    ];
    args.extend_from_slice(extra);
    let output = app.cli(&args);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let url = printed.lines().last().unwrap().trim().to_owned();
    url.rsplit('/').next().unwrap().to_owned()
}

pub(crate) fn create_cohort(app: &TestApp, version: i64) -> (i64, String) {
    let version = format!("#{version}");
    let output = app.cli([
        "cohort",
        "create",
        "--name",
        "Att leda digital omställning HT27",
        "--course-version",
        &version,
        "--organisation",
        "Umeå kommun",
        "--organisation",
        "Norsjö kommun",
        "--organisation",
        "Region Västerbotten",
    ]);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let words: Vec<&str> = printed.split_whitespace().collect();
    (words[1].parse().unwrap(), words[4].to_owned())
}

async fn setup(backend: Backend) -> (TestApp, Provider, i64, String) {
    let app = spawn_app(backend).await;
    let provider = start_provider(&app);
    add_provider(&app, &provider);
    import_small_course(&app).await;
    let version = store::course::latest(&app.db).await.unwrap().unwrap().id;
    let (cohort, code) = create_cohort(&app, version);
    (app, provider, cohort, code)
}

fn me(app: &TestApp) -> Url {
    app.base.join("me").unwrap()
}

/// Approves the waiting answer of `name` from the run's page, as the signed-in leader.
async fn approve_from_run(app: &TestApp, browser: &mut Browser, run_url: &Url, name: &str) {
    let run = browser.get(run_url).await;
    let waiting = &run.body[run.body.find("data-testid=\"run-waiting\"").unwrap()..];
    let at = waiting
        .find(&format!("{name} – "))
        .unwrap_or_else(|| panic!("{name} waits for review: {waiting}"));
    let start = waiting[..at].rfind("href=\"").unwrap() + 6;
    let href = waiting[start..start + waiting[start..].find('"').unwrap()].replace("&#38;", "&");
    let review = browser.get(&app.base.join(&href).unwrap()).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.body.contains(name));
    let action = app
        .base
        .join(&link_containing(&review.body, "course=").replace("&#38;", "&"))
        .unwrap();
    let decided = browser
        .post(
            &action,
            &app.base,
            &[
                ("version", &version_of(&review, "")),
                ("decision", "approve"),
                ("feedback", "Bra exempel."),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
}

async fn a_course_leader_signs_in_by_invitation_and_reviews_a_participant_from_an_lms(
    backend: Backend,
) {
    use crate::cohorts::{in_course, named, scores_at, second_lms};
    let (app, _provider, cohort, code) = setup(backend).await;
    // Two LMSes, Umeå's and Norsjö's, each with a course that joined the run by its link.
    let norsjo = second_lms(&app, "norsjo-client", "Norsjö kommun").await;
    let mut umea_spec = named(
        in_course("umea-learner", "ctx-umea", LaunchSpec::learner("x")),
        "Ulla Umeå",
    );
    umea_spec.custom.insert("cohort".into(), json!(code));
    let umea = app.launch(umea_spec).await;
    let mut norsjo_spec = named(
        in_course("norsjo-learner", "ctx-norsjo", LaunchSpec::learner("x")),
        "Nora Norsjö",
    );
    norsjo_spec.custom.insert("cohort".into(), json!(code));
    let nora = app.launch_via(&norsjo, norsjo_spec).await;
    assert_eq!(nora.status, StatusCode::OK, "{}", nora.body);
    submit(&app, &umea, "forsta", "forsta-svar").await;
    submit(&app, &nora, "forsta", "forsta-svar").await;

    let token = invitation(&app, cohort, "Region Västerbotten", &["--leader"]);
    let mut browser = Browser::new();
    let join = browser
        .get(&app.base.join(&format!("join/{token}")).unwrap())
        .await;
    assert_eq!(join.status, StatusCode::OK);
    assert!(
        join.body.contains(
            "Du är inbjuden till Att leda digital omställning HT27 för Region Västerbotten"
        ),
        "{}",
        join.body
    );
    let landed = sign_in(&app, &mut browser, "lena", Some(&token)).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(landed.headers[header::LOCATION], me(&app).as_str());
    let session = browser
        .cookie(&app.base, "cb_session")
        .expect("the session cookie");
    assert!(
        browser.cookie(&app.base, "cb_signin").is_none(),
        "the login under way is cleared"
    );

    let home = browser.get(&me(&app)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Inloggad som Lena Ledare."));
    assert!(
        !home.body.contains(&session),
        "the token never shows in a page"
    );
    let run_url = app
        .base
        .join(&link_containing(&home.body, "/leader?"))
        .unwrap();
    assert!(!run_url.as_str().contains(&session), "nor in a URL");
    let run = browser.get(&run_url).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert!(
        run.body
            .contains("<th scope=\"row\">Ulla Umeå</th><td>Umeå kommun</td>"),
        "{}",
        run.body
    );
    assert!(
        run.body
            .contains("<th scope=\"row\">Nora Norsjö</th><td>Norsjö kommun</td>")
    );

    // One review from each LMS; each score goes to the participant's own LMS.
    approve_from_run(&app, &mut browser, &run_url, "Ulla Umeå").await;
    approve_from_run(&app, &mut browser, &run_url, "Nora Norsjö").await;
    let leader = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq("lena"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let approvals = entity::submission_event::Entity::find()
        .filter(entity::submission_event::Column::ToStatus.eq("approved"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(approvals.len(), 2);
    assert!(
        approvals.iter().all(|e| e.actor_id == leader.id),
        "the leader who signed in decided"
    );
    let at_norsjo = scores_at(&norsjo, 1).await;
    assert!(
        at_norsjo.iter().all(|s| s["userId"] == "norsjo-learner"),
        "{at_norsjo:?}"
    );
    let at_umea = scores_at(&app.platform, 1).await;
    assert!(
        at_umea.iter().all(|s| s["userId"] == "umea-learner"),
        "{at_umea:?}"
    );

    // Norsjö's contact person, from Norsjö's LMS, follows Norsjö's people only.
    let registration = norsjo.registration();
    let granted = app.cli([
        "contact",
        "grant",
        "--issuer",
        &registration.issuer,
        "--client-id",
        &registration.client_id,
        "--sub",
        "norsjo-contact",
        "--organisation",
        "Norsjö kommun",
    ]);
    assert!(granted.status.success(), "{granted:?}");
    let contact = app
        .launch_via(
            &norsjo,
            in_course("norsjo-contact", "ctx-norsjo", LaunchSpec::learner("x")),
        )
        .await;
    let page = app
        .get(&format!(
            "/organisation?session={}",
            crate::helpers::token_of(&contact.body)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<th scope=\"row\">Nora Norsjö</th>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Ulla Umeå"));
}

async fn a_participant_without_an_lms_joins_by_invitation_and_completes_a_module(backend: Backend) {
    let (app, _provider, cohort, _code) = setup(backend).await;
    let token = invitation(&app, cohort, "Norsjö kommun", &["--uses", "1"]);
    let mut browser = Browser::new();
    let landed = sign_in(&app, &mut browser, "nils", Some(&token)).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    let home = browser.get(&me(&app)).await;
    let course_url = app
        .base
        .join(&link_containing(&home.body, "/course?"))
        .unwrap();
    let course = browser.get(&course_url).await;
    assert_eq!(course.status, StatusCode::OK, "{}", course.body);
    assert!(course.body.contains("Liten kurs"), "{}", course.body);

    let module_url = app
        .base
        .join(&link_containing(&course.body, "/course/m/andra?"))
        .unwrap();
    let module = browser.get(&module_url).await;
    assert_eq!(module.status, StatusCode::OK, "{}", module.body);
    let action = app
        .base
        .join(&link_containing(&module.body, "/t/andra-svar?"))
        .unwrap();
    let fields = [
        ("version", version_of(&module, "andra-svar")),
        ("answer_0", "Vi börjar med invånarnas behov.".to_owned()),
        ("action", "submit".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // The same form from another site is refused: its origin is not the tool's.
    let forged = browser
        .post(
            &action,
            &Url::parse("https://attacker.example").unwrap(),
            &fields,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(
        entity::submission::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );

    let posted = browser.post(&action, &app.base, &fields).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let nils = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq("nils"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let record = completion_record::Entity::find()
        .filter(completion_record::Column::UserId.eq(nils.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a completion record");
    assert_eq!(record.organisation.as_deref(), Some("Norsjö kommun"));
    assert!(record.record.contains("\"andra\""), "{}", record.record);
    let context = entity::context::Entity::find_by_id(record.context_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        context.cohort_id,
        Some(cohort),
        "the run's own course, without an LMS"
    );

    // The invitation had one use.
    let mut other = Browser::new();
    let used_up = other
        .get(&app.base.join(&format!("join/{token}")).unwrap())
        .await;
    used_up.assert_refused(404, "SIGNIN_INVITATION_UNUSABLE");
}

async fn broken_sign_ins_are_refused_and_sign_out_ends_the_session(backend: Backend) {
    let (app, provider, cohort, _code) = setup(backend).await;
    let token = invitation(
        &app,
        cohort,
        "Region Västerbotten",
        &["--leader", "--uses", "20"],
    );

    // The state that comes back is not the one that left.
    let mut browser = Browser::new();
    let mut callback = to_callback(&app, &mut browser, "lena", Some(&token)).await;
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    callback.query_pairs_mut().clear().extend_pairs(pairs);
    browser
        .get(&callback)
        .await
        .assert_refused(400, "SIGNIN_STATE_MISMATCH");

    // Another browser, without the login under way.
    let mut browser = Browser::new();
    let callback = to_callback(&app, &mut browser, "lena", Some(&token)).await;
    Browser::new()
        .get(&callback)
        .await
        .assert_refused(400, "SIGNIN_STATE_MISSING");

    // A nonce other than the one the tool sent.
    let mut browser = Browser::new();
    let begun = browser.get(&app.base.join("signin/region").unwrap()).await;
    let mut auth = Url::parse(begun.headers[header::LOCATION].to_str().unwrap()).unwrap();
    let pairs: Vec<(String, String)> = auth
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "another-nonce".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    auth.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = login_at_provider(&mut browser, &auth, "lena").await;
    browser
        .get(&callback)
        .await
        .assert_refused(400, "SIGNIN_TOKEN_INVALID");

    // A code past its lifetime at the provider.
    let mut browser = Browser::new();
    let callback = to_callback(&app, &mut browser, "lena", Some(&token)).await;
    provider.advance(120).await;
    browser
        .get(&callback)
        .await
        .assert_refused(400, "SIGNIN_CODE_REFUSED");

    // A sign-in that went through cannot come back again, even with its cookie.
    let mut browser = Browser::new();
    let callback = to_callback(&app, &mut browser, "lena", Some(&token)).await;
    let state = browser.cookie(&app.base, "cb_signin").unwrap();
    let landed = browser.get(&callback).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    let mut replay = Browser::new();
    replay.set_cookie(&app.base, "cb_signin", &state);
    replay
        .get(&callback)
        .await
        .assert_refused(400, "SIGNIN_REPLAYED");

    // A tenant the provider's rule does not let in; an allowed one without a role here.
    let mut outsider = Browser::new();
    sign_in(&app, &mut outsider, "eve", None)
        .await
        .assert_refused(403, "SIGNIN_NOT_ALLOWED");
    let mut nobody = Browser::new();
    let refused = sign_in(&app, &mut nobody, "olle", None).await;
    refused.assert_refused(403, "SIGNIN_NO_ACCESS");
    assert!(
        refused.body.contains("region: olle"),
        "the id to give the administrator"
    );
    assert!(nobody.cookie(&app.base, "cb_session").is_none());

    // An administrator makes Olle one person with the LMS learner he also is: he then signs in as
    // that learner, with the answer he gave in the LMS.
    let in_lms = app.launch(LaunchSpec::learner("olle-in-lms")).await;
    submit(&app, &in_lms, "andra", "andra-svar").await;
    let lms_person = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq("olle-in-lms"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let linked = app.cli([
        "person",
        "link",
        "--person",
        &lms_person.id.to_string(),
        "--issuer",
        provider.issuer.as_str().trim_end_matches('/'),
        "--client-id",
        "coursebridge",
        "--sub",
        "olle",
    ]);
    assert!(linked.status.success(), "{linked:?}");
    let mut olle = Browser::new();
    let landed = sign_in(&app, &mut olle, "olle", None).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    let home = olle.get(&me(&app)).await;
    let module = olle
        .get(
            &app.base
                .join(
                    &link_containing(&home.body, "/course?")
                        .replace("/course?", "/course/m/andra?"),
                )
                .unwrap(),
        )
        .await;
    assert_eq!(module.status, StatusCode::OK, "{}", module.body);
    assert!(
        module.body.contains("Vi börjar med invånarnas behov."),
        "{}",
        module.body
    );
    let not_lms = app.cli([
        "person",
        "link",
        "--person",
        &lms_person.id.to_string(),
        "--issuer",
        "https://unknown.example",
        "--client-id",
        "coursebridge",
        "--sub",
        "olle",
    ]);
    assert_eq!(not_lms.status.code(), Some(2), "an unknown provider");

    // A provider that keeps the profile out of the ID token: the name comes from userinfo.
    let mut greta = Browser::new();
    let landed = sign_in(&app, &mut greta, "greta", Some(&token)).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    let home = greta.get(&me(&app)).await;
    assert!(
        home.body.contains("Inloggad som Greta Grip."),
        "{}",
        home.body
    );

    // Signing out ends the session here and sends the browser to the provider's sign-out.
    let session = browser.cookie(&app.base, "cb_session").unwrap();
    assert_eq!(browser.get(&me(&app)).await.status, StatusCode::OK);
    let signed_out = browser
        .post(&app.base.join("signout").unwrap(), &app.base, &[])
        .await;
    assert_eq!(
        signed_out.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_out.body
    );
    let location = signed_out.headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(provider.issuer.join("session/end").unwrap().as_str()),
        "{location}"
    );
    assert!(
        browser.cookie(&app.base, "cb_session").is_none(),
        "the cookie is cleared"
    );
    let mut stale = Browser::new();
    stale.set_cookie(&app.base, "cb_session", &session);
    stale
        .get(&me(&app))
        .await
        .assert_refused(401, "SESSION_INVALID");
}
