//! The OpenAPI document served at `/api/openapi.json`, generated from the handlers' own
//! annotations so it cannot drift from the routes (schemathesis checks it against the running
//! app in the test command).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, configs, orgs, projects};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "app", description = "The multi-tenant workload the platform deploys."),
    paths(
        super::health::healthz,
        super::health::readyz,
        auth::routes::admin_sign_in,
        auth::routes::guest_sign_in,
        auth::routes::sign_out,
        auth::routes::revoke,
        auth::routes::me,
        auth::routes::mint_invite,
        orgs::routes::create_org,
        orgs::routes::get_org,
        projects::list_projects,
        projects::create_project,
        projects::get_project,
        projects::list_members,
        projects::put_member,
        projects::remove_member,
        configs::routes::list_configs,
        configs::routes::get_config,
        configs::routes::put_config,
        configs::routes::config_history,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
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
    }
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
