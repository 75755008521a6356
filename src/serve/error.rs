//! The API's errors: an HTTP status, the field at fault and a sentence, sent as JSON
//! (`{"error": "...", "field": "port"}`) so that the page and a `curl` script read the same thing.

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::scenario::LoadError;

/// A request the server refuses, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status: 400 (malformed), 403 (Host or Origin), 404, 405, 409 (does not fit the
    /// session's state), 413 (body too large), 422 (well-formed but invalid).
    pub status: StatusCode,
    /// The field at fault (`port`, `RequestJit.ports[0]`, `Host`, `body`), when one is.
    pub field: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl ApiError {
    /// An error about `field`.
    pub fn new(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { status, field: Some(field.into()), message: message.into() }
    }

    /// An error about no one field.
    pub fn general(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, field: None, message: message.into() }
    }

    /// A loader error about a step written through the API: its field path without the step's
    /// own prefix (`timeline[4].action.user` becomes `user`, `timeline[4].expect.port` `port`).
    pub fn from_load(e: &LoadError) -> ApiError {
        let field = e.field.as_ref().map(|f| f.within_step().as_ref().unwrap_or(f).to_string());
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, field, message: e.message.clone() }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message, "field": self.field, "status": self.status.as_u16() });
        super::routes::json_response(self.status, &body)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scenario::FieldPath;

    #[test]
    fn a_load_error_names_the_field_inside_the_step() {
        let e = LoadError {
            file: PathBuf::from("x.ron"),
            position: None,
            field: Some(FieldPath::root("timeline").index(3).field("action").field("user")),
            message: "unknown user 'bob'; valid: alice".into(),
        };
        let api = ApiError::from_load(&e);
        assert_eq!(api.field.as_deref(), Some("user"));
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.to_string(), "user: unknown user 'bob'; valid: alice");
        let e = LoadError { field: Some(FieldPath::root("timeline").index(3).field("at")), ..e };
        assert_eq!(ApiError::from_load(&e).field.as_deref(), Some("timeline[3].at"));
    }
}
