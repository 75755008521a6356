//! Every request goes through [`handle`]: the Host and Origin check, the body limit, then a match
//! on the method and the path. Writing the routes as one `match` keeps the whole API on one
//! screen and every refusal a JSON error of our own (axum's router would answer some of them in
//! plain text).
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /`, `/app.js`, `/app.css` | the page (embedded in the binary) |
//! | `GET /api/scenario` | the scenario: names of VMs, users, NSGs, public IPs, Bastion hosts; JIT defaults |
//! | `POST /api/sessions` | a new session (`{"mode": "presenter"\|"sandbox"}`), its state |
//! | `GET /api/sessions/ID` | the session's state (clock, mode, connections, last flow, history) |
//! | `DELETE /api/sessions/ID` | forget the session |
//! | `GET /api/sessions/ID/jit` | the JIT page, as `jit status --format json` |
//! | `GET /api/sessions/ID/nsgs` | every NSG and its rules, JIT's marked |
//! | `GET /api/sessions/ID/requests` | every JIT request and its status |
//! | `GET /api/sessions/ID/log` | the activity log, as in `run --format json` |
//! | `GET /api/sessions/ID/topology.svg`, `/timeline.svg` | the drawings |
//! | `GET /api/sessions/ID/scenario.ron` | what the session did, as a scenario `nsgsim run` replays |
//! | `POST /api/sessions/ID/actions` | an action of the scenario format, in JSON: a `run` step |
//! | `POST /api/sessions/ID/eval` | a flow tried now, as `eval --format json` |
//! | `POST /api/sessions/ID/clock` | move the clock; the events on the way |
//! | `POST /api/sessions/ID/presenter/next` | the presenter's next step |
//! | `POST /api/sessions/ID/mode`, `/reset` | switch to sandbox; back to the start |

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::App;
use super::assets::asset;
use super::body::{Fields, MAX_BODY, Query, action};
use super::error::ApiError;
use super::session::{Mode, Session};
use super::sessions::lock;

/// A JSON answer.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    set(&mut response, header::CONTENT_TYPE, "application/json");
    set(&mut response, header::CACHE_CONTROL, "no-store");
    response
}

fn set(response: &mut Response, name: header::HeaderName, value: &'static str) {
    response.headers_mut().insert(name, HeaderValue::from_static(value));
}

fn text_response(content_type: &'static str, text: String) -> Response {
    let mut response = (StatusCode::OK, text).into_response();
    set(&mut response, header::CONTENT_TYPE, content_type);
    set(&mut response, header::CACHE_CONTROL, "no-store");
    response
}

/// Answers one request.
pub async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut response = match answer(&app, &parts, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    // The page and its API: nothing from elsewhere, never framed, no referrer.
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, header::REFERRER_POLICY, "no-referrer");
    set(&mut response, header::X_FRAME_OPTIONS, "DENY");
    set(
        &mut response,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    response
}

async fn answer(
    app: &Arc<App>,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<Response, ApiError> {
    app.guard.check(&parts.headers)?;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = to_bytes(body, MAX_BODY).await.map_err(|_| too_large())?;
    let path = parts.uri.path();
    let method = &parts.method;
    if !path.starts_with("/api/") {
        if method != Method::GET && method != Method::HEAD {
            return Err(not_allowed(method, "GET"));
        }
        return asset(path).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "path",
                format!("no such page '{}'; valid: /", super::body::shown(path)),
            )
        });
    }
    let segments: Vec<&str> = path.trim_start_matches("/api/").split('/').collect();
    match segments.as_slice() {
        ["scenario"] => only(method, Method::GET).map(|()| json_response(StatusCode::OK, &app.scenario_info)),
        ["sessions"] => {
            only(method, Method::POST)?;
            let fields = Fields::parse(&bytes)?;
            fields.only(&["mode"])?;
            let mode = match fields.optional_string("mode")? {
                Some(m) => Mode::parse(&m, "mode")?,
                None => Mode::Sandbox,
            };
            let id = lock(&app.sessions).insert(Session::new(app.fresh_simulation(), mode));
            let shared = lock(&app.sessions).get(&id).ok_or_else(|| no_session(&id))?;
            let state = lock(&shared).state(&app.lesson, &id);
            Ok(json_response(StatusCode::CREATED, &state))
        }
        ["sessions", id, rest @ ..] => {
            session_route(app, id, rest, method, &Query::parse(parts.uri.query()), &bytes)
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "path",
            format!("no such API path '{}'; see docs/serve.md", super::body::shown(path)),
        )),
    }
}

fn session_route(
    app: &Arc<App>,
    id: &str,
    rest: &[&str],
    method: &Method,
    query: &Query,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    if rest.is_empty() && method == Method::DELETE {
        return if lock(&app.sessions).remove(id) {
            Ok(json_response(StatusCode::OK, &json!({ "deleted": id })))
        } else {
            Err(no_session(id))
        };
    }
    let shared = lock(&app.sessions).get(id).ok_or_else(|| no_session(id))?;
    let mut session = lock(&shared);
    let lesson = &app.lesson;
    let ok = |value: Value| Ok(json_response(StatusCode::OK, &value));
    match rest {
        [] => only(method, Method::GET).and_then(|()| ok(session.state(lesson, id))),
        ["jit"] => only(method, Method::GET).and_then(|()| ok(session.jit(lesson, query)?)),
        ["nsgs"] => only(method, Method::GET).and_then(|()| ok(session.nsgs(query)?)),
        ["requests"] => only(method, Method::GET).and_then(|()| ok(session.requests(query)?)),
        ["log"] => only(method, Method::GET).and_then(|()| ok(session.log(query)?)),
        ["topology.svg"] => {
            only(method, Method::GET).map(|()| text_response("image/svg+xml", session.topology_svg()))
        }
        ["timeline.svg"] => {
            only(method, Method::GET).map(|()| text_response("image/svg+xml", session.timeline_svg()))
        }
        ["scenario.ron"] => {
            only(method, Method::GET)?;
            let mut response = text_response("text/plain; charset=utf-8", session.save(lesson)?);
            let name: String = lesson
                .scenario
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}-lesson.ron\"")) {
                response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(response)
        }
        ["actions"] => {
            only(method, Method::POST)?;
            ok(session.act(lesson, action(bytes)?)?)
        }
        ["eval"] => {
            only(method, Method::POST)?;
            ok(session.try_flow(lesson, &Fields::parse(bytes)?)?)
        }
        ["clock"] => {
            only(method, Method::POST)?;
            ok(session.move_clock(lesson, &Fields::parse(bytes)?)?)
        }
        ["presenter", "next"] => {
            only(method, Method::POST)?;
            ok(session.present_next(lesson)?)
        }
        ["mode"] => {
            only(method, Method::POST)?;
            session.set_mode(&Fields::parse(bytes)?)?;
            ok(session.state(lesson, id))
        }
        ["reset"] => {
            only(method, Method::POST)?;
            let fields = Fields::parse(bytes)?;
            fields.only(&["mode"])?;
            let mode = match fields.optional_string("mode")? {
                Some(m) => Mode::parse(&m, "mode")?,
                None => Mode::Sandbox,
            };
            *session = Session::new(app.fresh_simulation(), mode);
            ok(session.state(lesson, id))
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "path",
            format!("no such session path '{}'; see docs/serve.md", super::body::shown(&rest.join("/"))),
        )),
    }
}

fn only(method: &Method, allowed: Method) -> Result<(), ApiError> {
    if *method == allowed { Ok(()) } else { Err(not_allowed(method, allowed.as_str())) }
}

fn not_allowed(method: &Method, allowed: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        format!("{} is not allowed here; valid: {allowed}", method.as_str()),
    )
}

fn no_session(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "session",
        format!(
            "no session '{}' (it may have been forgotten for a newer one: see --max-sessions); valid: create one with POST /api/sessions",
            super::body::shown(id)
        ),
    )
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body",
        format!("larger than {MAX_BODY} bytes; valid: a JSON object of at most {MAX_BODY} bytes"),
    )
}
