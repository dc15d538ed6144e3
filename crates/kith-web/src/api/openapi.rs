//! The OpenAPI 3.1 document, generated from the handlers' annotations so it follows the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Kith API", version = "1", description = "Clients, contacts, activities, deals, the pipeline board, stages, quotes and search of one Kith workspace. \
        Authenticate with `Authorization: Bearer <token>` (Settings → API tokens, or `kith token create`). \
        Errors are RFC 9457 problem details; updates need the record's ETag in `If-Match` (or `version` in the body)."),
    paths(
        super::clients::list, super::clients::create, super::clients::get, super::clients::update, super::clients::delete,
        super::contacts::list, super::contacts::create, super::contacts::get, super::contacts::update, super::contacts::delete,
        super::activities::list, super::activities::create, super::activities::get, super::activities::update,
        super::activities::delete, super::activities::complete, super::activities::reopen,
        super::deals::list, super::deals::create, super::deals::get, super::deals::update, super::deals::delete,
        super::deals::board, super::deals::bulk_stage,
        super::forecast::forecast,
        super::quotes::list, super::quotes::create, super::quotes::get, super::quotes::update, super::quotes::delete,
        super::quotes::from_deal,
        super::stages::list, super::stages::create, super::stages::get, super::stages::update,
        super::stages::reorder, super::stages::delete,
        super::search::search, document,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()), responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
