//! The OpenAPI document served at `/api/openapi.json`. Each path is written once, in its
//! handler's `#[utoipa::path]`, which routes the request too (utoipa-axum's `routes!`), so the
//! document and the router cannot disagree; schemathesis checks the document against the
//! running app in the test command.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::configs;

/// What the document says beyond its paths; the paths come from the routes (see
/// [`crate::routes::openapi`]).
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "app", description = "The multi-tenant workload the platform deploys."),
    components(schemas(crate::error::Problem, configs::catalog::KeyName))
)]
pub struct ApiDoc;

/// The document for `routed` (the routes' own operations merged into [`ApiDoc`]), with the
/// conventions every operation shares filled in.
pub fn finish(mut routed: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    Conventions.modify(&mut routed);
    routed
}

/// What holds for every operation, written once instead of on each handler: the bearer scheme;
/// errors as `application/problem+json`; the answers any JSON body (400, 413, 415, 422) or any
/// authenticated call (401, 503: revocation cannot be checked) may get; `If-Match` syntax.
#[derive(Debug)]
struct Conventions;

const PROBLEM: &str = "application/problem+json";
const IF_MATCH_PATTERN: &str = r#"^\s*(W/)?"?[1-9][0-9]{0,17}"?\s*$"#;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let mut implied: Vec<(&str, &str)> = Vec::new();
                if operation.request_body.is_some() {
                    implied.extend([
                        ("400", "the body is not JSON"),
                        ("413", "the body is too large"),
                        ("415", "the body is not sent as application/json"),
                        ("422", "the body does not fit the schema"),
                    ]);
                }
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    implied.extend([
                        ("401", "no valid, unrevoked token"),
                        ("503", "token revocation cannot be checked (Redis unreachable)"),
                    ]);
                }
                for (status, description) in implied {
                    if !operation.responses.responses.contains_key(status) {
                        let response = ResponseBuilder::new()
                            .description(description)
                            .content(
                                PROBLEM,
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("Problem")))
                                    .build(),
                            )
                            .build();
                        operation
                            .responses
                            .responses
                            .insert(status.to_owned(), RefOr::T(response));
                    }
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        let is_problem = response.content.get("application/json").is_some_and(|c| {
                            matches!(c, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
                        });
                        if is_problem && let Some(content) = response.content.shift_remove("application/json") {
                            response.content.insert(PROBLEM.to_owned(), content);
                        }
                    }
                }
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let RefOr::T(parameter) = parameter
                        && parameter.name == "If-Match"
                    {
                        parameter.schema = Some(RefOr::T(Schema::Object(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .pattern(Some(IF_MATCH_PATTERN))
                                .build(),
                        )));
                    }
                }
            }
        }
    }
}
