//! The HTTP event shape shared by Lambda Function URLs and API Gateway HTTP
//! APIs (payload format 2.0), reduced to what Earshot reads. Every field is
//! optional on the way in so an odd request gets a 4xx, never a failed
//! deserialisation.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    #[serde(default = "version_2")]
    pub version: String,
    #[serde(default)]
    pub raw_path: String,
    #[serde(default)]
    pub raw_query_string: String,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
    #[serde(default)]
    pub request_context: RequestContext,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
}

fn version_2() -> String {
    "2.0".into()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    #[serde(default)]
    pub http: HttpContext,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpContext {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub source_ip: Option<String>,
}

impl HttpRequest {
    pub fn method(&self) -> &str {
        &self.request_context.http.method
    }

    pub fn path(&self) -> &str {
        if self.raw_path.is_empty() {
            &self.request_context.http.path
        } else {
            &self.raw_path
        }
    }

    /// Header lookup by any case; AWS lower-cases names, local tools may not.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter, from the parsed map when AWS gave one.
    pub fn query(&self, name: &str) -> Option<String> {
        if let Some(value) = self
            .query_string_parameters
            .as_ref()
            .and_then(|q| q.get(name))
        {
            return Some(value.clone());
        }
        form_urlencoded::parse(self.raw_query_string.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body exactly as the sender signed it.
    pub fn raw_body(&self) -> Result<Vec<u8>, base64::DecodeError> {
        let body = self.body.as_deref().unwrap_or_default();
        if self.is_base64_encoded {
            BASE64.decode(body)
        } else {
            Ok(body.as_bytes().to_vec())
        }
    }

    /// A request as a Function URL would deliver it; for events and tests.
    pub fn new(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Self {
        let query_string_parameters = (!query.is_empty()).then(|| {
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        });
        Self {
            version: version_2(),
            raw_path: path.to_owned(),
            raw_query_string: query.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            query_string_parameters,
            request_context: RequestContext {
                http: HttpContext {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    source_ip: Some("127.0.0.1".into()),
                },
                request_id: None,
            },
            body,
            is_base64_encoded: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

impl HttpResponse {
    pub fn json(status_code: u16, body: &serde_json::Value) -> Self {
        Self {
            status_code,
            headers: HashMap::from([("content-type".into(), "application/json".into())]),
            body: body.to_string(),
            is_base64_encoded: false,
        }
    }

    /// A plain-text answer, such as an echoed challenge.
    pub fn text(status_code: u16, body: impl Into<String>) -> Self {
        Self {
            status_code,
            headers: HashMap::from([("content-type".into(), "text/plain".into())]),
            body: body.into(),
            is_base64_encoded: false,
        }
    }

    /// An error answer: a short message that is safe to show the caller.
    pub fn error(status_code: u16, message: impl Into<String>) -> Self {
        Self::json(status_code, &json!({ "error": message.into() }))
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }
}
