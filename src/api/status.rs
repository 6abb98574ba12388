//! Kubernetes `Status` bodies, and which error a failed response is.

use serde::Deserialize;

#[derive(Deserialize, Debug, Default, Clone)]
pub struct Status {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub code: Option<u16>,
}

impl Status {
    /// The body as a Status, if it is one.
    pub fn parse(body: &[u8]) -> Option<Status> {
        let s: Status = serde_json::from_slice(body).ok()?;
        (s.kind.as_deref() == Some("Status")).then_some(s)
    }
}

/// The error class a failed response maps to: chosen from the Status `reason` first (so
/// AlreadyExists and Conflict, both 409, differ), falling back to the HTTP code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    TooManyRequests,
    ServerError,
    Other,
}

impl ApiErrorKind {
    pub fn classify(code: u16, reason: Option<&str>) -> ApiErrorKind {
        use ApiErrorKind::*;
        match reason.unwrap_or("") {
            "BadRequest" => return BadRequest,
            "Unauthorized" => return Unauthorized,
            "Forbidden" => return Forbidden,
            "NotFound" => return NotFound,
            "MethodNotAllowed" => return MethodNotAllowed,
            "AlreadyExists" => return AlreadyExists,
            "Conflict" => return Conflict,
            "Gone" | "Expired" => return Gone,
            "Invalid" => return Invalid,
            "TooManyRequests" => return TooManyRequests,
            "InternalError" | "ServiceUnavailable" | "ServerTimeout" | "Timeout" => return ServerError,
            _ => {}
        }
        match code {
            400 => BadRequest,
            401 => Unauthorized,
            403 => Forbidden,
            404 => NotFound,
            405 => MethodNotAllowed,
            409 => Conflict,
            410 => Gone,
            422 => Invalid,
            429 => TooManyRequests,
            500..=599 => ServerError,
            _ => Other,
        }
    }

    /// The Python class name in `kubesession.exceptions`.
    pub fn class_name(self) -> &'static str {
        use ApiErrorKind::*;
        match self {
            BadRequest => "BadRequest",
            Unauthorized => "Unauthorized",
            Forbidden => "Forbidden",
            NotFound => "NotFound",
            MethodNotAllowed => "MethodNotAllowed",
            AlreadyExists => "AlreadyExists",
            Conflict => "Conflict",
            Gone => "Gone",
            Invalid => "Invalid",
            TooManyRequests => "TooManyRequests",
            ServerError => "ServerError",
            Other => "ApiError",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_beats_code() {
        assert_eq!(ApiErrorKind::classify(409, Some("AlreadyExists")), ApiErrorKind::AlreadyExists);
        assert_eq!(ApiErrorKind::classify(409, Some("Conflict")), ApiErrorKind::Conflict);
        assert_eq!(ApiErrorKind::classify(500, Some("Expired")), ApiErrorKind::Gone);
        assert_eq!(ApiErrorKind::classify(410, None), ApiErrorKind::Gone);
        assert_eq!(ApiErrorKind::classify(503, None), ApiErrorKind::ServerError);
        assert_eq!(ApiErrorKind::classify(418, None), ApiErrorKind::Other);
    }

    #[test]
    fn parses_only_status_bodies() {
        let s = Status::parse(br#"{"kind":"Status","status":"Failure","reason":"NotFound","code":404,"message":"x"}"#).unwrap();
        assert_eq!(s.reason.as_deref(), Some("NotFound"));
        assert!(Status::parse(br#"{"kind":"Pod"}"#).is_none());
        assert!(Status::parse(b"not json").is_none());
    }
}
