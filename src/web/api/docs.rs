//! The API's own documentation: the OpenAPI document, and a page rendered from it on the server
//! (no CDN, no script), so an air-gapped installation documents itself.
use axum::{
    http::header,
    response::{Html, IntoResponse, Response},
};
use serde_json::Value;

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
        .into_response()
}

fn esc(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text(value: &Value) -> String {
    esc(value.as_str().unwrap_or_default())
}

fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if schema["type"] == "array" {
        return format!("array of {}", schema_name(&schema["items"]));
    }
    match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => schema["oneOf"]
            .as_array()
            .map(|options| {
                options
                    .iter()
                    .map(schema_name)
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .unwrap_or_else(|| "object".to_owned()),
    }
}

/// Renders the OpenAPI document as one HTML page.
pub fn render(doc: &Value) -> String {
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/api/v1/openapi.json\">openapi.json</a> (OpenAPI {})</p>\n",
        text(&doc["info"]["title"]),
        text(&doc["info"]["description"]),
        text(&doc["openapi"]),
    ));
    body.push_str("<h2 id=\"operations\">Operations</h2>\n");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                body.push_str(&format!(
                    "<section class=\"operation\">\n<h3><code>{} {}</code></h3>\n<p>{}</p>\n",
                    esc(&method.to_uppercase()),
                    esc(path),
                    text(&op["summary"]),
                ));
                if let Some(description) = op["description"].as_str() {
                    body.push_str(&format!("<p>{}</p>\n", esc(description)));
                }
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    body.push_str("<table>\n<caption>Parameters</caption>\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">In</th><th scope=\"col\">Type</th><th scope=\"col\">Required</th><th scope=\"col\">Description</th></tr></thead>\n<tbody>\n");
                    for param in params {
                        body.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            text(&param["name"]),
                            text(&param["in"]),
                            esc(&schema_name(&param["schema"])),
                            if param["required"] == true { "yes" } else { "no" },
                            text(&param["description"]),
                        ));
                    }
                    body.push_str("</tbody>\n</table>\n");
                }
                if let Some(content) = op["requestBody"]["content"].as_object() {
                    for (mime, media) in content {
                        body.push_str(&format!(
                            "<p>Request body: <code>{}</code> ({})</p>\n",
                            esc(&schema_name(&media["schema"])),
                            esc(mime)
                        ));
                    }
                }
                if let Some(responses) = op["responses"].as_object() {
                    body.push_str("<table>\n<caption>Responses</caption>\n<thead><tr><th scope=\"col\">Status</th><th scope=\"col\">Meaning</th><th scope=\"col\">Body</th></tr></thead>\n<tbody>\n");
                    for (status, response) in responses {
                        let bodies = response["content"]
                            .as_object()
                            .map(|content| {
                                content
                                    .iter()
                                    .map(|(mime, media)| {
                                        format!(
                                            "<code>{}</code> ({})",
                                            esc(&schema_name(&media["schema"])),
                                            esc(mime)
                                        )
                                    })
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default();
                        body.push_str(&format!(
                            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            esc(status),
                            text(&response["description"]),
                            bodies
                        ));
                    }
                    body.push_str("</tbody>\n</table>\n");
                }
                body.push_str("</section>\n");
            }
        }
    }
    body.push_str("<h2 id=\"schemas\">Schemas</h2>\n");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            body.push_str(&format!(
                "<section class=\"schema\">\n<h3 id=\"schema-{0}\">{0}</h3>\n",
                esc(name)
            ));
            if let Some(description) = schema["description"].as_str() {
                body.push_str(&format!("<p>{}</p>\n", esc(description)));
            }
            if let Some(properties) = schema["properties"].as_object() {
                body.push_str("<table>\n<caption>Fields</caption>\n<thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Type</th><th scope=\"col\">Description</th></tr></thead>\n<tbody>\n");
                for (field, property) in properties {
                    body.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                        esc(field),
                        esc(&schema_name(property)),
                        text(&property["description"]),
                    ));
                }
                body.push_str("</tbody>\n</table>\n");
            }
            body.push_str("</section>\n");
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>coursebridge admin API</title>\n<link rel=\"stylesheet\" href=\"/assets/app.css\">\n</head>\n<body>\n<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n<main id=\"main\">\n{body}</main>\n</body>\n</html>\n"
    )
}

/// `GET /api/docs`: the admin API's documentation.
pub async fn show_docs() -> Html<String> {
    let doc: Value = serde_json::from_str(&super::openapi_json()).unwrap_or(Value::Null);
    Html(render(&doc))
}
